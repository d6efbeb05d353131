"""Label encoding per task: what the head outputs, which loss trains it, how predictions and metrics read.

Tasks: ``binary`` (two classes, one sigmoid), ``soft`` (a fraction in [0, 1], one sigmoid trained on it, as
Jigsaw's ``target``), ``multiclass`` (softmax over K classes), ``multilabel`` (K independent sigmoids) and
``regression`` (one linear output, mean squared error).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from . import calibration, metrics
from .checks import _rows, format_number, is_missing, non_float32_rows
from .errors import BertrError

TASKS = ("binary", "soft", "multiclass", "multilabel", "regression")


@dataclass
class Task:
    """A task with its label mapping. ``classes`` are the class labels (binary, multiclass) or the label
    names (multilabel); empty for soft and regression."""

    name: str
    classes: list = field(default_factory=list)
    center: float = 0.0  # regression: targets are standardised, (y - center) / scale, for training
    scale: float = 1.0
    threshold: Any = None  # the decision threshold set for this model (one, or one per label); None: THRESHOLD
    threshold_choice: dict | None = None  # how it was chosen (bertr.thresholds.choose_thresholds' columns), if so
    temperature: float | None = None  # the logits are divided by it (bertr.calibration); None: not calibrated
    calibration: dict | None = None  # how it was fitted (BertClassifier.calibrate's facts), if so

    def class_names(self) -> list[str]:
        """The classes (or labels) as text, as R writes them: a whole number without a decimal point (a 0/1 label
        column arrives from R as 0.0 / 1.0), anything else as ``str()`` gives it. For the model card and exports."""
        return [str(int(c)) if isinstance(c, float) and c.is_integer() else str(c) for c in self.classes]

    # -- the head ------------------------------------------------------------------------------
    @property
    def n_outputs(self) -> int:
        return len(self.classes) if self.name in ("multiclass", "multilabel") else 1

    @property
    def activation(self) -> str:
        return {"multiclass": "softmax", "regression": "linear"}.get(self.name, "sigmoid")

    @property
    def loss(self) -> str:
        return {"multiclass": "sparse_categorical_crossentropy", "regression": "mse"}.get(
            self.name, "binary_crossentropy"
        )

    @property
    def monitor(self) -> str:
        """The validation metric to watch (higher is better except for losses and errors)."""
        return {"regression": "val_rmse", "multiclass": "val_accuracy"}.get(self.name, "val_auc")

    # -- targets -------------------------------------------------------------------------------
    def encode(self, y: Any) -> np.ndarray:
        """Training targets, shape (n, n_outputs) float32 (multiclass: (n, 1) class indices)."""
        if self.name == "multilabel":
            y = np.asarray(y, dtype=np.float32)
            return y
        values = list(y)
        if self.name in ("binary", "multiclass"):
            index = {c: i for i, c in enumerate(self.classes)}
            unknown = [i for i, v in enumerate(values) if v not in index]
            if unknown:
                raise BertrError(
                    f"row {unknown[0] + 1} has label {values[unknown[0]]!r}, which is not one of the "
                    f"classes {self.classes}"
                )
            codes = np.asarray([index[v] for v in values], dtype=np.float32)
            return codes[:, None]
        target = np.asarray(values, dtype=np.float64)[:, None]
        if self.name == "regression":
            target = (target - self.center) / self.scale
        return target.astype(np.float32)

    def _values(self, output: np.ndarray) -> np.ndarray:
        """Regression outputs back on the label's own scale."""
        return output[:, 0] * self.scale + self.center

    # -- calibration ---------------------------------------------------------------------------
    def check_temperature(self, temperature: Any) -> float | None:
        """A temperature for this task: a finite number > 0, or ``None`` (not calibrated). Regression has none."""
        if self.name == "regression":
            raise BertrError(
                "calibration applies to classifiers (binary, soft, multi-class, multi-label), not to a regression "
                "model: its predictions are values, not probabilities"
            )
        if temperature is None:
            return None
        ok = isinstance(temperature, (int, float, np.integer, np.floating)) and not isinstance(temperature, bool)
        if not ok or not (np.isfinite(temperature) and temperature > 0):
            raise BertrError(f"temperature must be a finite number > 0, not {temperature!r}")
        return float(temperature)

    def calibrated(self, output: np.ndarray) -> np.ndarray:
        """The network's outputs with the model's temperature applied (its logits divided by it); unchanged without
        one. Every prediction, decision and metric of a fitted model reads outputs through this (training's
        validation does not: the temperature is fitted afterwards)."""
        if self.temperature is None or self.name == "regression":
            return output
        return calibration.scale(output, self.activation, self.temperature)

    def moved_threshold(self, temperature: float | None) -> float | list[float] | None:
        """The model's threshold carried to the scale of ``temperature`` (from its own): the threshold whose
        decisions on the new calibrated probabilities are those it made before (a temperature keeps the order of
        the scores). None when the model has no threshold."""
        if self.threshold is None:
            return None
        old = 1.0 if self.temperature is None else self.temperature
        new = 1.0 if temperature is None else temperature
        cut = np.atleast_1d(np.asarray(self.threshold, dtype=np.float64))[None, :]
        moved = calibration.scale(cut, "sigmoid", new / old)[0]  # the logit back to the network's, then divided anew
        moved = np.clip(moved, np.nextafter(0.0, 1.0), np.nextafter(1.0, 0.0))  # a threshold stays in (0, 1)
        return moved.tolist() if isinstance(self.threshold, (list, tuple)) else float(moved[0])

    # -- predictions ---------------------------------------------------------------------------
    def probabilities(self, output: np.ndarray) -> np.ndarray:
        """Model output as the predictions users see: binary (n, 2) class probabilities; multiclass and
        multilabel (n, K); soft and regression (n,)."""
        output = np.asarray(output, dtype=np.float64)
        if self.name == "binary":
            return np.column_stack([1.0 - output[:, 0], output[:, 0]])
        if self.name == "soft":
            return output[:, 0]
        if self.name == "regression":
            return self._values(output)
        return output

    THRESHOLD = metrics.THRESHOLD  # a probability (or soft fraction) at or above it decides for the class / label

    def check_threshold(self, threshold: Any) -> float | list[float] | None:
        """A decision threshold for this task: a probability in (0, 1) for binary and soft tasks, one or one per
        label for multilabel; ``None`` (the default 0.5). Multiclass and regression have none."""
        if threshold is None:
            return None
        if self.name not in ("binary", "soft", "multilabel"):
            why = "the most probable class is chosen" if self.name == "multiclass" else "it predicts values"
            raise BertrError(f"a threshold applies to binary, soft and multi-label tasks, not to '{self.name}' ({why})")
        values = np.atleast_1d(np.asarray(threshold, dtype=object))
        ok = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values)
        if not ok or not all(0 < float(v) < 1 for v in values):
            raise BertrError(f"threshold must be a probability between 0 and 1 (exclusive), not {threshold!r}")
        if self.name == "multilabel" and len(values) not in (1, len(self.classes)):
            raise BertrError(
                f"threshold must be one number or one per label ({len(self.classes)}: "
                f"{', '.join(map(str, self.classes))}), not {len(values)} numbers"
            )
        if len(values) != 1 and self.name != "multilabel":
            raise BertrError(f"threshold must be one number for a {self.name} task, not {len(values)}")
        return float(values[0]) if len(values) == 1 else [float(v) for v in values]

    def decision_threshold(self, threshold: Any = None) -> float | np.ndarray:
        """The threshold a decision uses: ``threshold`` when given, else the model's own, else THRESHOLD."""
        chosen = self.check_threshold(threshold)
        chosen = self.threshold if chosen is None else chosen
        return self.THRESHOLD if chosen is None else np.asarray(chosen, dtype=np.float64)

    def predict(self, output: np.ndarray, threshold: Any = None) -> np.ndarray:
        """Decisions, the one place they are made: class labels (binary: the second class where its probability
        >= the threshold; multiclass: the most probable, the first on ties), 1/0 for a soft fraction >= the
        threshold, 1/0 per label (multilabel), values (regression). The threshold is ``threshold``, else the one
        set for the model, else THRESHOLD (0.5)."""
        output = np.asarray(output, dtype=np.float64)
        cut = self.decision_threshold(threshold)
        if self.name == "binary":
            return np.asarray(self.classes, dtype=object)[(output[:, 0] >= cut).astype(int)]
        if self.name == "multiclass":
            return np.asarray(self.classes, dtype=object)[output.argmax(axis=1)]
        if self.name in ("soft", "multilabel"):
            decided = (output >= cut).astype(np.int32)
            return decided[:, 0] if self.name == "soft" else decided
        return self.probabilities(output)

    def explained(self, output: np.ndarray, target: Any = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list]:
        """What an explanation explains for each row, as ``f = output[:, column] * scale + shift``: the probability
        of ``target`` (a class, or a label of a multi-label task; one, or one per row), by default of the predicted
        class (binary: at the model's threshold) or the most probable label; the fraction (soft) or the value
        (regression), which take no target. Returns (column, scale, shift, the explained class / label per row)."""
        output = np.asarray(output, dtype=np.float64)
        n = len(output)
        column, scale, shift = np.zeros(n, dtype=np.int64), np.ones(n), np.zeros(n)
        if self.name in ("soft", "regression"):
            if target is not None:
                what = "fraction" if self.name == "soft" else "value"
                raise BertrError(f"a {self.name} model explains its predicted {what}; it takes no target")
            if self.name == "regression":
                scale[:], shift[:] = self.scale, self.center
            return column, scale, shift, [None] * n
        names = [str(c) for c in self.classes]
        if target is None:
            if self.name == "binary":
                chosen = [names.index(str(c)) for c in self.predict(output)]
            else:
                chosen = output.argmax(axis=1).tolist()
        else:
            values = [target] * n if np.ndim(target) == 0 else list(target)
            if len(values) not in (1, n):
                raise BertrError(f"target must be one class or one per text ({n}), not {len(values)} values")
            values = values * n if len(values) == 1 else values
            unknown = sorted({str(v) for v in values} - set(names))
            if unknown:
                kind = "label" if self.name == "multilabel" else "class"
                raise BertrError(f"target {unknown[0]!r} is not a {kind} of this model ({', '.join(names)})")
            chosen = [names.index(str(v)) for v in values]
        chosen = np.asarray(chosen, dtype=np.int64)
        if self.name == "binary":  # one sigmoid output: the first class's probability is 1 - output
            scale = np.where(chosen == 1, 1.0, -1.0)
            shift = np.where(chosen == 1, 0.0, 1.0)
        else:
            column = chosen
        return column, scale, shift, [self.classes[i] for i in chosen]

    def metrics(self, target: np.ndarray, output: np.ndarray) -> dict[str, float]:
        """Held-out metrics from encoded targets and raw model outputs; all NaN for no rows."""
        output = np.asarray(output, dtype=np.float64)
        target = np.asarray(target, dtype=np.float64)
        if len(target) == 0:
            with np.errstate(all="ignore"), warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # "Mean of empty slice"
                width = 1 if self.name == "multiclass" else self.n_outputs  # multiclass targets: class indices
                return {
                    name: float("nan")
                    for name in self._metrics(target.reshape(0, width), output.reshape(0, self.n_outputs))
                }
        return self._metrics(target, output)

    def _metrics(self, target: np.ndarray, output: np.ndarray) -> dict[str, float]:
        if self.name in ("binary", "soft"):
            return metrics.binary_metrics(target[:, 0], output[:, 0], self.decision_threshold())
        if self.name == "multiclass":
            return metrics.multiclass_metrics(target[:, 0].astype(int), output)
        if self.name == "multilabel":
            return metrics.multilabel_metrics(target, output, self.decision_threshold())
        return metrics.regression_metrics(self._values(target), self._values(output))

    def to_dict(self) -> dict:
        described = {"name": self.name, "classes": list(self.classes), "center": self.center, "scale": self.scale}
        if self.threshold is not None:  # only then: models without one stay readable by bertr before thresholds
            described.update(threshold=self.threshold, threshold_choice=self.threshold_choice)
        if self.temperature is not None:  # likewise: uncalibrated models stay readable by bertr before calibration
            described.update(temperature=self.temperature, calibration=self.calibration)
        return described


