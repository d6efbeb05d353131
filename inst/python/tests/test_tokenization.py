"""Fast WordPiece (Rust tokenizers) equals Google's reference tokenizer, and batch encoding is right."""

import numpy as np
import pytest
from google_wordpiece import GoogleTokenizer

from bertr import BertrError, WordPieceTokenizer
from bertr.embedded import embedded_model_dir

EDGE_CASES = [
    "Hello, World!",
    "Café crème brûlée, naïve façade, Ångström, ÉCOLE",  # accents stripped when lower-casing
    "don't stop... (really?) [yes] {no} a/b a-b 3.14 $5 50% #1 @home",  # punctuation split off
    "東京と北京で中文を話す 한국어",  # CJK characters one token each
    "I love it 😀👍🏽 ❤️ ☕",  # emoji: [UNK] unless in the vocab
    "eating unaffable antidisestablishmentarianism",  # WordPiece splits
    "xqzjxqzjxqzj snow\u2603man",  # unsplittable (the snowman) -> one [UNK]
    "a" * 101 + " " + "b" * 100,  # over 100 characters -> [UNK]
    "tabs\tand\nnewlines\r\n  and\u00a0nbsp\u2003em-space",  # whitespace variants
    "zero\u200bwidth soft\u00adhyphen control\x07char",  # control / format characters dropped
    "MiXeD CaSe ALL CAPS",
    "",
]


@pytest.fixture(scope="module")
def embedded_vocab():
    return embedded_model_dir() / "vocab.txt"


def _google(vocab_path, lower):
    vocab = {}
    with open(vocab_path, encoding="utf-8") as handle:
        for i, line in enumerate(handle):
            vocab.setdefault(line.rstrip("\n"), i)
    return GoogleTokenizer(vocab, do_lower_case=lower)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_matches_google_reference_uncased(text, embedded_vocab):
    fast = WordPieceTokenizer(embedded_vocab, do_lower_case=True)
    assert fast.tokenize(text) == _google(embedded_vocab, True).tokenize(text)


@pytest.mark.parametrize("text", EDGE_CASES)
def test_matches_google_reference_cased(text, tmp_path_factory):
    from bertr.testing import write_tiny_bert

    path = write_tiny_bert(tmp_path_factory.mktemp("cased") / "cased", cased=True)
    fast = WordPieceTokenizer(path / "vocab.txt", do_lower_case=False)
    assert fast.tokenize(text) == _google(path / "vocab.txt", False).tokenize(text)


def test_edge_cases_have_the_expected_shape(embedded_vocab):
    fast = WordPieceTokenizer(embedded_vocab, do_lower_case=True)
    assert fast.tokenize("Café") == ["cafe"]
    assert fast.tokenize("snow\u2603man") == ["[UNK]"]  # keras-bert's Tokenizer gives several pieces
    assert fast.tokenize("xqzj")[0] == "x"  # splittable into pieces: no [UNK]
    assert fast.tokenize("eating") == ["eating"]
    assert fast.tokenize("unaffable")[1:] and all(p.startswith("##") for p in fast.tokenize("unaffable")[1:])
    assert len(fast.tokenize("東京")) == 2  # each CJK character is a word of its own
    assert fast.tokenize("a" * 101) == ["[UNK]"]


def test_encode_batch_pads_truncates_and_marks_segments(embedded_vocab):
    fast = WordPieceTokenizer(embedded_vocab, do_lower_case=True)
    vocab = fast.vocab
    enc = fast.encode(["Hello world", "a " * 50], seq_len=8)
    assert enc.token.dtype == np.int32 and enc.token.shape == (2, 8) and enc.segment.shape == (2, 8)
    assert enc.token[0].tolist() == [vocab["[CLS]"], vocab["hello"], vocab["world"], vocab["[SEP]"], 0, 0, 0, 0]
    assert enc.token[1, 0] == vocab["[CLS]"] and enc.token[1, -1] == vocab["[SEP]"]  # truncated, still closed
    assert (enc.segment == 0).all()


def test_pairs_use_segment_one_and_trim_the_longer_text(embedded_vocab):
    fast = WordPieceTokenizer(embedded_vocab, do_lower_case=True)
    v = fast.vocab
    enc = fast.encode(["good coffee"], seq_len=10, pairs=["one two three four five six seven"])
    row, seg = enc.token[0].tolist(), enc.segment[0].tolist()
    # [CLS] good coffee [SEP] one two three four five [SEP]: the longer (second) text was trimmed
    assert row == [
        v["[CLS]"],
        v["good"],
        v["coffee"],
        v["[SEP]"],
        v["one"],
        v["two"],
        v["three"],
        v["four"],
        v["five"],
        v["[SEP]"],
    ]
    assert seg == [0, 0, 0, 0, 1, 1, 1, 1, 1, 1]


def test_bad_vocab_is_refused(tmp_path):
    (tmp_path / "vocab.txt").write_text("hello\nworld\n")
    with pytest.raises(BertrError, match="lacks the special token"):
        WordPieceTokenizer(tmp_path / "vocab.txt")


def test_chunked_encoding_with_progress_equals_one_batch_and_empty_input_works(embedded_vocab):
    fast = WordPieceTokenizer(embedded_vocab, do_lower_case=True)
    texts = [f"review number {i} of the tea" for i in range(25)]
    events = []
    chunked = fast.encode(texts, seq_len=12, report=events.append, chunk=10)
    whole = fast.encode(texts, seq_len=12)
    np.testing.assert_array_equal(chunked.token, whole.token)
    assert [e["step"] for e in events] == [10, 20, 25] and events[-1]["steps"] == 25
    empty = fast.encode([], seq_len=12)
    assert empty.token.shape == (0, 12) and empty.segment.shape == (0, 12)


def test_tokenizer_is_cached_per_vocabulary_file(tiny_hf, tmp_path):
    import shutil

    import bertr

    assert bertr.tokenizer(tiny_hf) is bertr.tokenizer(tiny_hf)
    copy = tmp_path / "copy"
    shutil.copytree(tiny_hf, copy)
    first = bertr.tokenizer(copy)
    assert first is not bertr.tokenizer(tiny_hf)
    with open(copy / "vocab.txt", "a", encoding="utf-8") as handle:  # a changed file is read again
        handle.write("zzzextra\n")
    second = bertr.tokenizer(copy)
    assert second is not first and second.vocab_size == first.vocab_size + 1
