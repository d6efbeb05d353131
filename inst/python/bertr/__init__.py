"""bertr: fine-tune and use BERT text classifiers (keras-bert on TensorFlow's Keras 2 API).

Importing bertr does not import TensorFlow; it sets ``TF_USE_LEGACY_KERAS=1`` so that keras-bert gets
Keras 2 (tf_keras) when TensorFlow is first imported.

    >>> from bertr import BertClassifier
    >>> clf = BertClassifier(epochs=1).fit(texts, labels)
    >>> clf.predict_proba(new_texts)[:, 1]
    >>> bertr.embed(texts)  # (n, 384) sentence embeddings from the embedded model
"""
import functools

from . import runtime
from .checkpoints import BertConfig, Pretrained, detect_layout, embedded_model_dir, load_pretrained
from .classifier import BertClassifier
from .embedding import embed
from .errors import BertrError
from .persistence import load_model, save_model
from .tokenization import Encoded, WordPieceTokenizer

__version__ = "0.1.0"

__all__ = [
    "BertClassifier", "BertConfig", "BertrError", "Encoded", "Pretrained", "WordPieceTokenizer",
    "detect_layout", "embed", "embedded_model_dir", "load_model", "load_pretrained", "runtime", "save_model",
    "tokenizer", "__version__",
]


def tokenizer(pretrained=None, do_lower_case=None) -> WordPieceTokenizer:
    """The WordPiece tokenizer of a pretrained model (``None``: the embedded default), without its weights."""
    from pathlib import Path

    from .checkpoints import detect_lower_case

    if pretrained is None:
        path = embedded_model_dir()
    else:
        path = Path(pretrained).expanduser()
        detect_layout(path)
    lower = detect_lower_case(path, path / "vocab.txt") if do_lower_case is None else do_lower_case
    vocab = (path / "vocab.txt").resolve()
    try:
        stat = vocab.stat()
    except OSError:  # let WordPieceTokenizer name the problem
        return WordPieceTokenizer(vocab, lower)
    return _tokenizer(str(vocab), bool(lower), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _tokenizer(vocab: str, lower: bool, size: int, mtime: int) -> WordPieceTokenizer:
    """Tokenizers are cached per vocabulary file (and its size and time), so repeated calls skip reading it."""
    return WordPieceTokenizer(vocab, lower)
