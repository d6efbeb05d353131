"""Decision thresholds: choosing one on held-out data (against a brute-force search), using it in decisions and
metrics, keeping it in saved models."""

import numpy as np
import pytest

from bertr import BertClassifier, BertrError
from bertr.tasks import Task
from bertr.testing import NEGATIVE, POSITIVE, toy_data
from bertr.thresholds import choose_threshold


def brute_force(y, score):
    """Every candidate rule ``score >= t`` (t a distinct score) with its confusion counts, plainly."""
    rows = []
    for t in sorted(set(score), reverse=True):
        flagged = score >= t
        tp, fp = int(np.sum(flagged & y)), int(np.sum(flagged & ~y))
        fn, tn = int(np.sum(~flagged & y)), int(np.sum(~flagged & ~y))
        rows.append(
            {
                "t": t,
                "flagged": flagged,
                "precision": tp / (tp + fp),
                "recall": tp / (tp + fn),
                "f1": 2 * tp / (2 * tp + fp + fn),
                "youden": tp / (tp + fn) - fp / (fp + tn),
                "accuracy": (tp + tn) / len(y),
            }
        )
    return rows


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_chosen_threshold_is_the_best_rule(seed):
    rng = np.random.default_rng(seed)
    y = rng.random(60) < 0.4
    score = np.round(np.clip(0.3 * y + rng.random(60) * 0.7, 0, 1), 2)  # rounded: ties
    rules = brute_force(y, score)
    for metric in ("f1", "youden", "accuracy"):
        chosen = choose_threshold(y, score, metric)
        assert np.isclose(chosen["value"], max(r[metric] for r in rules)), metric
        rule = next(r for r in rules if np.isclose(r[metric], chosen["value"]))  # the highest t among the best
        assert np.array_equal(score >= chosen["threshold"], rule["flagged"]), metric
        assert chosen["n"] == 60 and chosen["positives"] == int(y.sum())
    target = choose_threshold(y, score, {"precision": 0.7})
    eligible = [r for r in rules if r["precision"] >= 0.7]
    assert target["precision"] >= 0.7 and np.isclose(target["recall"], max(r["recall"] for r in eligible))
    target = choose_threshold(y, score, {"recall": 0.9})
    eligible = [r for r in rules if r["recall"] >= 0.9]
    assert target["recall"] >= 0.9 and np.isclose(target["precision"], max(r["precision"] for r in eligible))
    assert np.isclose(np.mean((score >= target["threshold"])[y]), target["recall"])


def test_a_recall_target_takes_the_most_precise_threshold_not_the_highest():
    # precision is not monotone: the highest threshold reaching recall 0.5 (0.65: precision 2/3) is beaten by 0.55
    chosen = choose_threshold(np.array([True, False, True, True]), np.array([0.9, 0.8, 0.7, 0.6]), {"recall": 0.5})
    assert chosen["threshold"] == pytest.approx(0.6) and chosen["precision"] == 0.75 and chosen["recall"] == 1


def test_choosing_a_threshold_names_what_is_wrong():
    y, score = np.array([True, False, True, False]), np.array([0.9, 0.8, 0.3, 0.2])
    with pytest.raises(BertrError, match="needs both positive and negative rows, but all 2 rows are positive"):
        choose_threshold(y[[0, 2]], score[[0, 2]], "f1", "toxic")
    unreachable = r"no threshold reaches precision 0.99 on these 2 rows \(the highest is 0.500\)"
    with pytest.raises(BertrError, match=unreachable):
        choose_threshold(np.array([False, True]), np.array([0.9, 0.1]), {"precision": 0.99})
    for bad in ("auc", {"precision": 2}, {"specificity": 0.5}, 3):
        with pytest.raises(BertrError, match="metric must be one of 'f1', 'youden', 'accuracy'"):
            choose_threshold(y, score, bad)


def test_task_decisions_use_the_threshold():
    binary = Task("binary", ["no", "yes"])
    output = np.array([[0.2], [0.4], [0.7]])
    assert binary.predict(output).tolist() == ["no", "no", "yes"]
    assert binary.predict(output, 0.3).tolist() == ["no", "yes", "yes"]
    binary.threshold = 0.1
    assert binary.predict(output).tolist() == ["yes"] * 3
    assert binary.predict(output, 0.5).tolist() == ["no", "no", "yes"]  # a call's threshold wins
    assert binary.metrics(np.array([[0.0], [1.0], [1.0]]), output)["accuracy"] == pytest.approx(2 / 3)
    soft = Task("soft")
    assert soft.predict(output, 0.7).tolist() == [0, 0, 1]
    multilabel = Task("multilabel", ["a", "b"])
    assert multilabel.predict(np.array([[0.3, 0.3]]), [0.2, 0.4]).tolist() == [[1, 0]]
    with pytest.raises(BertrError, match=r"one number or one per label \(2: a, b\), not 3 numbers"):
        multilabel.predict(np.array([[0.3, 0.3]]), [0.2, 0.4, 0.5])
    with pytest.raises(BertrError, match="not to 'multiclass' \\(the most probable class is chosen\\)"):
        Task("multiclass", ["a", "b", "c"]).check_threshold(0.3)
    for bad in (0, 1, 1.5, "0.3", True):
        with pytest.raises(BertrError, match="threshold must be a probability between 0 and 1"):
            binary.check_threshold(bad)


@pytest.fixture(scope="module")
def fitted(tiny_hf):
    texts, labels = toy_data()
    clf = BertClassifier(
        pretrained=str(tiny_hf), seq_len=16, batch_size=8, epochs=3, learning_rate=1e-2, validation_split=0, seed=1
    )
    return clf.fit(texts, labels, classes=["no", "yes"])


def test_a_chosen_threshold_is_kept_used_and_saved(fitted, tmp_path):
    texts, labels = POSITIVE + NEGATIVE, ["yes"] * 10 + ["no"] * 10
    choice = fitted.choose_threshold(texts, labels, metric="youden")
    assert choice["label"] == ["yes"] and choice["metric"] == ["youden"] and choice["n"] == [20]
    cut = choice["threshold"][0]
    proba = fitted.predict_proba(texts)[:, 1]
    tuned = fitted.with_threshold(cut, choice)
    assert fitted.task_.threshold is None  # a copy: the original still decides at 0.5
    assert tuned.predict(texts).tolist() == np.where(proba >= cut, "yes", "no").tolist()
    assert fitted.predict(texts).tolist() == np.where(proba >= 0.5, "yes", "no").tolist()
    youden_accuracy = np.mean((proba >= cut) == (np.array(labels) == "yes"))
    assert tuned.evaluate(texts, labels)["accuracy"] == pytest.approx(youden_accuracy)
    loaded = BertClassifier.load(tuned.save(str(tmp_path / "tuned")))
    assert loaded.task_.threshold == cut and loaded.task_.threshold_choice["metric"] == ["youden"]
    assert loaded.predict(texts).tolist() == tuned.predict(texts).tolist()
    assert loaded.fitted_facts()["threshold"] == cut
    assert fitted.with_threshold(None).task_.threshold is None
