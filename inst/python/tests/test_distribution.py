"""tf.distribute: MirroredStrategy over 2 logical CPU devices, MultiWorkerMirroredStrategy with 2 worker processes
on 127.0.0.1, a killed worker, resume; strategy and precision settings; GPU diagnosis and CUDA preloading.

Each distributed fit runs in its own subprocesses (distributed_job.py): logical devices and a cluster can only be
set up before TensorFlow starts in a process. Dropout is 0 in these fits, so that the replicas' results can be
compared with one device's (dropout masks are drawn per replica)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from distributed_job import SETTINGS, TOY_REPEAT  # the job's own settings: the one-process fit compared with it

import bertr
from bertr import BertClassifier, BertrError, gpu
from bertr.testing import toy_data

CORE = str(Path(bertr.__file__).resolve().parent.parent)
JOB = str(Path(__file__).with_name("distributed_job.py"))
LOST_WORKER_BOUND = 120.0  # seconds: a worker whose peer died must stop within this (the bound)
TOLERANCE = 1e-5  # largest weight difference accepted between 2 replicas and one device (measured: about 3e-8)


def free_ports(n: int) -> list[int]:
    sockets = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        sockets.append(s)
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def job(tmp: Path, name: str, env: dict[str, str], **spec) -> tuple[subprocess.Popen, Path]:
    """Start distributed_job.py with ``spec``; returns the process and where it writes its result."""
    out = tmp / f"{name}.json"
    spec = {"core": CORE, "out": str(out), **spec}
    spec_path = tmp / f"{name}-spec.json"
    spec_path.write_text(json.dumps(spec))
    environment = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"} | env  # a cluster only where given
    process = subprocess.Popen(
        [sys.executable, JOB, str(spec_path)],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return process, out


def tf_config(ports: list[int], index: int) -> str:
    return json.dumps(
        {"cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]}, "task": {"type": "worker", "index": index}}
    )


def weights(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def max_difference(a: dict, b: dict) -> float:
    assert sorted(a) == sorted(b)
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


def finish(process: subprocess.Popen, timeout: float = 600) -> tuple[int, str]:
    _, err = process.communicate(timeout=timeout)
    return process.returncode, err


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from bertr.testing import write_tiny_bert

    return str(write_tiny_bert(tmp_path_factory.mktemp("tiny") / "bert"))


def test_mirrored_two_logical_cpus_matches_one_device(tiny, tmp_path):
    process, out = job(
        tmp_path, "mirrored", {"BERTR_CPU_DEVICES": "2"}, pretrained=tiny, strategy="mirrored", compare=True
    )
    status, err = finish(process)
    assert status == 0, err
    result = json.loads(out.read_text())
    assert result["distribution"]["strategy"] == "mirrored"
    assert result["distribution"]["replicas"] == 2
    assert [d.split("device:")[-1] for d in result["distribution"]["devices"]] == ["CPU:0", "CPU:1"]
    difference = max_difference(weights(out.with_suffix(".npz")), weights(tmp_path / "mirrored-reference.npz"))
    assert difference < TOLERANCE
    assert np.allclose(result["probabilities"], result["reference"], atol=1e-5)
    assert result["history"][-1]["loss"] < result["history"][0]["loss"]  # it learned, on both replicas


RESUME_UNDER_MIRRORED = """
import sys
sys.path.insert(0, sys.argv[1])
import numpy as np
from bertr import BertClassifier
from bertr.testing import toy_data

texts, labels = toy_data(4)
settings = dict(pretrained=sys.argv[2], epochs=2, batch_size=8, dropout=0.2, seq_len=16, seed=3, strategy="mirrored")
uninterrupted = BertClassifier(**settings).fit(texts, labels)


class Stop(Exception):
    pass


def stop(info):
    if info["step"] == 5:
        raise Stop()


try:
    BertClassifier(**settings).fit(texts, labels, checkpoint_dir=sys.argv[3], checkpoint_every=2, on_step=stop)
