"""Texts longer than the window: head / tail / head_tail cuts, overlapping windows and their pooling, training on
windows; on tiny random checkpoints."""

import numpy as np
import pytest

from bertr import BertClassifier, BertrError
from bertr.long_text import pool_windows, window_starts, window_weights
from bertr.metrics import roc_auc
from bertr.testing import NEGATIVE, POSITIVE, toy_data
from bertr.tokenization import WordPieceTokenizer

LETTERS = "a b c d e f g h i j"  # ten one-token words in the tiny vocabulary
FILLER = "the " * 30  # a neutral run of words that fills several windows at seq_len 16


@pytest.fixture(scope="module")
def wordpiece(tiny_hf):
    return WordPieceTokenizer(tiny_hf / "vocab.txt")


def words(wordpiece, ids):
    inverse = {i: t for t, i in wordpiece.vocab.items()}
    return [inverse[int(i)] for i in ids if i]


@pytest.mark.parametrize(
    ("truncation", "kept"),
    [
        ("head", "a b c d e f"),
        ("tail", "e f g h i j"),
        ("head_tail", "a b g h i j"),  # a quarter of the 6-token window (1.5, rounded to 2) from the head
    ],
)
def test_truncation_keeps_the_head_the_tail_or_both(wordpiece, truncation, kept):
    encoded = wordpiece.encode([LETTERS, "a b"], 8, truncation=truncation)
    assert words(wordpiece, encoded.token[0]) == ["[CLS]", *kept.split(), "[SEP]"]
    assert words(wordpiece, encoded.token[1]) == ["[CLS]", "a", "b", "[SEP]"]  # a text that fits is whole


def test_head_tokens_sets_the_head_of_head_tail(wordpiece):
    encoded = wordpiece.encode([LETTERS], 8, truncation="head_tail", head_tokens=5)
    assert words(wordpiece, encoded.token[0]) == ["[CLS]", "a", "b", "c", "d", "e", "j", "[SEP]"]
    encoded = wordpiece.encode([LETTERS], 8, truncation="head_tail", head_tokens=0)
    assert words(wordpiece, encoded.token[0]) == ["[CLS]", "e", "f", "g", "h", "i", "j", "[SEP]"]


def test_tail_of_a_pair_cuts_the_longer_text_from_its_start(wordpiece):
    encoded = wordpiece.encode([LETTERS], 10, pairs=["x y"], truncation="tail")
    assert words(wordpiece, encoded.token[0]) == ["[CLS]", "f", "g", "h", "i", "j", "[SEP]", "x", "y", "[SEP]"]
    assert encoded.segment[0].tolist() == [0] * 7 + [1] * 3
    with pytest.raises(BertrError, match="head_tail' applies to single texts"):
        wordpiece.encode([LETTERS], 10, pairs=["x y"], truncation="head_tail")


def test_windows_cover_every_token_and_end_at_the_text_end(wordpiece):
    windows, owner = wordpiece.encode_windows([LETTERS, "a b", ""], 8, stride=3)
    assert owner.tolist() == [0, 0, 0, 1, 2]
    assert [words(wordpiece, row)[1:-1] for row in windows.token] == [
        list("abcdef"),
        list("defghi"),
        list("efghij"),  # the last window ends at the text's end
        ["a", "b"],
        [],
    ]
    assert (windows.segment == 0).all()
    for n in range(0, 40):
        for width, stride in [(6, 3), (6, 6), (6, 1), (14, 7)]:
            starts = window_starts(n, width, stride)
            covered = {t for s in starts for t in range(s, min(s + width, n))}
            assert covered == set(range(n)) and starts[-1] == max(n - width, 0)
            assert all(0 < b - a <= stride for a, b in zip(starts, starts[1:], strict=False))


def test_pooling_windows_per_text():
    output = np.array([[0.2, 0.8], [0.6, 0.4], [0.5, 0.5]])
    owner = np.array([0, 0, 1])
    assert np.allclose(pool_windows(output, owner, 2, "mean"), [[0.4, 0.6], [0.5, 0.5]])
    assert np.allclose(pool_windows(output, owner, 2, "max"), [[0.6, 0.8], [0.5, 0.5]])
    assert np.allclose(pool_windows(output, owner, 2, "max", normalize=True), [[0.6 / 1.4, 0.8 / 1.4], [0.5, 0.5]])
    assert np.allclose(window_weights(np.array([0, 0, 0, 1, 2, 2])), [1 / 3, 1 / 3, 1 / 3, 1, 0.5, 0.5])


@pytest.fixture(scope="module")
def fitted(tiny_hf):
    texts, labels = toy_data()
    clf = BertClassifier(
        pretrained=str(tiny_hf), seq_len=16, batch_size=8, epochs=8, learning_rate=1e-2, validation_split=0, seed=1
    )
    return clf.fit(texts, labels, classes=["no", "yes"])


def test_windows_see_decisive_words_past_the_first_window_where_head_cannot(fitted):
    texts = [FILLER + "great coffee i love this tea", FILLER + "awful coffee i hate this tea"]
    head = fitted.predict_proba(texts)[:, 1]
    assert head[0] == head[1]  # the same first window: the head cut cannot tell them apart
    for how in ("max", "mean"):
        window = fitted.predict_proba(texts, long_text="window", window_pooling=how)[:, 1]
        assert window[0] > window[1], how
    fitted.set_params(truncation="tail")  # the tail cut sees the end too
    try:
        by_tail = fitted.predict_proba(texts)[:, 1]
    finally:
        fitted.set_params(truncation="head")
    assert by_tail[0] > by_tail[1]
    decided = fitted.predict(texts, long_text="window", window_pooling="max")
    assert decided.shape == (2,)


