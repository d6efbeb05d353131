"""Fitting a compiled classifier: validation split, progress events, per-epoch validation metrics."""
from __future__ import annotations

import time
from typing import Callable, Optional

import numpy as np

from . import runtime  # noqa: F401  (sets TF_USE_LEGACY_KERAS before TensorFlow loads)
import tf_keras

from .tokenization import Encoded

ProgressFn = Optional[Callable[[dict], None]]
ScoreFn = Optional[Callable[[np.ndarray, np.ndarray], dict]]


def split_validation(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, validation): a seeded random hold-out of ``round(n * fraction)`` rows."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * fraction))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


PAD_MULTIPLE = 8  # batches are padded to a multiple of this, bounding the number of distinct shapes
POOL_BATCHES = 50  # length-sorting happens within pools of this many batches, keeping epochs random


def lengths_of(data: Encoded) -> np.ndarray:
    """Tokens per row, [CLS] and [SEP] included (ids are 0 only in the padding)."""
    return (data.token > 0).sum(axis=1)


def bucketed_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Row indices of each batch, grouping rows of similar length.

    With ``rng`` (training): rows are shuffled, sorted by length within pools of ``POOL_BATCHES`` batches,
    cut into batches, and the batches shuffled, so every epoch sees a new random order while each batch
    holds rows of similar length. Without (prediction): all rows sorted by length, in order.
    """
    n = len(lengths)
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i:i + batch_size] for i in range(0, n, batch_size)]
    order = rng.permutation(n)
    pool = batch_size * POOL_BATCHES
    batches = []
    for start in range(0, n, pool):
        chunk = order[start:start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i:i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _padded_width(lengths: np.ndarray, rows: np.ndarray, max_len: int) -> int:
    longest = int(lengths[rows].max())
    return min(max_len, -(-longest // PAD_MULTIPLE) * PAD_MULTIPLE)


def make_dataset(data: Encoded, batches: list[np.ndarray] | Callable[[], list[np.ndarray]],
                 target: np.ndarray | None = None, weight: np.ndarray | None = None):
    """A tf.data pipeline of ([token, segment], target[, weight]) batches, each padded only to its longest row.

    ``batches`` may be a function, called anew for every pass over the data (a new order each epoch).
    All batch shapes share one traced graph, since the element spec leaves the length unknown.
    """
    import tensorflow as tf

    lengths = lengths_of(data)
    max_len = data.token.shape[1]

    def generate():
        for rows in (batches() if callable(batches) else batches):
            width = _padded_width(lengths, rows, max_len)
            inputs = (data.token[rows, :width], data.segment[rows, :width])
            if target is None:
                yield (inputs,)
            elif weight is None:
                yield inputs, target[rows]
            else:
                yield inputs, target[rows], weight[rows]

    ids = tf.TensorSpec((None, None), tf.int32)
    signature = ((ids, ids),)
    if target is not None:
        signature += (tf.TensorSpec((None, target.shape[1]), tf.float32),)
        if weight is not None:
            signature += (tf.TensorSpec((None,), tf.float32),)
    return tf.data.Dataset.from_generator(generate, output_signature=signature).prefetch(2)


def predict_batches(model, data: Encoded, batch_size: int) -> np.ndarray:
    """Model outputs for every row, in input order, from length-sorted batches in inference mode."""
    batches = bucketed_batches(lengths_of(data), batch_size, rng=None)
    output = model.predict(make_dataset(data, batches), verbose=0)
    result = np.empty_like(output)
    result[np.concatenate(batches)] = output
    return result


class ProgressCallback(tf_keras.callbacks.Callback):
    """Reports training to a plain callable (the R side renders it) and records the history.

    Events are dicts: ``{"event": "train_begin", ...}``, ``{"event": "batch", ...}`` (at most every
    ``every_seconds``) and ``{"event": "epoch", ...}`` with the epoch's metrics.
    """

    def __init__(self, report: ProgressFn, epochs: int, steps: int, validation: tuple[Encoded, np.ndarray] | None,
                 batch_size: int, every_seconds: float = 5.0, score: ScoreFn = None):
        super().__init__()
        self.report = report
        self.epochs, self.steps = epochs, steps
        self.validation = validation
        self.batch_size = batch_size
        self.every_seconds = every_seconds
        self.score = score
        self.history: list[dict] = []
        self._last = 0.0
        self._epoch_start = 0.0
        self._epoch = 0
        self._global_step = 0

    def _emit(self, event: dict) -> None:
        if self.report is not None:
            self.report(event)

    def on_train_begin(self, logs=None):
        self._emit({"event": "train_begin", "epochs": self.epochs, "steps": self.steps})

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._epoch_start = self._last = time.perf_counter()

    def on_train_batch_end(self, batch, logs=None):
        self._global_step += 1
        now = time.perf_counter()
        if now - self._last >= self.every_seconds or batch + 1 == self.steps:
            self._last = now
            elapsed = now - self._epoch_start
            self._emit({
                "event": "batch", "epoch": self._epoch + 1, "epochs": self.epochs, "step": batch + 1,
                "steps": self.steps, "loss": float((logs or {}).get("loss", float("nan"))),
                "elapsed": elapsed, "eta": elapsed / (batch + 1) * (self.steps - batch - 1),
            })

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self._epoch_start
        row = {"epoch": epoch + 1, "step": self._global_step, "loss": float((logs or {}).get("loss", float("nan")))}
        if self.validation is not None:
            data, target = self.validation
            output = predict_batches(self.model, data, self.batch_size * 2)
            row.update({f"val_{k}": v for k, v in self.score(target, output).items()})
        row["seconds"] = seconds
        self.history.append(row)
        self._emit({"event": "epoch", "epochs": self.epochs, **row})


def fit_model(model, train: Encoded, target: np.ndarray, *, epochs: int, batch_size: int,
              validation: tuple[Encoded, np.ndarray] | None, score: ScoreFn = None, report: ProgressFn = None,
              every_seconds: float = 5.0, seed: int = 0, weight: np.ndarray | None = None) -> list[dict]:
    """Train ``model`` (already compiled) on length-bucketed batches; return the per-epoch history rows.

    ``target`` is (n, outputs); ``weight`` optional per-row loss weights; ``score(target, output)`` gives the
    validation metrics; ``seed`` drives the batch order of every epoch.
    """
    lengths = lengths_of(train)
    rng = np.random.default_rng(seed)
    steps = len(bucketed_batches(lengths, batch_size, np.random.default_rng(0)))
    dataset = make_dataset(train, lambda: bucketed_batches(lengths, batch_size, rng), target.astype(np.float32),
                           None if weight is None else weight.astype(np.float32))
    progress = ProgressCallback(report, epochs, steps, validation, batch_size, every_seconds, score)
    model.fit(dataset, epochs=epochs, callbacks=[progress], verbose=0)
    return progress.history
