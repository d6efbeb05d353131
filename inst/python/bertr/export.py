"""A fitted classifier exported as a standalone TensorFlow SavedModel that takes raw text.

The SavedModel's ``serving_default`` signature takes a batch of UTF-8 ``texts`` (and ``pairs`` for a model trained
on text pairs) and returns what :meth:`BertClassifier.predict_proba` and :meth:`BertClassifier.predict` return:
``probabilities`` (classifiers; binary: both columns) and ``prediction`` (the class as text, 1/0 for soft and
multi-label tasks, the value for regression). Its ``tokenize`` signature returns the ``token`` and ``segment`` ids,
padded to ``seq_len``: those of :meth:`bertr.WordPieceTokenizer.encode` (tested on accents, CJK, emoji, unknown and
over-long words, special tokens written in a text, long texts and pairs).

Everything runs in the graph, from TensorFlow's and tensorflow-text's ops only, so the export loads with
``tf.saved_model.load`` (after ``import tensorflow_text``, which registers its ops) in a Python without bertr or
keras-bert, and serves in TensorFlow Serving:

* **Tokenization** follows the Hugging Face ``tokenizers`` pipeline that :mod:`bertr.tokenization` uses, step for
  step: the five special tokens written in a text (``[SEP]``...) are matched first, as themselves; the rest is
  cleaned (control and format characters dropped, every whitespace a space), CJK ideographs spaced, and, for an
  uncased vocabulary, NFD-normalised with the non-spacing marks (accents) removed and lower-cased; words are split
  at whitespace with each punctuation character a word of its own; a word of over 100 characters is ``[UNK]``;
  WordPiece (tensorflow-text's ``FastWordpieceTokenizer``, longest match first, a word it cannot split ``[UNK]``).
  Known difference: RE2's Unicode tables (TensorFlow's regular expressions) are newer than those of tokenizers, so
  the few format characters, non-spacing marks and punctuation that Unicode added since (e.g. U+0890, U+0898,
  U+2E5D) are dropped or split in the graph but kept by tokenizers.
* **Cuts** as the model's ``truncation`` (``head``, ``tail``, ``head_tail``; pairs: the longer text cut first, as
  ``tokenizers``' ``longest_first``), or **windows** for a ``long_text = "window"`` model: ``stride`` tokens apart,
  the last ending at the text's end, their outputs pooled per text by ``window_pooling``.
* **The network** runs on rows sorted by length, in chunks of :data:`CHUNK_ROWS` padded to their longest row (the
  batches of :mod:`bertr.inference`), and its outputs are put back in input order.
* **Decisions** as :meth:`bertr.tasks.Task.predict`: the model's temperature (:mod:`bertr.calibration`, the same
  formula as the explanation's graph) and threshold apply.

The directory also holds ``model_card.json`` (:mod:`bertr.model_card`) and bertr's ``manifest.json`` (every
file's size and sha256); it is written atomically (:func:`bertr.storage.write_directory`).
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

from . import runtime

runtime.configure_threads()  # a no-op when bertr already set TensorFlow's threads; else before TF starts
import tensorflow as tf  # after the thread pools are set

from .errors import BertrError
from .explain import temperature_scaled
from .long_text import check_stride, head_tail
from .storage import write_directory, write_json
from .tokenization import SPECIAL_TOKENS

CHUNK_ROWS = 64  # rows per network call inside the export (sorted by length, each chunk padded to its longest)
MAX_WORD_CHARS = 100  # a longer word is [UNK] (tokenizers' and Google's WordPiece)
FORMAT = "bertr export"
FORMAT_VERSION = 1

# The characters tokenizers' BERT normaliser and pre-tokeniser treat specially, as RE2 classes.
_CONTROL = r"[\x{0}\x{FFFD}\p{Cc}\p{Cf}\p{Co}]"  # dropped (tab, newline and carriage return first become spaces)
_SPACE = r"[\p{Zs}\x{2028}\x{2029}]"  # Unicode's other whitespace: a space
_CJK = (
    r"[\x{4E00}-\x{9FFF}\x{3400}-\x{4DBF}\x{20000}-\x{2A6DF}\x{2A700}-\x{2B73F}\x{2B740}-\x{2B81F}"
    r"\x{2B920}-\x{2CEAF}\x{F900}-\x{FAFF}\x{2F800}-\x{2FA1F}]"
)
_PUNCTUATION = r"[!-/:-@\[-\x{60}{-~]|\p{P}"  # ASCII punctuation and Unicode's P* categories
_SPECIAL = "|".join(token.replace("[", r"\[").replace("]", r"\]") for token in SPECIAL_TOKENS)


def text_module():
    """tensorflow-text, or a :class:`BertrError` naming it (it is optional: only exports need it)."""
    try:
        import tensorflow_text  # optional dependency, imported when an export is made or checked
    except (ImportError, tf.errors.NotFoundError) as exc:  # NotFoundError: built for another TensorFlow
        raise BertrError(
            f"exporting a model needs the Python package tensorflow-text (matching TensorFlow {tf.__version__}), "
            f"which cannot be imported ({str(exc).strip().splitlines()[-1] if str(exc).strip() else exc}); install "
            "it (a version matching TensorFlow's) with install_bertr() (R) or "
            f"pip install 'tensorflow-text=={'.'.join(tf.__version__.split('.')[:2])}.*'"
        ) from None
    return tensorflow_text


def wordpiece_vocab(vocab_path: Path) -> list[str]:
    """The vocabulary as tensorflow-text's WordPiece takes it, one entry per id: an entry that repeats an earlier
    one (the first wins, as in :class:`bertr.WordPieceTokenizer`) or is empty gets a name no word can have."""
    with open(vocab_path, encoding="utf-8") as handle:
        tokens = [line.rstrip("\n").rstrip("\r") for line in handle]
    seen: set[str] = set()
    entries = []
    for index, token in enumerate(tokens):
        entries.append(token if token and token not in seen else f"[bertr unused {index}]")
        seen.add(token)
    return entries


def _take(rows: tf.RaggedTensor, starts, counts) -> tf.RaggedTensor:
    """Per row ``i`` of a ragged [n, None] tensor, its items ``starts[i] : starts[i] + counts[i]``."""
    index = tf.ragged.range(starts, starts + counts) + tf.expand_dims(rows.row_starts(), 1)
    return tf.gather(rows.flat_values, index)


def _column(value, n) -> tf.RaggedTensor:
    return tf.RaggedTensor.from_tensor(tf.fill(tf.stack([n, 1]), value))


class TextEncoder(tf.Module):
    """A :class:`bertr.WordPieceTokenizer`'s tokenization and a model's cuts as TensorFlow ops (see the module)."""

    def __init__(self, tokenizer, seq_len: int, truncation: str = "head", head_tokens=None, stride=None):
        super().__init__(name="text_encoder")
        text = text_module()
        self.lower = tokenizer.do_lower_case
        self.seq_len = int(seq_len)
        self.truncation = truncation
        self.head_tokens = head_tokens
        self.stride = stride
        self.special_ids = [tokenizer.vocab[token] for token in SPECIAL_TOKENS]
        self.cls, self.sep = tokenizer.vocab["[CLS]"], tokenizer.vocab["[SEP]"]
        self._text = text
        self.wordpiece = text.FastWordpieceTokenizer(
            vocab=wordpiece_vocab(tokenizer.vocab_path),
            suffix_indicator="##",
            max_bytes_per_word=4 * MAX_WORD_CHARS,  # longer words are [UNK] already (by characters, below)
            token_out_type=tf.int64,
            unknown_token="[UNK]",
            no_pretokenization=True,
            support_detokenization=False,
        )

    def _normalized(self, texts):
        texts = tf.strings.regex_replace(texts, r"[\t\n\r]", " ")
        texts = tf.strings.regex_replace(texts, _CONTROL, "")
        texts = tf.strings.regex_replace(texts, _SPACE, " ")
        texts = tf.strings.regex_replace(texts, _CJK, r" \0 ")
        if self.lower:
            texts = self._text.normalize_utf8(texts, "NFD")
            texts = tf.strings.regex_replace(texts, r"\p{Mn}", "")
            texts = tf.strings.regex_replace(texts, "Σ", "σ")  # tokenizers lower-cases letter by letter: no final ς
            texts = tf.strings.lower(texts, encoding="utf-8")
        return texts

    def _wordpieces(self, texts):
        """[n, None] WordPiece ids of plain text (no special tokens in it)."""
        words = self._text.regex_split(self._normalized(texts), r" +|" + _PUNCTUATION, _PUNCTUATION)
        long = tf.strings.length(words.flat_values, unit="UTF8_CHAR") > MAX_WORD_CHARS
        flat = tf.where(long, "[UNK]", words.flat_values)
        pieces = words.with_flat_values(self.wordpiece.tokenize(flat))
        return pieces.merge_dims(1, 2)

    def ids(self, texts):
        """[n, None] int32 ids of each text, without [CLS] / [SEP]: special tokens written in a text are those
        tokens; the parts between them are normalised, split into words and WordPiece-tokenized."""
        texts = tf.strings.regex_replace(texts, r"\x{0}", "\x01")  # regex_split stops at a NUL; both are dropped
        parts = self._text.regex_split(texts, _SPECIAL, _SPECIAL)
        flat = parts.flat_values
        matches = tf.equal(tf.expand_dims(flat, 1), tf.constant(list(SPECIAL_TOKENS)))
        special = tf.reduce_any(matches, axis=1)
        plain = self._wordpieces(tf.where(special, "", flat))
        chosen = tf.gather(tf.constant(self.special_ids, tf.int64), tf.argmax(tf.cast(matches, tf.int32), axis=1))
        own = tf.RaggedTensor.from_row_lengths(tf.boolean_mask(chosen, special), tf.cast(special, tf.int64))
        per_part = tf.concat([plain, own], axis=1)  # a part is plain text or one special token
        return tf.cast(tf.RaggedTensor.from_row_splits(per_part, parts.row_splits).merge_dims(1, 2), tf.int32)

    def _wrapped(self, ids, n):
        return tf.concat([_column(self.cls, n), ids, _column(self.sep, n)], axis=1)

    def encode(self, texts, pairs=None):
        """Ragged [n, None] token and segment ids, cut as the model cuts them (:meth:`WordPieceTokenizer.encode`)."""
        a = self.ids(texts)
        n = a.nrows()
        la = a.row_lengths()
        tail = self.truncation == "tail"
        if pairs is None:
            width = tf.constant(self.seq_len - 2, tf.int64)
            if self.truncation == "head_tail":
                head = head_tail(self.seq_len, self.head_tokens)
                over = la > width
                keep_head = tf.where(over, tf.constant(head, tf.int64), la)
                keep_tail = tf.where(over, width - head, tf.zeros_like(la))
                a = tf.concat([_take(a, tf.zeros_like(la), keep_head), _take(a, la - keep_tail, keep_tail)], axis=1)
            else:
                keep = tf.minimum(la, width)
                a = _take(a, la - keep if tail else tf.zeros_like(la), keep)
            token = self._wrapped(a, n)
            return token, tf.zeros_like(token)
        b = self.ids(pairs)
        lb = b.row_lengths()
        keep_a, keep_b = _longest_first(la, lb, self.seq_len - 3)
        a = _take(a, la - keep_a if tail else tf.zeros_like(la), keep_a)
        b = _take(b, lb - keep_b if tail else tf.zeros_like(lb), keep_b)
        first = self._wrapped(a, n)
        second = tf.concat([b, _column(self.sep, n)], axis=1)
        token = tf.concat([first, second], axis=1)
        segment = tf.concat([tf.zeros_like(first), tf.ones_like(second)], axis=1)
        return token, segment

    def windows(self, texts):
        """Ragged [windows, None] token ids of every text's windows (:meth:`WordPieceTokenizer.encode_windows`) and
        each window's text (sorted, 0..n-1)."""
        a = self.ids(texts)
        la = a.row_lengths()
        width = self.seq_len - 2
        stride = check_stride(self.stride, self.seq_len)
        last = tf.maximum(la - width, 0)
        starts = tf.ragged.range(tf.zeros_like(la), last + 1, stride)
        extra = last % stride != 0  # the last window ends at the text's end
        starts = tf.concat([starts, tf.RaggedTensor.from_row_lengths(last[extra], tf.cast(extra, tf.int64))], axis=1)
        owner = starts.value_rowids()
        first = starts.flat_values
        counts = tf.minimum(tf.gather(la, owner) - first, width)
        index = tf.ragged.range(first, first + counts) + tf.expand_dims(tf.gather(a.row_starts(), owner), 1)
        windows = tf.gather(a.flat_values, index)
        return self._wrapped(windows, tf.shape(first, out_type=tf.int64)[0]), owner


