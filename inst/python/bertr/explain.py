"""Token attributions by integrated gradients (Sundararajan, Taly and Yan 2017, "Axiomatic Attribution for Deep
Networks") on the input token embeddings.

For a text with token embeddings ``x`` and a baseline ``x'``, token ``i``'s attribution is

    (x_i - x'_i) . integral over a in [0, 1] of  d f(x' + a (x - x')) / d x_i  da

summed over the embedding's width, where ``f`` is the explained output: the probability of the explained class
(binary, multiclass), of a label (multi-label), the predicted fraction (soft) or value (regression). The integral
is taken by the trapezoidal rule over ``steps`` equal intervals. By the completeness property the attributions
of a text sum to ``f(x) - f(x')``; the difference left over is the integral's numerical error, reported per text.

The baseline keeps ``[CLS]`` and ``[SEP]`` (and the segment ids, the positions and the attention mask: the
baseline text has the same length) and replaces every other token's embedding by the ``[PAD]`` embedding
(``"pad"``) or by zeros (``"zero"``). Only the token embeddings move along the path; the network reads the segment
and position embeddings as for the real text. Dropout is off (inference mode).

Texts are cut as the model cuts them (its ``truncation``); a model that reads long texts in windows is explained on
the cut text, not on its pooled windows. Texts are explained in length-sorted groups, ``steps + 1`` path points
each, about ``batch_size`` rows per network call.
"""

from __future__ import annotations

import weakref

import numpy as np

from . import runtime

runtime.configure_threads()  # a no-op when bertr already set TensorFlow's threads; else before TF starts
import tensorflow as tf  # after the thread pools are set
import tf_keras

from .calibration import EPS_ONE, EPS_ZERO
from .errors import BertrError
from .inference import lengths_of, padded_batch, prediction_batches
from .progress import ProgressFn, Throttle
from .tokenization import Encoded, Pieces

BASELINES = ("pad", "zero")
TOKEN_EMBEDDING_LAYER = "Embedding-Token"  # keras-bert's token embedding (it outputs [embeddings, its matrix])


def check_steps(steps) -> int:
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer, float)) or steps != int(steps):
        raise BertrError(f"steps must be a whole number, not {steps!r}")
    if not 1 <= int(steps) <= 10000:
        raise BertrError(f"steps must be between 1 and 10000, not {int(steps)}")
    return int(steps)


def check_baseline(baseline) -> str:
    if baseline not in BASELINES:
        raise BertrError(f"baseline must be one of {', '.join(repr(b) for b in BASELINES)}, not {baseline!r}")
    return baseline


class TokenMask(tf_keras.layers.Layer):
    """Passes token embeddings through and gives them the mask the token embedding layer would (ids of 0 are
    padding), so the attention ignores padding exactly as for token ids. Inputs: [embeddings, token ids]."""

    def call(self, inputs):
        return inputs[0]

    def compute_mask(self, inputs, mask=None):
        return tf.not_equal(inputs[1], 0)


# classifier -> its functions; their network shares the classifier's layers, not the classifier, so an entry goes
# with its classifier
_explanation_networks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def embedding_network(model):
    """``model`` (a classifier network) with its token embeddings as an input: ``[token ids, segment ids, token
    embeddings] -> output``, the same layers and weights, the token embedding layer's lookup replaced by the given
    embeddings (the ids still give the attention mask and, for mean pooling, the real tokens)."""
    embedding = model.get_layer(TOKEN_EMBEDDING_LAYER)
    width = int(embedding.embeddings.shape[1])
    given = tf_keras.Input((None, width), name="Input-Token-Embedding")
    token, segment = model.inputs[:2]
    masked = TokenMask(name="Token-Embedding-Mask")([given, token])
    tensors = {id(x): x for x in model.inputs}

    def mapped(structure):
        # every Keras tensor a layer reads is one the walk made (a KeyError would be a bug, not a fallback to the
        # old graph)
        return tf.nest.map_structure(lambda x: tensors[id(x)] if hasattr(x, "_keras_history") else x, structure)

    for depth in sorted(model._nodes_by_depth, reverse=True):  # inputs first, as Functional runs its graph
        for node in model._nodes_by_depth[depth]:
            if node.is_input:
                continue
            produced = tf.nest.flatten(node.outputs)
            if node.layer is embedding:
                new = [masked]  # only its first output: the matrix (the second) feeds nothing in a classifier
            else:
                new = tf.nest.flatten(node.layer(*mapped(node.call_args), **mapped(node.call_kwargs)))
            for old, value in zip(produced, new, strict=False):
                tensors[id(old)] = value
    (output,) = tf.nest.flatten(model.outputs)
    return tf_keras.Model([token, segment, given], tensors[id(output)], name="bert_classifier_on_embeddings")


