"""Inference: model outputs for many texts, from length-sorted, token-packed batches, in input order.

One implementation serves prediction, evaluation (and validation during training) and embeddings: rows are
sorted by length, packed into batches of about the same number of padded tokens, run through one tf.function
traced for any batch shape, and put back in input order.
"""

from __future__ import annotations

import weakref

import numpy as np

from . import runtime

runtime.configure_threads()  # a no-op when bertr already set TensorFlow's threads; else before TF starts
import tensorflow as tf  # after the thread pools are set

from .distribution import Placement, place, split_local
from .progress import ProgressFn, Throttle
from .tokenization import Encoded

PAD_MULTIPLE = 8  # batches are padded to a multiple of this, bounding the number of distinct shapes


def lengths_of(data: Encoded) -> np.ndarray:
    """Tokens per row, [CLS] and [SEP] included (ids are 0 only in the padding)."""
    return (data.token > 0).sum(axis=1)


def prediction_batches(lengths: np.ndarray, batch_size: int, max_len: int) -> list[np.ndarray]:
    """Row indices of inference batches: rows sorted by length, each batch holding up to ``batch_size``
    rows of ``max_len`` tokens' worth of padded tokens, so a batch of short texts has more rows (up to 16x
    ``batch_size``). Bigger matrices keep the CPU's matrix units busy; memory stays that of a full batch."""
    order = np.argsort(lengths, kind="stable")
    widths = np.minimum(max_len, -(-lengths[order] // PAD_MULTIPLE) * PAD_MULTIPLE).tolist()
    budget = batch_size * max_len
    batches, start = [], 0
    for end in range(1, len(order) + 1):
        width = widths[end - 1]  # the batch's longest row so far: rows are sorted
        if (end - start) * width > budget or end - start > 16 * batch_size:
            batches.append(order[start : end - 1])
            start = end - 1
    if start < len(order):
        batches.append(order[start:])
    return batches


def _padded_width(lengths: np.ndarray, rows: np.ndarray, max_len: int) -> int:
    longest = int(lengths[rows].max())
    return min(max_len, -(-longest // PAD_MULTIPLE) * PAD_MULTIPLE)


def padded_batch(data: Encoded, rows: np.ndarray, lengths: np.ndarray) -> list[np.ndarray]:
    """[token, segment] of ``rows``, padded only to their longest row (rounded up to ``PAD_MULTIPLE``).

    Batches go to the compiled step as plain arrays; the step is traced for any width, so all widths share
    one graph. (A ``tf.data.Dataset.from_generator`` pipeline with
    prefetch, which bertr used before, made each training step about 1.4x slower per token on a 2-core CPU:
    the generator's Python callback competes with the step for the interpreter.)"""
    width = _padded_width(lengths, rows, data.token.shape[1])
    return [data.token[rows, :width], data.segment[rows, :width]]


_inference_functions: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # cache: model -> its function


def _inference_function(model, placement: Placement):
    """The model in inference mode as one tf.function traced for any batch size and length, each batch split
    over this worker's own replicas (one, without a distribution strategy). Keras's own predict function is
    traced for the first batch's exact shape and relaxed only at the second, and the two graphs can differ in
    the last bit; this one is the same graph from the first call, so a model predicts identically however many
    predictions it made before (e.g. before and after save / load)."""
    function = _inference_functions.get(model)
    if function is None or function[0] is not placement.strategy:
        ids = tf.TensorSpec((None, None), tf.int32)
        owner = weakref.ref(model)  # a strong reference from the value would keep the key alive for ever
        strategy, local = placement.strategy, placement.local_replicas

        def infer(token, segment):
            shares = [split_local(strategy, local, value) for value in (token, segment)]
            outputs = strategy.run(lambda t, s: owner()([t, s], training=False), args=shares)
            return tf.concat(strategy.experimental_local_results(outputs), axis=0)

        function = (strategy, tf.function(infer, input_signature=[ids, ids]))
        _inference_functions[model] = function
    return function[1]


def predict_batches(
    model,
    data: Encoded,
    batch_size: int,
    report: ProgressFn = None,
    every_seconds: float = 1.0,
    placement: Placement | None = None,
) -> np.ndarray:
    """Model outputs for every row, in input order, from length-sorted batches in inference mode, each batch
    split over the local replicas of ``placement`` (default: TensorFlow's default strategy). ``model`` is a Keras
    model, or an object with ``run_batch(token, segment)`` and ``output_shape`` (an
    :class:`bertr.quantization.Int8Network`), which runs the same batches itself.

    ``report`` receives ``{"event": "predict", "step", "steps", "elapsed"}`` about every ``every_seconds``."""
    lengths = lengths_of(data)
    batches = prediction_batches(lengths, batch_size, data.token.shape[1])
    if not batches:
        return np.zeros((0, model.output_shape[-1]), dtype=np.float32)
    throttle = Throttle(every_seconds)
    outputs = []
    run_batch = getattr(model, "run_batch", None)
    if run_batch is None:
        infer = _inference_function(model, placement or place())

        def run_batch(token, segment):
            return infer(token, segment).numpy()

    for i, rows in enumerate(batches):
        outputs.append(run_batch(*padded_batch(data, rows, lengths)))
        if report is not None and throttle.due(last=i + 1 == len(batches)):
            report({"event": "predict", "step": i + 1, "steps": len(batches), "elapsed": throttle.elapsed})
    output = np.concatenate(outputs)
    result = np.empty_like(output)
    result[np.concatenate(batches)] = output
    return result
