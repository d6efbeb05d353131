"""Fast WordPiece encoding of whole batches into numpy int32 matrices.

Uses the Rust ``tokenizers`` package built from the model's ``vocab.txt``; its BERT normaliser, pre-tokeniser
and WordPiece model follow Google's reference tokenizer (accents stripped when lower-casing, punctuation and
CJK characters split off, a word that cannot be split becomes a single ``[UNK]``, words over 100 characters
become ``[UNK]``), which keras-bert's own Tokenizer does not.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import BertrError
from .progress import ProgressFn

SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


@dataclass
class Encoded:
    """Token ids and segment ids, one row per text, padded with 0 to a common length."""

    token: np.ndarray  # int32 [n, seq_len]
    segment: np.ndarray  # int32 [n, seq_len]

    def __len__(self) -> int:
        return self.token.shape[0]

    def as_tuple(self) -> tuple[np.ndarray, np.ndarray]:
        """(token, segment), e.g. for R's ``c(token, segment) %<-% ...``."""
        return self.token, self.segment


class WordPieceTokenizer:
    """Batch WordPiece encoder for one BERT vocabulary."""

    def __init__(self, vocab_path: str | Path, do_lower_case: bool = True):
        from tokenizers import BertWordPieceTokenizer  # not needed by `import bertr`, so missing_modules() can name it

        self.vocab_path = Path(vocab_path)
        self.do_lower_case = bool(do_lower_case)
        vocab = self._read_vocab(self.vocab_path)
        missing = [token for token in SPECIAL_TOKENS if token not in vocab]
        if missing:
            raise BertrError(
                f"the vocabulary '{self.vocab_path}' lacks the special token(s) {', '.join(missing)}; "
                "it is not a BERT vocab.txt"
            )
        if vocab["[PAD]"] != 0:
            raise BertrError(f"the vocabulary '{self.vocab_path}' must have [PAD] as its first entry (id 0)")
        self.vocab = vocab
        self._tokenizer = BertWordPieceTokenizer(
            vocab,
            lowercase=self.do_lower_case,
            strip_accents=self.do_lower_case,
            clean_text=True,
            handle_chinese_chars=True,
        )

    @staticmethod
    def _read_vocab(path: Path) -> dict[str, int]:
        try:
            with open(path, encoding="utf-8") as handle:
                tokens = [line.rstrip("\n").rstrip("\r") for line in handle]
        except (OSError, UnicodeDecodeError) as exc:
            raise BertrError(f"cannot read the vocabulary '{path}': {exc}") from None
        vocab: dict[str, int] = {}
        for index, token in enumerate(tokens):
            vocab.setdefault(token, index)
        return vocab

    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def tokenize(self, text: str) -> list[str]:
        """WordPiece tokens of one text, without [CLS]/[SEP] (for inspection and tests)."""
        return self._tokenizer.encode(text, add_special_tokens=False).tokens

    def encode(
        self,
        texts: Sequence[str],
        seq_len: int,
        pairs: Sequence[str] | None = None,
        report: ProgressFn = None,
        chunk: int = 20000,
    ) -> Encoded:
        """Encode texts (and optional second texts) to ``[CLS] a [SEP] (b [SEP])`` rows of ``seq_len`` ids.

        Longer inputs are truncated, the longer text of a pair first; shorter ones are padded with 0.
        With ``report``, texts are encoded ``chunk`` rows at a time and ``report`` receives
        ``{"event": "tokenize", "step": rows done, "steps": rows, "elapsed": seconds}`` after each chunk.
        """
        texts = list(texts)
        if pairs is not None:
            pairs = list(pairs)
            if len(pairs) != len(texts):
                raise BertrError(f"got {len(texts)} texts but {len(pairs)} paired texts")
        minimum = 3 if pairs is None else 5
        if int(seq_len) < minimum:
            raise BertrError(f"seq_len must be at least {minimum} to hold the special tokens, not {seq_len}")
        seq_len = int(seq_len)
        self._tokenizer.enable_truncation(max_length=seq_len, strategy="longest_first")
        self._tokenizer.no_padding()
        batch = texts if pairs is None else list(zip(texts, pairs, strict=True))
        token = np.zeros((len(texts), seq_len), dtype=np.int32)
        segment = np.zeros((len(texts), seq_len), dtype=np.int32)
        step = max(1, len(batch) if report is None else int(chunk))
        started = time.perf_counter()
        for start in range(0, len(batch), step):
            for row, encoding in enumerate(self._tokenizer.encode_batch(batch[start : start + step]), start):
                ids = encoding.ids
                token[row, : len(ids)] = ids
                segment[row, : len(ids)] = encoding.type_ids
            if report is not None:
                report(
                    {
                        "event": "tokenize",
                        "step": min(start + step, len(batch)),
                        "steps": len(batch),
                        "elapsed": time.perf_counter() - started,
                    }
                )
        return Encoded(token, segment)
