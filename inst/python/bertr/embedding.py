"""Text embeddings: one vector per text from a pretrained BERT, or from a fine-tuned classifier's encoder.

The vector is the same text summary a classifier head sees (``pooling``): the mean of the last layer's token
states over the real tokens (sentence-transformers' pooling; the embedded all-MiniLM-L6-v2's own), or the
[CLS] state through BERT's pooler. Texts run through the same length-sorted, token-packed batches as
prediction, and come back in input order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from . import runtime
from .checks import check_pooling, check_positive_int, check_texts
from .errors import BertrError
from .pretrained import load_pretrained
from .progress import ProgressFn
from .tokenization import WordPieceTokenizer


def check_normalize(normalize) -> None:
    if not isinstance(normalize, (bool, np.bool_)):
        raise BertrError(f"normalize must be TRUE or FALSE, not {normalize!r}")


def finish_vectors(vectors: np.ndarray, normalize: bool) -> np.ndarray:
    """Embeddings as float32, scaled to unit length with ``normalize``."""
    vectors = vectors.astype(np.float32, copy=False)
    if normalize:
        vectors = vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)
    return vectors


def embed(
    texts: Sequence[str],
    pretrained: str | None = None,
    pooling: str | None = None,
    seq_len: int = 128,
    batch_size: int = 32,
    pairs: Sequence[str] | None = None,
    normalize: bool = False,
    do_lower_case: bool | None = None,
    threads: int | None = None,
    report: ProgressFn = None,
) -> np.ndarray:
    """Embeddings (n, hidden) of ``texts`` from a pretrained BERT (``None``: the embedded all-MiniLM-L6-v2),
    without fine-tuning. ``pooling`` ``None`` follows the model (mean for the embedded one; with
    ``normalize=True`` its vectors are sentence-transformers' all-MiniLM-L6-v2 sentence embeddings). A fitted
    classifier's embeddings come from :meth:`bertr.estimator.BertClassifier.embed`."""
    check_pooling(pooling)
    check_normalize(normalize)
    texts = check_texts(texts, allow_empty=True)
    if pairs is not None:
        pairs = check_texts(pairs, "the paired text", allow_empty=True)
        if len(pairs) != len(texts):
            raise BertrError(f"got {len(texts)} texts but {len(pairs)} paired texts")
    batch_size = check_positive_int(batch_size, "batch_size")
    runtime.configure_threads(threads)  # before TensorFlow starts (below), with its start-up quiet
    from .graph import embedding_graph  # TensorFlow: imported after runtime.configure_threads()
    from .inference import predict_batches  # TensorFlow, likewise

    model = load_pretrained(pretrained, do_lower_case)
    seq_len = check_positive_int(seq_len, "seq_len", 8, model.config.max_position_embeddings)
    if not texts:  # no texts, no vectors: every pooling gives hidden_size numbers per text
        return np.zeros((0, model.config.hidden_size), np.float32)
    encoded = WordPieceTokenizer(model.vocab_path, model.do_lower_case).encode(texts, seq_len, pairs, report=report)
    network = embedding_graph(model, pooling or model.pooling)
    return finish_vectors(predict_batches(network, encoded, batch_size, report), normalize)
