"""Checks of user input (texts, labels, settings) that raise :class:`BertrError` before any work starts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .errors import BertrError

POOLINGS = ("cls", "mean")  # how a classifier summarises a text's token states (see bertr.graph)
STRATEGIES = ("auto", "mirrored", "multi_worker")  # where a fit runs (see bertr.distribution)
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")  # Keras precision policies a fit can use


def check_pooling(pooling: Any, allow_none: bool = True) -> str | None:
    """``pooling`` if it is one bertr knows (``None``, the model's own, where allowed), else a clear error."""
    if (pooling is None and allow_none) or pooling in POOLINGS:
        return pooling
    unset = " (or left unset for the model's own)" if allow_none else ""
    raise BertrError(f"pooling must be {' or '.join(repr(p) for p in POOLINGS)}{unset}, not {pooling!r}")


def check_strategy(strategy: Any) -> Any:
    """``strategy`` if bertr knows it: ``None``/``"auto"``, ``"mirrored"``, ``"multi_worker"`` or a
    ``tf.distribute.Strategy`` object (told apart by duck typing, so this check does not start TensorFlow)."""
    if strategy is None or strategy in STRATEGIES:
        return strategy
    if not isinstance(strategy, str) and hasattr(strategy, "scope") and hasattr(strategy, "num_replicas_in_sync"):
        return strategy
    raise BertrError(
        f"strategy must be NULL, {', '.join(repr(s) for s in STRATEGIES)} or a tf.distribute.Strategy, not "
        f"{show_value(strategy) if isinstance(strategy, (str, int, float, bool)) else type(strategy).__name__}"
    )


def check_devices(devices: Any) -> list[str] | None:
    """``devices`` as a list of TensorFlow device names (``"/gpu:0"``, ``"/cpu:1"``), or None."""
    if devices is None:
        return None
    if isinstance(devices, str):
        devices = [devices]
    devices = list(devices) if isinstance(devices, (list, tuple)) else None
    if not devices or not all(isinstance(d, str) and d.strip() for d in devices):
        raise BertrError('devices must be TensorFlow device names such as c("/gpu:0", "/gpu:1"), or NULL')
    if len(set(devices)) != len(devices):
        raise BertrError(f"devices names a device twice: {', '.join(devices)}")
    return devices


def check_precision(precision: Any) -> str:
    """``precision`` if it is one of :data:`PRECISIONS`."""
    if precision in PRECISIONS:
        return precision
    raise BertrError(f"precision must be one of {', '.join(repr(p) for p in PRECISIONS)}, not {precision!r}")


def _rows(indices: Sequence[int], limit: int = 5) -> str:
    shown = ", ".join(str(i + 1) for i in indices[:limit])
    return shown + (f" and {len(indices) - limit} more" if len(indices) > limit else "")


def is_missing(value: Any) -> bool:
    """None or NaN: how R's NA arrives."""
    return value is None or (isinstance(value, float) and np.isnan(value))


def format_number(value: Any) -> str:
    """A number as R prints it: Inf, -Inf, NaN, 1e+08, 0.5."""
    value = float(value)
    if np.isnan(value):
        return "NaN"
    if np.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    return f"{value:.4g}"


def check_texts(texts: Any, what: str = "text", allow_empty: bool = False) -> list[str]:
    """A list of non-empty strings; errors name the first offending rows (1-based, as R users count).
    No texts at all is an error unless ``allow_empty`` (prediction of nothing gives nothing)."""
    if isinstance(texts, str):
        texts = [texts]
    try:
        texts = list(texts)
    except TypeError:
        raise BertrError(f"{what} must be a sequence of strings, not {type(texts).__name__}") from None
    if not texts and not allow_empty:
        raise BertrError(f"{what} has no rows")
    not_str = [i for i, t in enumerate(texts) if not isinstance(t, str)]
    if not_str:
        missing = [i for i in not_str if is_missing(texts[i])]
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


FLOAT32_MAX = float(np.finfo(np.float32).max)  # training computes in float32: larger numbers become Inf


def non_float32_rows(values: Any) -> list[int]:
    """Indices of the numbers that are not finite in float32 (NaN, +-Inf, or beyond +-FLOAT32_MAX)."""
    numbers = np.asarray(values, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.flatnonzero(~np.isfinite(numbers) | (np.abs(numbers) > FLOAT32_MAX)).tolist()


def check_sample_weight(weight: Any, n: int) -> np.ndarray:
    """Per-row loss weights: finite (also in float32), non-negative numbers, one per row, not all zero."""
    try:
        weight = np.asarray([np.nan if is_missing(w) else w for w in weight], dtype=np.float64)
    except (TypeError, ValueError):
        raise BertrError("sample_weight must be numeric") from None
    if weight.shape != (n,):
        raise BertrError(f"sample_weight has {weight.size} values for {n} rows")
    missing = np.flatnonzero(np.isnan(weight))
    if len(missing):
        raise BertrError(f"sample_weight is missing (NA) in row(s) {_rows(list(missing))}")
    bad = sorted(set(non_float32_rows(weight)) | set(np.flatnonzero(weight < 0).tolist()))
    if bad:
        raise BertrError(
            f"sample_weight must be a finite number >= 0 (at most {FLOAT32_MAX:.3g}), but row(s) "
            f"{_rows(bad)} hold {format_number(weight[bad[0]])}"
        )
    if not weight.any():
        raise BertrError("sample_weight is 0 for every row")
    return weight


def class_weights(codes: np.ndarray, classes: Sequence[Any], class_weight: Any) -> np.ndarray:
    """Per-row weights from ``class_weight``: "balanced" (n / (k * count)) or a mapping class -> weight."""
    codes = np.asarray(codes, dtype=int)
    k = len(classes)
    if isinstance(class_weight, str):
        if class_weight != "balanced":
            raise BertrError(f"class_weight must be 'balanced' or a named number per class, not '{class_weight}'")
        counts = np.bincount(codes, minlength=k).astype(np.float64)
        per_class = np.where(counts > 0, len(codes) / (k * np.maximum(counts, 1)), 0.0)
    else:
        mapping = {str(key): value for key, value in dict(class_weight).items()}
        missing = [str(c) for c in classes if str(c) not in mapping]
        unknown = [key for key in mapping if key not in {str(c) for c in classes}]
        if unknown:
            raise BertrError(
                f"class_weight names unknown class(es) {', '.join(unknown)}; classes: {', '.join(map(str, classes))}"
            )
        if missing:
            raise BertrError(f"class_weight lacks a weight for class(es) {', '.join(missing)}")
        per_class = np.asarray([float(mapping[str(c)]) for c in classes])
        if not np.all(np.isfinite(per_class) & (per_class > 0)):
            raise BertrError("class_weight values must be positive numbers")
    return per_class[codes]


def show_value(value: Any) -> str:
    """A setting as R users write it (the same text reads fine from Python)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dict):
        return "list(" + ", ".join(f"{k} = {show_value(v)}" for k, v in value.items()) + ")"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (list, tuple)):
        return "c(" + ", ".join(show_value(v) for v in value) + ")"
    return f"{value:g}" if isinstance(value, float) else str(value)
