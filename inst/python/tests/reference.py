"""A plain numpy forward pass of BERT (Google's modeling.py semantics), used only to check bertr's encoder."""

import math

import numpy as np

_erf = np.vectorize(math.erf)


def layer_norm(x, gamma, beta, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = ((x - mean) ** 2).mean(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def gelu(x):
    return 0.5 * x * (1.0 + _erf(x / math.sqrt(2.0)))


def softmax(x):
    x = x - x.max(-1, keepdims=True)
    e = np.exp(x)
    return e / e.sum(-1, keepdims=True)


def bert_hidden_states(w, config, token, segment):
    """Last-layer hidden states [n, L, H] for Google-named float64 weights ``w``; 0 ids are padding."""
    w = {k: np.asarray(v, dtype=np.float64) for k, v in w.items()}
    n, length = token.shape
    heads = config.num_attention_heads
    d = config.hidden_size // heads
    x = (
        w["bert/embeddings/word_embeddings"][token]
        + w["bert/embeddings/position_embeddings"][:length][None]
        + w["bert/embeddings/token_type_embeddings"][segment]
    )
    x = layer_norm(x, w["bert/embeddings/LayerNorm/gamma"], w["bert/embeddings/LayerNorm/beta"])
    bias = np.where(token > 0, 0.0, -1e9)[:, None, None, :]
    for i in range(config.num_hidden_layers):
        p = f"bert/encoder/layer_{i}/"

        def proj(name, inp, p=p):
            return inp @ w[p + name + "/kernel"] + w[p + name + "/bias"]

        def split(t):
            return t.reshape(n, length, heads, d).transpose(0, 2, 1, 3)

        q, k, v = (split(proj(f"attention/self/{part}", x)) for part in ("query", "key", "value"))
        scores = q @ k.transpose(0, 1, 3, 2) / math.sqrt(d) + bias
        context = (softmax(scores) @ v).transpose(0, 2, 1, 3).reshape(n, length, heads * d)
        x = layer_norm(
            x + proj("attention/output/dense", context),
            w[p + "attention/output/LayerNorm/gamma"],
            w[p + "attention/output/LayerNorm/beta"],
        )
        ff = proj("output/dense", gelu(proj("intermediate/dense", x)))
        x = layer_norm(x + ff, w[p + "output/LayerNorm/gamma"], w[p + "output/LayerNorm/beta"])
    return x
