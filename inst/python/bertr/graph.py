"""The classifier graph: keras-bert encoder with exact GELU, pretrained pooler, new output head.

Five of keras-bert's pieces are computed more cheaply with the same maths: multi-head attention
(:class:`FusedMultiHeadAttention`), the exact GELU's gradient (:func:`gelu_exact`), the layer norms' gradient
(:class:`FusedLayerNormalization`), the feed-forward layers' bias + GELU in training (:class:`FusedFeedForward`, one
XLA-compiled pass) and dropout (:class:`FusedDropout`, 16-bit random draws and a boolean mask). Measured on a 2-core
CPU with the embedded model at batch 32 x 128 tokens, the first two cut a training step's peak memory from about
3.4 GB to 2.6 GB and its time by about 8%; the layer norms' written-out gradient and the GELU's slope computed in the
forward pass took a further 1.4% off a step (bench/experiments/op_profile.py: op_profile_before.json,
op_profile.json) and left the peak about the same; the last two: see bench/experiments/fused_steps.json."""

from __future__ import annotations

import contextlib
import math
import warnings
import weakref

import numpy as np

from . import runtime

runtime.configure_threads()  # a no-op when bertr already set TensorFlow's threads; else before TF starts
import keras_bert
import keras_bert.bert
import keras_transformer.transformer
import tensorflow as tf
import tf_keras
from keras_bert.layers import Extract
from keras_layer_normalization import LayerNormalization
from keras_multi_head import MultiHeadAttention
from keras_position_wise_feed_forward import FeedForward

from .checks import check_pooling
from .errors import BertrError
from .pretrained import BertConfig, Pretrained

OUTPUT_LAYER = "Output"
POOLER_LAYER = "NSP-Dense"  # the article's name for the pooled [CLS] layer
MEAN_LAYER = "Mean-Pool"


def _gelu_and_slope(x):
    """The exact GELU of x and its derivative."""
    cdf = 0.5 * (1.0 + tf.math.erf(x * (1.0 / math.sqrt(2.0))))
    return x * cdf, cdf + x * tf.exp(-0.5 * tf.square(x)) * (1.0 / math.sqrt(2.0 * math.pi))


@tf.custom_gradient
def _gelu_exact(x):
    y, slope = _gelu_and_slope(x)  # the slope is unused (pruned) in inference

    def grad(dy):
        return dy * slope

    return y, grad


@tf_keras.utils.register_keras_serializable(package="bertr")
def gelu_exact(x):
    """GELU with the exact erf form, as Google's and Hugging Face's BERT use.

    Its gradient is written out, and its slope computed in the forward pass, so that training keeps one tensor of
    the feed-forward width per layer for the backward pass instead of the four or five that differentiating the
    formula op by op keeps."""
    return _gelu_exact(x)


class FusedMultiHeadAttention(MultiHeadAttention):
    """keras-multi-head's MultiHeadAttention (same weights, same maths) computed with fewer full-size
    [batch, heads, length, length] tensors: the queries are scaled before the product, the padding mask is
    added as a bias, and TensorFlow's fused softmax replaces exp/max/sum/divide. Its backward pass keeps only
    the attention probabilities, which cuts training memory and time at longer sequence lengths."""

    def call(self, inputs, mask=None):
        if self.history_only:
            return super().call(inputs, mask)
        q, k, v = inputs if isinstance(inputs, list) else (inputs, inputs, inputs)
        key_mask = mask[1] if isinstance(mask, list) else mask
        q, k, v = tf_keras.backend.dot(q, self.Wq), tf_keras.backend.dot(k, self.Wk), tf_keras.backend.dot(v, self.Wv)
        if self.use_bias:
            q, k, v = q + self.bq, k + self.bk, v + self.bv
        if self.activation is not None:
            q, k, v = self.activation(q), self.activation(k), self.activation(v)
        width = q.shape[-1]
        head_dim = width // self.head_num
        batch = tf.shape(q)[0]

        def heads(x):  # [batch, length, width] -> [batch, heads, length, head_dim]
            return tf.transpose(tf.reshape(x, (batch, -1, self.head_num, head_dim)), (0, 2, 1, 3))

        scores = tf.matmul(heads(q) * (1.0 / math.sqrt(head_dim)), heads(k), transpose_b=True)
        if key_mask is not None:
            scores += -10000.0 * (1.0 - tf.cast(key_mask, scores.dtype))[:, tf.newaxis, tf.newaxis, :]
        y = tf.matmul(tf.nn.softmax(scores, axis=-1), heads(v))
        y = tf.reshape(tf.transpose(y, (0, 2, 1, 3)), (batch, -1, width))
        y = tf_keras.backend.dot(y, self.Wo)
        if self.use_bias:
            y += self.bo
        if self.activation is not None:
            y = self.activation(y)
        return y


