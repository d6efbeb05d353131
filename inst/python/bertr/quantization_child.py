"""The child process of :func:`bertr.quantization.int8_network`: ``python -m bertr.quantization_child SAVED_MODEL KIND
OUT.onnx`` reads a saved model, converts its network (``KIND``: ``output``, or ``summary`` for embeddings) to int8
ONNX (:func:`bertr.quantization.convert`) and writes it to ``OUT.onnx`` (complete or not at all)."""

from __future__ import annotations

import sys
from pathlib import Path

from .estimator import BertClassifier
from .graph import summary_network
from .quantization import convert


def main(argv: list[str]) -> int:
    saved, kind, out = argv
    model = BertClassifier.load(saved).model_
    content = convert(summary_network(model) if kind == "summary" else model)
    partial = Path(out + ".partial")
    partial.write_bytes(content)
    partial.replace(out)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
