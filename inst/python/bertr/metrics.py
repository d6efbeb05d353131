"""Evaluation metrics on numpy arrays (no scikit-learn dependency)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .calibration import expected_calibration_error
from .checks import _rows, is_missing
from .errors import BertrError

THRESHOLD = 0.5  # a label (or soft fraction) >= it is positive, and a probability >= it decides for the class


def roc_auc(y_true: np.ndarray, score: np.ndarray) -> float:
    """Area under the ROC curve for 0/1 labels, exact, with ties counted as half (Mann-Whitney U)."""
    y_true = np.asarray(y_true).astype(bool).ravel()
    score = np.asarray(score, dtype=np.float64).ravel()
    n_pos, n_neg = int(y_true.sum()), int((~y_true).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    order = np.argsort(score, kind="mergesort")
    ranks = np.empty(len(score), dtype=np.float64)
    sorted_scores = score[order]
    # average ranks over ties
    boundaries = np.flatnonzero(np.diff(sorted_scores)) + 1
    starts = np.concatenate(([0], boundaries))
    ends = np.concatenate((boundaries, [len(score)]))
    for start, end in zip(starts, ends, strict=True):
        ranks[order[start:end]] = (start + end + 1) / 2.0
    return float((ranks[y_true].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    y_true, y_pred = np.asarray(y_true).ravel(), np.asarray(y_pred).ravel()
    return float(np.mean(y_true == y_pred)) if len(y_true) else float("nan")


def binary_log_loss(y_true: np.ndarray, prob: np.ndarray, eps: float = 1e-7) -> float:
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    prob = np.clip(np.asarray(prob, dtype=np.float64).ravel(), eps, 1 - eps)
    return float(-np.mean(y_true * np.log(prob) + (1 - y_true) * np.log(1 - prob)))


def binary_metrics(y_true: np.ndarray, prob: np.ndarray, threshold: float = THRESHOLD) -> dict[str, float]:
    """loss, accuracy (deciding for the class at probability >= ``threshold``) and AUC of probabilities for the
    positive class (a label, or soft fraction, >= THRESHOLD), and the expected calibration error of the
    probabilities against the labels (0/1 or soft; see :mod:`bertr.calibration`)."""
    y_true = np.asarray(y_true).ravel()
    return {
        "loss": binary_log_loss(y_true, prob),
        "accuracy": accuracy(y_true >= THRESHOLD, np.asarray(prob).ravel() >= threshold),
        "auc": roc_auc(y_true >= THRESHOLD, prob),
        "ece": expected_calibration_error(y_true, prob, "binary"),
    }


def multiclass_metrics(y_true: np.ndarray, prob: np.ndarray, eps: float = 1e-7) -> dict[str, float]:
    """loss (cross-entropy), accuracy, macro F1, macro one-vs-rest AUC and the expected calibration error (top-label
    confidence against accuracy) for class indices ``y_true``."""
    y_true = np.asarray(y_true, dtype=int).ravel()
    prob = np.asarray(prob, dtype=np.float64)
    pred = prob.argmax(axis=1)
    k = prob.shape[1]
    f1s, aucs = [], []
    for c in range(k):
        tp = np.sum((pred == c) & (y_true == c))
        fp, fn = np.sum((pred == c) & (y_true != c)), np.sum((pred != c) & (y_true == c))
        if tp + fp + fn:
            f1s.append(2 * tp / (2 * tp + fp + fn))
        auc = roc_auc(y_true == c, prob[:, c])
        if not np.isnan(auc):
            aucs.append(auc)
    return {
        "loss": float(-np.mean(np.log(np.clip(prob[np.arange(len(y_true)), y_true], eps, 1)))),
        "accuracy": accuracy(y_true, pred),
        "macro_f1": float(np.mean(f1s)) if f1s else float("nan"),
        "auc": float(np.mean(aucs)) if aucs else float("nan"),
        "ece": expected_calibration_error(y_true, prob, "multiclass"),
    }


def multilabel_metrics(y_true: np.ndarray, prob: np.ndarray, threshold=THRESHOLD) -> dict[str, float]:
    """loss (mean binary cross-entropy), accuracy per label decision (probability >= ``threshold``, one number or
    one per label), and AUC and expected calibration error averaged over labels."""
    y_true = np.asarray(y_true, dtype=np.float64)
    prob = np.asarray(prob, dtype=np.float64)
    aucs = [roc_auc(y_true[:, j] >= THRESHOLD, prob[:, j]) for j in range(y_true.shape[1])]
    aucs = [a for a in aucs if not np.isnan(a)]
    return {
        "loss": binary_log_loss(y_true, prob),
        "accuracy": accuracy(y_true >= THRESHOLD, prob >= np.asarray(threshold)),
        "auc": float(np.mean(aucs)) if aucs else float("nan"),
        "ece": expected_calibration_error(y_true, prob, "multilabel"),
    }


def regression_metrics(y_true: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    """loss (mean squared error), RMSE, MAE and R squared."""
    y_true = np.asarray(y_true, dtype=np.float64).ravel()
    pred = np.asarray(pred, dtype=np.float64).ravel()
    mse = float(np.mean((y_true - pred) ** 2))
    total = float(np.sum((y_true - y_true.mean()) ** 2))
    return {
        "loss": mse,
        "rmse": float(np.sqrt(mse)),
        "mae": float(np.mean(np.abs(y_true - pred))),
        "r2": float(1 - mse * len(y_true) / total) if total > 0 else float("nan"),
    }


# The identities scored by Jigsaw's "Unintended Bias in Toxicity Classification" competition (its column names).
BIAS_IDENTITIES = (
    "male",
    "female",
    "homosexual_gay_or_lesbian",
    "christian",
    "jewish",
    "muslim",
    "black",
    "white",
    "psychiatric_or_mental_illness",
)
BIAS_AUCS = {  # each AUC's name and the rows it ranks
    "subgroup_auc": ("subgroup AUC", "its subgroup's rows"),
    "bpsn_auc": ("BPSN AUC", "its subgroup's negatives with the background's positives"),
    "bnsp_auc": ("BNSP AUC", "its subgroup's positives with the background's negatives"),
}


def power_mean(values: Any, power: float) -> float:
    """The generalized mean ``mean(v ** power) ** (1 / power)`` of the values that are not NaN; NaN if none."""
    values = np.asarray(values, dtype=np.float64)
    values = values[~np.isnan(values)]
    if not len(values):
        return float("nan")
    with np.errstate(divide="ignore"):  # an AUC of 0 with a negative power: the mean is 0, its limit
        return float(np.mean(values**power) ** (1.0 / power))


def bias_metrics(y_true: Any, score: Any, identities: dict[str, Any], power: float = -5) -> dict[str, Any]:
    """The unintended-bias benchmark of Jigsaw's toxicity competition: per identity, the AUC of ``score`` within
    its subgroup, BPSN (subgroup negatives with background positives) and BNSP (subgroup positives with background
    negatives); a label or identity value >= THRESHOLD is positive / in the subgroup, a missing one (NaN) is not in
    it, the background is every row not in it. The final score is the mean of the overall AUC and the three
    ``power`` means of the identities' AUCs. An AUC over one class only is NaN and left out of its mean; each such
    case is described in ``warnings`` (nothing is printed). Returns ``columns`` (subgroup, n and the three AUCs,
    one per identity), ``overall_auc``, ``power_means`` (by AUC kind), ``final_score``, ``power`` and ``warnings``.
    """
    y_true = _numbers(y_true, "the label")
    score = _numbers(score, "the score")
    for values, what in ((y_true, "the label"), (score, "the score")):
        missing = np.flatnonzero(np.isnan(values)).tolist()
        if missing:
            raise BertrError(f"{what} is missing (NA) in row(s) {_rows(missing)}")
    if len(score) != len(y_true):
        raise BertrError(f"there are {len(score)} scores for {len(y_true)} labels")
    if not len(y_true):
        raise BertrError("there are no rows to score")
    if not identities:
        raise BertrError("no identity columns were given")
    if isinstance(power, bool) or not isinstance(power, (int, float)) or not np.isfinite(power) or power == 0:
        raise BertrError(f"power must be a finite number other than 0, not {power!r}")
    positive = y_true >= THRESHOLD
    warnings = []
    overall_auc = roc_auc(positive, score)
    if np.isnan(overall_auc):
        warnings.append(
            f"The overall AUC is NA: all {len(y_true)} rows are {'positive' if positive.all() else 'negative'}."
        )
    columns: dict[str, list] = {"subgroup": [], "n": [], **{kind: [] for kind in BIAS_AUCS}}
    for name, values in identities.items():
        member = _numbers(values, f"identity '{name}'") >= THRESHOLD  # NaN (a missing value) is not a member
        if len(member) != len(y_true):
            raise BertrError(f"identity '{name}' has {len(member)} values for {len(y_true)} rows")
        rows = {
            "subgroup_auc": member,
            "bpsn_auc": (member & ~positive) | (~member & positive),
            "bnsp_auc": (member & positive) | (~member & ~positive),
        }
        columns["subgroup"].append(str(name))
        columns["n"].append(int(member.sum()))
        for kind, (label, described) in BIAS_AUCS.items():
            auc = roc_auc(positive[rows[kind]], score[rows[kind]])
            columns[kind].append(auc)
            if np.isnan(auc):
                n_pos, n = int(positive[rows[kind]].sum()), int(rows[kind].sum())
                held = f"{n} rows, all {'positive' if n_pos else 'negative'}" if n else "0 rows"
                warnings.append(
                    f"The {label} of identity '{name}' is NA: {described} are {held}; it is left out of the mean."
                )
    power_means = {kind: power_mean(columns[kind], power) for kind in BIAS_AUCS}
    parts = {"the overall AUC": overall_auc, **{f"the mean {BIAS_AUCS[k][0]}": v for k, v in power_means.items()}}
    missing_parts = [name for name, value in parts.items() if np.isnan(value)]
    if missing_parts:
        verb = "is" if len(missing_parts) == 1 else "are"
        warnings.append(f"The final score is NA: {', '.join(missing_parts)} {verb} NA.")
    return {
        "columns": columns,
        "overall_auc": overall_auc,
        "power_means": power_means,
        "final_score": float(np.mean(list(parts.values()))),
        "power": power,
        "warnings": warnings,
    }


def _numbers(values: Any, what: str) -> np.ndarray:
    """A 1-d float array (None, R's NA, becomes NaN); a clear error for what is not numbers."""
    try:
        return np.asarray([np.nan if is_missing(v) else v for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        raise BertrError(f"{what} must be numbers (or TRUE/FALSE)") from None