def make_task(
    y: Any, task: str | None = None, classes: Sequence[Any] | None = None, label_names: Sequence[str] | None = None
) -> Task:
    """Check the labels and choose the task: given, or detected from the values.

    Detection: a 2-D label (several columns) is multilabel; two classes (given or found) binary; numbers in
    [0, 1] that are not all 0/1 soft; more than two classes multiclass. Numeric labels with other values
    need ``task = "regression"``.
    """
    if task is not None and task not in TASKS:
        raise BertrError(f"unknown task '{task}'; choose one of {', '.join(TASKS)}")
    array = np.asarray(y, dtype=object)
    if array.ndim == 2 and array.shape[1] > 1 or task == "multilabel":
        return _multilabel(y, label_names)
    values = list(y)
    missing = [i for i, v in enumerate(values) if is_missing(v)]
    if missing:
        raise BertrError(f"the label is missing (NA) in row(s) {_rows(missing)}")
    numeric = all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in values)
    if numeric:
        _check_finite(values)
    if task == "regression":
        if not numeric:
            raise BertrError("task 'regression' needs a numeric label")
        if len(set(values)) < 2:
            raise BertrError("the label has only one value; regression needs variation")
        numbers = np.asarray(values, dtype=np.float64)
        with np.errstate(over="ignore"):
            center, scale = float(numbers.mean()), float(numbers.std())
        if not (np.isfinite(center) and np.isfinite(scale) and scale > 0):
            raise BertrError(
                f"the label's values (from {format_number(numbers.min())} to "
                f"{format_number(numbers.max())}) are too large to standardise; rescale them"
            )
        return Task("regression", center=center, scale=scale)
    if task == "soft" or (
        task is None and classes is None and numeric and _is_fraction(values) and not set(values) <= {0, 1}
    ):
        return _soft(values, numeric)
    if classes is None:
        classes = sorted(set(values), key=lambda v: (str(type(v)), v))
    classes = list(classes)
    unknown = [i for i, v in enumerate(values) if v not in set(classes)]
    if unknown:
        raise BertrError(f"row {unknown[0] + 1} has label {values[unknown[0]]!r}, which is not one of {classes}")
    present = set(values)
    if len(present) < 2:
        raise BertrError(f"the label has only one class ({values[0]!r}) in the data; a classifier needs two or more")
    if numeric and task is None and len(classes) > 2:
        raise BertrError(
            f"the label is numeric with {len(classes)} distinct values outside [0, 1]; say task = 'regression' "
            "for a numeric target, or make it a factor for classes"
        )
    if len(classes) == 2:
        if task == "multiclass":
            return Task("multiclass", classes)
        return Task("binary", classes)
    if task == "binary":
        raise BertrError(f"task 'binary' needs 2 classes, but the label has {len(classes)}")
    return Task("multiclass", classes)


