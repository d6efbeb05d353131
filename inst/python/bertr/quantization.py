"""int8 prediction: a fitted network run by ONNX Runtime with int8 weights and activations quantized per batch.

The Keras network (the classifier, or its summary network for embeddings) is converted to ONNX by tf2onnx, its
matrix-multiplication weights quantized to int8 per output channel (7-bit range, which keeps CPUs without AVX-512
VNNI from saturating their int8 sums) and each activation quantized per batch on the fly (ONNX Runtime's dynamic
quantization); everything else (embeddings, softmax, layer norm, GELU, the output layer's activation) stays float32.
It replaces only the network call in :func:`bertr.inference.predict_batches`: the same length-sorted batches, the
same outputs in input order, and the model's temperature, threshold and window pooling after it. As activations
are quantized per batch (one scale per matrix), a row's output can differ in the fourth decimal with the other
rows of its batch.

Why these settings (a probe on a 2-core AMD EPYC with AVX-512 VNNI; the embedded model fine-tuned on 800 reviews,
1,000 test reviews, batches of 64): per-tensor int8 weights (ONNX Runtime's default) gave 3.5x Keras's speed but
the test AUC fell from 0.8443 to 0.8328 and probabilities moved by up to 0.12; per-channel weights kept the AUC
(0.8454) at 3.6x, probabilities within 0.04. ``make bench`` (bench/result.json): 1.96x float32 predict() from R,
test AUC 0.8988 against 0.8987.

The conversion takes seconds (about 20 s for the embedded model, in a child process: see :func:`int8_network`)
and is done once per network and process: the int8 graph is kept while the fitted model lives, not saved with it.
onnxruntime, onnx and tf2onnx are optional (``requirements-int8.txt``); without them int8 prediction is a clear
error.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import tempfile
import weakref
from pathlib import Path

import numpy as np

from . import runtime
from .errors import BertrError

runtime.configure_threads()  # a no-op when bertr already set TensorFlow's threads; else before TF starts
import tensorflow as tf  # after the thread pools are set

PRECISIONS = ("model", "int8")
OPSET = 17

_networks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # fitted Keras model -> {kind: Int8Network}


def check_precision(precision) -> str:
    """``"model"`` (the network as fitted) or ``"int8"``."""
    if not isinstance(precision, str) or precision not in PRECISIONS:
        raise BertrError(f'precision must be "model" (the network as fitted) or "int8", not {precision!r}')
    return precision


def _modules():
    """onnxruntime, its quantizer and tf2onnx, or a :class:`BertrError` naming what is missing."""
    try:
        import onnxruntime  # optional dependency: only int8 prediction needs it
        import tf2onnx  # optional dependency, as above
        from onnxruntime.quantization import QuantType, quantize_dynamic  # part of onnxruntime
    except ImportError as exc:
        raise BertrError(
            f"int8 prediction needs the optional Python packages onnxruntime, onnx and tf2onnx ({exc.name} cannot be "
            "imported): install them with install_bertr() (R) or pip install 'bertr[int8]' "
            "(the packages in requirements-int8.txt)"
        ) from None
    return onnxruntime, tf2onnx, quantize_dynamic, QuantType


class Int8Network:
    """An ONNX Runtime session of a quantized network, called as :func:`bertr.inference.predict_batches` calls a
    Keras model's inference function: ``run_batch(token, segment)`` -> float32 outputs ``(rows, width)``."""

    def __init__(self, session, width: int):
        self._session = session
        self._inputs = [item.name for item in session.get_inputs()]
        self.output_shape = (None, width)

    def run_batch(self, token: np.ndarray, segment: np.ndarray) -> np.ndarray:
        feed = dict(zip(self._inputs, (token.astype(np.int32), segment.astype(np.int32)), strict=True))
        return self._session.run(None, feed)[0]