def test_windowed_prediction_of_short_texts_is_the_usual_one(fitted):
    texts = POSITIVE + NEGATIVE
    assert np.allclose(fitted.predict_proba(texts, long_text="window"), fitted.predict_proba(texts), atol=1e-6)
    vectors = fitted.embed([FILLER + "great coffee", "great coffee"], long_text="window", normalize=True)
    assert vectors.shape[0] == 2 and np.allclose(np.linalg.norm(vectors, axis=1), 1, atol=1e-5)
    metrics = fitted.evaluate([FILLER + t for t in texts], ["yes"] * 10 + ["no"] * 10, long_text="window")
    assert set(metrics) >= {"loss", "accuracy", "auc"}


def test_training_on_windows_counts_each_text_once(tiny_hf, tmp_path):
    texts, labels = toy_data()
    long_texts = [FILLER + t if i % 2 else t for i, t in enumerate(texts)]  # half the texts span several windows
    events = []
    clf = BertClassifier(
        pretrained=str(tiny_hf),
        seq_len=16,
        batch_size=8,
        epochs=6,
        learning_rate=1e-2,
        validation_split=0.2,
        seed=1,
        long_text="window",
        window_pooling="mean",
    )
    clf.fit(long_texts, labels, classes=["no", "yes"], callback=events.append)
    begin = next(e for e in events if e["event"] == "train_begin")
    windows, owner = clf.tokenizer_.encode_windows(long_texts, 16)
    assert begin["rows"] + begin["validation_rows"] == len(windows) > len(texts)
    assert "val_auc" in clf.history_columns()
    proba = clf.predict_proba([FILLER + t for t in POSITIVE + NEGATIVE])  # the model's own setting: windows
    assert roc_auc([1] * 10 + [0] * 10, proba[:, 1]) > 0.9
    path = clf.save(str(tmp_path / "windowed"))
    loaded = BertClassifier.load(path)
    assert (loaded.long_text, loaded.window_pooling, loaded.truncation) == ("window", "mean", "head")
    assert np.array_equal(loaded.predict_proba(long_texts[:6]), clf.predict_proba(long_texts[:6]))


def test_long_text_settings_are_checked(tiny_hf, fitted):
    texts, labels = toy_data(1)
    bad = [
        ({"truncation": "middle"}, "truncation must be one of 'head', 'tail', 'head_tail'"),
        ({"long_text": "chunks"}, "long_text must be one of 'truncate', 'window'"),
        ({"window_pooling": "median"}, "window_pooling must be one of 'mean', 'max'"),
        ({"stride": 0, "seq_len": 16}, r"stride \(tokens between window starts, at seq_len = 16\) must be a whole"),
        ({"head_tokens": 30, "seq_len": 16}, r"head_tokens \(at seq_len = 16\) must be a whole number from 0 to 14"),
    ]
    for settings, message in bad:
        with pytest.raises(BertrError, match=message):
            BertClassifier(pretrained=str(tiny_hf), **settings).fit(texts, labels)
    with pytest.raises(BertrError, match="long_text = 'window' applies to single texts"):
        BertClassifier(pretrained=str(tiny_hf), long_text="window").fit(texts, labels, pairs=texts)
    with pytest.raises(BertrError, match="long_text must be one of"):
        fitted.predict_proba(["great coffee"], long_text="all")
    with pytest.raises(BertrError, match=r"stride \(tokens between window starts"):
        fitted.predict_proba(["great coffee"], long_text="window", stride=99)


def test_windows_of_a_text_are_all_training_or_all_validation_and_weigh_as_one_text(tiny_hf):
    from bertr.estimator import _TrainingData
    from bertr.tasks import make_task

    texts, labels = toy_data()
    texts = [FILLER * (i % 3) + t for i, t in enumerate(texts)]  # 1, 3 or 5 windows per text
    task = make_task(labels, None, ["no", "yes"])
    data = _TrainingData(texts, None, task, task.encode(labels), None)
    tokenizer = WordPieceTokenizer(tiny_hf / "vocab.txt")
    train_idx, val_idx = np.arange(0, 60), np.arange(60, 80)
    clf = BertClassifier(pretrained=str(tiny_hf), seq_len=16, long_text="window")
    rows = clf._initialize_rows(tokenizer, data, train_idx, val_idx, None)
    _, owner = tokenizer.encode_windows(texts, 16)
    assert len(set(np.bincount(owner))) >= 3  # texts of several window counts
    assert set(owner[rows.train]) == set(train_idx) and set(owner[rows.val]) == set(val_idx)
    per_text = np.bincount(owner, weights=rows.weight)
    assert np.allclose(per_text, per_text[0]) and np.isclose(rows.weight.mean(), 1)
    # the validation score judges texts: windows that all say p_i for text i score as the texts' p_i
    p = np.random.default_rng(0).random(len(texts))
    scored = rows.score(rows.target[rows.val], p[owner[rows.val]][:, None])
    assert scored == pytest.approx(task.metrics(data.target[val_idx], p[val_idx][:, None]))