def _longest_first(la, lb, room: int):
    """How many tokens of each text of a pair ``tokenizers``' ``longest_first`` truncation keeps, ``room`` being
    what the special tokens leave: when both do not fit, the shorter keeps what it can up to half, the longer the
    rest (both half when both are long: the longer one, or the second on a tie, gets an odd token)."""
    room = tf.constant(room, tf.int64)
    swap = la > lb
    short = tf.minimum(la, lb)
    keep_long = tf.where(short > room, short, tf.maximum(short, room - short))
    halves = short + keep_long > room
    keep_short = tf.where(halves, room // 2, short)
    keep_long = tf.where(halves, room // 2 + room % 2, keep_long)
    keep_a = tf.where(swap, keep_long, keep_short)
    keep_b = tf.where(swap, keep_short, keep_long)
    fits = la + lb <= room
    return tf.where(fits, la, tf.minimum(la, keep_a)), tf.where(fits, lb, tf.minimum(lb, keep_b))


def _run_sorted(network, token, segment, width: int):
    """The network's [rows, width] outputs for ragged token / segment rows: length-sorted chunks of
    :data:`CHUNK_ROWS`, each padded to its longest row, put back in input order."""
    n = token.nrows(out_type=tf.int32)
    order = tf.argsort(token.row_lengths(), stable=True)
    output = tf.zeros(tf.stack([n, width]), tf.float32)
    for start in tf.range(0, n, CHUNK_ROWS):
        rows = order[start : tf.minimum(start + CHUNK_ROWS, n)]
        batch = [tf.gather(value, rows).to_tensor() for value in (token, segment)]
        output = tf.tensor_scatter_nd_update(output, tf.expand_dims(rows, 1), network(batch))
    return output


class ExportedClassifier(tf.Module):
    """The module the SavedModel holds: the text encoder, the network's variables and the task's decisions."""

    def __init__(self, classifier):
        super().__init__(name="bertr_classifier")
        task = classifier.task_
        self.encoder = TextEncoder(
            classifier.tokenizer_,
            classifier.seq_len,
            classifier.truncation,
            classifier.head_tokens,
            classifier.stride,
        )
        self.network_variables = list(classifier.model_.variables)  # tracked, so that the SavedModel holds them
        model = classifier.model_
        self._network_call = lambda batch: model(batch, training=False)  # a function: the Keras model is not saved
        self._task = task
        self._windows = classifier.long_text == "window"
        self._pooling = classifier.window_pooling
        self._width = task.n_outputs
        self._threshold = np.asarray(task.decision_threshold(), dtype=np.float64)
        self._classes = task.class_names()

    def _network(self, texts, pairs=None):
        """The network's outputs per text (windows pooled), with the model's temperature."""
        if self._windows:
            token, owner = self.encoder.windows(texts)
            output = _run_sorted(self._network_call, token, tf.zeros_like(token), self._width)
            if self._pooling == "max":
                output = tf.math.unsorted_segment_max(output, owner, tf.shape(texts, out_type=tf.int64)[0])
                if self._task.name == "multiclass":  # pooled class probabilities sum to 1, as in predict()
                    output = output / tf.reduce_sum(output, axis=1, keepdims=True)
            else:
                output = tf.math.unsorted_segment_mean(output, owner, tf.shape(texts, out_type=tf.int64)[0])
        else:
            token, segment = self.encoder.encode(texts, pairs)
            output = _run_sorted(self._network_call, token, segment, self._width)
        output = tf.cast(output, tf.float64)
        if self._task.temperature is not None and self._task.name != "regression":
            output = temperature_scaled(output, self._task.activation, tf.constant(self._task.temperature, tf.float64))
        return output

    def _outputs(self, output):
        """``probabilities`` and ``prediction`` as :meth:`Task.probabilities` and :meth:`Task.predict` give them."""
        name = self._task.name
        cut = tf.constant(self._threshold, tf.float64)
        if name == "regression":
            return {"prediction": output[:, 0] * self._task.scale + self._task.center}
        if name == "binary":
            positive = output[:, 0]
            decided = tf.gather(tf.constant(self._classes), tf.cast(positive >= cut, tf.int32))
            probabilities = tf.stack([1.0 - positive, positive], axis=1)
        elif name == "multiclass":
            decided = tf.gather(tf.constant(self._classes), tf.argmax(output, axis=1, output_type=tf.int32))
            probabilities = output
        else:  # soft, multilabel: 1/0 where the probability >= the threshold (one, or one per label)
            decided = tf.cast(output >= cut, tf.int32)
            probabilities = output
            if name == "soft":
                decided, probabilities = decided[:, 0], output[:, 0]
        return {"probabilities": tf.cast(probabilities, tf.float32), "prediction": decided}

    def signatures(self, paired: bool) -> dict:
        texts = tf.TensorSpec([None], tf.string, name="texts")
        pairs = tf.TensorSpec([None], tf.string, name="pairs")
        seq_len = self.encoder.seq_len

        def padded(token, segment):
            shape = tf.stack([token.nrows(), seq_len])
            return {"token": token.to_tensor(shape=shape), "segment": segment.to_tensor(shape=shape)}

        if paired:
            serve = tf.function(lambda texts, pairs: self._outputs(self._network(texts, pairs)), [texts, pairs])
            tokenize = tf.function(lambda texts, pairs: padded(*self.encoder.encode(texts, pairs)), [texts, pairs])
        else:
            serve = tf.function(lambda texts: self._outputs(self._network(texts)), [texts])
            tokenize = tf.function(lambda texts: padded(*self.encoder.encode(texts)), [texts])
        self.serve, self.tokenize = serve, tokenize
        return {"serving_default": serve, "tokenize": tokenize}


def export_classifier(classifier, path: str, columns: dict | None = None, overwrite: bool = False) -> str:
    """Write ``classifier`` (fitted) as a SavedModel directory at ``path`` (see the module); returns its absolute
    path. ``columns``: the data's column names, for the model card."""
    classifier._check_fitted()
    module = ExportedClassifier(classifier)
    signatures = module.signatures(classifier.paired_)
    card = classifier.model_card(columns)
    card["export"] = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "tensorflow_text": _version("tensorflow-text"),
        "signatures": {
            "serving_default": {
                "inputs": ["texts", "pairs"] if classifier.paired_ else ["texts"],
                "outputs": card["outputs"],
            },
            "tokenize": {
                "inputs": ["texts", "pairs"] if classifier.paired_ else ["texts"],
                "outputs": {"token": f"(n, {module.encoder.seq_len}) token ids", "segment": "(n, seq_len) segments"},
            },
        },
        "load": "import tensorflow as tf, tensorflow_text; model = tf.saved_model.load(path); "
        "model.signatures['serving_default'](texts=tf.constant([...]))",
    }

    def fill(directory: Path) -> dict:
        with runtime.quiet_native_stderr():
            tf.saved_model.save(module, str(directory), signatures=signatures)
        write_json(directory / "model_card.json", card)
        return {"format": FORMAT, "format_version": FORMAT_VERSION, "task": classifier.task_.name}

    return str(write_directory(Path(path), fill, overwrite=overwrite))


def _version(distribution: str) -> str:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return "not installed"
