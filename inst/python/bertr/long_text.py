"""Texts longer than the model's window: which tokens a cut keeps, and windows pooled back into one result per text.

* ``truncation``: one window per text. ``"head"`` keeps the first ``seq_len - 2`` tokens (BERT's usual cut),
  ``"tail"`` the last ones, ``"head_tail"`` the first quarter of the window and the last three quarters (the best
  single window in Sun et al. 2019, "How to Fine-Tune BERT for Text Classification?"; ``head_tokens`` sets the
  first part).
* ``long_text = "window"``: overlapping windows of ``seq_len`` tokens, ``stride`` tokens apart (default: half a
  window), the last one ending at the text's end, so every token is seen. Each window is a row for the network;
  the rows' outputs are pooled per text (``window_pooling``: ``"mean"`` or ``"max"``). In training, each window is a
  row with its text's label, weighted in proportion to ``1 / windows`` so that every text counts once, as it does
  without windows (the weights are scaled to a mean of 1, keeping the loss on its usual scale).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import BertrError

TRUNCATIONS = ("head", "tail", "head_tail")
LONG_TEXTS = ("truncate", "window")
WINDOW_POOLINGS = ("mean", "max")


def _one_of(value: Any, name: str, choices: tuple[str, ...]) -> str:
    if value in choices:
        return value
    raise BertrError(f"{name} must be one of {', '.join(repr(c) for c in choices)}, not {value!r}")


def check_truncation(truncation: Any, paired: bool = False) -> str:
    """``truncation`` if known; ``"head_tail"`` needs single texts (a pair has two heads and two tails)."""
    truncation = _one_of(truncation, "truncation", TRUNCATIONS)
    if paired and truncation == "head_tail":
        raise BertrError("truncation = 'head_tail' applies to single texts; for text pairs use 'head' or 'tail'")
    return truncation


def check_long_text(long_text: Any, paired: bool = False) -> str:
    """``long_text`` if known; windows need single texts."""
    long_text = _one_of(long_text, "long_text", LONG_TEXTS)
    if paired and long_text == "window":
        raise BertrError("long_text = 'window' applies to single texts, not to text pairs; use truncation instead")
    return long_text


def check_window_pooling(window_pooling: Any) -> str:
    return _one_of(window_pooling, "window_pooling", WINDOW_POOLINGS)


def _whole(value: Any, name: str, low: int, high: int) -> int:
    ok = isinstance(value, (int, np.integer, float)) and not isinstance(value, bool) and float(value) == int(value)
    if not ok or not low <= int(value) <= high:
        raise BertrError(f"{name} must be a whole number from {low} to {high}, not {value!r}")
    return int(value)


def check_stride(stride: Any, seq_len: int) -> int:
    """Tokens between the starts of consecutive windows: 1 to ``seq_len - 2`` (``None``: half a window)."""
    width = int(seq_len) - 2
    if stride is None:
        return max(1, width // 2)
    return _whole(stride, f"stride (tokens between window starts, at seq_len = {seq_len})", 1, width)


def head_tail(seq_len: int, head_tokens: Any = None) -> int:
    """How many first tokens ``"head_tail"`` keeps: ``head_tokens``, by default a quarter of the window."""
    width = int(seq_len) - 2
    if head_tokens is None:
        return int(round(width / 4))
    return _whole(head_tokens, f"head_tokens (at seq_len = {seq_len})", 0, width)


def window_starts(n_tokens: int, width: int, stride: int) -> list[int]:
    """Where the windows of a text of ``n_tokens`` tokens start: every ``stride`` tokens, the last window ending
    at the text's end (one window, starting at 0, when the text fits)."""
    last = max(n_tokens - width, 0)
    starts = list(range(0, last + 1, stride))
    if starts[-1] != last:
        starts.append(last)
    return starts


def pool_windows(output: np.ndarray, owner: np.ndarray, n: int, how: str, normalize: bool = False) -> np.ndarray:
    """Per text (``owner`` gives each row's text, ``0..n-1``), the mean or maximum of its rows' outputs. With
    ``normalize`` (softmax probabilities under ``"max"``), each pooled row is rescaled to sum to 1."""
    output = np.asarray(output, dtype=np.float64)
    pooled = np.zeros((n, *output.shape[1:]), dtype=np.float64)
    if how == "max":
        pooled.fill(-np.inf)
        np.maximum.at(pooled, owner, output)
        if normalize:
            pooled /= pooled.sum(axis=1, keepdims=True)
    else:
        np.add.at(pooled, owner, output)
        pooled /= np.bincount(owner, minlength=n).reshape(-1, *([1] * (output.ndim - 1)))
    return pooled


def window_weights(owner: np.ndarray) -> np.ndarray:
    """Per window, ``1 / the number of windows of its text``: a text's windows weigh as much as one row."""
    counts = np.bincount(owner)
    return (1.0 / counts[owner]).astype(np.float32)


def first_rows(owner: np.ndarray) -> np.ndarray:
    """The first window of every text, in text order (for the texts' own values, e.g. their labels)."""
    _, first = np.unique(owner, return_index=True)
    return first
