"""Inference batches: padded to their longest row, packed by tokens, and predictions independent of both."""

import numpy as np

from bertr import WordPieceTokenizer, load_pretrained
from bertr.graph import build_classifier
from bertr.inference import PAD_MULTIPLE, lengths_of, padded_batch, predict_batches, prediction_batches
from bertr.training import bucketed_batches


def test_each_batch_is_padded_to_its_longest_row(tiny_hf):
    pretrained = load_pretrained(tiny_hf)
    tokenizer = WordPieceTokenizer(pretrained.vocab_path, pretrained.do_lower_case)
    texts = ["good"] * 4 + ["good coffee and great tea with chocolate"] * 4
    data = tokenizer.encode(texts, seq_len=40)
    lengths = lengths_of(data)
    batches = bucketed_batches(lengths, 4, None)
    widths = [token.shape[1] for token, segment in (padded_batch(data, rows, lengths) for rows in batches)]
    assert widths == [PAD_MULTIPLE, 16]  # 3 tokens -> 8; 10 tokens -> 16, not 40


def test_predictions_do_not_depend_on_padding_or_order(tiny_hf):
    pretrained = load_pretrained(tiny_hf)
    tokenizer = WordPieceTokenizer(pretrained.vocab_path, pretrained.do_lower_case)
    import tf_keras

    classifier = build_classifier(pretrained, 1)
    model = tf_keras.Model(classifier.inputs, classifier.get_layer("NSP-Dense").output)  # pooled [CLS]
    texts = ["great coffee", "i love this tea so much", "bad", "a waste of money and time, never again", "ok"]
    data = tokenizer.encode(texts, seq_len=32)
    bucketed = predict_batches(model, data, batch_size=2)
    full = model.predict([data.token, data.segment], verbose=0)  # fixed padding to 32, input order
    np.testing.assert_allclose(bucketed, full, atol=1e-5)
    assert np.std(full, axis=0).mean() > 1e-2  # rows differ: a mix-up of the order would show


def test_prediction_batches_hold_a_full_batch_of_tokens():
    rng = np.random.default_rng(0)
    lengths = rng.integers(3, 129, size=2000)
    lengths[:300] = 5  # many short texts
    batches = prediction_batches(lengths, 16, 128)
    assert sorted(np.concatenate(batches).tolist()) == list(range(2000))  # every row once
    widths = [-(-lengths[b].max() // PAD_MULTIPLE) * PAD_MULTIPLE for b in batches]
    # memory of one full batch
    assert all(len(b) * min(w, 128) <= 16 * 128 for b, w in zip(batches, widths, strict=True))
    assert max(len(b) for b in batches) > 16 * 8  # short texts go in bigger batches
    # sorted by length
    assert all(lengths[b].max() <= lengths[c].min() for b, c in zip(batches, batches[1:], strict=False))
    assert prediction_batches(np.array([], dtype=int), 16, 128) == []
