"""The encoder's cheaper pieces give keras-bert's results: fused multi-head attention, layer norms and feed-forward
layers (outputs and gradients, with padding) and the exact GELU's written-out gradient."""

import math

import keras_bert.bert
import keras_transformer.transformer
import numpy as np
import tensorflow as tf
import tf_keras
from keras_layer_normalization import LayerNormalization
from keras_multi_head import MultiHeadAttention
from keras_position_wise_feed_forward import FeedForward

from bertr import load_pretrained
from bertr.graph import (
    ACTIVATIONS,
    FusedFeedForward,
    FusedLayerNormalization,
    FusedMultiHeadAttention,
    _get_model,
    build_encoder,
    gelu_exact,
    set_encoder_weights,
)


def _encoders(pretrained):
    fused = build_encoder(pretrained.config, dropout_rate=0.0)
    inputs, output = _get_model(pretrained.config, None, 0.0)  # keras-bert's own attention layers
    stock = tf_keras.Model(inputs, output)
    for model in (fused, stock):
        set_encoder_weights(model, pretrained)
    return fused, stock


def _batch(vocab_size, rows=4, length=24, seed=0):
    rng = np.random.default_rng(seed)
    token = rng.integers(5, vocab_size, size=(rows, length)).astype(np.int32)
    token[:, 0] = 2
    token[1, 10:] = 0  # padding, which the attention must mask
    token[3, 5:] = 0
    segment = np.zeros_like(token)
    segment[0, 12:] = 1
    return token, segment


def test_fused_layers_are_used_and_the_builders_are_restored(tiny_hf):
    pretrained = load_pretrained(tiny_hf)
    fused, stock = _encoders(pretrained)
    assert (
        sum(isinstance(layer, FusedMultiHeadAttention) for layer in fused.layers) == pretrained.config.num_hidden_layers
    )
    assert not any(isinstance(layer, FusedMultiHeadAttention) for layer in stock.layers)
    assert sum(type(layer) is MultiHeadAttention for layer in stock.layers) == pretrained.config.num_hidden_layers
    assert keras_transformer.transformer.MultiHeadAttention is MultiHeadAttention
    norms = 2 * pretrained.config.num_hidden_layers + 1  # two per layer and the embeddings'
    assert sum(isinstance(layer, FusedLayerNormalization) for layer in fused.layers) == norms
    assert sum(type(layer) is LayerNormalization for layer in stock.layers) == norms
    assert keras_transformer.transformer.LayerNormalization is LayerNormalization
    assert keras_bert.bert.LayerNormalization is LayerNormalization
    layers = pretrained.config.num_hidden_layers
    assert sum(isinstance(layer, FusedFeedForward) for layer in fused.layers) == layers
    assert sum(type(layer) is FeedForward for layer in stock.layers) == layers
    assert keras_transformer.transformer.FeedForward is FeedForward
    from bertr.graph import FusedDropout

    dropping = build_encoder(pretrained.config, dropout_rate=0.1)
    drops = [layer for layer in dropping.layers if isinstance(layer, tf_keras.layers.Dropout)]
    assert len(drops) == 2 * layers + 1 and all(type(layer) is FusedDropout for layer in drops)
    assert keras_transformer.transformer.keras.layers.Dropout is tf_keras.layers.Dropout is not FusedDropout


def test_fused_layers_equal_keras_bert_outputs_and_gradients(tiny_hf):
    pretrained = load_pretrained(tiny_hf)
    fused, stock = _encoders(pretrained)
    token, segment = _batch(pretrained.config.vocab_size)
    real = tf.constant((token > 0)[..., None], tf.float32)
    results = []
    for model in (fused, stock):
        with tf.GradientTape() as tape:
            hidden = model([token, segment], training=True)
            loss = tf.reduce_sum(tf.sin(hidden) * real)  # padded positions' outputs are never used
        results.append((hidden.numpy(), tape.gradient(loss, model.trainable_weights)))
    (h_fused, g_fused), (h_stock, g_stock) = results
    mask = token > 0
    np.testing.assert_allclose(h_fused[mask], h_stock[mask], atol=1e-5)
    assert len(g_fused) == len(g_stock)
    for a, b, w in zip(g_fused, g_stock, fused.trainable_weights, strict=True):
        a, b = tf.convert_to_tensor(a).numpy(), tf.convert_to_tensor(b).numpy()
        np.testing.assert_allclose(a, b, atol=1e-4 * max(1.0, np.abs(b).max()), err_msg=w.name)


