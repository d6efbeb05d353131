"""BertClassifier: fine-tune a pretrained BERT on texts and labels, scikit-learn style.

This is the one implementation of training and prediction; the R package's ``bert_train()`` and
``predict()`` call into it.
"""
from __future__ import annotations

import inspect
import time
from typing import Any, Callable, Sequence

import numpy as np

from . import runtime
from .checkpoints import Pretrained, load_pretrained
from .errors import BertrError
from .inputs import (check_fraction, check_pooling, check_positive_int, check_sample_weight, check_texts, class_weights,
                     is_missing)
from .tasks import Task, make_task
from .tokenization import Encoded, WordPieceTokenizer


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

    # scikit-learn estimator protocol -------------------------------------------------------------
    def get_params(self, deep: bool = True) -> dict[str, Any]:
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        return {name: getattr(self, name) for name in names}

    def set_params(self, **params) -> "BertClassifier":
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

    # fitting ----------------------------------------------------------------------------------
    def fit(self, texts: Sequence[str], y: Sequence[Any], classes: Sequence[Any] | None = None,
            pairs: Sequence[str] | None = None, sample_weight: Sequence[float] | None = None,
            class_weight: str | dict | None = None, label_names: Sequence[str] | None = None,
            callback: Callable[[dict], None] | None = None, checkpoint_dir: str | None = None,
            checkpoint_every: int | None = None, resume: bool = True,
            on_step: Callable[[dict], None] | None = None) -> "BertClassifier":
        """Fine-tune on ``texts`` (and second texts ``pairs``) and labels ``y``.

        ``y`` is one label per text, or a 2-D 0/1 array (one column per label, named by ``label_names``)
        for multi-label. ``classes`` fixes the class order (for binary, the second class is the positive
        one whose probability ``predict_proba(...)[:, 1]`` gives); by default the sorted distinct labels.
        ``sample_weight`` weighs rows; ``class_weight`` ("balanced" or class -> weight) weighs classes.
        ``callback`` receives progress events (dicts) during training.

        With ``checkpoint_dir``, a checkpoint is written there at the end of every epoch and every
        ``checkpoint_every`` steps (see :mod:`bertr.checkpointing`); calling ``fit`` again with the same
        directory, data and settings continues from the last checkpoint (``resume = False`` starts over and
        replaces it). ``on_step`` is called after every optimizer step with the step, epoch, batch loss,
        learning rate and the batch's row indices (into the training rows).
        """
        started = time.perf_counter()
        self._check_settings()
        texts = check_texts(texts)
        pairs = None if pairs is None else check_texts(pairs, "the paired text")
        n_labels = len(y) if hasattr(y, "__len__") else len(list(y))
        if n_labels != len(texts) or (pairs is not None and len(pairs) != len(texts)):
            raise BertrError(f"got {len(texts)} texts, {n_labels} labels"
                             + ("" if pairs is None else f" and {len(pairs)} paired texts"))
        task = make_task(y, self.task, classes, label_names)
        target = task.encode(y)
        weight = self._row_weights(task, target, sample_weight, class_weight, len(texts))
        n_val = int(round(len(texts) * self.validation_split))
        if self.validation_split > 0 and (n_val < 2 or len(texts) - n_val < 2):
            raise BertrError(
                f"validation_split = {self.validation_split:g} of {len(texts)} rows leaves too few rows "
                "for training or validation; use more data or validation_split = 0"
            )

        runtime.configure_threads(self.threads)
        pretrained = load_pretrained(self.pretrained, self.do_lower_case)
        self._check_settings(pretrained)
        tokenizer = WordPieceTokenizer(pretrained.vocab_path, pretrained.do_lower_case)
        encoded = tokenizer.encode(texts, self.seq_len, pairs, report=callback)

        from .training import Trainer, split_validation

        train_idx, val_idx = split_validation(len(texts), self.validation_split, self.seed)
        train = _take(encoded, train_idx)
        validation = (_take(encoded, val_idx), target[val_idx]) if len(val_idx) else None

        runtime.set_seed(self.seed)
        model = self._compile(pretrained, task, n_train=len(train_idx))
        early = self._early_stopping(task)
        checkpointer = None
        if checkpoint_dir is not None:
            from .checkpointing import Checkpointer, fingerprint

            if checkpoint_every is not None:
                checkpoint_every = check_positive_int(checkpoint_every, "checkpoint_every")
            data_id = fingerprint(encoded.token, encoded.segment, target, weight, train_idx)
            checkpointer = Checkpointer(checkpoint_dir, self._run_settings(), data_id, report=callback)
        trainer = Trainer(model, train, target[train_idx], epochs=self.epochs, batch_size=self.batch_size,
                          validation=validation, score=task.metrics, seed=self.seed,
                          weight=None if weight is None else weight[train_idx],
                          learning_rate=model.optimizer.schedule.rate_at, early_stopping=early, report=callback,
                          on_step=on_step, checkpoint=None if checkpointer is None else checkpointer.save,
                          checkpoint_every=checkpoint_every)
        if checkpointer is not None:
            manifest = checkpointer.load() if resume else None
            if manifest is not None:
                checkpointer.restore(trainer, manifest)
                if callback is not None:
                    callback({"event": "resume", "step": trainer.state.step, "epoch": trainer.state.epoch + 1,
                              "finished": trainer.finished, "path": manifest["path"]})
            elif not resume:
                checkpointer.clear()
        state = trainer.run()
        self.task_ = task
        self.classes_ = list(task.classes)
        self.paired_ = pairs is not None
        self.model_ = model
        self.tokenizer_ = tokenizer
        self.pretrained_ = {"name": pretrained.name, "path": str(pretrained.path), "layout": pretrained.layout,
                            "do_lower_case": pretrained.do_lower_case, **pretrained.config.to_dict()}
        self.history_ = state.history
        self.trace_ = state.trace
        self.best_epoch_ = state.best_epoch
        self.stopped_early_ = state.stopped_early
        self.resumed_at_ = list(state.resumed_at)
        self.n_train_, self.n_validation_ = len(train_idx), len(val_idx)
        self.fit_seconds_ = time.perf_counter() - started
        return self

    @staticmethod
    def _row_weights(task: Task, target: np.ndarray, sample_weight, class_weight, n: int) -> np.ndarray | None:
        weight = None if sample_weight is None else check_sample_weight(sample_weight, n)
        if class_weight is not None:
            if task.name not in ("binary", "multiclass"):
                raise BertrError(f"class_weight applies to binary and multiclass labels, not to task '{task.name}'")
            per_row = class_weights(target[:, 0], task.classes, class_weight)
            weight = per_row if weight is None else weight * per_row
        return weight

    def _early_stopping(self, task: Task):
        from .training import EarlyStopping

        spec = self.early_stopping
        if spec is None or spec is False:
            return None
        default = task.monitor  # without validation rows this is an error, unless monitor = "loss" is asked
        if spec is True:
            spec = {}
        if not isinstance(spec, dict):
            raise BertrError("early_stopping must be TRUE/FALSE or a list(monitor = , patience = , min_delta = , "
                             f"restore_best = ), not {spec!r}")
        unknown = sorted(set(spec) - {"monitor", "patience", "min_delta", "restore_best"})
        if unknown:
            raise BertrError(f"early_stopping has unknown setting(s) {', '.join(unknown)}; "
                             "use monitor, patience, min_delta, restore_best")
        monitor = spec.get("monitor", default)
        if not isinstance(monitor, str):
            raise BertrError(f"early_stopping's monitor must be a metric name such as '{default}'")
        min_delta = spec.get("min_delta", 0.0)
        if not isinstance(min_delta, (int, float)) or min_delta < 0:
            raise BertrError(f"early_stopping's min_delta must be a number >= 0, not {min_delta!r}")
        return EarlyStopping(monitor=monitor, patience=check_positive_int(spec.get("patience", 1),
                                                                          "early_stopping's patience"),
                             min_delta=float(min_delta), restore_best=bool(spec.get("restore_best", True)))

    def _run_settings(self) -> dict[str, Any]:
        """The settings that decide a training run's result (checked when resuming a checkpoint)."""
        settings = self.get_params()
        settings.pop("threads")
        if settings["pretrained"] is not None:
            settings["pretrained"] = str(settings["pretrained"])
        return settings

    def _compile(self, pretrained: Pretrained, task: Task, n_train: int):
        from .model import build_classifier
        from .optim import AdamWarmup, calc_train_steps

        self.pooling_ = self.pooling or pretrained.pooling
        model = build_classifier(pretrained, n_outputs=task.n_outputs, activation=task.activation,
                                 dropout_rate=self.dropout, pooling=self.pooling_)
        total, warmup = calc_train_steps(n_train, self.batch_size, self.epochs, self.warmup_proportion)
        optimizer = AdamWarmup(decay_steps=total, warmup_steps=warmup, learning_rate=self.learning_rate,
                               weight_decay=self.weight_decay)
        model.compile(optimizer=optimizer, loss=task.loss)
        return model

    # prediction -------------------------------------------------------------------------------
    def _check_fitted(self) -> None:
        if not hasattr(self, "model_"):
            raise BertrError("this classifier has not been fitted yet: call fit() first")

    def encode(self, texts: Sequence[str], pairs: Sequence[str] | None = None,
               report: Callable[[dict], None] | None = None) -> Encoded:
        """Token and segment id matrices for ``texts`` with this model's vocabulary and seq_len."""
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
        return self.tokenizer_.encode(texts, self.seq_len, pairs, report=report)

    def _output(self, texts, pairs, batch_size, report=None) -> np.ndarray:
        from .training import predict_batches

        encoded = self.encode(texts, pairs, report)  # checks first that the model is fitted
        return predict_batches(self.model_, encoded, batch_size or self.batch_size * 2, report)

    def predict_proba(self, texts: Sequence[str], pairs: Sequence[str] | None = None,
                      batch_size: int | None = None, report: Callable[[dict], None] | None = None) -> np.ndarray:
        """Probabilities: binary (n, 2) in ``classes_`` order; multiclass / multilabel (n, K); soft (n,).
        For regression, the predicted values (n,). ``report`` receives tokenize / predict progress events."""
        output = self._output(texts, pairs, batch_size, report)
        return self.task_.probabilities(output)

    def predict(self, texts: Sequence[str], pairs: Sequence[str] | None = None,
                batch_size: int | None = None, report: Callable[[dict], None] | None = None) -> np.ndarray:
        """Classes (binary: probability >= 0.5 for the second; multiclass: the most probable), 0/1 per
        label (multilabel), or values (soft: the predicted fraction; regression)."""
        output = self._output(texts, pairs, batch_size, report)
        return self.task_.predict(output)

    def embed(self, texts: Sequence[str], pairs: Sequence[str] | None = None, normalize: bool = False,
              batch_size: int | None = None, report: Callable[[dict], None] | None = None) -> np.ndarray:
        """Embeddings (n, hidden): the fine-tuned text summaries the output layer reads (see
        :mod:`bertr.embedding`; ``normalize`` scales each to unit length)."""
        from .embedding import embed_fitted

        return embed_fitted(self, texts, pairs, normalize, batch_size, report)

    def evaluate(self, texts: Sequence[str], y: Sequence[Any], pairs: Sequence[str] | None = None,
                 batch_size: int | None = None, report: Callable[[dict], None] | None = None) -> dict[str, float]:
        """Held-out metrics on labelled texts (see :meth:`bertr.tasks.Task.metrics`; all NaN for no texts)."""
        self._check_fitted()
        texts = check_texts(texts, allow_empty=True)
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
        return self.task_.metrics(target, self._output(texts, pairs, batch_size, report))

    def save(self, path: str, extra: dict | None = None, overwrite: bool = False) -> str:
        """Write this fitted model to the directory ``path`` (see :mod:`bertr.persistence`)."""
        from .persistence import save_model

        return save_model(self, path, extra=extra, overwrite=overwrite)

    @staticmethod
    def load(path: str) -> "BertClassifier":
        """A fitted model read from a directory written by :meth:`save`."""
        from .persistence import load_model

        return load_model(path)

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


def _take(encoded: Encoded, rows: np.ndarray) -> Encoded:
    return Encoded(encoded.token[rows], encoded.segment[rows])
