"""Where a fit runs: TensorFlow's own distribution engine (``tf.distribute``) and the Keras precision policy.

A fit runs under one :class:`Placement`: a ``tf.distribute.Strategy`` and what bertr needs to know about it
(replicas, this process's worker index, whether it is the chief). The strategies:

* ``None`` / ``"auto"``: TensorFlow's default strategy: one GPU when TensorFlow sees one, else the CPU;
* ``"mirrored"``: ``tf.distribute.MirroredStrategy`` over ``devices``, else all local GPUs, else all logical CPU
  devices (``BERTR_CPU_DEVICES``, see :func:`bertr.runtime.configure_threads`);
* ``"multi_worker"``: ``tf.distribute.MultiWorkerMirroredStrategy`` with its cluster from TensorFlow's own
  resolvers: ``TF_CONFIG``, or Slurm's environment under ``srun`` (``SlurmClusterResolver``);
* a ``tf.distribute.Strategy`` object, used as given.

Every worker computes the same global batch (same data, seed and epoch order); each replica takes its slice of
it inside the compiled step (:func:`replica_slice`), so every replica of a step has the same padded width and
``batch_size`` stays the global batch. Inference splits a batch over this worker's own replicas only, so
prediction and validation need no other worker (every worker computes the same validation metrics).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
from dataclasses import dataclass, field
from typing import Any

from . import runtime

runtime.configure_threads()  # a no-op when bertr already set TensorFlow's threads; else before TF starts
import tensorflow as tf  # after the thread pools are set
import tf_keras

from .checks import check_devices, check_precision, check_strategy
from .errors import BertrError

# How long a collective operation (an all-reduce of the gradients) may wait for the other workers before it
# fails: a lost worker then stops the others with an error instead of a hang. BERTR_COLLECTIVE_TIMEOUT overrides.
COLLECTIVE_TIMEOUT = 60.0


@dataclass
class Placement:
    """A fit's strategy and its shape: ``replicas`` in all, ``local_replicas`` in this process, this process's
    ``worker`` index among ``workers`` (their addresses; empty in a one-process run) and whether it is the chief
    (the one process that writes checkpoints and saved models)."""

    strategy: Any
    kind: str  # "auto", "mirrored", "multi_worker" or "custom"
    devices: list[str] = field(default_factory=list)  # this process's replica devices
    worker: int = 0
    workers: list[str] = field(default_factory=list)

    @property
    def replicas(self) -> int:
        return int(self.strategy.num_replicas_in_sync)

    @property
    def local_replicas(self) -> int:
        return len(self.devices) or 1

    @property
    def chief(self) -> bool:
        return bool(getattr(self.strategy.extended, "should_checkpoint", True))

    @property
    def multi_worker(self) -> bool:
        return len(self.workers) > 1

    def describe(self) -> dict[str, Any]:
        """The placement as plain values (for progress events, the fit record and R)."""
        return {
            "strategy": self.kind,
            "replicas": self.replicas,
            "devices": list(self.devices),
            "worker": self.worker,
            "workers": list(self.workers),
            "chief": self.chief,
        }


def place(strategy: Any = None, devices: Any = None) -> Placement:
    """The :class:`Placement` for a ``strategy`` setting (see the module's description)."""
    strategy = check_strategy(strategy)
    devices = check_devices(devices)
    if devices is not None and strategy != "mirrored":
        raise BertrError(f"devices = ... applies to strategy = 'mirrored', not to {_shown(strategy)}")
    if strategy is None or strategy == "auto":
        default = tf.distribute.get_strategy()
        return Placement(default, "auto", _replica_devices(default))
    if strategy == "mirrored":
        return _mirrored(devices)
    if strategy == "multi_worker":
        return _multi_worker()
    return _custom(strategy)


def _shown(strategy: Any) -> str:
    return "strategy = NULL" if strategy is None else f"strategy = {strategy!r}"


def _replica_devices(strategy) -> list[str]:
    """This process's replica devices; TensorFlow's default strategy names none (it runs where TensorFlow places
    each operation: the first GPU when there is one, else the CPU)."""
    try:
        return [str(d) for d in strategy.extended.worker_devices]
    except RuntimeError:  # the default strategy
        return []


def logical_devices(kind: str | None = None) -> list[str]:
    """The names of the logical devices TensorFlow sees (``kind``: ``"GPU"``, ``"CPU"`` or all)."""
    return [d.name for d in tf.config.list_logical_devices(kind)]


def _mirrored(devices: list[str] | None) -> Placement:
    if devices is None:
        devices = logical_devices("GPU") or logical_devices("CPU")
    else:
        known = {_canonical(d): d for d in logical_devices()}
        unknown = [d for d in devices if _canonical(d) not in known]
        if unknown:
            raise BertrError(
                f"devices names {', '.join(unknown)}, which TensorFlow does not see; it sees "
                f"{', '.join(known.values())}. (Several CPU devices: set BERTR_CPU_DEVICES before bertr starts "
                "TensorFlow; GPUs: see bertr_sitrep())"
            )
    with runtime.quiet_native_stderr():
        mirrored = tf.distribute.MirroredStrategy(devices=devices)
    return Placement(mirrored, "mirrored", _replica_devices(mirrored))


def _canonical(device: str) -> str:
    """``/gpu:0``, ``GPU:0`` and ``/job:localhost/replica:0/task:0/device:GPU:0`` all name one device."""
    match = re.search(r"(CPU|GPU|TPU):(\d+)$", device.strip(), re.IGNORECASE)
    return f"{match.group(1).upper()}:{match.group(2)}" if match else device.strip()


_multi_worker_strategy: Placement | None = None  # TensorFlow allows one cluster per process


def _multi_worker() -> Placement:
    global _multi_worker_strategy
    resolver, source = _cluster_resolver()
    workers = _workers(resolver)
    if _multi_worker_strategy is not None:
        if _multi_worker_strategy.workers != workers:
            raise BertrError(
                "this process already joined a multi-worker cluster ("
                + ", ".join(_multi_worker_strategy.workers)
                + f"); {source} now describes another. TensorFlow allows one cluster per process: start a new one"
            )
        return _multi_worker_strategy
    timeout = float(os.environ.get("BERTR_COLLECTIVE_TIMEOUT", COLLECTIVE_TIMEOUT))
    options = tf.distribute.experimental.CommunicationOptions(timeout_seconds=timeout)
    try:
        with runtime.quiet_native_stderr():
            strategy = tf.distribute.MultiWorkerMirroredStrategy(
                cluster_resolver=resolver, communication_options=options
            )
    except (RuntimeError, ValueError, tf.errors.OpError) as exc:
        message = _cause(str(exc))
        if "program startup" in message:
            hint = (
                "A process joins a cluster before its first TensorFlow computation: call bert_train(strategy = "
                '"multi_worker") first thing in a new R session (or Python process)'
            )
        elif "grpc server" in message.lower():
            hint = "Is a worker of an earlier run still running on that port? Stop it, or use another port"
        else:
            hint = "Check that every worker of the cluster is started with the same cluster list"
        raise BertrError(
            f"cannot join the multi-worker cluster described by {source} ({', '.join(workers)}): {message}. {hint}"
        ) from None
    _multi_worker_strategy = Placement(
        strategy, "multi_worker", _replica_devices(strategy), int(resolver.task_id or 0), workers
    )
    return _multi_worker_strategy


def _cluster_resolver():
    """TensorFlow's resolver for this process's cluster, and where it came from: ``TF_CONFIG``, else Slurm's."""
    raw = os.environ.get("TF_CONFIG", "").strip()
    if raw:
        try:
            config = json.loads(raw)
            workers = config["cluster"]["worker"]
            task = config["task"]
            index = int(task["index"])
            ok = isinstance(workers, list) and workers and task.get("type") in ("worker", "chief")
        except (ValueError, KeyError, TypeError):
            ok = False
        if not ok or not 0 <= index < len(workers) + len(config["cluster"].get("chief", [])):
            raise BertrError(
                "TF_CONFIG must be JSON like "
                '{"cluster": {"worker": ["host1:port", "host2:port"]}, "task": {"type": "worker", "index": 0}}, '
                f"not {raw[:200]}"
            )
        return tf.distribute.cluster_resolver.TFConfigClusterResolver(), "TF_CONFIG"
    if os.environ.get("SLURM_PROCID") is not None and os.environ.get("SLURM_STEP_NUM_TASKS"):
        port = int(os.environ.get("BERTR_SLURM_PORT", "8888"))
        try:
            return tf.distribute.cluster_resolver.SlurmClusterResolver(port_base=port), "Slurm's environment"
        except (RuntimeError, ValueError, KeyError) as exc:
            raise BertrError(f"cannot read the cluster from Slurm's environment: {exc}") from None
    raise BertrError(
        'strategy = "multi_worker" needs the cluster described: set TF_CONFIG in each worker\'s environment '
        '(e.g. {"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}), '
        'or start the workers with Slurm\'s srun; see vignette("scaling", package = "bertr")'
    )


def _workers(resolver) -> list[str]:
    spec = resolver.cluster_spec().as_dict()
    return [str(a) for job in ("chief", "worker") for a in spec.get(job, [])]


def _custom(strategy) -> Placement:
    resolver = getattr(strategy, "cluster_resolver", None)
    workers = _workers(resolver) if resolver is not None else []
    index = int(getattr(resolver, "task_id", 0) or 0) if resolver is not None else 0
    return Placement(strategy, "custom", _replica_devices(strategy), index, workers if len(workers) > 1 else [])


# -- inside the compiled steps ------------------------------------------------------------------------------
def replica_slice(tensor, index: int, count: int):
    """Rows ``[index * n // count, (index + 1) * n // count)`` of a batch of ``n`` rows: replica ``index``'s share,
    the batch split as evenly as possible (shares differ by at most one row)."""
    n = tf.shape(tensor)[0]
    return tensor[(index * n) // count : ((index + 1) * n) // count]


def split_global(strategy, tensor):
    """A global batch as per-replica values: each replica of the whole cluster gets its slice."""
    count = strategy.num_replicas_in_sync
    return strategy.experimental_distribute_values_from_function(
        lambda context: replica_slice(tensor, context.replica_id_in_sync_group, count)
    )


def split_local(strategy, local_count: int, tensor):
    """A batch as per-replica values over this worker's own replicas only (inference: no other worker takes part,
    so a worker can predict alone); the replicas of worker ``w`` have ids ``w * local_count + i``."""
    return strategy.experimental_distribute_values_from_function(
        lambda context: replica_slice(tensor, context.replica_id_in_sync_group % local_count, local_count)
    )


# -- precision -----------------------------------------------------------------------------------------------
def check_precision_supported(precision: Any) -> str:
    """``precision`` if this machine can train with it: float16 needs a GPU (CPUs have no fast float16 units and
    TensorFlow's loss scaling is made for GPUs); bfloat16 runs on CPUs and GPUs."""
    precision = check_precision(precision)
    if precision == "mixed_float16" and not logical_devices("GPU"):
        raise BertrError(
            'precision = "mixed_float16" needs a GPU, and TensorFlow sees none on this machine (see '
            'bertr_sitrep()); on a CPU use "mixed_bfloat16" (or "float32", the default)'
        )
    return precision


@contextlib.contextmanager
def precision_policy(precision: str):
    """Keras's global dtype policy set to ``precision`` while a network is built (its layers keep it), and put
    back afterwards, so that no other model of the process is affected."""
    previous = tf_keras.mixed_precision.global_policy()
    tf_keras.mixed_precision.set_global_policy(precision)
    try:
        yield
    finally:
        tf_keras.mixed_precision.set_global_policy(previous)


def with_loss_scaling(optimizer, precision: str):
    """The optimizer, wrapped in Keras's dynamic loss scaling for float16 (its gradients would underflow)."""
    if precision != "mixed_float16":
        return optimizer
    return tf_keras.mixed_precision.LossScaleOptimizer(optimizer)


def base_optimizer(optimizer):
    """The optimizer under any loss-scaling wrapper (where the learning-rate schedule lives)."""
    return getattr(optimizer, "inner_optimizer", optimizer)


# -- faults ----------------------------------------------------------------------------------------------------
def _cause(message: str) -> str:
    """The informative line of a TensorFlow error (its first line is often just "Graph execution error:")."""
    lines = [line.strip() for line in message.splitlines() if line.strip()]
    for line in lines:
        if re.search(r"task:\d|unavailable|timed out|deadline|connect|heartbeat|peer", line, re.IGNORECASE):
            return line[:300]
    return lines[0][:300] if lines else "no message"


def cluster_error(placement: Placement, exc: Exception, step: int) -> BertrError | None:
    """The error for a training step that failed because the cluster broke (a worker lost, a collective operation
    timed out), naming the lost worker where TensorFlow's message does; None outside a multi-worker cluster."""
    if not placement.multi_worker:
        return None
    message = str(exc)
    tasks = {int(t) for t in re.findall(r"/job:(?:worker|chief)/replica:\d+/task:(\d+)", message)}
    tasks |= {i for i, address in enumerate(placement.workers) if re.search(rf"{re.escape(address)}(?!\d)", message)}
    tasks = sorted(tasks)
    lost = [t for t in tasks if t != placement.worker] or tasks
    others = [t for t in range(len(placement.workers)) if t != placement.worker]
    if not lost and len(others) == 1:  # a hung peer's timeout names no task; with two workers it is the other
        lost = others
    if lost:
        who = ", ".join(f"worker {t} ({placement.workers[t]})" for t in lost if t < len(placement.workers))
    else:
        who = "another worker (TensorFlow does not say which)"
    return BertrError(
        f"training stopped at step {step}: worker {placement.worker} lost contact with {who} of the "
        f"{len(placement.workers)}-worker cluster ({type(exc).__name__}: {_cause(message)}). Start every worker again: "
        "with the same checkpoint_dir, training resumes from the last checkpoint"
    )