@tf.function(jit_compile=True)
def _bias_gelu_and_slope(h, bias):
    """GELU(h + bias) and its slope, in one XLA-compiled pass over the tensor (TensorFlow's graph runs the dozen
    element-wise ops of the formula one by one, each over the whole feed-forward-width tensor)."""
    return _gelu_and_slope(h + bias)


@tf.function(jit_compile=True)
def _bias_gelu_gradient(dy, slope):
    """The gradients of h and of the bias of :func:`_bias_gelu_and_slope`, in one XLA-compiled pass."""
    dh = dy * slope
    return dh, tf.reduce_sum(tf.reshape(dh, (-1, tf.shape(dh)[-1])), axis=0)


@tf.custom_gradient
def _bias_gelu_training(h, bias):
    y, slope = _bias_gelu_and_slope(h, bias)
    return y, lambda dy: _bias_gelu_gradient(dy, slope)


class FusedFeedForward(FeedForward):
    """keras-position-wise-feed-forward's FeedForward (same weights, same maths). In training with the exact
    GELU, the first bias, the GELU and the GELU's slope are one XLA-compiled pass, and so is their gradient
    (compiled once per batch shape, in about a tenth of a second); inference (and every other activation) runs
    the stock layer, whose graph ONNX export and TensorFlow's own optimizer handle as before (called by name, not
    ``super()``: see :class:`FusedDropout`)."""

    def call(self, x, mask=None, training=None):
        if training is not True or self.activation is not gelu_exact or not self.use_bias:
            return FeedForward.call(self, x, mask, training)
        h = _bias_gelu_training(tf_keras.backend.dot(x, self.W1), tf.cast(self.b1, x.dtype))
        if 0.0 < self.dropout_rate < 1.0:
            h = tf_keras.backend.dropout(h, self.dropout_rate, tf.shape(h))
        return tf_keras.backend.bias_add(tf_keras.backend.dot(h, self.W2), tf.cast(self.b2, x.dtype))


