"""bertr: fine-tune and use BERT text classifiers (keras-bert on TensorFlow's Keras 2 API).

Importing bertr does not import TensorFlow; it sets ``TF_USE_LEGACY_KERAS=1`` so that keras-bert gets
Keras 2 (tf_keras) when TensorFlow is first imported.

    >>> from bertr import BertClassifier
    >>> clf = BertClassifier(epochs=1).fit(texts, labels)
    >>> clf.predict_proba(new_texts)[:, 1]
    >>> bertr.embed(texts)  # (n, 384) sentence embeddings from the embedded model

Where each concern lives is described in CONTRIBUTING.md ("Layout").
"""

from . import runtime
from ._version import __version__
from .embedded import embedded_model_dir
from .embedding import embed
from .errors import BertrError
from .estimator import BertClassifier, load_model, save_model
from .metrics import bias_metrics
from .pretrained import BertConfig, Pretrained, detect_layout, load_pretrained, tokenizer
from .tokenization import Encoded, WordPieceTokenizer

__all__ = [
    "BertClassifier",
    "BertConfig",
    "BertrError",
    "Encoded",
    "Pretrained",
    "WordPieceTokenizer",
    "bias_metrics",
    "detect_layout",
    "embed",
    "embedded_model_dir",
    "load_model",
    "load_pretrained",
    "runtime",
    "save_model",
    "tokenizer",
    "__version__",
]
