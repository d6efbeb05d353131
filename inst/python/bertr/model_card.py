"""A fitted model described in one small JSON-able dict: the model card written beside an export
(:mod:`bertr.export`, ``model_card.json``) and served by the HTTP API (R's ``bert_serve()``, ``GET /model``).

It says what the model predicts (task, classes or labels, the outputs and their order), how it reads a text (the
settings that shape tokenization: vocabulary case, ``seq_len``, truncation, windows, the pair input), how it
decides (threshold, temperature), how well it did when it was fitted (the kept epoch's validation metrics, rows)
and with what it was made (the pretrained model's name and size, library versions). Nothing in it is needed to
run the model; it is there for the people and programs that use it.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from . import runtime

READ_SETTINGS = ("seq_len", "truncation", "head_tokens", "long_text", "stride", "window_pooling", "pooling")
FIT_SETTINGS = ("batch_size", "epochs", "learning_rate", "warmup_proportion", "weight_decay", "dropout", "seed")


def _plain(value: Any) -> Any:
    """JSON's values only: NaN and infinities as None, tuples as lists, numpy scalars as Python numbers."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def outputs_described(task: str, classes: list) -> dict[str, str]:
    """What each output of a prediction holds, per task (the API's and the export's names)."""
    names = ", ".join(str(c) for c in classes)
    return {
        "binary": {
            "probabilities": f"(n, 2) the probability of each class, in the order {names}",
            "prediction": f"(n,) the predicted class: {classes[-1] if classes else ''} where its probability >= "
            "the threshold",
        },
        "multiclass": {
            "probabilities": f"(n, {len(classes)}) the probability of each class, in the order {names}",
            "prediction": "(n,) the most probable class",
        },
        "multilabel": {
            "probabilities": f"(n, {len(classes)}) the probability of each label, in the order {names}",
            "prediction": "(n, labels) 1 where the label's probability >= its threshold, else 0",
        },
        "soft": {
            "probabilities": "(n,) the predicted fraction",
            "prediction": "(n,) 1 where the fraction >= the threshold, else 0",
        },
        "regression": {"prediction": "(n,) the predicted value, on the label's scale"},
    }[task]


def model_card(classifier, columns: dict | None = None) -> dict[str, Any]:
    """The model card of a fitted :class:`bertr.BertClassifier` (see the module); ``columns``: the names of the
    data's columns it was trained on (text, paired text, label), when the caller knows them."""
    classifier._check_fitted()
    task = classifier.task_
    settings = classifier.settings()
    record = classifier._record()
    kept = record.kept_epoch or len(record.history)
    row = record.history[kept - 1] if record.history and 0 < kept <= len(record.history) else {}
    pretrained = classifier.pretrained_ or {}
    labels = task.class_names()
    return _plain(
        {
            "format": "bertr model card",
            "format_version": 1,
            "created": datetime.now(UTC).isoformat(timespec="seconds"),
            "task": task.name,
            "labels": labels,
            "paired": bool(classifier.paired_),
            "columns": columns or {},
            "outputs": outputs_described(task.name, labels),
            "threshold": task.threshold if task.name in ("binary", "soft", "multilabel") else None,
            "temperature": task.temperature,
            "input": {
                "do_lower_case": classifier.tokenizer_.do_lower_case,
                "vocab_size": classifier.tokenizer_.vocab_size,
                **{name: settings.get(name) for name in READ_SETTINGS},
            },
            "training": {
                **{name: settings.get(name) for name in FIT_SETTINGS},
                "rows": record.n_train,
                "validation_rows": record.n_validation,
                "epochs_run": len(record.history),
                "kept_epoch": record.kept_epoch,
                "seconds": record.fit_seconds,
                "metrics": {k: v for k, v in row.items() if k.startswith("val_") or k == "loss"},
            },
            "pretrained": {
                key: pretrained.get(key)
                for key in ("name", "layout", "hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size")
            },
            "versions": runtime.versions_brief(),
        }
    )
