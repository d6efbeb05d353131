"""Calibrated probabilities: the expected calibration error, reliability bins, and temperature scaling.

Fine-tuned BERTs tend to state probabilities more extreme than their accuracy (Guo et al. 2017, "On Calibration of
Modern Neural Networks"). Temperature scaling divides the network's logits by one number ``T > 0`` fitted on
held-out labelled rows, by the least negative log-likelihood: ``T > 1`` softens over-confident probabilities. A
positive ``T`` keeps the order of a binary or multi-label model's scores (and so its AUC; a multi-class model's
one-vs-rest AUC can move, as the softmax couples the classes), its decisions at 0.5 (a logit of 0) and its
most probable class; probabilities that end within about 1e-16 of 1 (float64's resolution there) can become equal.

The output layer has its activation built in, so the logits are recovered from its float32 outputs:
``log(p) - log1p(-p)`` for a sigmoid, ``log(p)`` for a softmax (equal to the logits up to a constant per row, which
the softmax ignores); ``p`` is first moved off 0 and 1 by less than float32's spacing there (:data:`EPS_ZERO`,
:data:`EPS_ONE`), so that every logit is finite and distinct outputs stay distinct.

The expected calibration error (ECE) puts the rows in :data:`BINS` equal-width bins of the predicted probability
(bin ``b`` holds ``[b / BINS, (b + 1) / BINS)``, the last also 1) and sums, over the bins, the share of rows in the
bin times the gap between its mean predicted probability and what was observed: for binary and soft tasks the
positive probability against the fraction of positives (a soft target's mean); for multi-class the top-label
confidence (the largest probability) against the accuracy; for multi-label the mean of the labels' binary ECEs.

Only numpy: the task's outputs are small, and the temperature is found by a golden-section search (see
:func:`fit_temperature`).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .errors import BertrError

BINS = 15  # equal-width bins of the predicted probability, as Guo et al.
EPS_ZERO = 1e-46  # a probability of exactly 0 becomes this (below float32's smallest, 1.4e-45): log(p) is finite
EPS_ONE = 2.0**-26  # 1 - p is at least this (below float32's spacing just under 1, 2^-24)
LOG_T_RANGE = (math.log(0.01), math.log(100.0))  # the search's bracket: T from 0.01 to 100
TOLERANCE = 1e-6  # the search stops when the bracket of log(T) is narrower than this (T to a relative 1e-6)
GOLDEN = (math.sqrt(5.0) - 1.0) / 2.0


# -- logits and calibrated probabilities ---------------------------------------------------------------------------
def logits(output: np.ndarray, activation: str) -> np.ndarray:
    """The logits behind the network's ``sigmoid`` or ``softmax`` ``output`` (n, K), as float64: ``log(p) -
    log1p(-p)`` or ``log(p)`` (the softmax's up to a constant per row), finite for outputs of exactly 0 or 1."""
    p = np.asarray(output, dtype=np.float64)
    p = np.clip(p, EPS_ZERO, 1.0 - EPS_ONE) if activation == "sigmoid" else np.maximum(p, EPS_ZERO)
    return np.log(p) - np.log1p(-p) if activation == "sigmoid" else np.log(p)


def scale(output: np.ndarray, activation: str, temperature: float | None) -> np.ndarray:
    """``output`` as the network would give it with its logits divided by ``temperature`` (None or 1: unchanged)."""
    output = np.asarray(output)
    if temperature is None or temperature == 1.0:
        return output
    return _activate(logits(output, activation) / temperature, activation)


def _activate(z: np.ndarray, activation: str) -> np.ndarray:
    if activation == "sigmoid":
        with np.errstate(over="ignore"):  # exp(-z) overflows to inf for z < -709: the probability is 0
            return 1.0 / (1.0 + np.exp(-z))
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# -- the negative log-likelihood of a temperature -------------------------------------------------------------------
def _nll(z: np.ndarray, target: np.ndarray, activation: str, inverse_t: float) -> float:
    """The mean negative log-likelihood of the logits ``z`` scaled by ``inverse_t``: binary cross-entropy per output
    (soft targets allowed, the mean over rows and outputs) for a sigmoid, cross-entropy of the class indices
    ``target`` for a softmax. Computed stably from the logits (``softplus``, log-sum-exp)."""
    s = z * inverse_t
    if activation == "sigmoid":  # -[y log sig(s) + (1 - y) log(1 - sig(s))] = softplus(s) - y s
        return float(np.mean(np.logaddexp(0.0, s) - target * s))
    top = s.max(axis=1, keepdims=True)
    log_norm = top[:, 0] + np.log(np.exp(s - top).sum(axis=1))
    return float(np.mean(log_norm - s[np.arange(len(s)), target[:, 0].astype(int)]))


def fit_temperature(output: np.ndarray, target: np.ndarray, activation: str) -> dict[str, Any]:
    """The temperature ``T`` that minimises the held-out negative log-likelihood of ``output`` (the network's
    sigmoid or softmax outputs, (n, K)) against the encoded ``target`` (0/1 or soft fractions per sigmoid output;
    class indices (n, 1) for a softmax).

    The NLL is convex in ``1 / T`` (a log-sum-exp or softplus of a linear function of it, minus a linear term), so
    it has one minimum along ``log(T)``: a golden-section search over ``log(T)`` in [log 0.01, log 100] narrows the
    bracket to :data:`TOLERANCE`. When the best ``T`` is at the bracket's low end, the model decides (nearly)
    every held-out row right (at 0.5, or by its most probable class) with 0/1 targets, the NLL falls towards 0
    as ``T`` does and no temperature minimises it: an error. At the high end (scores that say nearly nothing
    about the labels) ``T`` is 100, with a warning.

    Returns ``temperature``, ``iterations``, and ``warnings`` (a list of strings)."""
    z = logits(output, activation)
    target = np.asarray(target, dtype=np.float64)
    if len(z) == 0:
        raise BertrError("calibration needs labelled rows, but there are none")
    # in u = log(1 / T), the NLL's argument; the bracket is the same range of T
    lo, hi = -LOG_T_RANGE[1], -LOG_T_RANGE[0]

    def cost(u: float) -> float:
        return _nll(z, target, activation, math.exp(u))

    a, b = lo, hi
    c, d = b - GOLDEN * (b - a), a + GOLDEN * (b - a)
    fc, fd = cost(c), cost(d)
    iterations = 0
    while b - a > TOLERANCE:
        iterations += 1
        if fc <= fd:  # the minimum is in [a, d]
            b, d, fd = d, c, fc
            c = b - GOLDEN * (b - a)
            fc = cost(c)
        else:  # in [c, b]
            a, c, fc = c, d, fd
            d = a + GOLDEN * (b - a)
            fd = cost(d)
    u = (a + b) / 2.0
    best = min((cost(u), u), (cost(lo), lo), (cost(hi), hi))[1]  # the ends themselves, where the minimum is there
    warnings = []
    if hi - best <= 2 * TOLERANCE:
        raise BertrError(
            f"the model decides all {len(z)} held-out rows right, so their log loss keeps falling as the temperature "
            "goes to 0 (the probabilities to 0 and 1) and no temperature minimises it; calibrate on more (or other) "
            "held-out rows"
        )
    if best - lo <= 2 * TOLERANCE:
        warnings.append(
            f"The temperature reached the search's upper end ({math.exp(-lo):g}): on these rows the scores say "
            "almost nothing about the labels, and the calibrated probabilities are all close to the base rate."
        )
    return {"temperature": math.exp(-best), "iterations": iterations, "warnings": warnings}


def log_loss(output: np.ndarray, target: np.ndarray, activation: str) -> float:
    """The mean negative log-likelihood of the network's ``output`` (as :func:`fit_temperature` minimises it)."""
    if len(output) == 0:
        return float("nan")
    return _nll(logits(output, activation), np.asarray(target, dtype=np.float64), activation, 1.0)


# -- the expected calibration error and the reliability bins ---------------------------------------------------------
def _bin_of(p: np.ndarray, bins: int) -> np.ndarray:
    return np.minimum((np.asarray(p, dtype=np.float64) * bins).astype(int), bins - 1).clip(0)


def reliability_bins(predicted: np.ndarray, observed: np.ndarray, bins: int = BINS) -> dict[str, list]:
    """Per equal-width bin of ``predicted`` (probabilities in [0, 1]): ``lower``, ``upper``, ``n`` (rows in it),
    ``predicted`` (their mean prediction) and ``observed`` (the mean of ``observed``: the fraction of positives, or
    of correct top labels); empty bins have ``n`` 0 and NaN means. As columns."""
    predicted = np.asarray(predicted, dtype=np.float64).ravel()
    observed = np.asarray(observed, dtype=np.float64).ravel()
    which = _bin_of(predicted, bins)
    n = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_predicted = np.bincount(which, predicted, minlength=bins) / n
        mean_observed = np.bincount(which, observed, minlength=bins) / n
    return {
        "lower": [b / bins for b in range(bins)],
        "upper": [(b + 1) / bins for b in range(bins)],
        "n": [int(v) for v in n],
        "predicted": [float(v) for v in mean_predicted],
        "observed": [float(v) for v in mean_observed],
    }


def _ece(predicted: np.ndarray, observed: np.ndarray, bins: int) -> float:
    table = reliability_bins(predicted, observed, bins)
    total = sum(table["n"])
    if not total:
        return float("nan")
    gaps = [n * abs(p - o) for n, p, o in zip(table["n"], table["predicted"], table["observed"], strict=True) if n]
    return float(sum(gaps) / total)


def confidence(kind: str, target: np.ndarray, prob: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    """What the ECE compares, per binary problem: (predicted, observed) pairs. ``kind``: ``"binary"`` (one column
    of positive probabilities against the 0/1 or soft targets), ``"multilabel"`` (one pair per label) or
    ``"multiclass"`` (the top-label confidence against whether the top label is the class index ``target``)."""
    target = np.asarray(target, dtype=np.float64)
    prob = np.asarray(prob, dtype=np.float64)
    if kind == "multiclass":
        if prob.ndim != 2 or len(prob) == 0:
            return [(np.zeros(0), np.zeros(0))]
        top = prob.argmax(axis=1)
        return [(prob[np.arange(len(prob)), top], (top == target.ravel().astype(int)).astype(np.float64))]
    target, prob = (v[:, None] if v.ndim == 1 else v for v in (target, prob))
    return [(prob[:, j], target[:, j]) for j in range(prob.shape[1])]


def expected_calibration_error(target: np.ndarray, prob: np.ndarray, kind: str = "binary", bins: int = BINS) -> float:
    """The ECE (see the module): ``kind`` ``"binary"`` (positive probabilities against 0/1 or soft targets),
    ``"multiclass"`` (probabilities (n, K) against class indices: top-label confidence against accuracy) or
    ``"multilabel"`` (the mean over the label columns). NaN for no rows."""
    values = [_ece(p, o, bins) for p, o in confidence(kind, target, prob)]
    values = [v for v in values if not math.isnan(v)]
    return float(np.mean(values)) if values else float("nan")


def reliability(kind: str, target: np.ndarray, prob: np.ndarray, bins: int = BINS) -> dict[str, list]:
    """Reliability-diagram bins (:func:`reliability_bins`) of a task's probabilities; for multi-label the labels'
    (row, label) pairs pooled."""
    pairs = confidence(kind, target, prob)
    return reliability_bins(np.concatenate([p for p, _ in pairs]), np.concatenate([o for _, o in pairs]), bins)
