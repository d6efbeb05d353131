"""Training checkpoints: write them during training, and resume an interrupted run exactly where it stopped.

A checkpoint directory holds ``latest.json`` (which checkpoint is current) and one ``step-NNNNNNNN``
directory per checkpoint, each written atomically by :func:`bertr.storage.write_directory`:

* ``weights.safetensors``: every model weight;
* ``optimizer.safetensors``: the optimizer's step counter and Adam moments;
* ``random.safetensors``: the state of each dropout layer's random generator;
* ``best.safetensors``: the best epoch's weights, when early stopping keeps them;
* ``manifest.json``: the training state (epoch, step within the epoch, running loss, history), the settings
  and a fingerprint of the data, plus the sha256 of every file.

``latest.json`` is replaced atomically only after the new checkpoint is complete, and the previous checkpoint
is deleted only after that, so killing the process at any instant leaves a usable checkpoint. The batch order
of an epoch is a function of the seed and the epoch number (:func:`bertr.training.epoch_batches`), so the saved
position (epoch, step within it) is all a resumed run needs to continue with the next batch.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from . import runtime
from .checks import show_value
from .errors import BertrError
from .graph import assign_weight_arrays, random_generators, weight_arrays  # TensorFlow: this module comes after it
from .progress import ProgressFn
from .storage import read_arrays, read_json, verify_directory, write_arrays, write_directory, write_json
from .training import TrainState

POINTER = "latest.json"
FORMAT = "bertr-checkpoint/1"
PREFIX = "step-"


def fingerprint(*arrays: np.ndarray | None) -> str:
    """sha256 over arrays' shapes, dtypes and bytes: identifies the training data of a run."""
    digest = hashlib.sha256()
    for array in arrays:
        if array is None:
            digest.update(b"none")
            continue
        array = np.ascontiguousarray(array)
        digest.update(f"{array.dtype.str}{array.shape}".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


class Checkpointer:
    """Writes and reads the checkpoints of one training run in ``directory``.

    ``settings`` (JSON-able) and ``data_fingerprint`` identify the run; a checkpoint of a different run is
    never resumed silently.
    """

    def __init__(
        self,
        directory: str | os.PathLike,
        settings: dict[str, Any],
        data_fingerprint: str,
        report: ProgressFn = None,
        defaults: dict[str, Any] | None = None,
    ):
        self.directory = Path(directory).expanduser().absolute()
        self.settings = settings
        self.defaults = defaults or {}  # the settings' defaults: a checkpoint written before a setting existed had it
        self.data_fingerprint = data_fingerprint
        self.report = report
        self._make_directory()  # fail before training, not at the first checkpoint

    def _make_directory(self) -> None:
        if self.directory.exists() and not self.directory.is_dir():
            raise BertrError(f"checkpoint_dir {self.directory} is a file, not a directory")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            probe = self.directory / f".{POINTER}.tmp-{os.getpid()}"
            probe.write_text("")
            probe.unlink()
        except OSError as exc:
            raise BertrError(
                f"cannot write checkpoints to checkpoint_dir {self.directory}: {exc.strerror or exc}"
            ) from None

    # -- reading -----------------------------------------------------------------------------------
    def latest(self) -> Path | None:
        """The current checkpoint's directory, or None when there is none."""
        pointer = self.directory / POINTER
        if not pointer.exists():
            return None
        facts = read_json(pointer, "checkpoint")
        name = facts.get("checkpoint") if isinstance(facts, dict) else None
        if facts.get("format") != FORMAT or not isinstance(name, str) or not name.startswith(PREFIX):
            raise BertrError(f"{pointer} is not a bertr checkpoint pointer")
        return self.directory / name

    def load(self) -> dict | None:
        """The current checkpoint's manifest (verified, and checked to belong to this run), or None."""
        path = self.latest()
        if path is None:
            return None
        manifest = verify_directory(path, f"checkpoint {path}")
        if manifest.get("format") != FORMAT:
            raise BertrError(f"{path} is not a bertr checkpoint (format {manifest.get('format')!r})")
        saved = {**self.defaults, **manifest["settings"]}  # a setting added since: its default then
        differ = [
            f"{k} = {show_value(saved.get(k))} there, {show_value(v)} now"
            for k, v in self.settings.items()
            if saved.get(k) != v
        ]
        if differ:
            raise BertrError(
                f"checkpoint_dir {self.directory} holds a checkpoint of a run with other settings ("
                + "; ".join(differ)
                + "). Resume with the same settings, use another checkpoint_dir, or "
                "set resume = FALSE to start over (its checkpoint is then replaced)"
            )
        if manifest.get("data") != self.data_fingerprint:
            raise BertrError(
                f"checkpoint_dir {self.directory} holds a checkpoint of a run on other data (texts, labels, "
                "weights or vocabulary differ). Resume with the same data, use another checkpoint_dir, or set "
                "resume = FALSE to start over (its checkpoint is then replaced)"
            )
        manifest["path"] = str(path)
        return manifest

    def restore(self, trainer, manifest: dict) -> None:
        """Put the checkpoint's weights, optimizer state, random streams and training state into ``trainer``."""
        path = Path(manifest["path"])
        what = f"checkpoint {path}"
        model = trainer.model
        assign_weight_arrays(model, read_arrays(path / "weights.safetensors", what), what)
        optimizer = model.optimizer
        optimizer.build(model.trainable_variables)
        slots = read_arrays(path / "optimizer.safetensors", what)
        variables = list(optimizer.variables)
        if len(slots) != len(variables):
            raise BertrError(f"{what}: optimizer state has {len(slots)} variables, the model needs {len(variables)}")
        for i, variable in enumerate(variables):
            value = slots.get(f"{i:05d}")
            if value is None or value.size != int(np.prod(variable.shape)):
                raise BertrError(f"{what}: optimizer variable {i} is missing or has the wrong shape")
            variable.assign(value.reshape(variable.shape))  # safetensors stores scalars as shape (1,)
        states = read_arrays(path / "random.safetensors", what)
        for name, generator in random_generators(model).items():
            if name not in states:
                raise BertrError(f"{what}: the random state of layer {name} is missing")
            generator.state.assign(states[name].reshape(generator.state.shape))
        if "best.safetensors" in manifest["files"]:  # verified to exist by load()
            trainer.best_weights = read_arrays(path / "best.safetensors", what)
        trainer.state = TrainState.from_dict(manifest["state"])
        trainer.last_checkpoint = path
        trainer.state.resumed_at.append(trainer.state.step)

    # -- writing -----------------------------------------------------------------------------------
    def save(self, trainer) -> Path:
        """Write the trainer's current state as the new current checkpoint."""
        state = trainer.state
        model = trainer.model
        name = f"{PREFIX}{state.step:08d}"

        def fill(tmp: Path) -> dict:
            write_arrays(tmp / "weights.safetensors", weight_arrays(model))
            write_arrays(
                tmp / "optimizer.safetensors", {f"{i:05d}": v.numpy() for i, v in enumerate(model.optimizer.variables)}
            )
            write_arrays(
                tmp / "random.safetensors", {layer: g.state.numpy() for layer, g in random_generators(model).items()}
            )
            if trainer.best_weights is not None:
                write_arrays(tmp / "best.safetensors", trainer.best_weights)
            return {
                "format": FORMAT,
                "settings": self.settings,
                "data": self.data_fingerprint,
                "state": state.to_dict(),
                "finished": trainer.finished,
                "versions": runtime.versions_brief(),
            }

        self._make_directory()
        path = write_directory(self.directory / name, fill, overwrite=True)
        pointer = self.directory / f".{POINTER}.tmp-{os.getpid()}"
        write_json(pointer, {"format": FORMAT, "checkpoint": name, "step": state.step, "epoch": state.epoch})
        with open(pointer, "rb") as handle:
            os.fsync(handle.fileno())
        os.replace(pointer, self.directory / POINTER)
        self._remove_others(keep=name)
        if self.report is not None:
            self.report({"event": "checkpoint", "step": state.step, "epoch": state.epoch, "path": str(path)})
        return path

    def clear(self) -> None:
        """Remove this directory's checkpoints (only bertr's own files; anything else is left alone)."""
        pointer = self.directory / POINTER
        if pointer.exists():
            pointer.unlink()
        self._remove_others(keep=None)

    def _remove_others(self, keep: str | None) -> None:
        if not self.directory.is_dir():
            return
        for item in self.directory.iterdir():
            ours = (
                item.name.startswith(PREFIX)
                or item.name.startswith(f".{PREFIX}")
                or item.name.startswith(f".{POINTER}.tmp-")
            )
            if ours and item.name != keep:
                if item.is_dir():
                    shutil.rmtree(item, ignore_errors=True)
                else:
                    item.unlink(missing_ok=True)
