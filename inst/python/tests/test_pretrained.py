"""Pretrained weights: both directory layouts and the embedded model load into a keras-bert encoder whose
hidden states equal a numpy reference BERT (exact erf GELU); broken directories give clear errors."""

import json
import shutil

import numpy as np
import pytest
from reference import bert_hidden_states

from bertr import BertrError, WordPieceTokenizer, load_pretrained
from bertr.embedded import embedded_model_dir, sha256_verified
from bertr.graph import load_encoder
from bertr.pretrained import detect_layout, hf_to_google_name
from bertr.storage import sha256_file
from bertr.testing import google_to_hf_name

SENTENCES = [
    "This coffee is excellent, I would buy it again!",
    "The chocolate was stale and the box arrived damaged.",
    "Not bad.",
    "Naïve café owners sell überpriced tea in Zürich; 東京 too.",
]


def _check_against_reference(pretrained, texts, seq_len=32, atol=1e-4):
    tokenizer = WordPieceTokenizer(pretrained.vocab_path, pretrained.do_lower_case)
    encoded = tokenizer.encode(texts, seq_len)
    encoder = load_encoder(pretrained)
    got = encoder.predict([encoded.token, encoded.segment], verbose=0)
    want = bert_hidden_states(pretrained.weights, pretrained.config, encoded.token, encoded.segment)
    real = encoded.token > 0
    assert real.sum() > len(texts) * 3
    diff = np.abs(got[real] - want[real]).max()
    assert diff < atol, f"max abs difference to the numpy reference: {diff}"
    return got[real]


@pytest.mark.parametrize("layout", ["tiny_hf", "tiny_google"])
def test_tiny_checkpoint_matches_reference(layout, request):
    pretrained = load_pretrained(request.getfixturevalue(layout))
    assert pretrained.layout == ("huggingface" if layout == "tiny_hf" else "google")
    assert pretrained.has_pooler
    _check_against_reference(pretrained, SENTENCES)


def test_both_layouts_give_identical_weights(tiny_hf, tiny_google):
    hf, google = load_pretrained(tiny_hf), load_pretrained(tiny_google)
    assert hf.weights.keys() == google.weights.keys()
    for name in hf.weights:
        np.testing.assert_array_equal(hf.weights[name], google.weights[name], err_msg=name)


def test_embedded_model_matches_reference_on_real_sentences():
    pretrained = load_pretrained(None)
    assert pretrained.layout == "embedded"
    assert pretrained.config.num_hidden_layers == 6 and pretrained.config.hidden_size == 384
    assert pretrained.do_lower_case and pretrained.has_pooler
    hidden = _check_against_reference(pretrained, SENTENCES, seq_len=40)
    assert hidden.std() > 0.1  # real activations, not zeros


def test_exact_gelu_is_used_not_tanh_approximation(tiny_hf):
    """With keras-bert's default tanh GELU the tiny model would miss the reference by more than 1e-4."""
    from bertr.graph import ACTIVATIONS, gelu_exact

    assert ACTIVATIONS["gelu"] is gelu_exact
    x = np.linspace(-4, 4, 101).astype(np.float32)
    import math

    np.testing.assert_allclose(
        gelu_exact(x).numpy(), [0.5 * v * (1 + math.erf(v / math.sqrt(2))) for v in x], atol=1e-6
    )


def test_hf_names_round_trip(tiny_hf):
    for name in load_pretrained(tiny_hf).weights:
        assert hf_to_google_name(google_to_hf_name(name)) == name
        assert hf_to_google_name("bert." + google_to_hf_name(name)) == name  # BertFor... prefixes
    assert hf_to_google_name("embeddings.position_ids") is None
    assert hf_to_google_name("cls.predictions.bias") is None


def test_embedded_model_is_verified_by_sha256():
    path = embedded_model_dir()
    assert sha256_file(path / "vocab.txt").startswith("07eced37")


def test_missing_file_is_named(tiny_hf, tmp_path):
    broken = shutil.copytree(tiny_hf, tmp_path / "broken")
    (broken / "vocab.txt").unlink()
    with pytest.raises(BertrError, match="missing vocab.txt"):
        load_pretrained(broken)


def test_not_a_bert_dir(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(BertrError, match="not a BERT model directory"):
        detect_layout(tmp_path)
    with pytest.raises(BertrError, match="does not exist"):
        load_pretrained(tmp_path / "nope")


def test_vocab_not_matching_config(tiny_hf, tmp_path):
    broken = shutil.copytree(tiny_hf, tmp_path / "broken")
    with open(broken / "vocab.txt", "a", encoding="utf-8") as handle:
        handle.write("extra\n")
    with pytest.raises(BertrError, match="vocab.txt has .* entries but the config says vocab_size"):
        load_pretrained(broken)


def test_config_not_matching_weights(tiny_google, tmp_path):
    broken = shutil.copytree(tiny_google, tmp_path / "broken")
    config = json.loads((broken / "bert_config.json").read_text())
    config["hidden_size"] = 32
    (broken / "bert_config.json").write_text(json.dumps(config))
    with pytest.raises(BertrError, match="config does not match the weights"):
        load_pretrained(broken)


def test_truncated_safetensors(tiny_hf, tmp_path):
    broken = shutil.copytree(tiny_hf, tmp_path / "broken")
    data = (broken / "model.safetensors").read_bytes()
    (broken / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(BertrError, match="cannot read .*model.safetensors"):
        load_pretrained(broken)


def test_corrupt_google_checkpoint(tiny_google, tmp_path):
    broken = shutil.copytree(tiny_google, tmp_path / "broken")
    data_file = next(broken.glob("bert_model.ckpt.data-*"))
    data_file.write_bytes(data_file.read_bytes()[:100])
    with pytest.raises(BertrError, match="cannot read the TF checkpoint"):
        load_pretrained(broken)


def test_sha256_is_cached_until_the_file_changes(tmp_path):

    file = tmp_path / "weights.bin"
    file.write_bytes(b"a" * 1000)
    first = sha256_verified(file)
    assert first == sha256_file(file) == sha256_verified(file)
    file.write_bytes(b"b" * 1001)
    assert sha256_verified(file) == sha256_file(file) != first
