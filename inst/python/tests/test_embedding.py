"""Embeddings: the mean / [CLS] text summaries equal a numpy reference BERT's, in input order; the embedded
model's vectors rank similar sentences closer; a fitted classifier gives its fine-tuned summaries."""

import numpy as np
import pytest
from reference import bert_hidden_states

import bertr
from bertr import BertClassifier, BertrError, WordPieceTokenizer, load_pretrained
from bertr.testing import toy_data, write_tiny_bert

TEXTS = ["great coffee and a very fine tea with chocolate", "bad", "i love this tea", "never again", "good"]


def _reference(pretrained, texts, pooling):
    encoded = WordPieceTokenizer(pretrained.vocab_path, pretrained.do_lower_case).encode(texts, 32)
    hidden = bert_hidden_states(pretrained.weights, pretrained.config, encoded.token, encoded.segment)
    if pooling == "mean":
        real = (encoded.token > 0)[..., None]
        return (hidden * real).sum(axis=1) / real.sum(axis=1)
    w = pretrained.weights
    return np.tanh(hidden[:, 0] @ w["bert/pooler/dense/kernel"] + w["bert/pooler/dense/bias"])


@pytest.mark.parametrize("pooling", ["mean", "cls"])
def test_embeddings_equal_the_reference_in_input_order(tiny_hf, pooling):
    pretrained = load_pretrained(tiny_hf)
    got = bertr.embed(TEXTS, pretrained=str(tiny_hf), pooling=pooling, seq_len=32, batch_size=2)
    want = _reference(pretrained, TEXTS, pooling)
    assert got.shape == (len(TEXTS), pretrained.config.hidden_size) and got.dtype == np.float32
    np.testing.assert_allclose(got, want, atol=1e-4)
    assert np.abs(want[0] - want[1]).max() > 1e-2  # rows differ: an order mix-up would show
    unit = bertr.embed(TEXTS, pretrained=str(tiny_hf), pooling=pooling, seq_len=32, normalize=True)
    np.testing.assert_allclose(np.linalg.norm(unit, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_allclose(unit, want / np.linalg.norm(want, axis=1, keepdims=True), atol=1e-4)


def test_embedded_model_ranks_similar_sentences_closer():
    e = bertr.embed(
        ["I love this tea.", "This tea is wonderful, I adore it.", "The train to Paris is late."], normalize=True
    )
    assert e.shape == (3, 384)
    similar, unrelated = float(e[0] @ e[1]), float(e[0] @ e[2])
    assert similar > 0.5 and similar > unrelated + 0.3, (similar, unrelated)


def test_fitted_classifier_embeds_with_its_fine_tuned_encoder(tiny_hf):
    texts, labels = toy_data()
    clf = BertClassifier(
        pretrained=str(tiny_hf),
        seq_len=16,
        batch_size=8,
        epochs=1,
        learning_rate=1e-2,
        validation_split=0,
        pooling="mean",
    ).fit(texts, labels)
    tuned = clf.embed(TEXTS)
    before = bertr.embed(TEXTS, pretrained=str(tiny_hf), pooling="mean", seq_len=16)
    assert tuned.shape == before.shape and np.abs(tuned - before).max() > 1e-3  # weights moved in training
    head = clf.model_.get_layer("Output").get_weights()
    np.testing.assert_allclose(
        1 / (1 + np.exp(-(tuned @ head[0] + head[1]))), clf.predict_proba(TEXTS)[:, 1:], atol=1e-5
    )  # the vectors are exactly what the output layer reads


def test_bad_embedding_requests_are_clear_errors(tiny_hf, tmp_path):
    with pytest.raises(BertrError, match="pooling must be 'cls' or 'mean'"):
        bertr.embed(TEXTS, pretrained=str(tiny_hf), pooling="max")
    with pytest.raises(BertrError, match="missing"):
        bertr.embed(["fine", None], pretrained=str(tiny_hf))
    bare = write_tiny_bert(tmp_path / "bare", pooler=False)
    with pytest.raises(BertrError, match="no pooler weights.*pooling = 'mean'"):
        bertr.embed(TEXTS, pretrained=str(bare), pooling="cls", seq_len=32)
    with pytest.raises(BertrError, match="not been fitted"):
        BertClassifier().embed(TEXTS)