def _dropout16(inputs, rate: float, generator):
    """``inputs`` with each value kept with probability 1 - rate and scaled by 1 / (1 - rate), else 0: 16-bit random
    draws (two from each 32-bit one: half the random-number work of uniform floats; the rate is rounded to a multiple
    of 1/65536, e.g. 0.1 to 0.100006) and a boolean mask for the backward pass (a quarter of a float mask's memory)."""
    size = tf.size(inputs)
    bits = generator.uniform_full_int(tf.reshape((size + 1) // 2, [1]), dtype=tf.uint32)
    draws = tf.reshape(tf.bitcast(bits, tf.uint16), [-1])[:size]
    keep = tf.reshape(draws >= tf.constant(round(rate * 65536), tf.uint16), tf.shape(inputs))
    return tf.where(keep, inputs * tf.cast(1.0 / (1.0 - rate), inputs.dtype), tf.zeros_like(inputs))


_StockDropout = tf_keras.layers.Dropout  # bound at import: _fused_layers() points Keras's name at FusedDropout


class FusedDropout(_StockDropout):
    """tf_keras's Dropout (same rate, same random generator, same semantics) computed by :func:`_dropout16` in
    training; the stock layer when it has a noise shape, a rate that is not a plain number, or no generator. The
    stock layer's call is called by name: Keras runs this call through AutoGraph, whose ``super()`` reads the locals
    of every frame on the stack, and the snapshot it leaves in ``fit()``'s frame kept the pretrained weight arrays
    alive through training."""

    def call(self, inputs, training=None):
        generator = getattr(self._random_generator, "_generator", None)
        rate = self.rate
        plain = isinstance(rate, float) and 0.0 < rate < 1.0
        if training is not True or self.noise_shape is not None or generator is None or not plain:
            return _StockDropout.call(self, inputs, training)
        return _dropout16(inputs, rate, generator)


def _layer_norm(x, gamma, beta, epsilon: float):
    """(x - mean) / sqrt(variance + epsilon) * gamma + beta over the last axis, with its gradient written out:
    the backward pass keeps the normalised x and one scale per row (TensorFlow's own differentiation of the
    formula keeps more, and spells the backward pass as about twice as many ops)."""

    @tf.custom_gradient
    def normalize(x, gamma, beta):
        centred = x - tf.reduce_mean(x, axis=-1, keepdims=True)
        scale = tf.math.rsqrt(tf.reduce_mean(tf.square(centred), axis=-1, keepdims=True) + epsilon)
        normal = centred * scale

        def grad(dy):
            dnormal = dy * gamma
            mean_dnormal = tf.reduce_mean(dnormal, axis=-1, keepdims=True)
            mean_projection = tf.reduce_mean(dnormal * normal, axis=-1, keepdims=True)
            dx = (dnormal - mean_dnormal - normal * mean_projection) * scale
            rows = tf.reshape(dy, (-1, tf.shape(dy)[-1]))
            return dx, tf.reduce_sum(tf.reshape(normal, tf.shape(rows)) * rows, axis=0), tf.reduce_sum(rows, axis=0)

        return normal * gamma + beta, grad

    return normalize(x, gamma, beta)


class FusedLayerNormalization(LayerNormalization):
    """keras-layer-normalization's LayerNormalization (same weights, same maths) with its gradient written out
    (:func:`_layer_norm`); the stock layer's call when it has no scale or no offset."""

    def call(self, inputs, training=None):
        if not (self.scale and self.center):
            return super().call(inputs, training)
        return _layer_norm(inputs, tf.cast(self.gamma, inputs.dtype), tf.cast(self.beta, inputs.dtype), self.epsilon)


@contextlib.contextmanager
def _fused_layers():
    """keras-transformer and keras-bert build their attention and layer-norm layers from the names in their
    modules: point those at the fused subclasses while bertr builds an encoder, and back afterwards."""
    swaps = [
        (keras_transformer.transformer, "MultiHeadAttention", FusedMultiHeadAttention),
        (keras_transformer.transformer, "LayerNormalization", FusedLayerNormalization),
        (keras_bert.bert, "LayerNormalization", FusedLayerNormalization),
        (keras_transformer.transformer, "FeedForward", FusedFeedForward),
        (keras_transformer.transformer.keras.layers, "Dropout", FusedDropout),
        (keras_bert.bert.keras.layers, "Dropout", FusedDropout),
    ]
    originals = [getattr(module, name) for module, name, _ in swaps]
    for module, name, fused in swaps:
        setattr(module, name, fused)
    try:
        yield
    finally:
        for (module, name, _), original in zip(swaps, originals, strict=True):
            setattr(module, name, original)


@tf_keras.utils.register_keras_serializable(package="bertr")
def gelu_tanh(x):
    """GELU's tanh approximation (Hugging Face's gelu_new / gelu_fast / gelu_pytorch_tanh)."""
    return 0.5 * x * (1.0 + tf.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * tf.pow(x, 3))))


ACTIVATIONS = {
    "gelu": gelu_exact,
    "gelu_new": gelu_tanh,
    "gelu_fast": gelu_tanh,
    "gelu_pytorch_tanh": gelu_tanh,
    "relu": "relu",
}


def build_encoder(config: BertConfig, seq_len: int | None = None, dropout_rate: float | None = None):
    """keras-bert encoder (inputs Input-Token, Input-Segment; output the last layer's hidden states)."""
    with warnings.catch_warnings():  # keras-bert reuses one unseeded initializer; weights are loaded after
        warnings.filterwarnings("ignore", message="The initializer .* is unseeded")
        with _fused_layers():
            inputs, output = _get_model(config, seq_len, dropout_rate)
    return tf_keras.Model(inputs=inputs, outputs=output, name="bert_encoder")


def _get_model(config: BertConfig, seq_len: int | None, dropout_rate: float | None):
    return keras_bert.get_model(
        token_num=config.vocab_size,
        pos_num=config.max_position_embeddings,
        seq_len=seq_len,
        embed_dim=config.hidden_size,
        transformer_num=config.num_hidden_layers,
        head_num=config.num_attention_heads,
        feed_forward_dim=config.intermediate_size,
        dropout_rate=config.hidden_dropout_prob if dropout_rate is None else dropout_rate,
        feed_forward_activation=ACTIVATIONS[config.hidden_act],
        training=False,
        trainable=True,
    )


