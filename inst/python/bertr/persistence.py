"""The saved-model format: a self-describing directory holding a fitted :class:`~bertr.estimator.BertClassifier`.

A saved model is a directory with

* ``weights.safetensors``: every weight of the classifier (encoder, pooler, head), keyed by layer;
* ``config.json``: the encoder's BERT config (:class:`bertr.pretrained.BertConfig`);
* ``vocab.txt``: the WordPiece vocabulary;
* ``manifest.json``: format, task and label levels, the settings (seq_len, ...), the training history,
  the versions of bertr and its libraries, free-form ``extra`` facts from the caller (the R side keeps its
  column names there), and the size and sha256 of every file.

Loading rebuilds the graph from bertr's own code and reads only JSON and safetensors: nothing in the directory
is executed or unpickled (no Keras model JSON, no Lambda layers). Every file is verified against the manifest
before use, and the weights' shapes against the config, so a truncated or edited directory is a clear error.
The directory is written atomically (a temporary sibling renamed into place). What goes into the manifest, and how
a classifier is rebuilt from it, is the estimator's business (:meth:`~bertr.estimator.BertClassifier.save` and
``load``); this module owns only the files.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BertrError
from .pretrained import BertConfig, count_vocab
from .storage import read_arrays, verify_directory, write_arrays, write_directory, write_json

FORMAT = "bertr-model/1"


@dataclass
class SavedModel:
    """A saved model's verified contents: its manifest, encoder config, weights and vocabulary file."""

    path: Path
    what: str  # how errors name it: "the saved model '<path>'"
    manifest: dict[str, Any]
    config: BertConfig
    weights: dict[str, np.ndarray] = field(repr=False)
    vocab_path: Path


def write_model(
    path: str,
    *,
    weights: dict[str, np.ndarray],
    config: dict[str, Any],
    vocab_path: str | Path,
    manifest: dict[str, Any],
    overwrite: bool = False,
) -> str:
    """Write a saved-model directory at ``path`` from its parts; returns its absolute path."""

    def fill(tmp: Path) -> dict:
        write_arrays(tmp / "weights.safetensors", weights)
        write_json(tmp / "config.json", {**config, "model_type": "bert"})
        shutil.copyfile(vocab_path, tmp / "vocab.txt")
        return {"format": FORMAT, **manifest}

    return str(write_directory(Path(path), fill, overwrite=overwrite))


def read_model(path: str) -> SavedModel:
    """The contents of a directory written by :func:`write_model`, after checking every file's size and sha256,
    the format, and that the vocabulary fits the config."""
    path = Path(path).expanduser()
    what = f"the saved model '{path}'"
    if not path.exists():
        raise BertrError(f"{what} does not exist")
    manifest = verify_directory(path, what)
    if manifest.get("format") != FORMAT:
        raise BertrError(f"{what} is not a bertr model (format {manifest.get('format')!r}, expected {FORMAT!r})")
    config = BertConfig.from_json(path / "config.json")
    vocab_size = count_vocab(path / "vocab.txt")
    if vocab_size != config.vocab_size:
        raise BertrError(
            f"{what}: vocab.txt has {vocab_size} entries but config.json says vocab_size {config.vocab_size}"
        )
    weights = read_arrays(path / "weights.safetensors", what)
    return SavedModel(path.absolute(), what, manifest, config, weights, path / "vocab.txt")
