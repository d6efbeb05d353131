"""BertClassifier: fine-tune a pretrained BERT on texts and labels, scikit-learn style.

This is the one implementation of training and prediction; the R package's ``bert_train()`` and
``predict()`` call into it.
"""

from __future__ import annotations

import copy
import dataclasses
import inspect
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

import numpy as np

from . import calibration, persistence, runtime
from .checks import (
    check_devices,
    check_fraction,
    check_pooling,
    check_positive_int,
    check_precision,
    check_sample_weight,
    check_strategy,
    check_texts,
    class_weights,
    is_missing,
    show_value,
)
from .embedding import check_normalize, finish_vectors
from .errors import BertrError
from .long_text import (
    check_long_text,
    check_stride,
    check_truncation,
    check_window_pooling,
    first_rows,
    head_tail,
    pool_windows,
    window_weights,
)
from .model_card import model_card
from .pretrained import BertConfig, Pretrained, load_pretrained
from .progress import ProgressFn
from .tasks import Task, make_task
from .thresholds import check_metric, choose_threshold
from .tokenization import Encoded, WordPieceTokenizer

# The modules that need TensorFlow (graph, optim, training, training_checkpoints, inference) are imported inside
# the methods that use them, after runtime.configure_threads(): TensorFlow's thread pools can only be set before
# it starts, and `import bertr` must stay fast and work without TensorFlow (runtime.missing_modules()).


@dataclass
class FitRecord:
    """What a fit leaves besides the network and the tokenizer, declared once: ``fit()`` sets it (as the
    estimator's ``<name>_`` attributes), ``save()`` writes it (the manifest's ``fitted``), ``load()`` reads it, and
    the R package receives it whole (:meth:`BertClassifier.fitted_facts`)."""

    history: list = field(default_factory=list)  # one dict per epoch: epoch, step, loss, val_*, seconds
    trace: list = field(default_factory=list)  # one dict per optimizer step: step, epoch, loss, learning_rate
    n_train: int | None = None
    n_validation: int | None = None
    fit_seconds: float | None = None
    best_epoch: int | None = None  # early stopping's best epoch (1-based), if any
    kept_epoch: int | None = None  # the epoch whose weights the model holds
    stopped_early: bool = False
    resumed_at: list = field(default_factory=list)  # steps at which training resumed from a checkpoint
    monitor: str | None = None  # the validation metric that judged the epochs (a history column), if any
    distribution: dict | None = None  # where it trained: strategy, replicas, devices, workers (see bertr.distribution)

    @classmethod
    def from_dict(cls, values: dict[str, Any], early_stopping: Any, task: Task) -> FitRecord:
        """The record as saved; facts that models saved by older bertr versions lack are derived as fit() would."""
        record = cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})
        if "kept_epoch" not in values:
            record.kept_epoch = kept_epoch(len(record.history), record.best_epoch, restores_best(early_stopping))
        if "monitor" not in values:
            record.monitor = watched_metric(early_stopping, task, record.history)
        return record


def restores_best(early_stopping: Any) -> bool:
    """Whether an ``early_stopping`` setting restores the best epoch's weights at the end (its default: yes)."""
    if early_stopping is None or early_stopping is False:
        return False
    return not isinstance(early_stopping, dict) or bool(early_stopping.get("restore_best", True))


def kept_epoch(epochs_run: int, best_epoch: int | None, restored: bool) -> int:
    """The epoch whose weights a fit ends with: early stopping's best when it was restored, else the last."""
    return best_epoch if restored and best_epoch is not None else epochs_run


def monitored(early_stopping: Any, task: Task) -> str:
    """The metric that judges epochs: early stopping's ``monitor`` when given, else the task's usual one."""
    return early_stopping.get("monitor", task.monitor) if isinstance(early_stopping, dict) else task.monitor


def watched_metric(early_stopping: Any, task: Task, history: list[dict]) -> str | None:
    """:func:`monitored`, when the history has that column (not without validation rows), else None."""
    monitor = monitored(early_stopping, task)
    return monitor if history and monitor in history[-1] else None


@dataclass
class _TrainingData:
    """The checked inputs of one fit: texts, task, encoded targets, row weights and the validation split."""

    texts: list[str]
    pairs: list[str] | None
    task: Task
    target: np.ndarray
    weight: np.ndarray | None


@dataclass
class _Rows:
    """What the network trains on: encoded rows (texts, or windows of texts), their targets and weights, the
    training and validation rows, and how validation outputs are scored."""

    encoded: Encoded
    target: np.ndarray
    weight: np.ndarray | None
    train: np.ndarray
    val: np.ndarray
    score: Callable[[np.ndarray, np.ndarray], dict]


