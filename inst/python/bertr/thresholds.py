"""Choosing a decision threshold on held-out data: the probability at or above which a text is flagged.

Criteria (``metric``): ``"f1"`` (the F1 score of the positive class), ``"youden"`` (Youden's J: sensitivity +
specificity - 1), ``"accuracy"``, or a target: ``{"precision": p}`` (the lowest threshold whose precision is at
least ``p``, i.e. the most recall at that precision) or ``{"recall": r}`` (of the thresholds whose recall is at
least ``r``, the one with the most precision; the highest among equals). Candidates are the distinct scores; the
threshold returned is halfway between the chosen score and the next lower one, so that the held-out decisions are
exactly those measured and new scores close below the chosen one are not decided by a hair's breadth. The decision
itself is :meth:`bertr.tasks.Task.predict` (probability >= threshold).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .errors import BertrError

METRICS = ("f1", "youden", "accuracy")
TARGETS = ("precision", "recall")


def check_metric(metric: Any) -> tuple[str, float | None]:
    """``(name, target)``: a criterion name with target None, or ``("precision" | "recall", the target)``."""
    if isinstance(metric, str) and metric in METRICS:
        return metric, None
    if isinstance(metric, dict) and len(metric) == 1:
        ((name, target),) = metric.items()
        value = target[0] if isinstance(target, (list, tuple)) and len(target) == 1 else target
        if name in TARGETS and isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value <= 1:
            return name, float(value)
    raise BertrError(
        f"metric must be one of {', '.join(repr(m) for m in METRICS)}, or a target precision or recall such as "
        f"c(precision = 0.9) / {{'recall': 0.8}} (a number in (0, 1]), not {metric!r}"
    )


def choose_threshold(y_true: np.ndarray, score: np.ndarray, metric: Any = "f1", label: str = "") -> dict[str, Any]:
    """The threshold on ``score`` that best meets ``metric`` for the 0/1 (or boolean) ``y_true``, with the
    figures at it: ``threshold``, ``metric``, ``value`` (the criterion at it, or the precision / recall reached for
    a target), ``precision``, ``recall``, ``f1``, ``accuracy``, ``n`` and ``positives``."""
    name, target = check_metric(metric)
    y_true = np.asarray(y_true, dtype=bool).ravel()
    score = np.asarray(score, dtype=np.float64).ravel()
    where = f" for '{label}'" if label else ""
    positives, n = int(y_true.sum()), len(y_true)
    if positives in (0, n):
        raise BertrError(
            f"choosing a threshold{where} needs both positive and negative rows, but all {n} rows are "
            f"{'positive' if positives else 'negative'}"
        )
    order = np.argsort(-score, kind="mergesort")
    sorted_score, sorted_true = score[order], y_true[order]
    last = np.flatnonzero(np.r_[sorted_score[1:] != sorted_score[:-1], True])  # last row of each distinct score
    tp = np.cumsum(sorted_true)[last].astype(np.float64)
    fp = (last + 1) - tp
    negatives = n - positives
    precision = tp / (tp + fp)
    recall = tp / positives
    f1 = 2 * tp / (2 * tp + fp + (positives - tp))
    accuracy = (tp + negatives - fp) / n
    if name == "precision":
        reached = np.flatnonzero(precision >= target)
        if not len(reached):
            raise BertrError(
                f"no threshold reaches precision {target:g}{where} on these {n} rows (the highest is "
                f"{precision.max():.3f}); ask for a lower precision or use more data"
            )
        k, value = int(reached[-1]), float(precision[reached[-1]])  # recall grows with k: the last one
    elif name == "recall":
        reached = np.flatnonzero(recall >= target)  # never empty: the last candidate has recall 1
        k = int(reached[np.argmax(precision[reached])])  # precision is not monotone in the threshold
        value = float(recall[k])
    else:
        criterion = {"f1": f1, "youden": recall - fp / negatives, "accuracy": accuracy}[name]
        k = int(np.argmax(criterion))  # the highest threshold among equals
        value = float(criterion[k])
    chosen = sorted_score[last[k]]
    below = sorted_score[last[k] + 1] if last[k] + 1 < n else chosen
    return {
        "label": label,
        "threshold": float(np.clip((chosen + below) / 2, np.nextafter(0.0, 1.0), np.nextafter(1.0, 0.0))),
        "metric": name if target is None else f"{name} >= {target:g}",
        "value": value,
        "precision": float(precision[k]),
        "recall": float(recall[k]),
        "f1": float(f1[k]),
        "accuracy": float(accuracy[k]),
        "n": n,
        "positives": positives,
    }
