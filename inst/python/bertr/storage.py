"""Safe, atomic, verified storage of arrays and JSON in directories (saved models and training checkpoints).

Only data formats are read: JSON and safetensors (raw little-endian arrays with a JSON header). Nothing in a
saved directory is executed, unpickled or deserialised into code. Every directory carries a manifest with the
sha256 and size of each file, checked before anything is used, so a truncated or edited file is an error that
names the file. Directories are written next to their destination under a temporary name and renamed into
place, so an interrupted write never leaves a half-written directory where a complete one is expected.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from .errors import BertrError

MANIFEST = "manifest.json"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_json(path: Path, value: Any) -> None:
    with open(path, "w", encoding="utf-8") as handle:
        json.dump(value, handle, indent=1, default=_json_default)
        handle.write("\n")


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store a {type(value).__name__} as JSON")


def read_json(path: Path, what: str) -> Any:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise BertrError(f"{what}: {path.name} is missing in {path.parent}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BertrError(f"{what}: {path} is not valid JSON ({exc})") from None


def write_arrays(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Named arrays as one safetensors file (contiguous copies; no code, no pickle)."""
    from safetensors.numpy import save_file  # not needed by `import bertr`, so missing_modules() can name it

    save_file({name: np.ascontiguousarray(value) for name, value in arrays.items()}, str(path))


def read_arrays(path: Path, what: str) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file  # not needed by `import bertr`, so missing_modules() can name it

    try:
        return load_file(str(path))
    except FileNotFoundError:
        raise BertrError(f"{what}: {path.name} is missing in {path.parent}") from None
    except Exception as exc:  # safetensors raises its own error types for damaged headers / sizes
        raise BertrError(f"{what}: {path} is damaged or not a safetensors file ({exc})") from None


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_directory(destination: Path, fill: Callable[[Path], dict], overwrite: bool = False) -> Path:
    """Create ``destination`` atomically: ``fill(tmp)`` writes the files into a temporary sibling directory and
    returns the manifest's extra fields; the manifest (sha256 and size of every file) is added, the files are
    synced, and the directory is renamed into place. An existing ``destination`` is replaced only with
    ``overwrite`` (moved aside first, deleted after the new one is in place)."""
    destination = Path(destination).expanduser().absolute()
    if destination.exists() and not overwrite:
        raise BertrError(f"'{destination}' already exists; choose a new path or overwrite = TRUE")
    if destination.exists() and not destination.is_dir():
        raise BertrError(f"{destination} is a file, not a directory; choose another path")
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{destination.name}.tmp-", dir=destination.parent))
    except OSError as exc:
        raise BertrError(f"cannot write {destination}: {exc.strerror or exc}") from None
    try:
        extra = fill(tmp)
        files = {}
        for item in sorted(tmp.rglob("*")):  # files in subdirectories (a SavedModel's variables/) by their path
            if item.is_dir():
                _fsync_dir(item)
                continue
            with open(item, "rb") as handle:
                os.fsync(handle.fileno())
            files[item.relative_to(tmp).as_posix()] = {"sha256": sha256_file(item), "bytes": item.stat().st_size}
        write_json(tmp / MANIFEST, {**extra, "files": files})
        with open(tmp / MANIFEST, "rb") as handle:
            os.fsync(handle.fileno())
        _fsync_dir(tmp)
        old = None
        if destination.exists():
            old = destination.with_name(f".{destination.name}.old-{os.getpid()}")
            os.replace(destination, old)
        os.replace(tmp, destination)
        _fsync_dir(destination.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except OSError as exc:  # disk full, permissions, ...: nothing half-written stays behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise BertrError(f"cannot write {destination}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return destination


def verify_directory(path: Path, what: str) -> dict:
    """The manifest of a directory written by :func:`write_directory`, after checking every listed file's
    size and sha256. Files not in the manifest are ignored (they are never read)."""
    path = Path(path).expanduser()
    if not path.is_dir():
        raise BertrError(f"{what}: {path} is not a directory")
    manifest = read_json(path / MANIFEST, what)
    files = manifest.get("files") if isinstance(manifest, dict) else None
    if not isinstance(files, dict) or not files:
        raise BertrError(f"{what}: {path / MANIFEST} lists no files")
    for name, facts in files.items():
        item = path / name
        if os.sep in name or name.startswith("."):
            raise BertrError(f"{what}: {MANIFEST} names an unexpected file {name!r}")
        if not item.is_file():
            raise BertrError(f"{what}: {name} is missing in {path}")
        size = item.stat().st_size
        if size != facts.get("bytes"):
            raise BertrError(
                f"{what}: {name} has {size} bytes but {facts.get('bytes')} were saved; "
                "the file was truncated or modified after saving"
            )
        if sha256_file(item) != facts.get("sha256"):
            raise BertrError(
                f"{what}: {name} does not match its checksum in {MANIFEST}; "
                "the file was modified or damaged after saving"
            )
    return manifest
