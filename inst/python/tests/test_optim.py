"""AdamWarmup reproduces keras-bert's update rule (schedule, bias correction, decoupled weight decay)."""

import numpy as np
import pytest
import tensorflow as tf  # after bertr set TF_USE_LEGACY_KERAS

from bertr.optim import AdamWarmup, WarmupLinearDecay, calc_train_steps


def keras_bert_lr(t, lr, warmup, decay, min_lr=0.0):
    """keras-bert 0.89.0's formula for 1-based step t."""
    if t <= warmup:
        return lr * t / warmup
    return min_lr + (lr - min_lr) * (1.0 - min(t, decay) / decay)


def test_calc_train_steps_matches_keras_bert():
    from keras_bert import calc_train_steps as kb_calc

    for n, bs, ep in [(4000, 32, 2), (2000, 70, 1), (7, 3, 5)]:
        assert calc_train_steps(n, bs, ep) == kb_calc(n, bs, ep)


def test_schedule_warms_up_then_decays_linearly():
    schedule = WarmupLinearDecay(1e-3, decay_steps=100, warmup_steps=10, min_lr=1e-5)
    got = [float(schedule(step)) for step in range(0, 120)]
    want = [keras_bert_lr(step + 1, 1e-3, 10, 100, 1e-5) for step in range(0, 120)]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-9)
    assert got[9] == pytest.approx(1e-3) and got[0] == pytest.approx(1e-4)
    assert got[-1] == pytest.approx(1e-5)


def _reference_adam(w, grads, lr, warmup, decay, wd, b1=0.9, b2=0.999, eps=1e-7):
    m, v = np.zeros_like(w), np.zeros_like(w)
    for t, g in enumerate(grads, start=1):
        lr_t = keras_bert_lr(t, lr, warmup, decay)
        lr_t = lr_t * np.sqrt(1 - b2**t) / (1 - b1**t)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        w = w - lr_t * (m / (np.sqrt(v) + eps) + wd * w)
    return w


@pytest.mark.parametrize("name,decayed", [("dense/kernel", True), ("dense/bias", False)])
def test_updates_match_keras_bert_rule(name, decayed):
    rng = np.random.default_rng(0)
    w0 = rng.standard_normal((3, 4))
    grads = [rng.standard_normal((3, 4)) for _ in range(12)]
    var = tf.Variable(w0.astype(np.float32), name=name)
    opt = AdamWarmup(decay_steps=12, warmup_steps=3, learning_rate=0.1, weight_decay=0.05)
    for g in grads:
        opt.apply_gradients([(tf.constant(g.astype(np.float32)), var)])
    want = _reference_adam(w0, grads, 0.1, 3, 12, 0.05 if decayed else 0.0)
    np.testing.assert_allclose(var.numpy(), want, rtol=1e-4, atol=1e-5)
    other = _reference_adam(w0, grads, 0.1, 3, 12, 0.0 if decayed else 0.05)
    assert np.abs(var.numpy() - other).max() > 1e-3  # weight decay really was (not) applied


def test_sparse_embedding_gradients_match_dense_rule():
    rng = np.random.default_rng(1)
    w0 = rng.standard_normal((6, 2))
    var = tf.Variable(w0.astype(np.float32), name="Embedding-Token/embeddings")
    opt = AdamWarmup(decay_steps=10, warmup_steps=2, learning_rate=0.05, weight_decay=0.01)
    dense = []
    for _ in range(5):
        rows = np.array([0, 3])
        values = rng.standard_normal((2, 2))
        g = np.zeros_like(w0)
        g[rows] = values
        dense.append(g)
        opt.apply_gradients(
            [(tf.IndexedSlices(tf.constant(values, tf.float32), tf.constant(rows), tf.constant(w0.shape)), var)]
        )
    np.testing.assert_allclose(var.numpy(), _reference_adam(w0, dense, 0.05, 2, 10, 0.01), rtol=1e-4, atol=1e-5)


def test_trains_a_keras_model():
    import tf_keras

    x = np.random.default_rng(2).standard_normal((64, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    model = tf_keras.Sequential([tf_keras.layers.Dense(1, activation="sigmoid", input_shape=(3,))])
    model.compile(optimizer=AdamWarmup(decay_steps=40, warmup_steps=4, learning_rate=0.1), loss="binary_crossentropy")
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0] * 0.7
    assert int(model.optimizer.iterations.numpy()) == 40


def test_fused_kernel_follows_the_rule_in_a_graph():
    """The fused ResourceApplyAdam step (dense and sparse gradients, with and without weight decay), run
    inside a tf.function as in training, follows keras-bert's rule as closely as tf_keras's op-by-op Adam."""
    shapes = {"Encoder/kernel": (5, 4), "Encoder/bias": (4,), "Embedding-Token/embeddings": (9, 4)}
    start = [np.random.default_rng(i).standard_normal(s) for i, s in enumerate(shapes.values())]
    draw = np.random.default_rng(4)
    grads = [(draw.standard_normal((5, 4)), draw.standard_normal(4), draw.standard_normal((3, 4))) for _ in range(6)]
    rows = [np.array([1, 4, 4]), np.array([2, 4, 7])] * 3  # a row left out of a step still moves on its momentum
    results = {}
    for fused in (True, False):
        variables = [tf.Variable(w.astype(np.float32), name=n) for w, n in zip(start, shapes, strict=True)]
        opt = AdamWarmup(decay_steps=8, warmup_steps=2, learning_rate=0.05, weight_decay=0.02, fused=fused)

        @tf.function
        def step(kernel, bias, values, rows, opt=opt, variables=variables):
            sparse = tf.IndexedSlices(values, rows, tf.constant(shapes["Embedding-Token/embeddings"]))
            opt.apply_gradients(zip([kernel, bias, sparse], variables, strict=True))

        for g, r in zip(grads, rows, strict=True):
            step(*(x.astype(np.float32) for x in g), r.astype(np.int32))
        results[fused] = [v.numpy() for v in variables]
    dense_embedding = []
    for g, r in zip(grads, rows, strict=True):
        d = np.zeros(shapes["Embedding-Token/embeddings"])
        np.add.at(d, r, g[2])
        dense_embedding.append(d)
    want = [
        _reference_adam(start[0], [g[0] for g in grads], 0.05, 2, 8, 0.02),
        _reference_adam(start[1], [g[1] for g in grads], 0.05, 2, 8, 0.0),
        _reference_adam(start[2], dense_embedding, 0.05, 2, 8, 0.02),
    ]
    for got, unfused, expected in zip(results[True], results[False], want, strict=True):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
        assert np.abs(got - expected).max() <= np.abs(unfused - expected).max() * 1.5 + 1e-7
