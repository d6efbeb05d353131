"""GPUs: what the machine has (``nvidia-smi``), what TensorFlow sees, and why they differ.

TensorFlow's CUDA libraries come from pip (``tensorflow[and-cuda]`` installs the ``nvidia-*-cu12`` wheels into
site-packages/nvidia/<library>/lib). TensorFlow finds them through its own RUNPATH, but ``LD_LIBRARY_PATH`` comes
first, and R puts its own and the system's library directories there for every R session: a system CUDA or cuDNN
of another version then wins, and TensorFlow sees no GPU from R while it sees one from Python (rstudio/tensorflow
#569, #580). :func:`preload_cuda_libraries` loads the pip-installed libraries by their full paths before
TensorFlow starts, so TensorFlow's later ``dlopen`` by name finds them already loaded, whatever the path says.

This module does not import TensorFlow (it must act before TensorFlow starts).
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import sys
from pathlib import Path

# The order matters: each library's dependencies first (cuBLAS needs cuBLASLt, cuDNN's sub-libraries need cuDNN).
CUDA_LIBRARIES = (
    "cuda_runtime",
    "cuda_nvrtc",
    "nvjitlink",
    "cublas",
    "cufft",
    "curand",
    "cusparse",
    "cusolver",
    "cudnn",
    "nccl",
    "cuda_cupti",
)


def nvidia_smi_gpus(command: str | None = None, timeout: float = 20.0) -> list[str]:
    """The GPUs NVIDIA's driver reports (``nvidia-smi --query-gpu=name``): names, empty when there is no
    ``nvidia-smi`` or it finds none (or fails: a driver that does not answer is no usable GPU)."""
    command = command or shutil.which("nvidia-smi")
    if not command:
        return []
    try:
        out = subprocess.run(
            [command, "--query-gpu=name", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return []
    if out.returncode != 0:
        return []
    return [line.strip() for line in out.stdout.splitlines() if line.strip()]


def cuda_library_dirs(site_dirs: list[str] | None = None) -> list[Path]:
    """The ``lib`` directories of the pip-installed NVIDIA libraries (site-packages/nvidia/<name>/lib), in
    :data:`CUDA_LIBRARIES` order, then any others."""
    found: dict[str, Path] = {}
    for site in site_dirs if site_dirs is not None else sys.path:
        root = Path(site) / "nvidia"
        if not root.is_dir():
            continue
        for lib in sorted(root.glob("*/lib")):
            found.setdefault(lib.parent.name, lib)
    ranked = [found.pop(name) for name in CUDA_LIBRARIES if name in found]
    return ranked + [found[name] for name in sorted(found)]


_preloaded: list[str] | None = None


def preload_cuda_libraries(site_dirs: list[str] | None = None, load=None) -> list[str]:
    """Load every pip-installed CUDA library (``lib*.so*`` in :func:`cuda_library_dirs`) by its full path, with
    its symbols global, before TensorFlow starts; returns the files loaded. A file that fails to load (a
    library for a newer driver, say) is skipped: TensorFlow then reports what it misses. Nothing happens
    without pip's NVIDIA libraries (CPU-only installs) or with ``BERTR_PRELOAD_CUDA=0``."""
    global _preloaded
    if _preloaded is not None and load is None:
        return _preloaded
    if os.environ.get("BERTR_PRELOAD_CUDA") == "0" or not sys.platform.startswith("linux"):
        _preloaded = []
        return _preloaded
    load = load or (lambda path: ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL))
    pending = [str(path) for directory in cuda_library_dirs(site_dirs) for path in sorted(directory.glob("lib*.so*"))]
    loaded: list[str] = []
    while pending:  # passes until none loads: a library whose dependency was not loaded yet fails, then succeeds
        failed = []
        for path in pending:
            try:
                load(path)
                loaded.append(path)
            except OSError:
                failed.append(path)
        if len(failed) == len(pending):
            break
        pending = failed
    _preloaded = loaded
    return loaded


def diagnosis(tf_gpus: list[str], smi_gpus: list[str], cuda_dirs: list[Path], built_with_cuda: bool) -> list[str]:
    """What to tell a user about GPUs, given what TensorFlow sees (``tf_gpus``), what the driver reports
    (``smi_gpus``), the pip CUDA libraries found and whether this TensorFlow was built with CUDA."""
    if tf_gpus:
        return [f"TensorFlow uses {len(tf_gpus)} GPU(s): {', '.join(tf_gpus)}."]
    if not smi_gpus:
        return ["No NVIDIA GPU on this machine (no nvidia-smi, or it lists none): bertr trains on the CPU."]
    lines = [f"nvidia-smi sees {len(smi_gpus)} GPU(s) ({', '.join(smi_gpus)}) but TensorFlow sees none."]
    if not built_with_cuda:
        lines.append("This TensorFlow was built without CUDA. Fix: install_bertr(gpu = TRUE, force = TRUE).")
    elif not cuda_dirs:
        lines.append(
            "TensorFlow's CUDA libraries are not installed (pip's tensorflow[and-cuda] extra). "
            "Fix: install_bertr(gpu = TRUE, force = TRUE), then restart R."
        )
    else:
        lines.append(
            "TensorFlow's CUDA libraries are installed but did not load: the NVIDIA driver may be older than "
            "CUDA 12 needs (see nvidia-smi's 'CUDA Version'), or another CUDA on LD_LIBRARY_PATH was loaded first "
            "(bertr preloads pip's libraries unless BERTR_PRELOAD_CUDA=0). Run Python with BERTR_TF_LOGS=1 "
            "to see TensorFlow's own messages."
        )
    return lines
