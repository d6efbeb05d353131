"""Fitting a compiled classifier: batches, the training loop, progress events, early stopping, resume.

The loop is bertr's own (one compiled Keras train step per batch), so that it can stop anywhere, write a
checkpoint mid-epoch and continue later from exactly the same batch with the same learning rate."""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from . import runtime

runtime.configure_threads()  # a no-op when bertr already set TensorFlow's threads; else before TF starts
import tensorflow as tf  # after the thread pools are set
import tf_keras

from .checks import format_number
from .distribution import Placement, cluster_error, place, split_global
from .errors import BertrError
from .graph import assign_weight_arrays, weight_arrays
from .inference import lengths_of, padded_batch, predict_batches
from .progress import ProgressFn, Throttle
from .tokenization import Encoded

ScoreFn = Callable[[np.ndarray, np.ndarray], dict] | None


def split_validation(n: int, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Row indices (train, validation): a seeded random hold-out of ``round(n * fraction)`` rows."""
    order = np.random.default_rng(seed).permutation(n)
    n_val = int(round(n * fraction))
    return np.sort(order[n_val:]), np.sort(order[:n_val])


POOL_BATCHES = 50  # length-sorting happens within pools of this many batches, keeping epochs random


def bucketed_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator | None) -> list[np.ndarray]:
    """Row indices of each batch, grouping rows of similar length.

    With ``rng`` (training): rows are shuffled, sorted by length within pools of ``POOL_BATCHES`` batches,
    cut into batches, and the batches shuffled, so every epoch sees a new random order while each batch
    holds rows of similar length. Without (prediction): all rows sorted by length, in order.
    """
    n = len(lengths)
    if rng is None:
        order = np.argsort(lengths, kind="stable")
        return [order[i : i + batch_size] for i in range(0, n, batch_size)]
    order = rng.permutation(n)
    pool = batch_size * POOL_BATCHES
    batches = []
    for start in range(0, n, pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def epoch_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """The batches of training epoch ``epoch`` (0-based): a function of the seed and the epoch only, so a
    resumed run draws exactly the order the interrupted one would have."""
    return bucketed_batches(lengths, batch_size, np.random.default_rng([int(seed), int(epoch)]))


_train_functions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # cache: model -> (outputs, function)


def _train_function(model, outputs: int, strategy):
    """One optimizer step of the compiled ``model`` under ``strategy``, as one tf.function traced for any batch
    size and length, returning the batch's mean loss. It takes the global batch; each replica (one, without a
    distribution strategy) trains on its slice (:func:`bertr.distribution.split_global`), its loss the sum of its
    rows' weighted losses divided by the global batch's rows, so that the gradients TensorFlow sums over the
    replicas are those of the global batch's mean loss, as on one device. The loss is the one the model was
    compiled with (the task's), per row. ``optimizer.minimize`` applies loss scaling when the optimizer has it.

    Keras's ``train_on_batch`` traces for the first batch's exact shape and again, relaxed, at the second
    shape; this one is a single graph from the first step, so a resumed run computes exactly what an
    uninterrupted one does."""
    cached = _train_functions.get(model)
    if cached is not None and cached[0] == outputs:
        return cached[1]
    # the optimizer's slots made now: a tf.function that creates variables on its first call is traced twice (once
    # creating them, once more without), which was a third of a small model's fit
    with strategy.scope():
        model.optimizer.build(model.trainable_variables)
    owner = weakref.ref(model)  # as in inference._inference_function: the cache must not keep the model alive
    loss_of = tf_keras.losses.get(model.loss)

    def replica_step(token, segment, target, weight, rows):
        network = owner()
        with tf.GradientTape() as tape:
            output = network([token, segment], training=True)
            loss = tf.reduce_sum(loss_of(target, output) * weight) / rows
            if network.losses:  # layer regularizers, if any, counted once over all replicas
                loss += tf.nn.scale_regularization_loss(tf.add_n(network.losses))
        network.optimizer.minimize(loss, network.trainable_variables, tape=tape)
        return loss

    def step(token, segment, target, weight):
        rows = tf.cast(tf.shape(token)[0], tf.float32)
        shares = [split_global(strategy, value) for value in (token, segment, target, weight)]
        losses = strategy.run(replica_step, args=(*shares, rows))
        return strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)

    ids = tf.TensorSpec((None, None), tf.int32)
    function = tf.function(
        step, input_signature=[ids, ids, tf.TensorSpec((None, outputs), tf.float32), tf.TensorSpec((None,), tf.float32)]
    )
    _train_functions[model] = (outputs, function)
    return function


# -- early stopping ------------------------------------------------------------------------------------
LOWER_IS_BETTER = ("loss", "mse", "rmse", "mae", "ece")


@dataclass
class EarlyStopping:
    """Stop when ``monitor`` (a history column such as ``val_auc`` or ``val_loss``) has not improved by more
    than ``min_delta`` for ``patience`` epochs; with ``restore_best`` the weights of the best epoch are kept."""

    monitor: str
    patience: int = 1
    min_delta: float = 0.0
    restore_best: bool = True

    @property
    def lower_is_better(self) -> bool:
        return self.monitor.removeprefix("val_") in LOWER_IS_BETTER

    def improved(self, value: float, best: float | None) -> bool:
        if value is None or np.isnan(value):
            return False
        if best is None:
            return True
        return value < best - self.min_delta if self.lower_is_better else value > best + self.min_delta


# -- the loop --------------------------------------------------------------------------------------------
@dataclass
class TrainState:
    """Where training stands; everything a checkpoint needs besides the weights and optimizer slots."""

    epoch: int = 0  # the epoch in progress (0-based); equals `epochs` when done
    step_in_epoch: int = 0  # batches of that epoch already trained
    step: int = 0  # optimizer steps done in all
    loss_sum: float = 0.0  # the epoch's running loss, summed over rows
    loss_rows: int = 0
    epoch_seconds: float = 0.0  # time spent in the epoch in progress, across resumes
    history: list = field(default_factory=list)  # one dict per finished epoch
    trace: list = field(default_factory=list)  # one dict per step: step, epoch, loss, learning_rate
    best_epoch: int | None = None
    best_value: float | None = None
    wait: int = 0  # epochs since the monitored value last improved
    stopped_early: bool = False
    resumed_at: list = field(default_factory=list)  # the steps at which this run was resumed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> TrainState:
        known = {k: v for k, v in values.items() if k in cls.__dataclass_fields__}
        return cls(**known)


class Trainer:
    """Trains a compiled model on length-bucketed batches, one compiled Keras step per batch.

    ``target`` is (n, outputs); ``weight`` optional per-row loss weights; ``score(target, output)`` gives
    the validation metrics; ``learning_rate(step)`` the schedule's rate at a 1-based step. Hooks:
    ``report(event)`` progress events (at most every ``every_seconds`` for batches), ``on_step(info)`` after
    every step with the batch's row indices, ``checkpoint(trainer)`` called every ``checkpoint_every``
    steps and at the end of every epoch. ``placement`` (:mod:`bertr.distribution`; default: TensorFlow's default
    strategy) is where the model was built and where its steps run; ``batch_size`` is the global batch.
    """

    def __init__(
        self,
        model,
        train: Encoded,
        target: np.ndarray,
        *,
        epochs: int,
        batch_size: int,
        validation: tuple[Encoded, np.ndarray] | None = None,
        score: ScoreFn = None,
        seed: int = 0,
        weight: np.ndarray | None = None,
        learning_rate: Callable[[int], float] | None = None,
        early_stopping: EarlyStopping | None = None,
        report: ProgressFn = None,
        on_step: Callable[[dict], None] | None = None,
        checkpoint: Callable[[Trainer], None] | None = None,
        checkpoint_every: int | None = None,
        every_seconds: float = 1.0,
        placement: Placement | None = None,
    ):
        if early_stopping is not None and early_stopping.monitor.startswith("val_") and validation is None:
            raise BertrError(
                f"early stopping on '{early_stopping.monitor}' needs validation rows: "
                "set validation_split > 0, or monitor 'loss'"
            )
        self.model = model
        self.train, self.target = train, target.astype(np.float32)
        self.weight = None if weight is None else weight.astype(np.float32)
        self.epochs, self.batch_size, self.seed = epochs, batch_size, seed
        self.validation, self.score = validation, score
        self.learning_rate = learning_rate
        self.early_stopping = early_stopping
        self.report, self.on_step = report, on_step
        self.checkpoint, self.checkpoint_every = checkpoint, checkpoint_every
        self.every_seconds = every_seconds
        self.placement = placement or place()
        self.lengths = lengths_of(train)
        self.steps_per_epoch = -(-len(self.lengths) // batch_size)
        self.state = TrainState()
        self.best_weights: dict[str, np.ndarray] | None = None
        self.last_checkpoint = None  # where the last checkpoint written (or resumed from) is
        if early_stopping is not None:
            known = self._history_metrics()
            if early_stopping.monitor not in known:
                raise BertrError(
                    f"early stopping monitors '{early_stopping.monitor}', which training does not "
                    f"report; choose one of {', '.join(known)}"
                )

    def _history_metrics(self) -> list[str]:
        """The metric columns each epoch's history row will have (known before training, so that a monitor
        naming none of them fails at once instead of after the first epoch)."""
        names = ["loss"]
        if self.validation is not None:
            target = self.validation[1]
            outputs = np.full((len(target), self.model.output_shape[-1]), 0.5, np.float32)
            names += [f"val_{k}" for k in self.score(target, outputs)]
        return names

    @property
    def finished(self) -> bool:
        return self.state.epoch >= self.epochs or self.state.stopped_early

    def _emit(self, event: dict) -> None:
        if self.report is not None:
            self.report(event)

    def run(self) -> TrainState:
        state = self.state
        self._emit(
            {
                "event": "train_begin",
                "epochs": self.epochs,
                "steps": self.steps_per_epoch,
                "rows": len(self.lengths),
                "validation_rows": 0 if self.validation is None else len(self.validation[1]),
                "step": state.step,
                "epoch": state.epoch + 1,
            }
        )
        while not self.finished:
            self._run_epoch()
        if self.early_stopping is not None and self.early_stopping.restore_best and self.best_weights is not None:
            assign_weight_arrays(self.model, self.best_weights, "best weights")
        self._emit(
            {
                "event": "train_end",
                "step": state.step,
                "stopped_early": state.stopped_early,
                "best_epoch": state.best_epoch,
                "epochs_run": len(state.history),
            }
        )
        return state

    def _run_epoch(self) -> None:
        state = self.state
        batches = epoch_batches(self.lengths, self.batch_size, self.seed, state.epoch)
        start = state.step_in_epoch
        clock = time.perf_counter() - state.epoch_seconds
        throttle = Throttle(self.every_seconds, first=True)
        step = _train_function(self.model, self.target.shape[1], self.placement.strategy)
        weight = np.ones(len(self.target), np.float32) if self.weight is None else self.weight
        for i in range(start, len(batches)):
            batch = batches[i]
            # The first step traces and optimizes the graph, where TensorFlow logs (once per process) that
            # oneDNN has no int32 kernels on CPUs without AVX-512: not the user's concern, so kept out of R.
            try:
                with runtime.quiet_native_stderr(i == start):
                    loss = float(
                        step(*padded_batch(self.train, batch, self.lengths), self.target[batch], weight[batch])
                    )
            except tf.errors.OpError as exc:  # in a cluster: a lost worker, named; otherwise not bertr's to word
                lost = cluster_error(self.placement, exc, state.step + 1)
                if lost is None:
                    raise
                raise lost from None
            if not math.isfinite(loss):  # nothing after this step is kept: no history, no checkpoint
                raise BertrError(
                    self._diverged(state.step + 1, i + 1, len(batches), f"the loss became {format_number(loss)}")
                )
            state.loss_sum += loss * len(batch)
            state.loss_rows += len(batch)
            state.step += 1
            state.step_in_epoch = i + 1
            now = time.perf_counter()
            state.epoch_seconds = now - clock
            lr = float(self.learning_rate(state.step)) if self.learning_rate else float("nan")
            state.trace.append({"step": state.step, "epoch": state.epoch + 1, "loss": loss, "learning_rate": lr})
            if self.on_step is not None:
                self.on_step(
                    {
                        "step": state.step,
                        "epoch": state.epoch + 1,
                        "batch": i + 1,
                        "loss": loss,
                        "learning_rate": lr,
                        "rows": batch,
                    }
                )
            if throttle.due(last=i + 1 == len(batches)):
                elapsed = state.epoch_seconds
                self._emit(
                    {
                        "event": "batch",
                        "epoch": state.epoch + 1,
                        "epochs": self.epochs,
                        "step": i + 1,
                        "steps": len(batches),
                        "loss": state.loss_sum / state.loss_rows,
                        "learning_rate": lr,
                        "elapsed": elapsed,
                        "eta": elapsed / (i + 1) * (len(batches) - i - 1),
                        "global_step": state.step,
                    }
                )
            if (
                self.checkpoint is not None
                and self.checkpoint_every
                and state.step % self.checkpoint_every == 0
                and i + 1 < len(batches)
            ):
                self._check_weights()
                self.last_checkpoint = self.checkpoint(self)
        self._check_weights()  # before validation, best-weight copies and the epoch's checkpoint
        self._end_epoch()

    def _check_weights(self) -> None:
        """A finite loss can still be followed by an update that leaves NaN or Inf in the weights (an
        overflowing gradient): checked before anything is kept from them (a checkpoint, an epoch)."""
        finite = all(bool(tf.reduce_all(tf.math.is_finite(w))) for w in self.model.trainable_weights)
        if not finite:
            state = self.state
            raise BertrError(
                self._diverged(
                    state.step, state.step_in_epoch, self.steps_per_epoch, "the weights became NaN or infinite"
                )
            )

    def _diverged(self, step: int, batch: int, batches: int, what: str) -> str:
        """The error for a run whose loss or weights stopped being finite: where, the last finite loss, the
        likely cause among the settings and data, and which checkpoint (if any) is left."""
        where = f"Training stopped at step {step} (epoch {self.state.epoch + 1}, batch {batch} of {batches}): {what}"
        trace = self.state.trace  # every step so far (also before a resume), all with finite losses
        if not trace:
            last = "No step had a finite loss."
        else:
            last = f"The last finite loss was {trace[-1]['loss']:.4g} at step {trace[-1]['step']}."
        causes = []
        # the highest rate of the schedule so far (warmup rises to it, decay falls from it)
        rate = max(float(self.learning_rate(t)) for t in range(1, step + 1)) if self.learning_rate else 0.0
        if rate > 1e-3:
            causes.append(
                f"the learning rate (up to {format_number(rate)} so far) is far above what fine-tuning "
                "needs (about 1e-5 to 1e-4): lower learning_rate"
            )
        heaviest = 0.0 if self.weight is None else float(np.max(self.weight))
        if heaviest > 1e6:
            causes.append(
                f"row weights (sample_weight, class_weight) reach {format_number(heaviest)}, which "
                "overflows the loss: scale them down, e.g. to a mean of 1"
            )
        if len(self.target) and float(np.max(np.abs(self.target))) > 1e6:
            causes.append(f"the training targets reach {format_number(np.max(np.abs(self.target)))}: rescale the label")
        if not causes:
            causes.append(
                "a learning rate too high for this model and data (lower learning_rate), or extreme "
                "values in the labels or weights"
            )
        cause = "Likely cause: " + "; ".join(causes) + "."
        if self.last_checkpoint is not None:
            kept = f"The last checkpoint, written before this, is kept: {self.last_checkpoint}."
        elif self.checkpoint is not None:
            kept = "No checkpoint had been written yet."
        else:
            kept = ""
        return " ".join(part for part in (where + ".", last, cause, kept) if part)

    def _end_epoch(self) -> None:
        state = self.state
        row = {"epoch": state.epoch + 1, "step": state.step, "loss": state.loss_sum / max(state.loss_rows, 1)}
        if self.validation is not None:
            data, target = self.validation
            output = predict_batches(self.model, data, self.batch_size * 2, placement=self.placement)
            row.update({f"val_{k}": v for k, v in self.score(target, output).items()})
        row["seconds"] = state.epoch_seconds
        state.history.append(row)
        best = False
        if self.early_stopping is not None:
            value = row[self.early_stopping.monitor]  # a column the constructor checked exists
            if self.early_stopping.improved(value, state.best_value):
                state.best_epoch, state.best_value, state.wait = state.epoch + 1, float(value), 0
                best = True
                if self.early_stopping.restore_best:
                    self.best_weights = weight_arrays(self.model)
            else:
                state.wait += 1
                if state.wait >= self.early_stopping.patience and state.epoch + 1 < self.epochs:
                    state.stopped_early = True
        state.epoch += 1
        state.step_in_epoch, state.loss_sum, state.loss_rows, state.epoch_seconds = 0, 0.0, 0, 0.0
        self._emit({"event": "epoch", "epochs": self.epochs, **row, "best": best, "stopped_early": state.stopped_early})
        if self.checkpoint is not None:
            self.last_checkpoint = self.checkpoint(self)
