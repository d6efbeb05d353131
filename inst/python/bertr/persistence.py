"""Save a fitted :class:`~bertr.classifier.BertClassifier` as a self-describing directory, and load it back.

A saved model is a directory with

* ``weights.safetensors``: every weight of the classifier (encoder, pooler, head), keyed by layer;
* ``config.json``: the encoder's BERT config (``bertr.checkpoints.BertConfig``);
* ``vocab.txt``: the WordPiece vocabulary;
* ``manifest.json``: format, task and label levels, the settings (seq_len, ...), the training history,
  the versions of bertr and its libraries, free-form ``extra`` facts from the caller (the R side keeps its
  column names there), and the size and sha256 of every file.

Loading rebuilds the graph from bertr's own code and reads only JSON and safetensors: nothing in the directory
is executed or unpickled (no Keras model JSON, no Lambda layers). Every file is verified against the manifest
before use, and the weights' shapes against the config, so a truncated or edited directory is a clear error.
The directory is written atomically (a temporary sibling renamed into place).
"""
from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from .errors import BertrError
from .storage import read_arrays, verify_directory, write_arrays, write_directory, write_json

FORMAT = "bertr-model/1"


def save_model(classifier, path: str, extra: dict[str, Any] | None = None, overwrite: bool = False) -> str:
    """Write the fitted ``classifier`` to the directory ``path``; returns its absolute path."""
    from . import runtime
    from .model import weight_arrays

    classifier._check_fitted()
    config = {k: classifier.pretrained_[k] for k in _config_fields()}

    def fill(tmp: Path) -> dict:
        write_arrays(tmp / "weights.safetensors", weight_arrays(classifier.model_))
        write_json(tmp / "config.json", {**config, "model_type": "bert"})
        shutil.copyfile(classifier.tokenizer_.vocab_path, tmp / "vocab.txt")
        params = classifier.get_params()
        params["pretrained"] = None if params["pretrained"] is None else str(params["pretrained"])
        return {
            "format": FORMAT,
            "task": classifier.task_.to_dict(),
            "paired": classifier.paired_,
            "do_lower_case": classifier.tokenizer_.do_lower_case,
            "params": params,
            "head": {"dropout": _head_dropout(classifier.model_), "pooling": classifier.pooling_},
            "pretrained": classifier.pretrained_,
            "fitted": {
                "history": classifier.history_, "trace": classifier.trace_,
                "n_train": classifier.n_train_, "n_validation": classifier.n_validation_,
                "fit_seconds": classifier.fit_seconds_, "best_epoch": classifier.best_epoch_,
                "stopped_early": classifier.stopped_early_, "resumed_at": classifier.resumed_at_,
            },
            "versions": runtime.versions_brief(),
            "extra": extra or {},
        }

    return str(write_directory(Path(path), fill, overwrite=overwrite))


def load_model(path: str):
    """A :class:`~bertr.classifier.BertClassifier` read from a directory written by :func:`save_model`."""
    from . import runtime
    from .checkpoints import BertConfig
    from .classifier import BertClassifier
    from .tasks import Task
    from .tokenization import WordPieceTokenizer

    path = Path(path).expanduser()
    what = f"the saved model '{path}'"
    if not path.exists():
        raise BertrError(f"{what} does not exist")
    manifest = verify_directory(path, what)
    if manifest.get("format") != FORMAT:
        raise BertrError(f"{what} is not a bertr model (format {manifest.get('format')!r}, expected {FORMAT!r})")
    config = BertConfig.from_json(path / "config.json")
    try:
        task = Task(**manifest["task"])
        params = dict(manifest["params"])
        fitted = manifest["fitted"]
    except (KeyError, TypeError) as exc:
        raise BertrError(f"{what}: manifest.json lacks {exc}") from None
    tokenizer = WordPieceTokenizer(path / "vocab.txt", bool(manifest.get("do_lower_case", True)))
    if tokenizer.vocab_size != config.vocab_size:
        raise BertrError(f"{what}: vocab.txt has {tokenizer.vocab_size} entries but config.json says vocab_size "
                         f"{config.vocab_size}")

    runtime.configure_threads(params.get("threads"))
    from .model import assign_weight_arrays, classifier_graph  # TensorFlow loads here, after its threads are set
    head = manifest.get("head", {})
    pooling = head.get("pooling", "cls")  # models saved before bertr had mean pooling used [CLS]
    model = classifier_graph(config, task.n_outputs, task.activation, head.get("dropout"), pooling=pooling)
    assign_weight_arrays(model, read_arrays(path / "weights.safetensors", what), what)

    known = BertClassifier().get_params()
    classifier = BertClassifier(**{k: v for k, v in params.items() if k in known})
    classifier.task_ = task
    classifier.pooling_ = pooling
    classifier.classes_ = list(task.classes)
    classifier.paired_ = bool(manifest.get("paired", False))
    classifier.model_ = model
    classifier.tokenizer_ = tokenizer
    classifier.pretrained_ = manifest.get("pretrained", {})
    classifier.history_ = fitted.get("history", [])
    classifier.trace_ = fitted.get("trace", [])
    classifier.n_train_ = fitted.get("n_train")
    classifier.n_validation_ = fitted.get("n_validation")
    classifier.fit_seconds_ = fitted.get("fit_seconds")
    classifier.best_epoch_ = fitted.get("best_epoch")
    classifier.stopped_early_ = fitted.get("stopped_early", False)
    classifier.resumed_at_ = fitted.get("resumed_at", [])
    classifier.saved_ = {"path": str(path.absolute()), "versions": manifest.get("versions", {}),
                         "extra": manifest.get("extra", {})}
    return classifier


def _config_fields() -> list[str]:
    from .checkpoints import BertConfig

    return list(BertConfig.__dataclass_fields__)


def _head_dropout(model) -> float:
    """The dropout rate the model was built with (0 when it has no dropout before the head)."""
    try:
        return float(model.get_layer("Output-Dropout").rate)
    except ValueError:
        return 0.0
