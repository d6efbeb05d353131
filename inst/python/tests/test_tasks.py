"""Task detection and label mapping, and each task trained end to end on a tiny model."""

import numpy as np
import pytest

from bertr import BertClassifier, BertrError
from bertr.tasks import Task, make_task
from bertr.testing import NEGATIVE, POSITIVE, toy_data


@pytest.mark.parametrize(
    "y,task,name,classes",
    [
        (["no", "yes", "no"], None, "binary", ["no", "yes"]),
        ([True, False, True], None, "binary", [False, True]),
        ([0, 1, 1], None, "binary", [0, 1]),
        ([0.0, 0.25, 1.0], None, "soft", []),
        (["a", "b", "c", "a"], None, "multiclass", ["a", "b", "c"]),
        ([[0, 1], [1, 0], [1, 1]], None, "multilabel", ["label1", "label2"]),
        ([1.5, 3.0, 10.0], "regression", "regression", []),
        (["no", "yes"], "multiclass", "multiclass", ["no", "yes"]),
    ],
)
def test_task_detection(y, task, name, classes):
    detected = make_task(y, task)
    assert detected.name == name and detected.classes == classes


def test_given_classes_fix_the_order():
    task = make_task(["lo", "hi", "mid"], classes=["lo", "mid", "hi"])
    assert task.classes == ["lo", "mid", "hi"]
    np.testing.assert_array_equal(task.encode(["hi", "lo"]).ravel(), [2, 0])


@pytest.mark.parametrize(
    "y,task,message",
    [
        (["a", "b"], "nonsense", "unknown task 'nonsense'"),
        ([0.2, 1.4, 0.5], "soft", r"must lie in \[0, 1\], but row 2 has 1.4"),
        (["a", "b", "c"], "binary", "needs 2 classes"),
        (["a", "b"], "regression", "needs a numeric label"),
        ([[0, 1], [0, 0], [0, 1]], None, "label1 have only one value"),
        ([[0, 2], [1, 0]], None, "only 0/1"),
        ([3, 3, 3], "regression", "only one value"),
    ],
)
def test_bad_labels(y, task, message):
    with pytest.raises(BertrError, match=message):
        make_task(y, task)


def _fit(tiny_hf, texts, y, **kw):
    params = dict(
        pretrained=str(tiny_hf), seq_len=16, batch_size=8, epochs=8, learning_rate=1e-2, validation_split=0.2, seed=2
    )
    params.update({k: kw.pop(k) for k in list(kw) if k in params or k == "task"})
    return BertClassifier(**params).fit(texts, y, **kw)


def test_soft_labels(tiny_hf):
    texts, labels = toy_data()
    y = [0.9 if label == "yes" else 0.1 for label in labels]
    clf = _fit(tiny_hf, texts, y)
    assert clf.task_.name == "soft"
    proba = clf.predict_proba(POSITIVE + NEGATIVE)
    assert proba.shape == (20,)
    assert proba[:10].mean() > proba[10:].mean() + 0.2
    assert {"val_auc", "val_accuracy"} <= set(clf.history_columns())


def test_multiclass(tiny_hf):
    texts, labels = toy_data()
    y = [("pos" if lab == "yes" else "neg") if i % 10 < 7 else "mixed" for i, lab in enumerate(labels)]
    clf = _fit(tiny_hf, texts, y, epochs=10)
    assert clf.task_.name == "multiclass" and clf.classes_ == ["mixed", "neg", "pos"]
    proba = clf.predict_proba(POSITIVE + NEGATIVE)
    assert proba.shape == (20, 3) and np.allclose(proba.sum(1), 1)
    pred = clf.predict(POSITIVE + NEGATIVE)
    truth = np.asarray(y[:20], dtype=object)
    assert np.mean(pred == truth) > 0.5  # a constant guess gets at most 0.35
    assert "val_macro_f1" in clf.history_columns()


def test_multilabel(tiny_hf):
    texts, labels = toy_data()
    y = np.column_stack([[lab == "yes" for lab in labels], [("coffee" in t or "tea" in t) for t in texts]])
    clf = _fit(tiny_hf, texts, y.astype(int), label_names=["positive", "drink"], epochs=20, seed=1)
    assert clf.task_.name == "multilabel" and clf.classes_ == ["positive", "drink"]
    proba = clf.predict_proba(POSITIVE + NEGATIVE)
    assert proba.shape == (20, 2)
    assert clf.predict(POSITIVE + NEGATIVE).shape == (20, 2)
    from bertr.metrics import roc_auc

    # beyond a constant (0.5): the keyword label is easy, sentiment is hard for a random tiny model
    aucs = [roc_auc(y[:20, j], proba[:, j]) for j in range(2)]
    assert aucs[1] > 0.9 and np.mean(aucs) > 0.75


def test_regression(tiny_hf):
    texts, labels = toy_data()
    y = [5.0 if label == "yes" else 1.0 for label in labels]
    clf = _fit(tiny_hf, texts, y, task="regression", epochs=10)
    pred = clf.predict(POSITIVE + NEGATIVE)
    assert pred.shape == (20,)
    assert pred[:10].mean() > pred[10:].mean() + 1.0
    assert {"val_rmse", "val_r2"} <= set(clf.history_columns())


def test_pairs_and_weights(tiny_hf):
    texts, labels = toy_data(2)
    second = ["product"] * len(texts)
    clf = _fit(
        tiny_hf,
        texts,
        labels,
        pairs=second,
        class_weight="balanced",
        sample_weight=np.linspace(0.5, 1.5, len(texts)),
        epochs=2,
    )
    assert clf.predict_proba(texts[:3], pairs=second[:3]).shape == (3, 2)
    with pytest.raises(BertrError, match="trained on text pairs"):
        clf.predict(texts[:3])
    with pytest.raises(BertrError, match="class_weight lacks a weight for class"):
        _fit(tiny_hf, texts, labels, class_weight={"yes": 2.0}, epochs=1)
    with pytest.raises(BertrError, match=r"sample_weight must be a finite number >= 0 .*, but row\(s\) 2 hold -1"):
        _fit(tiny_hf, texts, labels, sample_weight=[1.0, -1.0] + [1.0] * (len(texts) - 2), epochs=1)


def test_class_names_are_written_as_r_writes_them():
    assert Task("binary", classes=[0.0, 1.0]).class_names() == ["0", "1"]  # a 0/1 column arrives from R as floats
    assert Task("multiclass", classes=[0.5, 2.0, "b"]).class_names() == ["0.5", "2", "b"]
    assert Task("binary", classes=["FALSE", "TRUE"]).class_names() == ["FALSE", "TRUE"]