class BertClassifier:
    """A text classifier (or regressor) fine-tuned from a pretrained BERT.

    Parameters
    ----------
    task: ``None`` to detect from the labels, or one of ``binary``, ``soft``, ``multiclass``,
        ``multilabel``, ``regression`` (see :mod:`bertr.tasks`).
    pretrained: ``None`` for the embedded all-MiniLM-L6-v2, or a Google checkpoint / Hugging Face BERT dir.
    seq_len: tokens per text including [CLS] and [SEP]; longer texts are truncated.
    batch_size, epochs, learning_rate: the fine-tuning schedule (AdamWarmup: linear warmup over
        ``warmup_proportion`` of the steps, then linear decay to 0).
    weight_decay: decoupled weight decay on kernels and embeddings.
    validation_split: fraction of rows held out (seeded, random) to report validation metrics per epoch.
    dropout: dropout rate in the encoder and before the head; ``None`` uses the model config's.
    pooling: how the head sees a text: ``"cls"`` (the [CLS] state through BERT's pretrained pooler, as in
        the article) or ``"mean"`` (the mean of the token states); ``None`` follows the checkpoint: ``"mean"``
        for sentence-transformers models that were trained with mean pooling (the embedded all-MiniLM-L6-v2),
        else ``"cls"``.
    seed: seeds weight initialisation, dropout, shuffling and the validation split.
    do_lower_case: ``None`` to follow the model (tokenizer_config.json or the vocabulary).
    threads: TensorFlow intra-op threads (``None``: all cores; inter-op is 1).
    early_stopping: ``None``/``False`` for none; ``True`` to watch the task's usual validation metric
        (``val_auc``; ``val_accuracy`` for multiclass, ``val_rmse`` for regression) with patience 1; or a
        dict with ``monitor`` (any history column, e.g. ``val_loss``), ``patience``, ``min_delta`` and
        ``restore_best`` (default True: keep the best epoch's weights).
    strategy: where training (and this model's prediction) runs, through ``tf.distribute``: ``None``/``"auto"``
        (one GPU when TensorFlow sees one, else the CPU), ``"mirrored"`` (the GPUs, or the ``devices``, of this
        machine), ``"multi_worker"`` (several processes or machines, described by ``TF_CONFIG`` or Slurm), or a
        ``tf.distribute.Strategy``; see :mod:`bertr.distribution`. ``batch_size`` is the global batch.
    devices: with ``strategy="mirrored"``, the devices to use (e.g. ``["/gpu:0", "/gpu:1"]``).
    precision: ``"float32"``, ``"mixed_bfloat16"`` (CPUs and recent GPUs) or ``"mixed_float16"`` (GPUs; with
        loss scaling): Keras's mixed-precision policies, the output layer and the loss kept in float32.
    truncation: which tokens of a text longer than ``seq_len`` are kept: ``"head"`` (the first), ``"tail"`` (the
        last) or ``"head_tail"`` (the first ``head_tokens``, default a quarter of the window, and the last ones);
        see :mod:`bertr.long_text`.
    head_tokens: with ``truncation="head_tail"``, how many first tokens are kept (``None``: a quarter of the
        window, ``seq_len - 2``).
    long_text: ``"truncate"`` (one cut window per text) or ``"window"``: overlapping windows of ``seq_len``,
        ``stride`` tokens apart (default half a window), for training (each window a row with its text's label,
        weighted so that each text counts once) and, by default, for this model's predictions, evaluations and
        embeddings (window outputs pooled per text by ``window_pooling``, ``"mean"`` or ``"max"``). Prediction
        methods take ``long_text``, ``stride`` and ``window_pooling`` to override them.
    stride: with windows, the tokens between the starts of two windows (``None``: half a window).
    window_pooling: how a text's windows make one result: ``"mean"`` or ``"max"`` of their outputs.
    """

    def __init__(
        self,
        pretrained: str | None = None,
        task: str | None = None,
        seq_len: int = 128,
        batch_size: int = 32,
        epochs: int = 2,
        learning_rate: float = 1e-4,
        warmup_proportion: float = 0.1,
        weight_decay: float = 0.01,
        validation_split: float = 0.1,
        dropout: float | None = None,
        pooling: str | None = None,
        seed: int = 1,
        do_lower_case: bool | None = None,
        threads: int | None = None,
        early_stopping: bool | dict | None = None,
        strategy: Any = None,
        devices: Sequence[str] | None = None,
        precision: str = "float32",
        truncation: str = "head",
        head_tokens: int | None = None,
        long_text: str = "truncate",
        stride: int | None = None,
        window_pooling: str = "mean",
    ):
        self.pretrained = pretrained
        self.task = task
        self.seq_len = seq_len
        self.batch_size = batch_size
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.warmup_proportion = warmup_proportion
        self.weight_decay = weight_decay
        self.validation_split = validation_split
        self.dropout = dropout
        self.pooling = pooling
        self.seed = seed
        self.do_lower_case = do_lower_case
        self.threads = threads
        self.early_stopping = early_stopping
        self.strategy = strategy
        self.devices = devices
        self.precision = precision
        self.truncation = truncation
        self.head_tokens = head_tokens
        self.long_text = long_text
        self.stride = stride
        self.window_pooling = window_pooling

    # scikit-learn estimator protocol -------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params) -> BertClassifier:
        valid = self.get_params()
        for name, value in params.items():
            if name not in valid:
                raise BertrError(f"unknown parameter '{name}'; valid: {', '.join(valid)}")
            setattr(self, name, value)
        return self

    def _check_settings(self, pretrained: Pretrained | None = None) -> None:
        max_len = 512 if pretrained is None else pretrained.config.max_position_embeddings
        self.seq_len = check_positive_int(self.seq_len, "seq_len", 8, max_len)
        self.batch_size = check_positive_int(self.batch_size, "batch_size")
        self.epochs = check_positive_int(self.epochs, "epochs")
        self.seed = check_positive_int(self.seed, "seed", 0)
        if not (isinstance(self.learning_rate, (int, float)) and self.learning_rate > 0):
            raise BertrError(f"learning_rate must be a positive number, not {self.learning_rate!r}")
        self.warmup_proportion = check_fraction(self.warmup_proportion, "warmup_proportion", 0, 1, True)
        self.validation_split = check_fraction(self.validation_split, "validation_split", 0, 1)
        if self.dropout is not None:
            self.dropout = check_fraction(self.dropout, "dropout", 0, 1)
        if self.weight_decay < 0:
            raise BertrError(f"weight_decay must be >= 0, not {self.weight_decay!r}")
        self.pooling = check_pooling(self.pooling)
        self.strategy = check_strategy(self.strategy)
        self.devices = check_devices(self.devices)
        self.precision = check_precision(self.precision)
        self.truncation = check_truncation(self.truncation)
        if self.head_tokens is not None:
            self.head_tokens = head_tail(self.seq_len, self.head_tokens)
        self.long_text = check_long_text(self.long_text)
        if self.stride is not None:
            self.stride = check_stride(self.stride, self.seq_len)
        self.window_pooling = check_window_pooling(self.window_pooling)

    # fitting ----------------------------------------------------------------------------------
    def fit(
        self,
        texts: Sequence[str],
        y: Sequence[Any],
        classes: Sequence[Any] | None = None,
        pairs: Sequence[str] | None = None,
        sample_weight: Sequence[float] | None = None,
        class_weight: str | dict | None = None,
        label_names: Sequence[str] | None = None,
        callback: ProgressFn = None,
        checkpoint_dir: str | None = None,
        checkpoint_every: int | None = None,
        resume: bool = True,
        on_step: Callable[[dict], None] | None = None,
    ) -> BertClassifier:
        """Fine-tune on ``texts`` (and second texts ``pairs``) and labels ``y``.

        ``y`` is one label per text, or a 2-D 0/1 array (one column per label, named by ``label_names``)
        for multi-label. ``classes`` fixes the class order (for binary, the second class is the positive
        one whose probability ``predict_proba(...)[:, 1]`` gives); by default the sorted distinct labels.
        ``sample_weight`` weighs rows; ``class_weight`` ("balanced" or class -> weight) weighs classes.
        ``callback`` receives progress events (dicts) during training.

        With ``checkpoint_dir``, a checkpoint is written there at the end of every epoch and every
        ``checkpoint_every`` steps (see :mod:`bertr.training_checkpoints`); calling ``fit`` again with the same
        directory, data and settings continues from the last checkpoint (``resume = False`` starts over and
        replaces it). ``on_step`` is called after every optimizer step with the step, epoch, batch loss,
        learning rate and the batch's row indices (into the training rows).
        """
        started = time.perf_counter()
        data = self._initialize_data(texts, y, classes, pairs, sample_weight, class_weight, label_names)
        runtime.configure_threads(self.threads)
        from .distribution import check_precision_supported, place  # TensorFlow: after runtime.configure_threads()

        placement = place(self.strategy, self.devices)  # first: a cluster is joined before TensorFlow computes
        check_precision_supported(self.precision)
        pretrained = load_pretrained(self.pretrained, self.do_lower_case)
        self._check_settings(pretrained)
        tokenizer = WordPieceTokenizer(pretrained.vocab_path, pretrained.do_lower_case)
        from .training import split_validation  # TensorFlow: imported after runtime.configure_threads()

        train_idx, val_idx = split_validation(len(data.texts), self.validation_split, self.seed)
        rows = self._initialize_rows(tokenizer, data, train_idx, val_idx, callback)
        runtime.set_seed(self.seed)
        pooling = self.pooling or pretrained.pooling  # None: the pretrained model's own
        model = self._initialize_model(pretrained, pooling, data.task, len(rows.train), placement)
        trainer = self._initialize_trainer(model, rows, data.task, callback, on_step, placement)
        checkpointer = self._initialize_checkpoints(trainer, checkpoint_dir, checkpoint_every, resume, rows, callback)
        # only the chief writes checkpoints (every worker holds the same state, and reads the chief's to resume)
        trainer.checkpoint = None if checkpointer is None or not placement.chief else checkpointer.save
        described = {
            "name": pretrained.name,
            "path": str(pretrained.path),
            "layout": pretrained.layout,
            "do_lower_case": pretrained.do_lower_case,
            **pretrained.config.to_dict(),
        }
        del pretrained  # its weight arrays (90 MB for the embedded model) are in the model now: not kept while training
        state = trainer.run()
        self.placement_ = placement
        self.task_ = data.task
        self.classes_ = list(data.task.classes)
        self.paired_ = data.pairs is not None
        self.model_ = model
        self.tokenizer_ = tokenizer
        self.pooling_ = pooling
        self.pretrained_ = described
        stopping = trainer.early_stopping
        self._set_record(
            FitRecord(
                history=state.history,
                trace=state.trace,
                n_train=len(train_idx),
                n_validation=len(val_idx),
                fit_seconds=time.perf_counter() - started,
                best_epoch=state.best_epoch,
                kept_epoch=kept_epoch(
                    len(state.history), state.best_epoch, stopping is not None and stopping.restore_best
                ),
                stopped_early=state.stopped_early,
                resumed_at=list(state.resumed_at),
                monitor=watched_metric(self.early_stopping, data.task, state.history),
                distribution=placement.describe(),
            )
        )
        return self

    def _initialize_data(self, texts, y, classes, pairs, sample_weight, class_weight, label_names) -> _TrainingData:
        """Checks the settings and inputs (before anything slow), detects the task and encodes the targets."""
        self._check_settings()
        texts = check_texts(texts)
        pairs = None if pairs is None else check_texts(pairs, "the paired text")
        check_truncation(self.truncation, paired=pairs is not None)
        check_long_text(self.long_text, paired=pairs is not None)
        n_labels = len(y) if hasattr(y, "__len__") else len(list(y))
        if n_labels != len(texts) or (pairs is not None and len(pairs) != len(texts)):
            raise BertrError(
                f"got {len(texts)} texts, {n_labels} labels"
                + ("" if pairs is None else f" and {len(pairs)} paired texts")
            )
        task = make_task(y, self.task, classes, label_names)
        target = task.encode(y)
        weight = self._row_weights(task, target, sample_weight, class_weight, len(texts))
        n_val = int(round(len(texts) * self.validation_split))
        if self.validation_split > 0 and (n_val < 2 or len(texts) - n_val < 2):
            raise BertrError(
                f"validation_split = {self.validation_split:g} of {len(texts)} rows leaves too few rows "
                "for training or validation; use more data or validation_split = 0"
            )
        return _TrainingData(texts, pairs, task, target, weight)

    def _initialize_model(self, pretrained: Pretrained, pooling: str, task: Task, n_train: int, placement):
        """The classifier network with the pretrained weights, compiled with AdamWarmup and the task's loss, built
        in the strategy's scope (its variables are then mirrored on every replica) with the precision policy."""
        from .distribution import precision_policy, with_loss_scaling  # TensorFlow: after configure_threads()
        from .graph import build_classifier  # TensorFlow, likewise
        from .optim import AdamWarmup, calc_train_steps  # TensorFlow, likewise

        with placement.strategy.scope(), precision_policy(self.precision):
            model = build_classifier(
                pretrained,
                n_outputs=task.n_outputs,
                activation=task.activation,
                dropout_rate=self.dropout,
                pooling=pooling,
            )
            total, warmup = calc_train_steps(n_train, self.batch_size, self.epochs, self.warmup_proportion)
            optimizer = AdamWarmup(
                decay_steps=total,
                warmup_steps=warmup,
                learning_rate=self.learning_rate,
                weight_decay=self.weight_decay,
            )
            model.compile(optimizer=with_loss_scaling(optimizer, self.precision), loss=task.loss)
        return model

    def _initialize_rows(self, tokenizer, data: _TrainingData, train_idx, val_idx, callback) -> _Rows:
        """The network's rows: one per text (cut as ``truncation`` says), or with ``long_text = "window"`` one per
        window, each with its text's target and weight divided by its text's number of windows; the validation
        metrics then score each text's pooled windows."""
        if self.long_text != "window":
            encoded = tokenizer.encode(
                data.texts, self.seq_len, data.pairs, callback, truncation=self.truncation, head_tokens=self.head_tokens
            )
            return _Rows(encoded, data.target, data.weight, train_idx, val_idx, data.task.metrics)
        encoded, owner = tokenizer.encode_windows(data.texts, self.seq_len, self.stride, report=callback)
        # each text's windows weigh as much as one row; scaled to a mean of 1 per window, so that the loss (a batch's
        # weighted sum over its rows) stays on the scale of one text's loss
        weight = window_weights(owner) * (len(owner) / len(data.texts))
        weight = weight * (1.0 if data.weight is None else data.weight[owner])
        train_rows = np.flatnonzero(np.isin(owner, train_idx))
        val_rows = np.flatnonzero(np.isin(owner, val_idx))
        _, val_owner = np.unique(owner[val_rows], return_inverse=True)
        task, pooled = data.task, self.window_pooling

        def score(target: np.ndarray, output: np.ndarray) -> dict[str, float]:  # per text, from its windows
            texts = first_rows(val_owner)
            normalize = task.name == "multiclass"
            return task.metrics(target[texts], pool_windows(output, val_owner, len(texts), pooled, normalize))

        return _Rows(encoded, data.target[owner], weight.astype(np.float32), train_rows, val_rows, score)

    def _initialize_trainer(self, model, rows: _Rows, task: Task, callback: ProgressFn, on_step, placement):
        """The training loop over the training rows, scoring the validation rows after every epoch."""
        from .distribution import base_optimizer  # TensorFlow: imported after runtime.configure_threads()
        from .training import Trainer  # TensorFlow, likewise

        validation = (_take(rows.encoded, rows.val), rows.target[rows.val]) if len(rows.val) else None
        return Trainer(
            model,
            _take(rows.encoded, rows.train),
            rows.target[rows.train],
            epochs=self.epochs,
            batch_size=self.batch_size,
            validation=validation,
            score=rows.score,
            seed=self.seed,
            weight=None if rows.weight is None else rows.weight[rows.train],
            learning_rate=base_optimizer(model.optimizer).schedule.rate_at,
            early_stopping=self._early_stopping(task),
            report=callback,
            on_step=on_step,
            placement=placement,
        )

    def _initialize_checkpoints(
        self,
        trainer,
        checkpoint_dir,
        checkpoint_every,
        resume,
        rows: _Rows,
        callback: ProgressFn,
    ):
        """With ``checkpoint_dir``: the run's checkpointer, and the trainer restored from its last checkpoint
        (``resume``) or the directory cleared; without, None."""
        if checkpoint_dir is None:
            return None
        from .training_checkpoints import Checkpointer, fingerprint  # TensorFlow: after configure_threads()

        if checkpoint_every is not None:
            trainer.checkpoint_every = check_positive_int(checkpoint_every, "checkpoint_every")
        data_id = fingerprint(rows.encoded.token, rows.encoded.segment, rows.target, rows.weight, rows.train)
        defaults = type(self)()._run_settings()  # what a checkpoint from before a setting existed ran with
        checkpointer = Checkpointer(checkpoint_dir, self._run_settings(), data_id, report=callback, defaults=defaults)
        manifest = checkpointer.load() if resume else None
        if manifest is not None:
            with trainer.placement.strategy.scope():  # the optimizer's slots are created here when missing
                checkpointer.restore(trainer, manifest)
            if callback is not None:
                callback(
                    {
                        "event": "resume",
                        "step": trainer.state.step,
                        "epoch": trainer.state.epoch + 1,
                        "finished": trainer.finished,
                        "path": manifest["path"],
                    }
                )
        elif not resume and trainer.placement.chief:
            checkpointer.clear()
        return checkpointer

    def _set_record(self, record: FitRecord) -> None:
        for item in fields(FitRecord):
            setattr(self, f"{item.name}_", getattr(record, item.name))

    def _record(self) -> FitRecord:
        return FitRecord(**{item.name: getattr(self, f"{item.name}_") for item in fields(FitRecord)})

    @staticmethod
    def _row_weights(task: Task, target: np.ndarray, sample_weight, class_weight, n: int) -> np.ndarray | None:
        weight = None if sample_weight is None else check_sample_weight(sample_weight, n)
        if class_weight is not None:
            if task.name not in ("binary", "multiclass"):
                hint = "; weigh rows with sample_weight instead" if task.name in ("soft", "regression") else ""
                raise BertrError(
                    f"class_weight applies to binary and multiclass labels, not to task '{task.name}'{hint}"
                )
            per_row = class_weights(target[:, 0], task.classes, class_weight)
            weight = per_row if weight is None else weight * per_row
        return weight

    def _early_stopping(self, task: Task):
        spec = self.early_stopping
        if spec is None or spec is False:
            return None
        if spec is True:
            spec = {}
        if not isinstance(spec, dict):
            raise BertrError(
                "early_stopping must be TRUE/FALSE or a list(monitor = , patience = , min_delta = , "
                f"restore_best = ), not {spec!r}"
            )
        unknown = sorted(set(spec) - {"monitor", "patience", "min_delta", "restore_best"})
        if unknown:
            raise BertrError(
                f"early_stopping has unknown setting(s) {', '.join(unknown)}; "
                "use monitor, patience, min_delta, restore_best"
            )
        monitor = monitored(spec, task)  # without validation rows a val_ metric is an error, unless "loss" is asked
        if not isinstance(monitor, str):
            raise BertrError(f"early_stopping's monitor must be a metric name such as '{task.monitor}'")
        min_delta = spec.get("min_delta", 0.0)
        if not isinstance(min_delta, (int, float)) or min_delta < 0:
            raise BertrError(f"early_stopping's min_delta must be a number >= 0, not {min_delta!r}")
        from .training import EarlyStopping  # TensorFlow: imported after runtime.configure_threads()

        return EarlyStopping(
            monitor=monitor,
            patience=check_positive_int(spec.get("patience", 1), "early_stopping's patience"),
            min_delta=float(min_delta),
            restore_best=restores_best(spec),
        )

    def _run_settings(self) -> dict[str, Any]:
        """The settings that decide a training run's result (checked when resuming a checkpoint)."""
        settings = self._json_params()
        for name in ("threads", "strategy", "devices"):  # a run can resume on other devices or another cluster
            settings.pop(name)
        return settings

    def _json_params(self) -> dict[str, Any]:
        params = self.get_params()
        params["pretrained"] = None if params["pretrained"] is None else str(params["pretrained"])
        strategy = params["strategy"]
        params["strategy"] = strategy if strategy is None or isinstance(strategy, str) else type(strategy).__name__
        params["devices"] = None if params["devices"] is None else list(params["devices"])
        return params

    # prediction -------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise BertrError("this classifier has not been fitted yet: call fit() first")

    def _inputs(self, texts: Sequence[str], pairs: Sequence[str] | None) -> tuple[list[str], list[str] | None]:
        """The checked texts (and paired texts) to predict for."""
        self._check_fitted()
        texts = check_texts(texts, allow_empty=True)
        if self.paired_ and pairs is None:
            raise BertrError("this model was trained on text pairs: give the paired texts too")
        if not self.paired_ and pairs is not None:
            raise BertrError("this model was trained on single texts, not pairs")
        if pairs is not None:
            pairs = check_texts(pairs, "the paired text", allow_empty=True)
            if len(pairs) != len(texts):
                raise BertrError(f"got {len(texts)} texts but {len(pairs)} paired texts")
        return texts, pairs

    def encode(self, texts: Sequence[str], pairs: Sequence[str] | None = None, report: ProgressFn = None) -> Encoded:
        """Token and segment id matrices for ``texts`` with this model's vocabulary, seq_len and truncation."""
        texts, pairs = self._inputs(texts, pairs)
        return self.tokenizer_.encode(
            texts, self.seq_len, pairs, report=report, truncation=self.truncation, head_tokens=self.head_tokens
        )

    def _batch_size(self, batch_size: int | None) -> int:
        return self.batch_size * 2 if batch_size is None else check_positive_int(batch_size, "batch_size")

    def _output(
        self, texts, pairs, batch_size, report=None, long_text=None, stride=None, window_pooling=None, precision="model"
    ) -> np.ndarray:
        """The classifier's outputs per text as every prediction, decision and metric reads them: the network's
        (:meth:`_network_output`) with the model's temperature applied (:meth:`bertr.tasks.Task.calibrated`)."""
        output = self._network_output(
            texts, pairs, batch_size, report, "output", long_text, stride, window_pooling, precision
        )
        return self.task_.calibrated(output)

    def _network_output(
        self,
        texts,
        pairs,
        batch_size,
        report=None,
        kind="output",
        long_text=None,
        stride=None,
        window_pooling=None,
        precision="model",
    ) -> np.ndarray:
        """The outputs of the classifier's network (``kind = "summary"``: its summary network, the embeddings) per
        text: one cut window each, or (``long_text = "window"``, the model's setting unless given) the pooled
        outputs of its windows. No temperature. ``precision = "int8"``: the network's int8 version (see
        :mod:`bertr.quantization`)."""
        from .graph import summary_network  # TensorFlow: the model exists, so it has started
        from .inference import predict_batches  # TensorFlow, as above
        from .quantization import check_precision, int8_network  # TensorFlow, as above

        precision = check_precision(precision)
        texts, pairs = self._inputs(texts, pairs)  # checks first that the model is fitted
        long_text = check_long_text(self.long_text if long_text is None else long_text, paired=self.paired_)
        placement = getattr(self, "placement_", None)  # where it was fitted in this process; loaded: the default
        batch_size = self._batch_size(batch_size)
        if long_text == "window":
            how = check_window_pooling(self.window_pooling if window_pooling is None else window_pooling)
        if precision == "int8" and texts:  # after the cheap checks: the conversion takes seconds
            network = int8_network(self, kind)
        else:
            network = summary_network(self.model_) if kind == "summary" else self.model_
        if long_text == "truncate":
            encoded = self.encode(texts, pairs, report)
            return predict_batches(network, encoded, batch_size, report, placement=placement)
        stride = self.stride if stride is None else stride
        windows, owner = self.tokenizer_.encode_windows(texts, self.seq_len, stride, report=report)
        output = predict_batches(network, windows, batch_size, report, placement=placement)
        normalize = kind == "output" and self.task_.name == "multiclass"  # pooled class probabilities sum to 1
        return pool_windows(output, owner, len(texts), how, normalize)

    def predict_proba(
        self,
        texts: Sequence[str],
        pairs: Sequence[str] | None = None,
        batch_size: int | None = None,
        report: ProgressFn = None,
        long_text: str | None = None,
        stride: int | None = None,
        window_pooling: str | None = None,
        precision: str = "model",
    ) -> np.ndarray:
        """Probabilities: binary (n, 2) in ``classes_`` order; multiclass / multilabel (n, K); soft (n,).
        For regression, the predicted values (n,). ``report`` receives tokenize / predict progress events.
        ``long_text``, ``stride`` and ``window_pooling`` override the model's (see the class). ``precision``:
        ``"model"`` (the network as fitted) or ``"int8"`` (int8 weights and activations through ONNX Runtime,
        faster on CPUs, probabilities within a few hundredths; see :mod:`bertr.quantization`)."""
        output = self._output(texts, pairs, batch_size, report, long_text, stride, window_pooling, precision)
        return self.task_.probabilities(output)

    def predict(
        self,
        texts: Sequence[str],
        pairs: Sequence[str] | None = None,
        batch_size: int | None = None,
        report: ProgressFn = None,
        threshold: float | Sequence[float] | None = None,
        long_text: str | None = None,
        stride: int | None = None,
        window_pooling: str | None = None,
        precision: str = "model",
    ) -> np.ndarray:
        """Decisions (see :meth:`bertr.tasks.Task.predict`): classes (binary: probability >= the threshold for the
        second; multiclass: the most probable), 1/0 for a soft label's fraction >= the threshold and for each label
        of a multi-label task, values for regression. The threshold is ``threshold`` (one, or one per label), else
        the model's own (:meth:`with_threshold`), else 0.5. ``precision`` as :meth:`predict_proba`."""
        self._check_fitted()
        cut = self.task_.check_threshold(threshold)  # before the work
        output = self._output(texts, pairs, batch_size, report, long_text, stride, window_pooling, precision)
        return self.task_.predict(output, cut)

    def predict_both(
        self,
        texts: Sequence[str],
        pairs: Sequence[str] | None = None,
        batch_size: int | None = None,
        report: ProgressFn = None,
        threshold: float | Sequence[float] | None = None,
        long_text: str | None = None,
        stride: int | None = None,
        window_pooling: str | None = None,
        precision: str = "model",
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(predict_proba(...), predict(...))`` from one pass of the network (an API answering both, the command
        line's ``--type both``)."""
        self._check_fitted()
        cut = self.task_.check_threshold(threshold)  # before the work
        output = self._output(texts, pairs, batch_size, report, long_text, stride, window_pooling, precision)
        return self.task_.probabilities(output), self.task_.predict(output, cut)

    def embed(
        self,
        texts: Sequence[str],
        pairs: Sequence[str] | None = None,
        normalize: bool = False,
        batch_size: int | None = None,
        report: ProgressFn = None,
        long_text: str | None = None,
        stride: int | None = None,
        window_pooling: str | None = None,
        precision: str = "model",
    ) -> np.ndarray:
        """Embeddings (n, hidden): the fine-tuned text summaries the output layer reads (see
        :mod:`bertr.embedding`; ``normalize`` scales each to unit length, after pooling a text's windows).
        ``precision`` as :meth:`predict_proba`."""
        check_normalize(normalize)
        self._check_fitted()
        output = self._network_output(
            texts, pairs, batch_size, report, "summary", long_text, stride, window_pooling, precision
        )
        return finish_vectors(output, normalize)

    def _targets(self, texts: list[str], y: Sequence[Any]) -> np.ndarray:
        """Encoded held-out labels, checked against the training classes."""
        if self.task_.name in ("binary", "multiclass"):
            values = list(y)
            missing = [i for i, v in enumerate(values) if is_missing(v)]
            if missing:
                raise BertrError(f"the label is missing (NA) in row {missing[0] + 1}")
            unseen = sorted({str(v) for v in values} - {str(c) for c in self.classes_})
            if unseen:
                raise BertrError(f"the label has class(es) not seen in training: {', '.join(unseen)}")
        target = self.task_.encode(y)
        if len(target) != len(texts):
            raise BertrError(f"got {len(texts)} texts but {len(target)} labels")
        return target

    def evaluate(
        self,
        texts: Sequence[str],
        y: Sequence[Any],
        pairs: Sequence[str] | None = None,
        batch_size: int | None = None,
        report: ProgressFn = None,
        long_text: str | None = None,
        stride: int | None = None,
        window_pooling: str | None = None,
        precision: str = "model",
    ) -> dict[str, float]:
        """Held-out metrics on labelled texts (see :meth:`bertr.tasks.Task.metrics`; all NaN for no texts);
        accuracy decides at the model's threshold. ``precision`` as :meth:`predict_proba`."""
        self._check_fitted()
        texts = check_texts(texts, allow_empty=True)
        target = self._targets(texts, y)
        output = self._output(texts, pairs, batch_size, report, long_text, stride, window_pooling, precision)
        return self.task_.metrics(target, output)

    def explain(
        self,
        texts: Sequence[str],
        pairs: Sequence[str] | None = None,
        target: Any = None,
        steps: int = 50,
        baseline: str = "pad",
        batch_size: int | None = None,
        report: ProgressFn = None,
    ) -> dict[str, dict[str, list]]:
        """Token attributions by integrated gradients on the token embeddings (see :mod:`bertr.explain`): for each
        text, how much each token moved the explained output (the probability of ``target``, by default the
        predicted class, calibrated when the model has a temperature; the fraction or value for soft and regression
        models) from the baseline's (``"pad"``:
        every word token's embedding replaced by [PAD]'s, [CLS] and [SEP] kept; or ``"zero"``). ``steps`` intervals
        of the trapezoidal rule. Texts are cut as the model cuts them. Returns the tables of
        :func:`bertr.explain.explanation_columns`: ``tokens``, ``words`` (sums per word) and ``texts`` (per text the
        output at the text and at the baseline, and the completeness error of the attributions' sum)."""
        self._check_fitted()
        from . import explain  # TensorFlow: the model exists, so it has started
        from .inference import predict_batches  # TensorFlow, as above

        steps, baseline = explain.check_steps(steps), explain.check_baseline(baseline)
        texts, pairs = self._inputs(texts, pairs)
        batch_size = self._batch_size(batch_size)
        pieces = self.tokenizer_.encode_pieces(texts, self.seq_len, pairs, self.truncation, self.head_tokens)
        encoded, kept = explain.pieces_matrix(pieces, self.seq_len)
        placement = getattr(self, "placement_", None)  # as _network_output: one inference function per model
        output = self.task_.calibrated(predict_batches(self.model_, encoded, batch_size, placement=placement))
        column, scale, shift, explained = self.task_.explained(output, target)
        temperature = None if self.task_.name == "regression" else self.task_.temperature
        attributions, at_text, at_baseline = explain.integrated_gradients(
            self.model_,
            encoded,
            kept,
            column,
            scale,
            shift,
            steps,
            baseline,
            batch_size,
            report,
            temperature=temperature,
            activation=self.task_.activation,
        )
        return explain.explanation_columns(pieces, texts, pairs, attributions, at_text, at_baseline, explained)

    def choose_threshold(
        self,
        texts: Sequence[str],
        y: Sequence[Any],
        pairs: Sequence[str] | None = None,
        metric: Any = "f1",
        batch_size: int | None = None,
        report: ProgressFn = None,
        long_text: str | None = None,
        stride: int | None = None,
        window_pooling: str | None = None,
    ) -> dict[str, list]:
        """The decision threshold that best meets ``metric`` on labelled held-out texts (see
        :mod:`bertr.thresholds`), one per label for multi-label tasks, as columns (``label``, ``threshold``,
        ``metric``, ``value``, ``precision``, ``recall``, ``f1``, ``accuracy``, ``n``, ``positives``). Set it
        with :meth:`with_threshold`."""
        self._check_fitted()
        check_metric(metric)
        self.task_.check_threshold(0.5)  # the task has thresholds at all
        texts = check_texts(texts, allow_empty=True)
        target = self._targets(texts, y)
        output = self._output(texts, pairs, batch_size, report, long_text, stride, window_pooling)
        if self.task_.name == "multilabel":
            labels = [str(c) for c in self.classes_]
            rows = [choose_threshold(target[:, j] >= 0.5, output[:, j], metric, labels[j]) for j in range(len(labels))]
        else:  # binary: the second class (code 1) is the positive one; soft: a fraction >= 0.5
            positive = str(self.classes_[1]) if self.task_.name == "binary" else ""
            rows = [choose_threshold(target[:, 0] >= 0.5, output[:, 0], metric, positive)]
        return {key: [row[key] for row in rows] for key in rows[0]}

    def with_threshold(self, threshold: float | Sequence[float] | None, choice: dict | None = None) -> BertClassifier:
        """A copy of this fitted model (sharing its network) whose decisions use ``threshold`` (one, or one per
        label; ``None``: back to 0.5), kept by :meth:`save`; ``choice`` records how it was chosen
        (:meth:`choose_threshold`'s columns)."""
        self._check_fitted()
        cut = self.task_.check_threshold(threshold)
        model = copy.copy(self)
        choice = None if cut is None else copy.deepcopy(choice)
        model.task_ = dataclasses.replace(self.task_, threshold=cut, threshold_choice=choice)
        return model

    def calibrate(
        self,
        texts: Sequence[str],
        y: Sequence[Any],
        pairs: Sequence[str] | None = None,
        batch_size: int | None = None,
        report: ProgressFn = None,
        long_text: str | None = None,
        stride: int | None = None,
        window_pooling: str | None = None,
    ) -> dict[str, Any]:
        """Temperature scaling fitted on labelled held-out texts (never the training rows; see
        :mod:`bertr.calibration`): the temperature that minimises their log loss, from the network's own outputs
        (a temperature the model has is ignored and replaced). Returns the facts: ``temperature``, ``n``,
        ``metrics`` (columns: ``when`` ``"before"`` / ``"after"`` and the task's metrics on these rows, see
        :meth:`bertr.tasks.Task.metrics`: ``loss`` is the log loss, ``ece`` the expected calibration error),
        ``reliability`` (columns: ``when``, then per bin ``lower``, ``upper``, ``n``, ``predicted``, ``observed``),
        ``bins``, ``long_text`` (how texts were read), ``iterations`` and ``warnings``. Set it with
        :meth:`with_temperature`."""
        self._check_fitted()
        self.task_.check_temperature(None)  # a classifier: before the work
        texts = check_texts(texts, allow_empty=True)
        target = self._targets(texts, y)
        if not len(texts):
            raise BertrError("calibration needs labelled held-out rows, but there are none")
        raw = self._network_output(texts, pairs, batch_size, report, "output", long_text, stride, window_pooling)
        fitted = calibration.fit_temperature(raw, target, self.task_.activation)
        temperature = fitted["temperature"]
        kind = {"multiclass": "multiclass", "multilabel": "multilabel"}.get(self.task_.name, "binary")
        metrics: dict[str, list] = {"when": []}
        reliability: dict[str, list] = {"when": []}
        for when, scale in (("before", None), ("after", temperature)):
            task = dataclasses.replace(self.task_, temperature=scale, threshold=self.task_.moved_threshold(scale))
            output = task.calibrated(raw)
            metrics["when"].append(when)
            for name, value in task.metrics(target, output).items():
                metrics.setdefault(name, []).append(value)
            bins = calibration.reliability(kind, target, output)
            reliability["when"] += [when] * len(bins["n"])
            for name, values in bins.items():
                reliability.setdefault(name, []).extend(values)
        return {
            "temperature": temperature,
            "n": len(texts),
            "metrics": metrics,
            "reliability": reliability,
            "bins": calibration.BINS,
            "long_text": check_long_text(self.long_text if long_text is None else long_text, paired=self.paired_),
            "iterations": fitted["iterations"],
            "warnings": fitted["warnings"],
        }

    def with_temperature(self, temperature: float | None, facts: dict | None = None) -> BertClassifier:
        """A copy of this fitted model (sharing its network) whose probabilities, decisions and metrics use
        ``temperature`` (the network's logits divided by it; ``None``: not calibrated), kept by :meth:`save`;
        ``facts`` records how it was fitted (:meth:`calibrate`'s). A threshold the model has is carried to the new
        scale (:meth:`bertr.tasks.Task.moved_threshold`): it decides for the same texts as before, and so does
        0.5 and the most probable class (calibration changes probabilities, not decisions)."""
        self._check_fitted()
        scale = self.task_.check_temperature(temperature)
        model = copy.copy(self)
        choice = copy.deepcopy(self.task_.threshold_choice)
        moved = self.task_.moved_threshold(scale)
        if choice is not None and moved is not None:
            choice["threshold"] = [float(v) for v in np.atleast_1d(moved)]
        model.task_ = dataclasses.replace(
            self.task_,
            temperature=scale,
            calibration=None if scale is None else _json_facts(facts),
            threshold=moved,
            threshold_choice=choice,
        )
        return model

    # saving and loading -----------------------------------------------------------------------
    def save(self, path: str, extra: dict | None = None, overwrite: bool = False) -> str:
        """Write this fitted model to the directory ``path`` (the format is described in
        :mod:`bertr.persistence`); ``extra`` holds the caller's own JSON-able facts. Returns the absolute path.
        In a multi-worker cluster only the chief writes (every worker holds the same model); the others write
        nothing and return the path the chief writes to."""
        self._check_fitted()
        placement = getattr(self, "placement_", None)
        if placement is not None and not placement.chief:
            return str(Path(path).expanduser().absolute())
        from .graph import head_dropout, weight_arrays  # TensorFlow: the model exists, so it has started

        manifest = {
            "task": self.task_.to_dict(),
            "paired": self.paired_,
            "do_lower_case": self.tokenizer_.do_lower_case,
            "params": self._json_params(),
            "head": {"dropout": head_dropout(self.model_), "pooling": self.pooling_},
            "pretrained": self.pretrained_,
            "fitted": asdict(self._record()),
            "versions": runtime.versions_brief(),
            "extra": extra or {},
        }
        config = {k: self.pretrained_[k] for k in BertConfig.__dataclass_fields__}
        return persistence.write_model(
            path,
            weights=weight_arrays(self.model_),
            config=config,
            vocab_path=self.tokenizer_.vocab_path,
            manifest=manifest,
            overwrite=overwrite,
        )

    @classmethod
    def load(cls, path: str) -> BertClassifier:
        """A fitted model read from a directory written by :meth:`save` (verified first, see
        :mod:`bertr.persistence`)."""
        saved = persistence.read_model(path)
        manifest = saved.manifest
        try:
            task = Task(**manifest["task"])
            params = dict(manifest["params"])
            fitted = dict(manifest["fitted"])
        except (KeyError, TypeError) as exc:
            raise BertrError(f"{saved.what}: manifest.json lacks {exc}") from None
        tokenizer = WordPieceTokenizer(saved.vocab_path, bool(manifest.get("do_lower_case", True)))
        runtime.configure_threads(params.get("threads"))
        from .graph import assign_weight_arrays, classifier_graph  # TensorFlow starts here, after its threads are set

        head = manifest.get("head", {})
        pooling = head.get("pooling", "cls")  # models saved before bertr had mean pooling used [CLS]
        model = classifier_graph(saved.config, task.n_outputs, task.activation, head.get("dropout"), pooling=pooling)
        assign_weight_arrays(model, saved.weights, saved.what)

        known = cls().get_params()
        kept = {k: v for k, v in params.items() if k in known and k not in ("strategy", "devices")}
        classifier = cls(**kept)  # a loaded model predicts on this process's default device (strategy NULL)
        classifier.task_ = task
        classifier.pooling_ = pooling
        classifier.classes_ = list(task.classes)
        classifier.paired_ = bool(manifest.get("paired", False))
        classifier.model_ = model
        classifier.tokenizer_ = tokenizer
        classifier.pretrained_ = manifest.get("pretrained", {})
        classifier._set_record(FitRecord.from_dict(fitted, classifier.early_stopping, task))
        classifier.saved_ = {
            "path": str(saved.path),
            "versions": manifest.get("versions", {}),
            "extra": manifest.get("extra", {}),
        }
        return classifier

    # the fitted model described -----------------------------------------------------------------
    def trace_columns(self) -> dict[str, list]:
        """The per-step training trace as columns (step, epoch, loss, learning_rate)."""
        self._check_fitted()
        keys = ("step", "epoch", "loss", "learning_rate")
        return {k: [row[k] for row in self.trace_] for k in keys}

    def history_columns(self) -> dict[str, list]:
        """The training history as columns (epoch, step, loss, val_*, seconds) for data frames."""
        self._check_fitted()
        keys: list[str] = []
        for row in self.history_:
            keys += [k for k in row if k not in keys]
        return {k: [row.get(k, float("nan")) for row in self.history_] for k in keys}

    def settings(self) -> dict[str, Any]:
        """The settings in force: the parameters, with ``pooling`` resolved to the one the model uses."""
        settings = self._json_params()
        if hasattr(self, "pooling_"):
            settings["pooling"] = self.pooling_
        return settings

    def settings_text(self) -> list[str]:
        """The settings that shape a fit, as ``name = value`` in R syntax (for summaries and messages)."""
        settings = self.settings()
        shown = (
            "seq_len",
            "batch_size",
            "epochs",
            "learning_rate",
            "warmup_proportion",
            "weight_decay",
            "dropout",
            "pooling",
            "validation_split",
            "seed",
            "early_stopping",
            "strategy",
            "precision",
            "truncation",
            "head_tokens",
            "long_text",
            "stride",
            "window_pooling",
        )
        return [f"{name} = {show_value(settings[name])}" for name in shown]

    def distribution_text(self) -> str:
        """Where the model trained, in words: ``"2 replicas (mirrored: CPU:0, CPU:1)"``, ``"4 replicas on 2 workers
        (multi_worker)"``, ``"1 device (auto)"``; with the precision when not float32."""
        self._check_fitted()
        placed = self.distribution_ or {"strategy": "auto", "replicas": 1, "devices": [], "workers": []}
        replicas = int(placed["replicas"])
        where = f"{replicas} replica{'s' if replicas != 1 else ''}" if replicas != 1 else "1 device"
        if len(placed["workers"]) > 1:
            where += f" on {len(placed['workers'])} workers"
        devices = [d.split("device:")[-1] for d in placed["devices"]]
        detail = placed["strategy"] + (f": {', '.join(devices)}" if devices and not placed["workers"] else "")
        precision = "" if self.precision == "float32" else f", {self.precision}"
        return f"{where} ({detail}){precision}"

    def export(self, path: str, columns: dict | None = None, overwrite: bool = False) -> str:
        """Write this fitted model as a standalone TensorFlow SavedModel that takes raw text (see
        :mod:`bertr.export`: tokenization in the graph with tensorflow-text, the same ids and predictions), with a
        ``model_card.json``; returns the directory's absolute path. ``columns``: the data's column names, for the
        card. Needs the optional package tensorflow-text."""
        self._check_fitted()
        from .export import export_classifier  # TensorFlow: the model exists, so it has started

        return export_classifier(self, path, columns=columns, overwrite=overwrite)

    def model_card(self, columns: dict | None = None) -> dict[str, Any]:
        """What this model predicts, how it reads texts, how well it did and what made it, as plain JSON values
        (see :mod:`bertr.model_card`; written beside an export and served by the HTTP API)."""
        return model_card(self, columns)

    def fitted_facts(self) -> dict[str, Any]:
        """Everything the R package shows of a fitted model, in one dict: the task and its levels (as text), the
        pretrained model, the settings, the history and per-step trace as columns, and the fit record."""
        self._check_fitted()
        named = self.task_.name in ("binary", "multiclass", "multilabel")
        levels = list(self.classes_) if named else []  # as given (R writes them as text, as it writes predictions)
        record = asdict(self._record())
        del record["trace"]  # as columns (steps), like the history
        record["history"] = self.history_columns()
        return {
            "task": self.task_.name,
            "levels": levels,
            "paired": self.paired_,
            "pretrained": self.pretrained_,
            "settings": self.settings(),
            "settings_text": self.settings_text(),
            "distribution_text": self.distribution_text(),
            "threshold": self.task_.threshold,
            "threshold_choice": self.task_.threshold_choice,
            "temperature": self.task_.temperature,
            "calibration": self.task_.calibration,
            "early_stopping": self.early_stopping,
            **record,
            "steps": self.trace_columns(),
        }


def save_model(classifier: BertClassifier, path: str, extra: dict | None = None, overwrite: bool = False) -> str:
    """Write a fitted ``classifier`` to the directory ``path`` (see :meth:`BertClassifier.save`)."""
    return classifier.save(path, extra=extra, overwrite=overwrite)


def load_model(path: str) -> BertClassifier:
    """A fitted :class:`BertClassifier` read from a directory written by :func:`save_model`."""
    return BertClassifier.load(path)


def _take(encoded: Encoded, rows: np.ndarray) -> Encoded:
    return Encoded(encoded.token[rows], encoded.segment[rows])


def _json_facts(facts: dict | None) -> dict | None:
    """``facts`` as plain JSON for the saved model: NaN (an empty bin's means, a metric over one class) as None, and
    ``warnings`` a list again (a single one comes back from R as one string)."""
    if facts is None:
        return None

    def plain(value):
        if isinstance(value, float) and not np.isfinite(value):
            return None
        if isinstance(value, dict):
            return {key: plain(item) for key, item in value.items()}
        if isinstance(value, (list, tuple)):
            return [plain(item) for item in value]
        return value

    facts = plain(dict(facts))
    if isinstance(facts.get("warnings"), str):
        facts["warnings"] = [facts["warnings"]]
    return facts
