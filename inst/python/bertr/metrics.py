"""Evaluation metrics on numpy arrays (no scikit-learn dependency)."""
from __future__ import annotations

import numpy as np


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
    for start, end in zip(starts, ends):
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
    """loss, accuracy (threshold 0.5) and AUC of probabilities for the positive class."""
    y_true = np.asarray(y_true).ravel()
    return {
        "loss": binary_log_loss(y_true, prob),
        "accuracy": accuracy(y_true >= 0.5, np.asarray(prob).ravel() >= 0.5),
        "auc": roc_auc(y_true >= 0.5, prob),
    }
