"""int8 prediction (bertr.quantization): ONNX Runtime's int8 network in place of the Keras one, same batches and
outputs. Tolerances: probabilities within 0.05 of the float32 model's on these short texts (a model fine-tuned on
800 reviews: 0.034 at most on 1,000 test reviews; the benchmark's, on 4,000: 0.12 at most, bench/result.json),
embeddings with cosine similarity >= 0.97 to the float32 ones (0.984
at least here)."""

import sys

import numpy as np
import pytest

from bertr import BertClassifier, quantization
from bertr.errors import BertrError
from bertr.testing import NEGATIVE, POSITIVE, toy_data

pytest.importorskip("onnxruntime", reason="int8 prediction's optional onnxruntime is not installed")
pytest.importorskip("tf2onnx", reason="int8 prediction's optional tf2onnx is not installed")

PROBE = POSITIVE + NEGATIVE + ["coffee " * 40 + "great", "Café CRÈME 😀 [SEP] tea", "tea"]
TOLERANCE = 0.05


def tiny(tiny_hf, **settings):
    base = {"pretrained": str(tiny_hf), "seq_len": 16, "batch_size": 8, "epochs": 1, "learning_rate": 1e-2, "seed": 1}
    return BertClassifier(**{**base, **settings})


def cosine(a, b):
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


@pytest.fixture(scope="module")
def embedded():
    """The embedded model (real weights and vocabulary), briefly fine-tuned."""
    texts, labels = toy_data(2)
    return BertClassifier(seq_len=32, batch_size=8, epochs=1, validation_split=0, seed=1).fit(texts, labels)


def test_int8_predicts_as_float32_on_the_embedded_model(embedded):
    texts = PROBE * 5  # 65 rows: several length-sorted batches, given back in input order
    fp32 = embedded.predict_proba(texts)
    int8 = embedded.predict_proba(texts, precision="int8")
    assert int8.shape == fp32.shape and int8.dtype == fp32.dtype
    np.testing.assert_allclose(int8, fp32, atol=TOLERANCE)
    assert np.abs(int8 - fp32).max() > 0  # really another network
    # rows keep their order (copies of a text agree within 0.01: activations are quantized per batch)
    np.testing.assert_allclose(int8[: len(PROBE)], int8[len(PROBE) : 2 * len(PROBE)], atol=0.01)
    decided = embedded.predict(texts, precision="int8")
    np.testing.assert_array_equal(decided, np.where(int8[:, 1] >= 0.5, "yes", "no"))
    both = embedded.predict_both(texts, precision="int8")
    np.testing.assert_array_equal(both[0], int8)
    np.testing.assert_array_equal(both[1], decided)
    metrics = embedded.evaluate(*toy_data(1), precision="int8")
    assert abs(metrics["auc"] - embedded.evaluate(*toy_data(1))["auc"]) <= 0.05
    vectors = embedded.embed(texts[:20], precision="int8")
    assert vectors.shape == (20, 384)
    assert cosine(vectors, embedded.embed(texts[:20])).min() >= 0.97  # measured: 0.984 at least


def test_the_int8_network_is_converted_once_per_model(embedded, monkeypatch):
    embedded.predict_proba(["tea"], precision="int8")  # converted (or already)

    def fail(classifier, kind):
        raise AssertionError("converted again")

    monkeypatch.setattr(quantization, "_convert_in_child", fail)
    embedded.predict_proba(["coffee", "tea"], precision="int8")