def set_encoder_weights(model, pretrained: Pretrained) -> None:
    """Copy Google-named weights into the keras-bert layers of ``model``."""
    w = pretrained.weights
    config = pretrained.config
    model.get_layer("Embedding-Token").set_weights([w["bert/embeddings/word_embeddings"]])
    model.get_layer("Embedding-Position").set_weights([w["bert/embeddings/position_embeddings"]])
    model.get_layer("Embedding-Segment").set_weights([w["bert/embeddings/token_type_embeddings"]])
    model.get_layer("Embedding-Norm").set_weights(
        [w["bert/embeddings/LayerNorm/gamma"], w["bert/embeddings/LayerNorm/beta"]]
    )
    for i in range(config.num_hidden_layers):
        src, dst = f"bert/encoder/layer_{i}", f"Encoder-{i + 1}"
        attention = []
        for part in ("query", "key", "value"):
            attention += [w[f"{src}/attention/self/{part}/kernel"], w[f"{src}/attention/self/{part}/bias"]]
        attention += [w[f"{src}/attention/output/dense/kernel"], w[f"{src}/attention/output/dense/bias"]]
        model.get_layer(f"{dst}-MultiHeadSelfAttention").set_weights(attention)
        model.get_layer(f"{dst}-MultiHeadSelfAttention-Norm").set_weights(
            [w[f"{src}/attention/output/LayerNorm/gamma"], w[f"{src}/attention/output/LayerNorm/beta"]]
        )
        model.get_layer(f"{dst}-FeedForward").set_weights(
            [
                w[f"{src}/intermediate/dense/kernel"],
                w[f"{src}/intermediate/dense/bias"],
                w[f"{src}/output/dense/kernel"],
                w[f"{src}/output/dense/bias"],
            ]
        )
        model.get_layer(f"{dst}-FeedForward-Norm").set_weights(
            [w[f"{src}/output/LayerNorm/gamma"], w[f"{src}/output/LayerNorm/beta"]]
        )


def load_encoder(pretrained: Pretrained, seq_len: int | None = None, dropout_rate: float | None = None):
    """Build the encoder for ``pretrained`` and load its weights."""
    model = build_encoder(pretrained.config, seq_len=seq_len, dropout_rate=dropout_rate)
    set_encoder_weights(model, pretrained)
    return model


class MeanPool(tf_keras.layers.Layer):
    """The mean of the last layer's token states over a text's real tokens ([CLS] and [SEP] included,
    padding left out), as sentence-transformers pools (all-MiniLM-L6-v2 was trained with it). Inputs:
    [hidden states, token ids]; ids of 0 are padding."""

    def call(self, inputs):
        hidden, token = inputs
        real = tf.cast(tf.not_equal(token, 0), hidden.dtype)[:, :, tf.newaxis]
        return tf.reduce_sum(hidden * real, axis=1) / tf.maximum(tf.reduce_sum(real, axis=1), 1.0)

    def compute_mask(self, inputs, mask=None):
        return None


def build_classifier(
    pretrained: Pretrained,
    n_outputs: int,
    activation: str = "sigmoid",
    dropout_rate: float | None = None,
    seq_len: int | None = None,
    pooling: str = "cls",
):
    """The classifier for ``pretrained`` with its weights loaded (the pooler's too, for ``"cls"`` pooling
    when the checkpoint has one); see :func:`classifier_graph`."""
    model = classifier_graph(pretrained.config, n_outputs, activation, dropout_rate, seq_len, pooling)
    set_encoder_weights(model, pretrained)
    if pooling == "cls" and pretrained.has_pooler:
        _set_pooler_weights(model, pretrained)
    return model


def _set_pooler_weights(model, pretrained: Pretrained) -> None:
    model.get_layer(POOLER_LAYER).set_weights(
        [pretrained.weights["bert/pooler/dense/kernel"], pretrained.weights["bert/pooler/dense/bias"]]
    )


def classifier_graph(
    config: BertConfig,
    n_outputs: int,
    activation: str = "sigmoid",
    dropout_rate: float | None = None,
    seq_len: int | None = None,
    pooling: str = "cls",
):
    """The classifier's layers for ``config`` with freshly initialised weights: encoder -> text summary ->
    dropout -> new Dense head. The summary is ``"cls"``: the [CLS] state through the pooler (``NSP-Dense``,
    tanh; the article's and BERT's own), or ``"mean"``: the mean of the token states (:class:`MeanPool`).
    New layers are initialised with a truncated normal (stddev 0.02), as in the article and BERT itself. Under a
    mixed-precision policy (:func:`bertr.distribution.precision_policy`) every layer but the output computes in
    the policy's type, its weights kept in float32."""
    check_pooling(pooling, allow_none=False)
    encoder = build_encoder(config, seq_len=seq_len, dropout_rate=dropout_rate)
    rate = config.hidden_dropout_prob if dropout_rate is None else dropout_rate
    pooled = _summary(config, encoder, pooling)
    if rate > 0:
        pooled = FusedDropout(rate, name="Output-Dropout")(pooled)
    output = tf_keras.layers.Dense(
        n_outputs,
        activation=activation,
        name=OUTPUT_LAYER,
        kernel_initializer=tf_keras.initializers.TruncatedNormal(stddev=0.02),
        dtype="float32",  # under a mixed-precision policy too: probabilities and the loss in float32
    )(pooled)
    return tf_keras.Model(inputs=encoder.inputs, outputs=output, name="bert_classifier")


