"""Checks of user input (texts, labels, settings) that raise :class:`BertrError` before any work starts."""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from .errors import BertrError


def _rows(indices: Sequence[int], limit: int = 5) -> str:
    shown = ", ".join(str(i + 1) for i in indices[:limit])
    return shown + (f" and {len(indices) - limit} more" if len(indices) > limit else "")


def check_texts(texts: Any, what: str = "text") -> list[str]:
    """A list of non-empty strings; errors name the first offending rows (1-based, as R users count)."""
    if isinstance(texts, str):
        texts = [texts]
    try:
        texts = list(texts)
    except TypeError:
        raise BertrError(f"{what} must be a sequence of strings, not {type(texts).__name__}") from None
    if not texts:
        raise BertrError(f"{what} has no rows")
    not_str = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if not_str:
        missing = [i for i in not_str if texts[i] is None or (isinstance(texts[i], float) and np.isnan(texts[i]))]
        if missing:
            raise BertrError(f"{what} is missing (NA) in row(s) {_rows(missing)}")
        raise BertrError(
            f"{what} must be character, but row {not_str[0] + 1} holds a {type(texts[not_str[0]]).__name__}"
        )
    empty = [i for i, t in enumerate(texts) if not t.strip()]
    if empty:
        raise BertrError(f"{what} is empty or only whitespace in row(s) {_rows(empty)}")
    return texts


def check_positive_int(value: Any, name: str, low: int = 1, high: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or value != int(value):
        raise BertrError(f"{name} must be a whole number, not {value!r}")
    value = int(value)
    if value < low or (high is not None and value > high):
        bounds = f"at least {low}" if high is None else f"between {low} and {high}"
        raise BertrError(f"{name} must be {bounds}, not {value}")
    return value


def check_fraction(value: Any, name: str, low: float, high: float, include_high: bool = False) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise BertrError(f"{name} must be a number, not {value!r}") from None
    ok = low <= value <= high if include_high else low <= value < high
    if not ok:
        closing = "]" if include_high else ")"
        raise BertrError(f"{name} must be in [{low:g}, {high:g}{closing}, not {value:g}")
    return value


def encode_binary_labels(y: Any, classes: Sequence[Any] | None = None,
                         require_both: bool = True) -> tuple[np.ndarray, list]:
    """0/1 float targets for the second class, and the two classes in order.

    ``require_both`` refuses data with one class only (needed for training, not for evaluation).
    """
    y = np.asarray(list(y), dtype=object)
    missing = [i for i, v in enumerate(y) if v is None or (isinstance(v, float) and np.isnan(v))]
    if missing:
        raise BertrError(f"the label is missing (NA) in row(s) {_rows(missing)}")
    if classes is None:
        classes = sorted(set(y.tolist()), key=lambda v: (str(type(v)), v))
    classes = list(classes)
    if len(classes) != 2:
        raise BertrError(
            f"the label has {len(classes)} class(es) ({', '.join(map(str, classes[:5]))}); "
            "a binary classifier needs exactly 2"
        )
    unknown = [i for i, v in enumerate(y) if v not in classes]
    if unknown:
        raise BertrError(f"row {unknown[0] + 1} has label {y[unknown[0]]!r}, which is not one of {classes}")
    target = np.asarray([v == classes[1] for v in y], dtype=np.float32)
    if require_both and target.min() == target.max():
        raise BertrError(f"the label has only one class ({y[0]!r}) in the data; a classifier needs both")
    return target, classes
