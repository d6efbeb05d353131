"""Token attributions by integrated gradients: completeness (attributions sum to f(text) - f(baseline)) on fitted
models, tiny and embedded; the explained output is the prediction's; padding and batching change nothing; tokens
map back to their words and characters; the input is the one prediction reads."""

import unicodedata

import numpy as np
import pytest

from bertr import BertClassifier, BertrError
from bertr.testing import toy_data

TEXTS = [
    "great coffee, and tea!",
    "awful café & terrible chocolate",
    "i love this tea but the chocolate is bland and stale and a waste of money, never again",
    "Zoë's 東京 tea 🙂 was superb",
]
TOLERANCE = 1e-3  # |sum of attributions - (f(text) - f(baseline))| at 50 steps, in probability units


@pytest.fixture(scope="module")
def fitted(tiny_hf):
    texts, labels = toy_data()
    clf = BertClassifier(
        pretrained=str(tiny_hf), seq_len=16, batch_size=8, epochs=6, learning_rate=1e-2, validation_split=0, seed=2
    )
    return clf.fit(texts, labels)


def test_attributions_sum_to_the_change_in_output(fitted):
    explained = fitted.explain(TEXTS, steps=50)
    summary = explained["texts"]
    difference = np.subtract(summary["f_text"], summary["f_baseline"])
    assert np.max(np.abs(difference)) > 0.01  # the texts move the output: completeness is not 0 = 0
    tokens = explained["tokens"]
    for row in range(len(TEXTS)):
        mine = [a for r, a in zip(tokens["row"], tokens["attribution"], strict=True) if r == row]
        assert sum(mine) == pytest.approx(summary["total"][row], abs=1e-9)
        assert abs(summary["total"][row] - difference[row]) <= TOLERANCE
    assert np.allclose(summary["error"], np.subtract(summary["total"], difference))
    finer = fitted.explain(TEXTS, steps=400)["tokens"]["attribution"]  # the integral converges
    assert np.allclose(tokens["attribution"], finer, atol=TOLERANCE)


def test_the_explained_output_is_the_predicted_probability(fitted):
    explained = fitted.explain(TEXTS)["texts"]
    proba = fitted.predict_proba(TEXTS)
    predicted = fitted.predict(TEXTS)
    for row, label in enumerate(explained["label"]):
        assert label == predicted[row]
        column = list(fitted.classes_).index(label)
        assert explained["f_text"][row] == pytest.approx(proba[row, column], abs=1e-5)


def test_the_other_class_gets_the_opposite_attributions(fitted):
    yes = fitted.explain(TEXTS[:2], target="yes")
    no = fitted.explain(TEXTS[:2], target=["no", "no"])
    assert yes["texts"]["label"] == ["yes", "yes"] and no["texts"]["label"] == ["no", "no"]
    assert np.allclose(yes["tokens"]["attribution"], -np.asarray(no["tokens"]["attribution"]), atol=1e-6)


def test_padding_and_batching_do_not_change_attributions(fitted):
    together = fitted.explain(TEXTS, batch_size=200)  # several texts per network call, padded to the longest
    for row, text in enumerate(TEXTS):
        alone = fitted.explain([text], batch_size=1)  # one path point per call, no padding
        mine = [
            a for r, a in zip(together["tokens"]["row"], together["tokens"]["attribution"], strict=True) if r == row
        ]
        assert np.allclose(mine, alone["tokens"]["attribution"], atol=1e-5)


def test_tokens_map_to_their_words_and_characters(fitted):
    explained = fitted.explain(TEXTS)
    tokens, words = explained["tokens"], explained["words"]
    pieces = fitted.tokenizer_.encode_pieces(TEXTS, fitted.seq_len)
    for i, row in enumerate(tokens["row"]):
        piece = pieces[row]
        assert piece.tokens[tokens["position"][i]] == tokens["token"][i]
        span = TEXTS[row][tokens["start"][i] : tokens["end"][i]]
        if tokens["token"][i] != "[UNK]":  # the span, lower-cased without accents as the model reads it, is the token
            plain = "".join(c for c in unicodedata.normalize("NFD", span.lower()) if unicodedata.category(c) != "Mn")
            assert plain == tokens["token"][i].removeprefix("##")
    first = [w for r, w in zip(words["row"], words["text"], strict=True) if r == 0]
    assert first == ["great", "coffee", ",", "and", "tea", "!"]
    second = [(w, n) for r, w, n in zip(words["row"], words["text"], words["tokens"], strict=True) if r == 1]
    assert second[1][0] == "café"  # an accented word keeps its own spelling; its pieces summed
    word_sums = {(r, w): a for r, w, a in zip(words["row"], words["word"], words["attribution"], strict=True)}
    for (r, w), total in word_sums.items():
        parts = [
            a
            for rr, ww, a in zip(tokens["row"], tokens["word"], tokens["attribution"], strict=True)
            if (rr, ww) == (r, w)
        ]
        assert total == pytest.approx(sum(parts), abs=1e-12)
    long_row = [w for r, w in zip(words["row"], words["text"], strict=True) if r == 2]
    assert long_row[0] == "i" and len(long_row) < len(TEXTS[2].split())  # cut as the model cuts it (seq_len 16)