def _functions(model, calibrated: str | None = None):
    """The model's embedding network and its traced integrated-gradients functions, made once per model (and per
    ``calibrated``: None, or the output's activation when a temperature divides its logits first)."""
    per_model = _explanation_networks.setdefault(model, {})
    if calibrated in per_model:
        return per_model[calibrated]
    net = next(iter(per_model.values()))[3] if per_model else embedding_network(model)
    matrix = model.get_layer(TOKEN_EMBEDDING_LAYER).embeddings
    ids = tf.TensorSpec((None, None), tf.int32)
    vector = tf.TensorSpec((None,), tf.float32)

    def explained(token, segment, embeddings, column, scale, shift, temperature):
        output = tf.cast(net([token, segment, embeddings], training=False), tf.float64)
        if calibrated is not None:  # as bertr.calibration.scale, in float64
            output = temperature_scaled(output, calibrated, tf.cast(temperature, tf.float64))
        picked = tf.cast(tf.gather(output, column, axis=1, batch_dims=1), tf.float32)
        return picked * scale + shift

    def path_gradients(token, segment, kept, fill, column, scale, shift, temperature, alphas, weights):
        """Per text and token: (x - x') . sum_k weights_k * grad f(x' + alphas_k (x - x')), and f at both ends.
        ``kept`` is 1 where the baseline keeps the token ([CLS], [SEP], padding)."""
        real = tf.gather(matrix, token)
        base = _baseline(real, kept, fill)
        delta = real - base
        groups, steps = tf.shape(token)[0], tf.shape(alphas)[0]
        points = base[tf.newaxis] + alphas[:, tf.newaxis, tf.newaxis, tf.newaxis] * delta[tf.newaxis]
        points = tf.reshape(points, tf.concat([[steps * groups], tf.shape(real)[1:]], axis=0))
        tiled = [tf.tile(value, [steps] + [1] * (len(value.shape) - 1)) for value in (token, segment)]
        repeated = [tf.tile(value, [steps]) for value in (column, scale, shift)]
        with tf.GradientTape(watch_accessed_variables=False) as tape:  # the inputs' gradient only
            tape.watch(points)
            total = tf.reduce_sum(explained(*tiled, points, *repeated, temperature))
        gradient = tf.reshape(tape.gradient(total, points), tf.concat([[steps], tf.shape(real)], axis=0))
        averaged = tf.tensordot(weights, gradient, axes=1)
        return tf.reduce_sum(delta * averaged, axis=-1)

    def ends(token, segment, kept, fill, column, scale, shift, temperature):
        """f at the texts and at their baselines."""
        real = tf.gather(matrix, token)
        both = tf.concat([real, _baseline(real, kept, fill)], axis=0)
        twice = [tf.concat([value, value], axis=0) for value in (token, segment, column, scale, shift)]
        values = explained(twice[0], twice[1], both, *twice[2:], temperature)
        half = tf.shape(token)[0]
        return values[:half], values[half:]

    def _baseline(real, kept, fill):
        keep = tf.cast(kept, real.dtype)[:, :, tf.newaxis]
        return keep * real + (1.0 - keep) * fill

    columns, scalar = tf.TensorSpec((None,), tf.int32), tf.TensorSpec((), tf.float32)
    cached = (
        tf.function(
            path_gradients, input_signature=[ids, ids, ids, vector, columns, vector, vector, scalar] + [vector] * 2
        ),
        tf.function(ends, input_signature=[ids, ids, ids, vector, columns, vector, vector, scalar]),
        matrix,
        net,
    )
    per_model[calibrated] = cached
    return cached


def temperature_scaled(output, activation: str, temperature):
    """``output`` with its logits divided by ``temperature``, as :func:`bertr.calibration.scale` computes it."""
    if activation == "sigmoid":
        p = tf.clip_by_value(output, EPS_ZERO, 1.0 - EPS_ONE)
        return tf.sigmoid((tf.math.log(p) - tf.math.log1p(-p)) / temperature)
    return tf.nn.softmax(tf.math.log(tf.maximum(output, EPS_ZERO)) / temperature, axis=-1)


