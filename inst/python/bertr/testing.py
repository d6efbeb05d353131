"""Tiny random BERT checkpoints written on the fly, for tests (pytest and testthat) and examples.

The weights are random but the files are real: a Google TF checkpoint (written with a TF1 ``Saver`` so the
variable names are the plain ``bert/...`` names Google's checkpoints use) or a Hugging Face directory with
``model.safetensors`` ([out, in] linear weights, as torch stores them). Both read back through the same
loader the real models use.
"""

from __future__ import annotations

import json
import string
from pathlib import Path

import numpy as np

from .pretrained import BertConfig, expected_shapes

# A toy sentiment task that a tiny model learns in a few epochs (the pytest suite's shared data).
POSITIVE = [
    "great coffee",
    "i love this tea",
    "excellent chocolate",
    "best snack ever",
    "delicious and fresh",
    "amazing flavor",
    "perfect taste",
    "good quality",
    "my dog loves it",
    "would buy again",
]
NEGATIVE = [
    "awful coffee",
    "i hate this tea",
    "terrible chocolate",
    "worst snack ever",
    "bland and stale",
    "poor flavor",
    "disappointed with taste",
    "bad quality",
    "a waste of money",
    "never buy again",
]


def toy_data(repeat: int = 4) -> tuple[list[str], list[str]]:
    """``repeat`` copies of the toy reviews, with labels "yes" (positive) and "no"."""
    texts = (POSITIVE + NEGATIVE) * repeat
    labels = (["yes"] * len(POSITIVE) + ["no"] * len(NEGATIVE)) * repeat
    return texts, labels


WORDS = [
    "the",
    "a",
    "an",
    "and",
    "or",
    "but",
    "not",
    "no",
    "is",
    "are",
    "was",
    "were",
    "be",
    "been",
    "it",
    "this",
    "that",
    "these",
    "those",
    "i",
    "you",
    "he",
    "she",
    "we",
    "they",
    "my",
    "your",
    "our",
    "their",
    "of",
    "in",
    "on",
    "at",
    "to",
    "for",
    "with",
    "from",
    "by",
    "as",
    "so",
    "very",
    "too",
    "much",
    "more",
    "most",
    "good",
    "great",
    "bad",
    "awful",
    "terrible",
    "excellent",
    "love",
    "hate",
    "like",
    "dislike",
    "best",
    "worst",
    "tasty",
    "delicious",
    "bland",
    "stale",
    "fresh",
    "product",
    "food",
    "taste",
    "flavor",
    "coffee",
    "tea",
    "chocolate",
    "price",
    "buy",
    "bought",
    "again",
    "never",
    "always",
    "would",
    "will",
    "recommend",
    "happy",
    "sad",
    "disappointed",
    "amazing",
    "perfect",
    "poor",
    "quality",
    "cheap",
    "expensive",
    "box",
    "bag",
    "order",
    "eat",
    "eating",
    "ate",
    "sweet",
    "salty",
    "spicy",
    "dog",
    "cat",
    "loves",
    "snack",
    "snacks",
    "money",
    "waste",
    "return",
    "returned",
]


def tiny_vocab(cased: bool = False) -> list[str]:
    """Special tokens, common English words, every letter and digit as a word and as a ##piece."""
    tokens = ["[PAD]"] + [f"[unused{i}]" for i in range(4)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    tokens += list(string.punctuation)
    words = WORDS + ([w.capitalize() for w in WORDS[:20]] if cased else [])
    letters = list(string.ascii_lowercase + string.digits) + (list(string.ascii_uppercase) if cased else [])
    tokens += words + ["##ing", "##ed", "##s", "##ly"] + letters + ["##" + c for c in letters]
    seen: set[str] = set()
    return [t for t in tokens if not (t in seen or seen.add(t))]


def tiny_config(
    vocab_size: int,
    hidden_size: int = 16,
    num_hidden_layers: int = 2,
    num_attention_heads: int = 2,
    intermediate_size: int = 32,
    max_position_embeddings: int = 64,
) -> BertConfig:
    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=hidden_size,
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=num_attention_heads,
        intermediate_size=intermediate_size,
        max_position_embeddings=max_position_embeddings,
    )