def test_gelu_gradient_equals_the_formula():
    assert ACTIVATIONS["gelu"] is gelu_exact
    x = tf.constant(np.linspace(-6, 6, 241).astype(np.float32))
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        ours = gelu_exact(x)
        formula = 0.5 * x * (1.0 + tf.math.erf(x / math.sqrt(2.0)))
    np.testing.assert_allclose(ours.numpy(), formula.numpy(), atol=1e-6)
    np.testing.assert_allclose(tape.gradient(ours, x).numpy(), tape.gradient(formula, x).numpy(), atol=1e-6)


def test_mean_pooling_averages_the_real_tokens_only(tiny_hf):
    from bertr.graph import MeanPool, classifier_graph

    pretrained = load_pretrained(tiny_hf)
    encoder = build_encoder(pretrained.config, dropout_rate=0.0)
    set_encoder_weights(encoder, pretrained)
    token, segment = _batch(pretrained.config.vocab_size)
    hidden = encoder([token, segment]).numpy()
    pooled = MeanPool()([tf.constant(hidden), tf.constant(token)]).numpy()
    for row in range(len(token)):
        np.testing.assert_allclose(pooled[row], hidden[row][token[row] > 0].mean(axis=0), rtol=1e-5, atol=1e-6)
    assert not np.allclose(pooled[1], hidden[1].mean(axis=0), atol=1e-3)  # padding really is left out
    mean = classifier_graph(pretrained.config, 2, "softmax", pooling="mean")
    cls = classifier_graph(pretrained.config, 2, "softmax", pooling="cls")
    names = {layer.name for layer in mean.layers}
    assert "Mean-Pool" in names and "NSP-Dense" not in names and "NSP-Dense" in {layer.name for layer in cls.layers}


