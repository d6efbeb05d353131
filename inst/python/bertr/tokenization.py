"""Fast WordPiece encoding of whole batches into numpy int32 matrices.

Uses the Rust ``tokenizers`` package built from the model's ``vocab.txt``; its BERT normaliser, pre-tokeniser
and WordPiece model follow Google's reference tokenizer (accents stripped when lower-casing, punctuation and
CJK characters split off, a word that cannot be split becomes a single ``[UNK]``, words over 100 characters
become ``[UNK]``), which keras-bert's own Tokenizer does not.

A text longer than the window is cut (``truncation``): its ``head`` (the first tokens), its ``tail`` (the last) or
``head_tail`` (the first quarter and the last three quarters of the window, Sun et al. 2019, "How to Fine-Tune BERT
for Text Classification?"); or it is covered by overlapping windows (:meth:`WordPieceTokenizer.encode_windows`),
one row each, whose predictions :mod:`bertr.long_text` pools back into one per text.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import BertrError
from .long_text import check_stride, check_truncation, head_tail, window_starts
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


@dataclass
class Pieces:
    """One text's model input token by token (see :meth:`WordPieceTokenizer.encode_pieces`)."""

    ids: list[int]
    tokens: list[str]
    spans: list[tuple[int, int]]  # [start, end) in characters of the token's own text; (0, 0) for special tokens
    words: list[int | None]  # the word's index within its own text; None for special tokens
    segments: list[int]  # 0: the text, 1: the paired text


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
        truncation: str = "head",
        head_tokens: int | None = None,
    ) -> Encoded:
        """Encode texts (and optional second texts) to ``[CLS] a [SEP] (b [SEP])`` rows of ``seq_len`` ids.

        Longer inputs are cut as ``truncation`` says (see :func:`bertr.long_text.check_truncation`): ``"head"``
        keeps the first tokens, ``"tail"`` the last (of a pair, the longer text is cut first, from its end or its
        start), ``"head_tail"`` (single texts) the first ``head_tokens`` (default: a quarter of the window) and the
        last ones. Shorter ones are padded with 0. With ``report``, texts are encoded ``chunk`` rows at a time and
        ``report`` receives ``{"event": "tokenize", "step": rows done, "steps": rows, "elapsed": seconds}`` after
        each chunk.
        """
        texts, pairs, seq_len = self._check(texts, pairs, seq_len)
        truncation = check_truncation(truncation, paired=pairs is not None)
        token = np.zeros((len(texts), seq_len), dtype=np.int32)
        segment = np.zeros((len(texts), seq_len), dtype=np.int32)
        if truncation == "head_tail":
            head = head_tail(seq_len, head_tokens)
            for row, ids in self._pieces(texts, report, chunk):
                if len(ids) > seq_len - 2:
                    ids = ids[:head] + ids[len(ids) - (seq_len - 2 - head) :]
                token[row, : len(ids) + 2] = [self.vocab["[CLS]"], *ids, self.vocab["[SEP]"]]
            return Encoded(token, segment)
        direction = "left" if truncation == "tail" else "right"
        self._tokenizer._tokenizer.enable_truncation(seq_len, strategy="longest_first", direction=direction)
        self._tokenizer.no_padding()
        batch = texts if pairs is None else list(zip(texts, pairs, strict=True))
        for start, encodings in self._chunks(batch, report, chunk, add_special_tokens=True):
            for row, encoding in enumerate(encodings, start):
                ids = encoding.ids
                token[row, : len(ids)] = ids
                segment[row, : len(ids)] = encoding.type_ids
        return Encoded(token, segment)

    def encode_pieces(
        self,
        texts: Sequence[str],
        seq_len: int,
        pairs: Sequence[str] | None = None,
        truncation: str = "head",
        head_tokens: int | None = None,
    ) -> list[Pieces]:
        """Each text's model input as :meth:`encode` cuts it (the same ids), with every token's string, character
        span in its own text, word (the pre-tokeniser's: punctuation is a word of its own) and segment (0: the text,
        1: the paired text; special tokens have no word and an empty span)."""
        texts, pairs, seq_len = self._check(texts, pairs, seq_len)
        truncation = check_truncation(truncation, paired=pairs is not None)
        if truncation == "head_tail":
            head = head_tail(seq_len, head_tokens)
            self._tokenizer.no_truncation()
            self._tokenizer.no_padding()
            rows = []
            for encoding in self._tokenizer.encode_batch(texts, add_special_tokens=False):
                keep = list(range(len(encoding.ids)))
                if len(keep) > seq_len - 2:
                    keep = keep[:head] + keep[len(keep) - (seq_len - 2 - head) :]
                special = [(self.vocab["[CLS]"], "[CLS]"), (self.vocab["[SEP]"], "[SEP]")]
                rows.append(
                    Pieces(
                        ids=[special[0][0], *(encoding.ids[i] for i in keep), special[1][0]],
                        tokens=[special[0][1], *(encoding.tokens[i] for i in keep), special[1][1]],
                        spans=[(0, 0), *(encoding.offsets[i] for i in keep), (0, 0)],
                        words=[None, *(encoding.word_ids[i] for i in keep), None],
                        segments=[0] * (len(keep) + 2),
                    )
                )
            return rows
        direction = "left" if truncation == "tail" else "right"
        self._tokenizer._tokenizer.enable_truncation(seq_len, strategy="longest_first", direction=direction)
        self._tokenizer.no_padding()
        batch = texts if pairs is None else list(zip(texts, pairs, strict=True))
        return [
            Pieces(
                ids=list(encoding.ids),
                tokens=list(encoding.tokens),
                spans=[tuple(span) for span in encoding.offsets],
                words=list(encoding.word_ids),
                segments=list(encoding.type_ids),
            )
            for encoding in self._tokenizer.encode_batch(batch, add_special_tokens=True)
        ]

    def encode_windows(
        self, texts: Sequence[str], seq_len: int, stride: int | None = None, report: ProgressFn = None, chunk=20000
    ) -> tuple[Encoded, np.ndarray]:
        """Every text as overlapping windows of ``seq_len`` ids (``[CLS]`` + up to ``seq_len - 2`` of its tokens +
        ``[SEP]``), consecutive windows ``stride`` tokens apart (default: half a window), the last one ending at
        the text's end; a text that fits is one window. Returns the windows and, per window, its text's index."""
        texts, _, seq_len = self._check(texts, None, seq_len)
        width = seq_len - 2
        stride = check_stride(stride, seq_len)
        rows: list[list[int]] = []
        owner: list[int] = []
        for row, ids in self._pieces(texts, report, chunk):
            for start in window_starts(len(ids), width, stride):
                rows.append([self.vocab["[CLS]"], *ids[start : start + width], self.vocab["[SEP]"]])
                owner.append(row)
        token = np.zeros((len(rows), seq_len), dtype=np.int32)
        for i, ids in enumerate(rows):
            token[i, : len(ids)] = ids
        return Encoded(token, np.zeros_like(token)), np.asarray(owner, dtype=np.int64)

    def _check(self, texts, pairs, seq_len) -> tuple[list[str], list[str] | None, int]:
        texts = list(texts)
        if pairs is not None:
            pairs = list(pairs)
            if len(pairs) != len(texts):
                raise BertrError(f"got {len(texts)} texts but {len(pairs)} paired texts")
        minimum = 3 if pairs is None else 5
        if int(seq_len) < minimum:
            raise BertrError(f"seq_len must be at least {minimum} to hold the special tokens, not {seq_len}")
        return texts, pairs, int(seq_len)

    def _pieces(self, texts: list[str], report: ProgressFn, chunk: int):
        """(row, the text's WordPiece ids without special tokens, uncut) for every text."""
        self._tokenizer.no_truncation()
        self._tokenizer.no_padding()
        for start, encodings in self._chunks(texts, report, chunk, add_special_tokens=False):
            for row, encoding in enumerate(encodings, start):
                yield row, encoding.ids

    def _chunks(self, batch: list, report: ProgressFn, chunk: int, add_special_tokens: bool):
        """(first row, encodings) of ``chunk`` rows at a time (all at once without ``report``), reporting each."""
        step = max(1, len(batch) if report is None else int(chunk))
        started = time.perf_counter()
        for start in range(0, len(batch), step):
            encodings = self._tokenizer.encode_batch(batch[start : start + step], add_special_tokens=add_special_tokens)
            yield start, encodings
            if report is not None:
                report(
                    {
                        "event": "tokenize",
                        "step": min(start + step, len(batch)),
                        "steps": len(batch),
                        "elapsed": time.perf_counter() - started,
                    }
                )
