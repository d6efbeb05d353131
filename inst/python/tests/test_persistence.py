"""Saving and loading fitted models: bit-identical predictions, safe formats, clear errors on damage."""

import json
from pathlib import Path

import numpy as np
import pytest

import bertr.storage
from bertr import BertClassifier, BertrError, load_model
from bertr.storage import sha256_file
from bertr.testing import NEGATIVE, POSITIVE, toy_data


@pytest.fixture(scope="module")
def fitted(tiny_hf):
    texts, labels = toy_data()
    return BertClassifier(
        pretrained=str(tiny_hf), seq_len=16, batch_size=8, epochs=2, learning_rate=1e-2, validation_split=0.2, seed=1
    ).fit(texts, labels, classes=["no", "yes"])


@pytest.fixture()
def saved(fitted, tmp_path):
    return Path(fitted.save(str(tmp_path / "model"), extra={"text": "review"}))


def test_round_trip_is_bit_identical(fitted, saved):
    assert sorted(p.name for p in saved.iterdir()) == [
        "config.json",
        "manifest.json",
        "vocab.txt",
        "weights.safetensors",
    ]  # data formats only
    loaded = load_model(str(saved))
    probe = POSITIVE + NEGATIVE
    np.testing.assert_array_equal(loaded.predict_proba(probe), fitted.predict_proba(probe))
    assert list(loaded.predict(probe)) == list(fitted.predict(probe))
    assert loaded.classes_ == ["no", "yes"] and loaded.task_ == fitted.task_ and loaded.seq_len == 16
    assert loaded._record() == fitted._record()  # every fact of the fit (history, trace, kept epoch, ...)
    assert loaded.fitted_facts() == fitted.fitted_facts()
    assert loaded.saved_["extra"] == {"text": "review"}
    assert loaded.saved_["versions"]["keras-bert"] == "0.89.0"


def test_multiclass_pairs_round_trip(tiny_hf, tmp_path):
    texts, labels = toy_data(2)
    topics = ["a", "b", "c", "d"] * (len(texts) // 4)
    clf = BertClassifier(
        pretrained=str(tiny_hf), seq_len=24, batch_size=8, epochs=1, validation_split=0, dropout=0.0
    ).fit(texts, topics, pairs=labels)
    loaded = BertClassifier.load(clf.save(str(tmp_path / "m")))
    np.testing.assert_array_equal(loaded.predict_proba(texts, pairs=labels), clf.predict_proba(texts, pairs=labels))
    with pytest.raises(BertrError, match="trained on text pairs"):
        loaded.predict_proba(texts)


def test_truncated_weights_are_a_clear_error(saved):
    weights = saved / "weights.safetensors"
    weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 2])
    with pytest.raises(BertrError, match="weights.safetensors has .* bytes but .* saved; the file was truncated"):
        load_model(str(saved))


def test_edited_config_is_a_clear_error(saved):
    config_path = saved / "config.json"
    config = json.loads(config_path.read_text())
    config["hidden_size"] = 64
    config_path.write_text(json.dumps(config))
    with pytest.raises(BertrError, match="config.json (does not match its checksum|has .* bytes).* modified"):
        load_model(str(saved))
    # edited together with its checksum: the weights' shapes give it away
    manifest = json.loads((saved / "manifest.json").read_text())
    manifest["files"]["config.json"] = {"sha256": sha256_file(config_path), "bytes": config_path.stat().st_size}
    (saved / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(BertrError, match=r"has shape \(.*\) but the model described by its config needs"):
        load_model(str(saved))


def test_not_a_saved_model(tmp_path, tiny_hf):
    with pytest.raises(BertrError, match="does not exist"):
        load_model(str(tmp_path / "nothing"))
    with pytest.raises(BertrError, match="manifest.json is missing"):
        load_model(str(tiny_hf))


def test_save_refuses_to_overwrite_and_is_atomic(fitted, saved, tmp_path, monkeypatch):
    with pytest.raises(BertrError, match="already exists"):
        fitted.save(str(saved))
    before = sha256_file(saved / "weights.safetensors")

    def failing(path, arrays):
        raise OSError("disk full")

    monkeypatch.setattr("bertr.persistence.write_arrays", failing)
    with pytest.raises(BertrError, match="cannot write .*model: disk full"):
        fitted.save(str(saved), overwrite=True)
    with pytest.raises(BertrError, match="disk full"):
        fitted.save(str(tmp_path / "new"))
    assert sha256_file(saved / "weights.safetensors") == before  # the old save is intact
    assert not (tmp_path / "new").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left behind
    monkeypatch.setattr("bertr.persistence.write_arrays", bertr.storage.write_arrays)
    fitted.save(str(saved), overwrite=True)
    load_model(str(saved))


def test_unfitted_model_cannot_be_saved(tmp_path):
    with pytest.raises(BertrError, match="not been fitted"):
        BertClassifier().save(str(tmp_path / "m"))


def test_mean_pooled_model_round_trips(tiny_hf, tmp_path):
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
    assert clf.pooling_ == "mean" and "Mean-Pool" in {layer.name for layer in clf.model_.layers}
    path = Path(clf.save(str(tmp_path / "m")))
    assert json.loads((path / "manifest.json").read_text())["head"]["pooling"] == "mean"
    loaded = load_model(str(path))
    assert loaded.pooling_ == "mean"
    np.testing.assert_array_equal(loaded.predict_proba(texts), clf.predict_proba(texts))


def test_a_model_saved_before_the_kept_epoch_and_monitor_were_recorded_gets_them_derived(fitted, saved):
    manifest = json.loads((saved / "manifest.json").read_text())
    del manifest["fitted"]["kept_epoch"], manifest["fitted"]["monitor"]
    (saved / "manifest.json").write_text(json.dumps(manifest))  # the manifest is not in its own checksum list
    loaded = load_model(str(saved))
    assert loaded.kept_epoch_ == fitted.kept_epoch_ == len(fitted.history_)
    assert loaded.monitor_ == fitted.monitor_ == "val_auc"  # derived as fit() does: the task's usual metric