def integrated_gradients(
    model,
    data: Encoded,
    kept: np.ndarray,
    column: np.ndarray,
    scale: np.ndarray,
    shift: np.ndarray,
    steps: int = 50,
    baseline: str = "pad",
    batch_size: int = 64,
    report: ProgressFn = None,
    every_seconds: float = 1.0,
    temperature: float | None = None,
    activation: str = "sigmoid",
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Attributions (n, seq_len) of ``f = output[:, column] * scale + shift`` per row, and ``f`` at the text and at
    the baseline (n,). ``kept`` (n, seq_len) is True where the baseline keeps the token. ``report`` receives
    ``{"event": "explain", "step", "steps", "elapsed"}`` about every ``every_seconds``."""
    path_gradients, ends, matrix, _ = _functions(model, None if temperature is None else activation)
    temperature = np.float32(1.0 if temperature is None else temperature)
    fill = matrix[0].numpy() if baseline == "pad" else np.zeros(matrix.shape[1], dtype=np.float32)  # [PAD] is id 0
    alphas = np.linspace(0.0, 1.0, steps + 1, dtype=np.float32)
    weights = np.full(steps + 1, 1.0 / steps, dtype=np.float32)  # the trapezoidal rule
    weights[[0, -1]] /= 2
    n, width = data.token.shape
    attributions = np.zeros((n, width), dtype=np.float64)
    at_text, at_baseline = np.zeros(n), np.zeros(n)
    lengths = lengths_of(data)
    per_call = max(1, batch_size)
    groups = prediction_batches(lengths, max(1, per_call // (steps + 1)), width)
    throttle = Throttle(every_seconds)
    for i, rows in enumerate(groups):
        token, segment = padded_batch(data, rows, lengths)
        wide = token.shape[1]
        keep = kept[rows, :wide].astype(np.int32)
        args = [column[rows].astype(np.int32), scale[rows].astype(np.float32), shift[rows].astype(np.float32)]
        chunk = max(1, per_call // len(rows))
        total = np.zeros((len(rows), wide))
        for start in range(0, steps + 1, chunk):
            part = slice(start, start + chunk)
            total += path_gradients(token, segment, keep, fill, *args, temperature, alphas[part], weights[part]).numpy()
        attributions[rows, :wide] = total
        high, low = ends(token, segment, keep, fill, *args, temperature)
        at_text[rows], at_baseline[rows] = high.numpy(), low.numpy()
        if report is not None and throttle.due(last=i + 1 == len(groups)):
            report({"event": "explain", "step": i + 1, "steps": len(groups), "elapsed": throttle.elapsed})
    return attributions, at_text, at_baseline


def pieces_matrix(pieces: list[Pieces], seq_len: int) -> tuple[Encoded, np.ndarray]:
    """The model input of :meth:`~bertr.tokenization.WordPieceTokenizer.encode_pieces` rows, and where the baseline
    keeps the token (special tokens and padding: every position without a word)."""
    token = np.zeros((len(pieces), seq_len), dtype=np.int32)
    segment = np.zeros_like(token)
    kept = np.ones_like(token, dtype=bool)
    for row, piece in enumerate(pieces):
        width = len(piece.ids)
        token[row, :width] = piece.ids
        segment[row, :width] = piece.segments
        kept[row, :width] = [word is None for word in piece.words]
    return Encoded(token, segment), kept


def explanation_columns(
    pieces: list[Pieces],
    texts: list[str],
    pairs: list[str] | None,
    attributions: np.ndarray,
    at_text: np.ndarray,
    at_baseline: np.ndarray,
    explained: list,
) -> dict[str, dict[str, list]]:
    """The explanation as three tables of columns: ``tokens`` (one row per token of a text's own words: ``row``
    (the text's index), ``segment`` (0: the text, 1: the paired text), ``position`` in the model input, ``token``,
    ``word`` (its index within its text), ``start``/``end`` (its span in the text, 0-based, end exclusive),
    ``attribution``); ``words`` (their sums per word, with the word's text and span, and ``tokens``: how many); and
    ``texts`` (per text: the explained ``label``, ``f_text`` and ``f_baseline``, the attributions' ``total``, and
    ``error`` = total - (f_text - f_baseline), the integral's numerical error)."""
    token_keys = ("row", "segment", "position", "token", "word", "start", "end")
    word_keys = ("row", "segment", "word", "text", "start", "end")
    tokens: dict[str, list] = {k: [] for k in (*token_keys, "attribution")}
    words: dict[str, list] = {k: [] for k in (*word_keys, "attribution", "tokens")}
    for row, piece in enumerate(pieces):
        sources = (texts[row], None if pairs is None else pairs[row])
        grouped: dict[tuple[int, int], list[int]] = {}
        for position, word in enumerate(piece.words):
            if word is None:
                continue
            start, end = piece.spans[position]
            values = (row, piece.segments[position], position, piece.tokens[position], word, start, end)
            for key, value in zip(token_keys, values, strict=True):
                tokens[key].append(value)
            tokens["attribution"].append(float(attributions[row, position]))
            grouped.setdefault((piece.segments[position], word), []).append(position)
        for (segment, word), positions in grouped.items():
            start = min(piece.spans[p][0] for p in positions)
            end = max(piece.spans[p][1] for p in positions)
            values = (row, segment, word, sources[segment][start:end], start, end)
            for key, value in zip(word_keys, values, strict=True):
                words[key].append(value)
            words["attribution"].append(float(sum(attributions[row, p] for p in positions)))
            words["tokens"].append(len(positions))
    total = attributions.sum(axis=1)
    summary = {
        "row": list(range(len(pieces))),
        "label": list(explained),
        "f_text": at_text.tolist(),
        "f_baseline": at_baseline.tolist(),
        "total": total.tolist(),
        "error": (total - (at_text - at_baseline)).tolist(),
    }
    return {"tokens": tokens, "words": words, "texts": summary}