@pytest.mark.parametrize("truncation", ["head", "tail", "head_tail"])
def test_explained_input_is_what_prediction_reads(fitted, truncation):
    tokenizer = fitted.tokenizer_
    texts = [*TEXTS, "x" * 150, "a  b\tc\n", "¿Qué?"]
    pieces = tokenizer.encode_pieces(texts, 16, truncation=truncation)
    encoded = tokenizer.encode(texts, 16, truncation=truncation)
    for row, piece in enumerate(pieces):
        assert encoded.token[row, : len(piece.ids)].tolist() == piece.ids
        assert not encoded.token[row, len(piece.ids) :].any()
    pairs = ["short", "a much longer second text that must be cut somewhere", "", "tea"]
    pieces = tokenizer.encode_pieces(texts[:4], 16, pairs, truncation="tail" if truncation == "tail" else "head")
    encoded = tokenizer.encode(texts[:4], 16, pairs, truncation="tail" if truncation == "tail" else "head")
    for row, piece in enumerate(pieces):
        assert encoded.token[row, : len(piece.ids)].tolist() == piece.ids
        assert encoded.segment[row, : len(piece.ids)].tolist() == piece.segments


def test_zero_baseline_is_complete_too(fitted):
    summary = fitted.explain(TEXTS[:2], baseline="zero", steps=100)["texts"]
    assert np.max(np.abs(summary["error"])) <= TOLERANCE


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"steps": 0}, "steps must be between 1"),
        ({"steps": 2.5}, "steps must be a whole number"),
        ({"baseline": "unk"}, "baseline must be one of"),
        ({"target": "maybe"}, "target 'maybe' is not a class"),
        ({"target": ["yes", "no", "yes"]}, "one class or one per text"),
    ],
)
def test_bad_arguments_are_refused(fitted, kwargs, message):
    with pytest.raises(BertrError, match=message):
        fitted.explain(TEXTS[:2], **kwargs)


def test_multiclass_and_regression_are_explained(tiny_hf):
    texts, labels = toy_data(2)
    three = [label if i % 3 else "meh" for i, label in enumerate(labels)]
    clf = BertClassifier(pretrained=str(tiny_hf), seq_len=16, batch_size=8, epochs=2, validation_split=0, seed=1)
    clf.fit(texts, three)
    summary = clf.explain(TEXTS[:2], target="meh")["texts"]
    assert summary["label"] == ["meh", "meh"]
    column = list(clf.classes_).index("meh")
    assert np.allclose(summary["f_text"], clf.predict_proba(TEXTS[:2])[:, column], atol=1e-5)
    assert np.max(np.abs(summary["error"])) <= TOLERANCE
    values = [float(len(t)) for t in texts]
    reg = BertClassifier(
        pretrained=str(tiny_hf), task="regression", seq_len=16, batch_size=8, epochs=2, validation_split=0, seed=1
    )
    reg.fit(texts, values)
    summary = reg.explain(TEXTS[:2])["texts"]
    assert np.allclose(summary["f_text"], reg.predict(TEXTS[:2]), rtol=1e-5)  # on the label's own scale
    assert np.max(np.abs(summary["error"])) <= TOLERANCE * np.std(values)
    with pytest.raises(BertrError, match="takes no target"):
        reg.explain(TEXTS[:1], target="yes")


def test_embedded_model_completeness_and_the_words_that_matter():
    """Real weights fine-tuned on real sentences: completeness at 50 steps, and the sentiment word explains most."""
    texts, labels = toy_data(2)
    clf = BertClassifier(seq_len=16, batch_size=8, epochs=2, learning_rate=1e-4, validation_split=0, seed=1)
    clf.fit(texts, labels)
    held_out = ["this coffee is excellent", "this coffee is awful"]
    explained = clf.explain(held_out, target="yes", steps=50)
    summary = explained["texts"]
    assert summary["f_text"][0] - summary["f_text"][1] > 0.1  # the model tells them apart
    assert np.max(np.abs(summary["error"])) <= TOLERANCE
    words = explained["words"]
    for row, word, sign in [(0, "excellent", 1), (1, "awful", -1)]:
        mine = {w: a for r, w, a in zip(words["row"], words["text"], words["attribution"], strict=True) if r == row}
        strongest = max(mine, key=lambda w: sign * mine[w])
        assert strongest == word, mine


@pytest.mark.parametrize("temperature", [0.5, 2.5])
def test_a_calibrated_model_explains_its_calibrated_probability(fitted, temperature):
    calibrated = fitted.with_temperature(temperature)
    summary = calibrated.explain(TEXTS[:2], target="yes")["texts"]
    column = list(fitted.classes_).index("yes")
    assert np.allclose(summary["f_text"], calibrated.predict_proba(TEXTS[:2])[:, column], atol=1e-5)
    assert not np.allclose(summary["f_text"], fitted.predict_proba(TEXTS[:2])[:, column], atol=1e-3)
    assert np.max(np.abs(summary["error"])) <= TOLERANCE