def _summary(config: BertConfig, encoder, pooling: str):
    """The text summary on top of ``encoder``: :class:`MeanPool`, or the pooler (``NSP-Dense``) over [CLS]."""
    if pooling == "mean":
        return MeanPool(name=MEAN_LAYER)([encoder.output, encoder.inputs[0]])
    cls = Extract(index=0, name="Extract")(encoder.output)
    return tf_keras.layers.Dense(
        config.hidden_size,
        activation="tanh",
        name=POOLER_LAYER,
        kernel_initializer=tf_keras.initializers.TruncatedNormal(stddev=0.02),
    )(cls)


def summary_layer(model):
    """The layer of a classifier (or embedding model) whose output is the text summary."""
    names = {layer.name for layer in model.layers}
    return model.get_layer(MEAN_LAYER if MEAN_LAYER in names else POOLER_LAYER)


_summary_networks: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # classifier -> its summary part


def summary_network(model):
    """The part of a classifier network that ends at its text summary (what its output layer reads), kept per
    network, so that repeated calls reuse one model and its traced inference function."""
    network = _summary_networks.get(model)
    if network is None:
        network = tf_keras.Model(model.inputs, summary_layer(model).output, name="bert_embedding")
        _summary_networks[model] = network
    return network


def head_dropout(model) -> float:
    """The dropout rate the classifier was built with before its head (0 when it has none)."""
    try:
        return float(model.get_layer("Output-Dropout").rate)
    except ValueError:
        return 0.0


def embedding_graph(pretrained: Pretrained, pooling: str = "cls"):
    """Encoder -> text summary with ``pretrained``'s weights: embeddings without fine-tuning. [CLS] pooling
    needs the checkpoint's pretrained pooler (a random one would give meaningless vectors)."""
    check_pooling(pooling, allow_none=False)
    if pooling == "cls" and not pretrained.has_pooler:
        raise BertrError(
            f"the pretrained model '{pretrained.name}' has no pooler weights, so it has no [CLS] "
            "embedding; use pooling = 'mean'"
        )
    encoder = build_encoder(pretrained.config, dropout_rate=0.0)
    model = tf_keras.Model(encoder.inputs, _summary(pretrained.config, encoder, pooling), name="bert_embedding")
    set_encoder_weights(model, pretrained)
    if pooling == "cls":
        _set_pooler_weights(model, pretrained)
    return model


def weight_arrays(model) -> dict[str, np.ndarray]:
    """Every weight of ``model`` as numpy, keyed ``<layer name>/<index within the layer>``."""
    arrays = {}
    for layer in model.layers:
        for j, value in enumerate(layer.get_weights()):
            arrays[f"{layer.name}/{j}"] = value
    return arrays


def assign_weight_arrays(model, arrays: dict[str, np.ndarray], what: str) -> None:
    """Set ``model``'s weights from :func:`weight_arrays` output, checking names and shapes first, so a
    mismatch changes nothing."""
    plan = []
    expected = set()
    for layer in model.layers:
        values = []
        for j, variable in enumerate(layer.weights):
            key = f"{layer.name}/{j}"
            expected.add(key)
            if key not in arrays:
                raise BertrError(f"{what}: weight {key} is missing")
            value = arrays[key]
            if tuple(value.shape) != tuple(variable.shape):
                raise BertrError(
                    f"{what}: weight {key} has shape {tuple(value.shape)} but the model described by "
                    f"its config needs {tuple(variable.shape)}; the config and weights do not match"
                )
            values.append(value)
        if values:
            plan.append((layer, values))
    extra = sorted(set(arrays) - expected)
    if extra:
        raise BertrError(f"{what}: unexpected weight(s) {', '.join(extra[:3])}; the config and weights do not match")
    for layer, values in plan:
        layer.set_weights(values)


def random_generators(model) -> dict[str, object]:
    """The tf.random.Generator of each layer that draws random numbers (dropout), by layer name."""
    found = {}
    for layer in model.layers:
        generator = getattr(getattr(layer, "_random_generator", None), "_generator", None)
        if generator is not None:
            found[layer.name] = generator
    return found


def count_params(model) -> int:
    return int(sum(np.prod(v.shape) for v in model.trainable_weights))