def int8_network(classifier, kind: str = "output") -> Int8Network:
    """The int8 version of the fitted ``classifier``'s network (``kind = "summary"``: of its summary network, the
    embeddings), converted at the first call and kept while its Keras model lives.

    The conversion runs in a child Python process (the model saved to a temporary directory and read there):
    tf2onnx's freezing and graph rewriting take about 4 GB of memory for the embedded model's 90 MB of weights,
    and a process keeps much of it; the child returns it all when it ends."""
    model = classifier.model_
    cached = _networks.setdefault(model, {})
    if kind not in cached:
        onnxruntime = _modules()[0]  # a missing package is named before any work
        if any(layer.dtype_policy.compute_dtype != "float32" for layer in model.layers):
            raise BertrError(
                "int8 prediction needs a model fitted in float32 (this one computes in a mixed precision); "
                'predict with precision = "model"'
            )
        width = int(model.output_shape[-1]) if kind == "output" else _summary_width(model)
        content = _convert_in_child(classifier, kind)
        try:
            session = _session(onnxruntime, content)
        except Exception as exc:  # onnxruntime's own error types: one message for the user
            raise BertrError(f"ONNX Runtime cannot run the int8 model: {str(exc).strip().splitlines()[-1]}") from None
        cached[kind] = Int8Network(session, width)
    return cached[kind]


def _summary_width(model) -> int:
    from .graph import summary_layer  # the classifier's graph module; TensorFlow has started

    return int(summary_layer(model).output.shape[-1])


def _convert_in_child(classifier, kind: str) -> bytes:
    """The int8 ONNX model of ``classifier``'s network ``kind``, made in a child process by
    :mod:`bertr.quantization_child`."""
    with tempfile.TemporaryDirectory(prefix="bertr-int8-") as tmp:
        saved = classifier.save(str(Path(tmp) / "model"))
        out = Path(tmp) / "int8.onnx"
        try:
            done = subprocess.run(
                [sys.executable, "-m", "bertr.quantization_child", saved, kind, str(out)],
                env=_child_environment(),
                cwd=tmp,  # -m puts the working directory first on the path: nothing there may shadow bertr
                capture_output=True,
                text=True,
                check=False,
            )
        except OSError as exc:
            raise BertrError(f"converting the model to int8 failed: cannot start {sys.executable} ({exc})") from None
        if done.returncode < 0:
            raise BertrError(
                f"converting the model to int8 failed: the conversion process was killed (signal {-done.returncode}); "
                "it needs about 4 GB of memory for the embedded model"
            )
        if done.returncode != 0 or not out.exists():
            lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
            raise BertrError(
                f"converting the model to int8 failed (exit status {done.returncode}): "
                f"{lines[-1] if lines else 'no message'}"
            )
        return out.read_bytes()


def _child_environment() -> dict[str, str]:
    """The conversion process's environment: bertr importable, no GPU, no cluster; started from R (``R_HOME``), the
    library path without the entries R put in front (R exports the user's own as ``BERTR_USER_LIBRARY_PATH``;
    with R's, a shared-library Python loads the wrong libpython, see DESIGN.md)."""
    env = {key: value for key, value in os.environ.items() if key != "TF_CONFIG"}
    if "R_HOME" in env:
        user = env.get("BERTR_USER_LIBRARY_PATH", "")
        if user:
            env["LD_LIBRARY_PATH"] = user
        else:
            env.pop("LD_LIBRARY_PATH", None)
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")])
    env["CUDA_VISIBLE_DEVICES"] = ""  # the conversion needs no GPU, and must not take its memory
    return env


def _session(onnxruntime, content: bytes):
    options = onnxruntime.SessionOptions()
    inter_op, intra_op = runtime.configure_threads()  # the pools in force (the model's threads), unchanged
    options.inter_op_num_threads, options.intra_op_num_threads = inter_op, intra_op
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # errors only
    return onnxruntime.InferenceSession(content, options, providers=["CPUExecutionProvider"])


def convert(network) -> bytes:
    """``network`` (a Keras model taking [token, segment]) as an int8 ONNX model (see the module)."""
    _, tf2onnx, quantize_dynamic, quant_type = _modules()
    spec = [tf.TensorSpec((None, None), tf.int32, name="token"), tf.TensorSpec((None, None), tf.int32, name="segment")]

    def infer(token, segment):
        return network([token, segment], training=False)

    for name in ("tf2onnx", "onnxruntime", "root"):  # tf2onnx logs every step, the quantizer its advice
        logging.getLogger(name).setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory(prefix="bertr-int8-") as tmp:
        fp32, int8 = Path(tmp) / "fp32.onnx", Path(tmp) / "int8.onnx"
        tf2onnx.convert.from_function(tf.function(infer), input_signature=spec, opset=OPSET, output_path=str(fp32))
        quantize_dynamic(
            fp32,
            int8,
            weight_type=quant_type.QInt8,
            per_channel=True,
            reduce_range=True,
            op_types_to_quantize=["MatMul"],
        )
        return int8.read_bytes()