def _check_finite(values: list) -> None:
    """Numeric labels must be finite numbers, also in float32 (training's precision)."""
    bad = non_float32_rows(values)
    if bad:
        raise BertrError(
            f"the label must be a finite number, but row(s) {_rows(bad)} hold {format_number(values[bad[0]])}"
        )


def _is_fraction(values: list) -> bool:
    return all(0.0 <= float(v) <= 1.0 for v in values)


def _soft(values: list, numeric: bool) -> Task:
    if not numeric:
        raise BertrError("task 'soft' needs a numeric label in [0, 1]")
    outside = [i for i, v in enumerate(values) if not 0.0 <= float(v) <= 1.0]
    if outside:
        raise BertrError(f"a soft label must lie in [0, 1], but row {outside[0] + 1} has {values[outside[0]]!r}")
    return Task("soft")


def _multilabel(y: Any, label_names: Sequence[str] | None) -> Task:
    try:
        array = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise BertrError("a multi-label target must be 0/1 (or logical) columns") from None
    if array.ndim != 2:
        raise BertrError("a multi-label target needs several label columns")
    missing = np.flatnonzero(np.isnan(array).any(axis=1))
    if len(missing):
        raise BertrError(f"the labels are missing (NA) in row(s) {_rows(list(missing))}")
    if not np.isin(array, (0.0, 1.0)).all():
        raise BertrError("multi-label columns must hold only 0/1 or TRUE/FALSE")
    names = list(label_names) if label_names is not None else [f"label{i + 1}" for i in range(array.shape[1])]
    constant = [names[j] for j in range(array.shape[1]) if array[:, j].min() == array[:, j].max()]
    if constant:
        raise BertrError(f"label column(s) {', '.join(map(str, constant))} have only one value; nothing to learn")
    return Task("multilabel", names)