except Stop:
    pass
resumed = BertClassifier(**settings).fit(texts, labels, checkpoint_dir=sys.argv[3], checkpoint_every=2)
assert resumed.resumed_at_ == [4], resumed.resumed_at_
assert resumed.distribution_["replicas"] == 2
difference = np.max(np.abs(uninterrupted.predict_proba(texts) - resumed.predict_proba(texts)))
print(f"max difference {difference}")
assert difference < 1e-6, difference
"""


def test_an_interrupted_mirrored_run_resumes_exactly_with_dropout(tiny, tmp_path):
    """Dropout's random streams, the optimizer's slots and the weights, all mirrored on 2 replicas, are saved in
    the checkpoint and restored, so the resumed run ends where the uninterrupted one does."""
    out = subprocess.run(
        [sys.executable, "-c", RESUME_UNDER_MIRRORED, CORE, tiny, str(tmp_path / "ckpt")],
        env={**os.environ, "BERTR_CPU_DEVICES": "2"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "max difference" in out.stdout


def start_pair(tmp: Path, tiny: str, tag: str, checkpoint_dirs: list[str], saves: list[str | None], **spec):
    ports = free_ports(2)
    return ports, [
        job(
            tmp,
            f"{tag}-worker{i}",
            {"TF_CONFIG": tf_config(ports, i), "BERTR_COLLECTIVE_TIMEOUT": "30"},
            pretrained=tiny,
            strategy="multi_worker",
            checkpoint_dir=checkpoint_dirs[i],
            save=saves[i],
            **spec,
        )
        for i in range(2)
    ]


def test_two_workers_train_as_one(tiny, tmp_path):
    # each worker is given its own checkpoint and save directory, so that what each wrote can be seen
    checkpoints = [str(tmp_path / "ckpt0"), str(tmp_path / "ckpt1")]
    saves = [str(tmp_path / "model0"), str(tmp_path / "model1")]
    _, pair = start_pair(tmp_path, tiny, "pair", checkpoints, saves, checkpoint_every=3)
    outcomes = [finish(process) for process, _ in pair]
    for status, err in outcomes:
        assert status == 0, err
    results = [json.loads(out.read_text()) for _, out in pair]
    assert [r["distribution"]["worker"] for r in results] == [0, 1]
    assert [r["distribution"]["chief"] for r in results] == [True, False]
    assert results[0]["distribution"]["replicas"] == 2
    w0, w1 = (weights(out.with_suffix(".npz")) for _, out in pair)
    assert max_difference(w0, w1) == 0.0  # the same weights, bit for bit
    # only the chief wrote: its checkpoint and saved model exist, the other worker's directories hold neither
    assert (Path(checkpoints[0]) / "latest.json").exists()
    assert not list(Path(checkpoints[1]).glob("step-*")) and not (Path(checkpoints[1]) / "latest.json").exists()
    assert Path(saves[0], "manifest.json").exists() and not Path(saves[1]).exists()
    assert results[1]["saved"] == str(Path(saves[1]).absolute())
    # the saved model predicts as a one-process fit of the same data and settings
    texts, labels = toy_data(TOY_REPEAT)
    loaded = bertr.load_model(saves[0])
    single = BertClassifier(pretrained=tiny, **SETTINGS).fit(texts, labels)
    assert np.allclose(loaded.predict_proba(texts)[:, 1], single.predict_proba(texts)[:, 1], atol=1e-4)
    assert np.allclose(results[0]["probabilities"], results[1]["probabilities"], atol=0)


@pytest.mark.parametrize("killed", [1, 0], ids=["worker-killed", "chief-killed"])
def test_lost_worker_stops_the_other_and_the_pair_resumes(tiny, tmp_path, killed):
    shared = str(tmp_path / "ckpt")
    spec = dict(checkpoint_every=2, step_seconds=0.5, epochs=3)
    ports, pair = start_pair(tmp_path, tiny, "first", [shared, shared], [None, None], **spec)
    survivor = 1 - killed
    deadline = time.time() + 300
    pointer = Path(shared) / "latest.json"
    while time.time() < deadline:  # wait for a checkpoint past the first few steps
        if pointer.exists() and json.loads(pointer.read_text())["step"] >= 4:
            break
        assert all(process.poll() is None for process, _ in pair), "a worker ended before the kill"
        time.sleep(0.2)
    else:
        pytest.fail("no checkpoint after 300 s")
    pair[killed][0].send_signal(signal.SIGKILL)
    killed_at = time.time()
    status, err = finish(pair[survivor][0], timeout=LOST_WORKER_BOUND + 60)
    stopped_after = time.time() - killed_at
    pair[killed][0].communicate()
    last_line = err.strip().splitlines()[-1] if err.strip() else "(nothing on stderr)"
    print(f"\nworker {survivor} stopped {stopped_after:.1f} s after worker {killed} was killed: {last_line}")
    assert status == 3, err
    assert stopped_after < LOST_WORKER_BOUND
    message = json.loads(pair[survivor][1].read_text())["error"]
    assert f"worker {killed} (127.0.0.1:{ports[killed]})" in message
    assert "resumes from the last checkpoint" in message
    step_at_kill = json.loads(pointer.read_text())["step"]
    # started again (on new ports, as after a real failure), the pair resumes from the chief's last checkpoint
    _, again = start_pair(tmp_path, tiny, "again", [shared, shared], [None, None], **{**spec, "step_seconds": 0})
    for process, _ in again:
        status, err = finish(process)
        assert status == 0, err
    results = [json.loads(out.read_text()) for _, out in again]
    assert all(r["resumed_at"] and r["resumed_at"][0] >= step_at_kill for r in results)
    assert results[0]["history"][-1]["epoch"] == 3
    w0, w1 = (weights(out.with_suffix(".npz")) for _, out in again)
    assert max_difference(w0, w1) == 0.0


def test_cluster_errors_name_the_lost_worker_from_what_tensorflow_says():
    """The messages are TensorFlow 2.21's own, as measured: a killed peer (its address and task named), a hung
    peer (its task named), a hung leader (nothing named: with two workers, it is the other one)."""
    import tensorflow as tf

    from bertr.distribution import Placement, cluster_error

    workers = ["127.0.0.1:23450", "127.0.0.1:23451", "127.0.0.1:23452"]
    placement = Placement(strategy=None, kind="multi_worker", worker=0, workers=workers)
    killed = (
        "Graph execution error: Collective ops is aborted by: failed to connect to all addresses; last error: UNKNOWN: "
        "ipv4:127.0.0.1:23452: Failed to connect to remote host: Connection refused\nAdditional GRPC error "
        "information from remote target /job:worker/replica:0/task:2 while calling /tensorflow.WorkerService/RecvBuf"
    )
    error = cluster_error(placement, tf.errors.UnavailableError(None, None, killed), 7)
    assert "training stopped at step 7: worker 0 lost contact with worker 2 (127.0.0.1:23452) of the 3-worker" in str(
        error
    )
    assert "Connection refused" in str(error)
    hung = (
        "Collective ops is aborted by: Error reported from /job:worker/task:1: The following tasks are unhealthy "
        "(stopped sending heartbeats):\n/job:worker/replica:0/task:1\nThe tasks have crashed."
    )
    assert "with worker 1 (127.0.0.1:23451)" in str(
        cluster_error(placement, tf.errors.UnavailableError(None, None, hung), 3)
    )
    leader = "Collective ops is aborted by: Deadline Exceeded RPC: /tensorflow.CoordinationService/Heartbeat"
    pair = Placement(strategy=None, kind="multi_worker", worker=1, workers=workers[:2])
    assert "worker 1 lost contact with worker 0 (127.0.0.1:23450)" in str(
        cluster_error(pair, tf.errors.DeadlineExceededError(None, None, leader), 3)
    )
    assert "TensorFlow does not say which" in str(
        cluster_error(placement, tf.errors.DeadlineExceededError(None, None, leader), 3)
    )
    alone = Placement(strategy=None, kind="auto")
    assert cluster_error(alone, tf.errors.UnavailableError(None, None, killed), 3) is None


# -- settings, checked before any work -----------------------------------------------------------------------
def test_strategy_and_precision_settings_are_checked():
    texts, labels = toy_data(1)
    with pytest.raises(BertrError, match="strategy must be NULL, 'auto', 'mirrored', 'multi_worker'"):
        BertClassifier(strategy="gpus").fit(texts, labels)
    with pytest.raises(BertrError, match="precision must be one of 'float32', 'mixed_float16', 'mixed_bfloat16'"):
        BertClassifier(precision="half").fit(texts, labels)
    with pytest.raises(BertrError, match="devices must be TensorFlow device names"):
        BertClassifier(strategy="mirrored", devices=[""]).fit(texts, labels)


def test_placement_errors_name_the_problem(monkeypatch):
    from bertr import distribution

    with pytest.raises(BertrError, match="devices = ... applies to strategy = 'mirrored'"):
        distribution.place(None, ["/cpu:0"])
    with pytest.raises(BertrError, match=r"devices names /gpu:3, which TensorFlow does not see; it sees .*CPU:0"):
        distribution.place("mirrored", ["/gpu:3"])
    monkeypatch.delenv("TF_CONFIG", raising=False)
    monkeypatch.delenv("SLURM_PROCID", raising=False)
    with pytest.raises(BertrError, match='strategy = "multi_worker" needs the cluster described: set TF_CONFIG'):
        distribution.place("multi_worker")
    monkeypatch.setenv("TF_CONFIG", '{"cluster": {}}')
    with pytest.raises(BertrError, match="TF_CONFIG must be JSON like"):
        distribution.place("multi_worker")
    with pytest.raises(BertrError, match='precision = "mixed_float16" needs a GPU, and TensorFlow sees none'):
        distribution.check_precision_supported("mixed_float16")


def test_a_strategy_object_is_used_as_given(tiny):
    import tensorflow as tf

    strategy = tf.distribute.OneDeviceStrategy("/cpu:0")
    texts, labels = toy_data(1)
    clf = BertClassifier(pretrained=tiny, strategy=strategy, epochs=1, batch_size=8, seq_len=16).fit(texts, labels)
    assert clf.placement_.strategy is strategy
    assert clf.distribution_["strategy"] == "custom"
    assert clf.settings()["strategy"] == "OneDeviceStrategy"
    assert clf.predict_proba(texts).shape == (len(texts), 2)


def test_default_strategy_is_recorded(tiny):
    texts, labels = toy_data(1)
    clf = BertClassifier(pretrained=tiny, epochs=1, batch_size=8, seq_len=16).fit(texts, labels)
    assert clf.distribution_ == {
        "strategy": "auto",
        "replicas": 1,
        "devices": [],
        "worker": 0,
        "workers": [],
        "chief": True,
    }


# -- precision -------------------------------------------------------------------------------------------------
def test_mixed_bfloat16_trains_with_a_float32_head(tiny, tmp_path):
    texts, labels = toy_data(2)
    clf = BertClassifier(pretrained=tiny, precision="mixed_bfloat16", epochs=2, batch_size=8, seq_len=16).fit(
        texts, labels
    )
    model = clf.model_
    assert model.get_layer("Encoder-1-FeedForward").compute_dtype == "bfloat16"
    assert model.get_layer("Output").compute_dtype == "float32"
    assert all(w.dtype == "float32" for w in model.weights)  # weights are kept in float32
    assert model.output.dtype == "float32"
    probabilities = clf.predict_proba(texts)
    assert probabilities.dtype == np.float32 or probabilities.dtype == np.float64
    assert np.all(np.isfinite(probabilities))
    import tf_keras

    assert tf_keras.mixed_precision.global_policy().name == "float32"  # put back after the build
    loaded = bertr.load_model(clf.save(str(tmp_path / "bf16")))  # saved weights are float32; loads as float32
    assert np.allclose(loaded.predict_proba(texts), probabilities, atol=0.05)


def test_mixed_float16_uses_loss_scaling(tiny, monkeypatch):
    """float16 is refused without a GPU; with the check bypassed, the step runs (slowly) on the CPU, which
    exercises the loss-scaled path a GPU would run."""
    from bertr import distribution

    monkeypatch.setattr(distribution, "check_precision_supported", lambda precision: precision)
    texts, labels = toy_data(1)
    clf = BertClassifier(pretrained=tiny, precision="mixed_float16", epochs=1, batch_size=8, seq_len=16).fit(
        texts, labels
    )
    import tf_keras

    assert isinstance(clf.model_.optimizer, tf_keras.mixed_precision.LossScaleOptimizer)
    assert clf.model_.get_layer("Encoder-1-FeedForward").compute_dtype == "float16"
    assert np.isfinite(clf.history_[-1]["loss"])


# -- GPUs ------------------------------------------------------------------------------------------------------
def test_gpu_diagnosis_says_why_and_what_to_do(tmp_path):
    assert "TensorFlow uses 1 GPU(s)" in gpu.diagnosis(["/device:GPU:0"], ["A100"], [], True)[0]
    assert "No NVIDIA GPU" in gpu.diagnosis([], [], [], False)[0]
    lines = gpu.diagnosis([], ["NVIDIA A100"], [], True)
    assert lines[0] == "nvidia-smi sees 1 GPU(s) (NVIDIA A100) but TensorFlow sees none."
    assert "install_bertr(gpu = TRUE, force = TRUE)" in lines[1]
    assert "built without CUDA" in gpu.diagnosis([], ["T4"], [], False)[1]
    assert "did not load" in gpu.diagnosis([], ["T4"], [tmp_path], True)[1]


def test_nvidia_smi_is_read_and_its_failures_mean_no_gpu(tmp_path):
    smi = tmp_path / "nvidia-smi"
    smi.write_text("#!/bin/sh\nprintf 'NVIDIA A100-SXM4-40GB\\nTesla T4\\n'\n")
    smi.chmod(0o755)
    assert gpu.nvidia_smi_gpus(str(smi)) == ["NVIDIA A100-SXM4-40GB", "Tesla T4"]
    smi.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed' >&2\nexit 9\n")
    assert gpu.nvidia_smi_gpus(str(smi)) == []
    assert gpu.nvidia_smi_gpus(str(tmp_path / "absent")) == []


def test_pip_cuda_libraries_are_preloaded_by_full_path_dependencies_first(tmp_path):
    site = tmp_path / "site-packages"
    libraries = {
        "cudnn": ["libcudnn.so.9"],
        "cuda_runtime": ["libcudart.so.12"],
        "cublas": ["libcublasLt.so.12", "libcublas.so.12"],
    }
    for name, files in libraries.items():
        (site / "nvidia" / name / "lib").mkdir(parents=True)
        for file in files:
            (site / "nvidia" / name / "lib" / file).write_text("")
    loaded = []

    def load(path):  # as the dynamic loader: libcublas needs libcublasLt loaded first; one file never loads
        name = Path(path).name
        if name == "libcublas.so.12" and not any(p.endswith("libcublasLt.so.12") for p in loaded):
            raise OSError("libcublasLt.so.12: cannot open shared object file")
        if name == "libcudnn.so.9":
            raise OSError("needs a newer driver")
        loaded.append(path)

    result = gpu.preload_cuda_libraries([str(site)], load=load)
    assert [Path(p).name for p in result] == ["libcudart.so.12", "libcublasLt.so.12", "libcublas.so.12"]
    assert all(Path(p).is_absolute() for p in result)
    assert gpu.preload_cuda_libraries([str(tmp_path / "none")], load=load) == []