@pytest.mark.parametrize(
    ("label", "settings"),
    [
        ("multiclass", {"long_text": "window", "stride": 4, "window_pooling": "max"}),
        ("multilabel", {}),
        ("regression", {"task": "regression"}),
    ],
)
def test_int8_follows_each_task_and_window_setting(tiny_hf, label, settings):
    texts = (POSITIVE + NEGATIVE) * 2
    n = len(texts)
    labels = {
        "multiclass": [["a", "b", "c"][i % 3] for i in range(n)],
        "multilabel": [[i % 2, (i // 2) % 2] for i in range(n)],
        "regression": [float(i % 5) for i in range(n)],
    }[label]
    clf = tiny(tiny_hf, **settings).fit(texts, labels)
    fp32, int8 = clf.predict_proba(PROBE), clf.predict_proba(PROBE, precision="int8")
    assert int8.shape == fp32.shape
    scale = 1.0 if label != "regression" else max(1.0, float(np.abs(fp32).max()))
    np.testing.assert_allclose(int8, fp32, atol=TOLERANCE * scale)
    if label == "multiclass":
        np.testing.assert_allclose(int8.sum(axis=1), 1.0, atol=1e-5)  # windows' max renormalised, as float32


def test_no_texts_and_bad_settings_need_no_conversion(tiny_hf, monkeypatch):
    clf = tiny(tiny_hf).fit(*toy_data(1))

    def fail(classifier, kind):
        raise AssertionError("converted")

    monkeypatch.setattr(quantization, "_convert_in_child", fail)
    assert clf.predict_proba([], precision="int8").shape == (0, 2)
    with pytest.raises(BertrError, match="window_pooling"):
        clf.predict_proba(["tea"], precision="int8", long_text="window", window_pooling="median")
    with pytest.raises(BertrError, match="batch_size"):
        clf.predict_proba(["tea"], precision="int8", batch_size=-1)


def test_the_child_process_gets_the_users_library_path_not_rs(monkeypatch):
    monkeypatch.setenv("R_HOME", "/usr/lib/R")
    monkeypatch.setenv("LD_LIBRARY_PATH", "/usr/lib/R/lib:/opt/mine")
    monkeypatch.setenv("BERTR_USER_LIBRARY_PATH", "/opt/mine")
    monkeypatch.setenv("TF_CONFIG", "{}")
    env = quantization._child_environment()
    assert env["LD_LIBRARY_PATH"] == "/opt/mine" and "TF_CONFIG" not in env and env["CUDA_VISIBLE_DEVICES"] == ""
    monkeypatch.setenv("BERTR_USER_LIBRARY_PATH", "")
    assert "LD_LIBRARY_PATH" not in quantization._child_environment()
    monkeypatch.delenv("R_HOME")
    assert quantization._child_environment()["LD_LIBRARY_PATH"] == "/usr/lib/R/lib:/opt/mine"  # not under R


def test_precision_is_checked_before_the_work(tiny_hf, monkeypatch):
    clf = tiny(tiny_hf).fit(*toy_data(1))
    with pytest.raises(BertrError, match='precision must be "model" .* or "int8", not \'int4\''):
        clf.predict(["tea"], precision="int4")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # an import of it now fails
    with pytest.raises(BertrError, match="needs the optional Python packages onnxruntime.*install_bertr"):
        clf.predict_proba(["tea"], precision="int8")
    with pytest.raises(BertrError, match="not been fitted"):
        BertClassifier().predict(["tea"], precision="int8")


def test_a_mixed_precision_model_is_refused(tiny_hf):
    clf = tiny(tiny_hf, precision="mixed_bfloat16").fit(*toy_data(1))
    with pytest.raises(BertrError, match="needs a model fitted in float32"):
        clf.predict_proba(["tea"], precision="int8")


def test_the_command_line_predicts_in_int8(tiny_hf, tmp_path):
    from bertr import cli

    clf = tiny(tiny_hf).fit(*toy_data(1))
    saved = clf.save(str(tmp_path / "saved"), extra={"text": "review", "label": "sentiment"})
    (tmp_path / "new.csv").write_text("review\n" + "\n".join(PROBE) + "\n", encoding="utf-8")
    out = tmp_path / "pred.csv"
    args = ["predict", saved, str(tmp_path / "new.csv"), "--precision", "int8", "--output", str(out), "--quiet"]
    assert cli.main(args) == cli.EXIT_OK
    rows = out.read_text(encoding="utf-8").splitlines()[1:]
    written = np.array([float(row.split(",")[1]) for row in rows])
    expected = BertClassifier.load(saved).predict_proba(PROBE, precision="int8")[:, 1]
    np.testing.assert_allclose(written, expected, atol=1e-6)
    assert np.abs(written - clf.predict_proba(PROBE)[:, 1]).max() > 0  # not the float32 network's