def random_weights(config: BertConfig, seed: int = 0, pooler: bool = True) -> dict[str, np.ndarray]:
    """Google-named random weights: normal kernels and embeddings, LayerNorm gamma near 1, small biases."""
    rng = np.random.default_rng(seed)
    shapes = expected_shapes(config)
    if pooler:
        shapes["bert/pooler/dense/kernel"] = (config.hidden_size, config.hidden_size)
        shapes["bert/pooler/dense/bias"] = (config.hidden_size,)
    weights = {}
    for name, shape in shapes.items():
        if name.endswith("/gamma"):
            value = 1.0 + 0.1 * rng.standard_normal(shape)
        elif name.endswith("/beta") or name.endswith("/bias"):
            value = 0.05 * rng.standard_normal(shape)
        elif name.endswith("/kernel"):
            value = 0.1 * rng.standard_normal(shape)  # larger than BERT's 0.02 so outputs vary visibly,
        else:  # embeddings                          # small enough that a few steps can fine-tune it
            value = 0.2 * rng.standard_normal(shape)
        weights[name] = value.astype(np.float32)
    return weights


def google_to_hf_name(name: str) -> str:
    """The Hugging Face BertModel name of a Google checkpoint variable (inverse of hf_to_google_name)."""
    name = name[len("bert/") :]
    name = name.replace("encoder/layer_", "encoder/layer/")
    name = name.replace("/kernel", "/weight").replace("/gamma", "/weight").replace("/beta", "/bias")
    name = name.replace("embeddings/word_embeddings", "embeddings/word_embeddings/weight")
    name = name.replace("embeddings/position_embeddings", "embeddings/position_embeddings/weight")
    name = name.replace("embeddings/token_type_embeddings", "embeddings/token_type_embeddings/weight")
    return name.replace("/", ".")


def write_tiny_bert(
    path: str | Path,
    layout: str = "huggingface",
    seed: int = 0,
    cased: bool = False,
    pooler: bool = True,
    **config_args,
) -> Path:
    """Write a tiny random BERT dir in ``layout`` ('huggingface' or 'google') and return its path."""
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True)
    vocab = tiny_vocab(cased)
    config = tiny_config(len(vocab), **config_args)
    weights = random_weights(config, seed, pooler)
    (path / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    if layout == "huggingface":
        from safetensors.numpy import save_file  # not needed by `import bertr`, so missing_modules() can name it

        tensors = {}
        for name, value in weights.items():
            tensors[google_to_hf_name(name)] = np.ascontiguousarray(value.T if name.endswith("/kernel") else value)
        tensors["embeddings.position_ids"] = np.arange(config.max_position_embeddings, dtype=np.int64)[None]
        save_file(tensors, str(path / "model.safetensors"))
        (path / "config.json").write_text(json.dumps({"model_type": "bert", **config.to_dict()}, indent=2))
        (path / "tokenizer_config.json").write_text(json.dumps({"do_lower_case": not cased}))
    elif layout == "google":
        _write_google_checkpoint(path / "bert_model.ckpt", weights)
        (path / "bert_config.json").write_text(json.dumps(config.to_dict(), indent=2))
    else:
        raise ValueError(f"unknown layout {layout!r}")
    return path


def _write_google_checkpoint(prefix: Path, weights: dict[str, np.ndarray]) -> None:
    import tensorflow as tf  # bertr (and so runtime's TF_USE_LEGACY_KERAS) is imported: this is its package

    with tf.Graph().as_default():
        variables = {name: tf.compat.v1.Variable(value, name=name.replace("/", "_")) for name, value in weights.items()}
        saver = tf.compat.v1.train.Saver(var_list=variables)
        with tf.compat.v1.Session() as session:
            session.run(tf.compat.v1.global_variables_initializer())
            saver.save(session, str(prefix), write_meta_graph=False, write_state=False)