def test_pooling_follows_the_checkpoint(tiny_hf, tmp_path):
    import json
    import shutil

    from bertr.pretrained import detect_pooling

    assert load_pretrained(None).pooling == "mean"  # all-MiniLM-L6-v2: sentence-transformers, mean pooling
    assert load_pretrained(tiny_hf).pooling == "cls"  # a plain BERT directory
    st = tmp_path / "st"
    shutil.copytree(tiny_hf, st)
    (st / "modules.json").write_text(
        json.dumps(
            [
                {"idx": 0, "path": "", "type": "sentence_transformers.models.Transformer"},
                {"idx": 1, "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            ]
        )
    )
    (st / "1_Pooling").mkdir()
    (st / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_cls_token": True, "pooling_mode_mean_tokens": False})
    )
    assert detect_pooling(st) == "cls"
    (st / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_mean_tokens": True}))
    assert detect_pooling(st) == "mean" and load_pretrained(st).pooling == "mean"
    (st / "modules.json").write_text("{not json")
    assert detect_pooling(st) == "cls"


def _assert_same_in_a_graph(stock, fused, weights, x, dy, policy, tolerance, **call):
    """Outputs and gradients (inputs and every weight) of two layers given the same weights, each inside a
    tf.function, under the current precision policy."""
    results = []
    for layer in (stock, fused):
        layer.build(x.shape)
        layer.set_weights(weights)

        @tf.function
        def run(x, layer=layer):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = layer(x, **call)
                loss = tf.reduce_sum(tf.cast(y, tf.float32) * dy)
            return y, tape.gradient(loss, [x, *layer.trainable_weights])

        y, gradients = run(x)
        assert y.dtype == (tf.bfloat16 if policy == "mixed_bfloat16" else tf.float32)
        results.append([tf.cast(t, tf.float32).numpy() for t in (y, *gradients)])
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(b, a, atol=tolerance * max(1.0, np.abs(a).max()), err_msg=f"{policy} {call}")


def test_fused_layer_norm_equals_the_stock_layer_in_a_graph_and_in_bfloat16():
    """Outputs and gradients (inputs, gamma, beta) of the written-out layer norm against keras-layer-normalization's,
    inside a tf.function, in float32 and under the mixed_bfloat16 policy (bfloat16 computations, float32 weights)."""
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(3, 5, 8)) * 3 + 1, tf.float32)
    dy = tf.constant(rng.normal(size=(3, 5, 8)), tf.float32)
    weights = [rng.normal(size=8).astype(np.float32) + 1, rng.normal(size=8).astype(np.float32)]
    for policy, tolerance in (("float32", 1e-5), ("mixed_bfloat16", 5e-2)):
        tf_keras.mixed_precision.set_global_policy(policy)
        try:
            _assert_same_in_a_graph(LayerNormalization(), FusedLayerNormalization(), weights, x, dy, policy, tolerance)
        finally:
            tf_keras.mixed_precision.set_global_policy("float32")


def test_fused_feed_forward_equals_the_stock_layer_in_training_and_inference_and_in_bfloat16():
    """Outputs and gradients (inputs and the four weights) of the feed-forward layer whose bias + GELU run as one
    XLA-compiled pass in training, against keras-position-wise-feed-forward's, inside a tf.function, in training
    and inference, in float32 and under mixed_bfloat16; two batch shapes (one compiled program each)."""
    rng = np.random.default_rng(1)
    weights = [rng.normal(size=shape).astype(np.float32) for shape in ((8, 12), (12,), (12, 8), (8,))]
    for policy, tolerance in (("float32", 1e-5), ("mixed_bfloat16", 5e-2)):
        tf_keras.mixed_precision.set_global_policy(policy)
        try:
            for shape in ((3, 5, 8), (2, 7, 8)):
                x = tf.constant(rng.normal(size=shape) * 2, tf.float32)
                dy = tf.constant(rng.normal(size=shape), tf.float32)
                for training in (True, False):
                    stock, fused = FeedForward(12, activation=gelu_exact), FusedFeedForward(12, activation=gelu_exact)
                    _assert_same_in_a_graph(stock, fused, weights, x, dy, policy, tolerance, training=training)
        finally:
            tf_keras.mixed_precision.set_global_policy("float32")


def test_fused_dropout_keeps_the_rate_scales_and_masks_its_gradient():
    """16-bit draws: about 1 - rate of the values kept, each scaled by 1 / (1 - rate); the gradient flows through the
    kept values only, with the same scale; the same generator state gives the same mask; inference is the identity."""
    from bertr.graph import FusedDropout

    tf_keras.backend.experimental.enable_tf_random_generator()
    layer = FusedDropout(0.25, seed=7)
    x = tf.constant(np.random.default_rng(0).uniform(1, 2, size=(64, 33, 17)), tf.float32)  # odd size: one half unused
    layer.build(x.shape)
    generator = layer._random_generator._generator
    assert generator is not None
    state = generator.state.numpy().copy()

    @tf.function
    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x, training=True)
        return y, tape.gradient(y, x)

    y, dx = (t.numpy() for t in run(x))
    kept = y != 0
    assert abs(kept.mean() - 0.75) < 0.01  # 35,904 draws: the standard error is 0.0023
    np.testing.assert_allclose(y[kept], x.numpy()[kept] / 0.75, rtol=1e-6)
    np.testing.assert_array_equal(dx != 0, kept)
    np.testing.assert_allclose(dx[kept], 1 / 0.75, rtol=1e-6)
    again = run(x)[0].numpy()
    assert (again != y).any()  # the generator moved on
    generator.reset(state)
    np.testing.assert_array_equal(run(x)[0].numpy(), y)
    np.testing.assert_array_equal(layer(x, training=False).numpy(), x.numpy())
