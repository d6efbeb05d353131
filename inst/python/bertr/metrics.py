"""Evaluation metrics on numpy arrays (no scikit-learn dependency)."""

from __future__ import annotations

import numpy as np

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


def binary_metrics(y_true: np.ndarray, prob: np.ndarray) -> dict[str, float]:
    """loss, accuracy (at THRESHOLD) and AUC of probabilities for the positive class."""
    y_true = np.asarray(y_true).ravel()
    return {
        "loss": binary_log_loss(y_true, prob),
        "accuracy": accuracy(y_true >= THRESHOLD, np.asarray(prob).ravel() >= THRESHOLD),
        "auc": roc_auc(y_true >= THRESHOLD, prob),
    }


def multiclass_metrics(y_true: np.ndarray, prob: np.ndarray, eps: float = 1e-7) -> dict[str, float]:
    """loss (cross-entropy), accuracy, macro F1 and macro one-vs-rest AUC for class indices ``y_true``."""
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
    }


def multilabel_metrics(y_true: np.ndarray, prob: np.ndarray) -> dict[str, float]:
    """loss (mean binary cross-entropy), accuracy per label decision, and AUC averaged over labels."""
    y_true = np.asarray(y_true, dtype=np.float64)
    prob = np.asarray(prob, dtype=np.float64)
    aucs = [roc_auc(y_true[:, j] >= THRESHOLD, prob[:, j]) for j in range(y_true.shape[1])]
    aucs = [a for a in aucs if not np.isnan(a)]
    return {
        "loss": binary_log_loss(y_true, prob),
        "accuracy": accuracy(y_true >= THRESHOLD, prob >= THRESHOLD),
        "auc": float(np.mean(aucs)) if aucs else float("nan"),
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
