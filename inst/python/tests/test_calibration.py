"""Calibrated probabilities: the expected calibration error (against a plain per-bin computation), the temperature
(against a brute-force grid), and on fitted tiny models: the temperature used by every prediction and kept by
save/load, rankings and decisions unchanged, clear errors."""

import json
import math
from pathlib import Path

import numpy as np
import pytest

from bertr import BertClassifier, BertrError, calibration
from bertr.metrics import roc_auc
from bertr.tasks import Task
from bertr.testing import NEGATIVE, POSITIVE, toy_data

HELD_OUT = POSITIVE + NEGATIVE
TINY = dict(seq_len=16, batch_size=8, validation_split=0, seed=1)


def plain_ece(predicted, observed, bins=15):
    """The ECE written out: for each bin [b/15, (b+1)/15) (the last also 1), |mean predicted - mean observed|
    weighted by the bin's share of rows."""
    total = 0.0
    for b in range(bins):
        lower, upper = b / bins, (b + 1) / bins
        inside = [
            (p, o)
            for p, o in zip(predicted, observed, strict=True)
            if lower <= p < upper or (b == bins - 1 and p == 1.0)
        ]
        if inside:
            gap = abs(sum(p for p, _ in inside) / len(inside) - sum(o for _, o in inside) / len(inside))
            total += len(inside) / len(predicted) * gap
    return total


def test_ece_equals_the_plain_computation():
    assert calibration.expected_calibration_error([1, 0, 1, 1], [0.9, 0.9, 0.1, 1.0]) == pytest.approx(
        # bin 13 (0.9, 0.9): predicted 0.9, observed 0.5; bin 1 (0.1): 0.1 vs 1; bin 14 (1.0): 1 vs 1
        2 / 4 * 0.4 + 1 / 4 * 0.9 + 0
    )
    rng = np.random.default_rng(0)
    p = rng.random(300)
    y = (rng.random(300) < p**2).astype(float)
    assert calibration.expected_calibration_error(y, p) == pytest.approx(plain_ece(p, y))
    soft = rng.random(300)  # soft targets: the observed mean fraction
    assert calibration.expected_calibration_error(soft, p) == pytest.approx(plain_ece(p, soft))
    # multiclass: top-label confidence against accuracy
    prob = rng.dirichlet([1, 1, 1], 200)
    classes = rng.integers(0, 3, 200)
    top = prob.argmax(1)
    expected = plain_ece(prob.max(1), (top == classes).astype(float))
    assert calibration.expected_calibration_error(classes, prob, "multiclass") == pytest.approx(expected)
    # multilabel: the mean of the labels' ECEs
    labels = (rng.random((200, 3)) < prob).astype(float)
    expected = np.mean([plain_ece(prob[:, j], labels[:, j]) for j in range(3)])
    assert calibration.expected_calibration_error(labels, prob, "multilabel") == pytest.approx(expected)
    assert math.isnan(calibration.expected_calibration_error([], []))


def test_reliability_bins_describe_every_bin():
    bins = calibration.reliability_bins([0.05, 0.06, 0.95, 1.0], [0, 1, 1, 1])
    assert len(bins["n"]) == 15 and sum(bins["n"]) == 4
    assert bins["n"][0] == 2 and bins["predicted"][0] == pytest.approx(0.055) and bins["observed"][0] == 0.5
    assert bins["n"][14] == 2 and bins["observed"][14] == 1
    assert math.isnan(bins["predicted"][7]) and bins["lower"][7] == pytest.approx(7 / 15)


def test_logits_are_finite_and_keep_distinct_outputs_distinct():
    near_one = np.float32(1) - np.float32(2**-24)  # float32's largest value below 1
    output = np.array([[0.0], [1e-45], [0.5], [near_one], [1.0]], dtype=np.float32)
    z = calibration.logits(output, "sigmoid")[:, 0]
    assert np.all(np.isfinite(z)) and np.all(np.diff(z) > 0) and z[2] == 0
    assert np.all(np.diff(calibration.scale(output, "sigmoid", 2.0)[:, 0]) > 0)
    soft = calibration.scale(np.array([[0.7, 0.2, 0.1, 0.0]], dtype=np.float32), "softmax", 2.0)
    assert soft.sum() == pytest.approx(1) and np.all(np.diff(soft[0]) < 0) and soft[0, 3] > 0
    assert calibration.scale(output, "sigmoid", None) is output


def grid_nll(output, target, activation, temperatures):
    """The NLL of each temperature, from the probabilities themselves (not the logits' stable form)."""
    values = []
    for t in temperatures:
        p = calibration.scale(output, activation, t)
        if activation == "sigmoid":
            with np.errstate(divide="ignore", invalid="ignore"):  # a saturated p: an infinite loss, never the best
                terms = np.where(target > 0, target * np.log(p), 0) + np.where(
                    target < 1, (1 - target) * np.log1p(-p), 0
                )
            values.append(-np.mean(terms))
        else:
            values.append(-np.mean(np.log(p[np.arange(len(p)), target[:, 0].astype(int)])))
    return np.asarray(values)


@pytest.mark.parametrize("case", ["binary", "soft", "multiclass", "under-confident"])
def test_the_temperature_is_the_best_of_a_brute_force_grid(case):
    rng = np.random.default_rng(1)
    n = 400
    if case == "multiclass":
        z = rng.normal(0, 3, (n, 4))
        truth = np.exp(z / 2) / np.exp(z / 2).sum(1, keepdims=True)  # the truth is softer than the outputs: T = 2
        target = np.array([[rng.choice(4, p=row)] for row in truth], dtype=np.float64)
        output, activation = (np.exp(z) / np.exp(z).sum(1, keepdims=True)).astype(np.float32), "softmax"
    else:
        z = rng.normal(0, 1 if case == "under-confident" else 3, (n, 1))
        truth = 1 / (1 + np.exp(-z * (3 if case == "under-confident" else 0.4)))
        target = truth if case == "soft" else (rng.random((n, 1)) < truth).astype(np.float64)
        output, activation = (1 / (1 + np.exp(-z))).astype(np.float32), "sigmoid"
    fitted = calibration.fit_temperature(output, target, activation)
    grid = np.exp(np.linspace(np.log(0.05), np.log(20), 4001))  # steps of 0.15%
    nll = grid_nll(output, target, activation, grid)
    best = grid[nll.argmin()]
    t = fitted["temperature"]
    assert t == pytest.approx(best, rel=3e-3)
    assert grid_nll(output, target, activation, [t])[0] <= nll.min() + 1e-12
    assert (t < 1) == (case == "under-confident") and fitted["warnings"] == []
    assert calibration.log_loss(output, target, activation) == pytest.approx(
        grid_nll(output, target, activation, [1])[0]
    )


def test_temperatures_that_do_not_exist_are_named():
    separated = np.array([[0.9], [0.8], [0.3], [0.1]], dtype=np.float32)
    with pytest.raises(BertrError, match="decides all 4 held-out rows right.*more \\(or other\\) held-out"):
        calibration.fit_temperature(separated, np.array([[1.0], [1.0], [0.0], [0.0]]), "sigmoid")
    backwards = calibration.fit_temperature(separated, np.array([[0.0], [0.0], [1.0], [1.0]]), "sigmoid")
    assert backwards["temperature"] == pytest.approx(100) and "upper end (100)" in backwards["warnings"][0]
    with pytest.raises(BertrError, match="needs labelled rows"):
        calibration.fit_temperature(np.zeros((0, 1)), np.zeros((0, 1)), "sigmoid")


def test_task_checks_and_saves_its_temperature_only_when_set():
    binary = Task("binary", ["no", "yes"])
    assert "temperature" not in binary.to_dict() and "calibration" not in binary.to_dict()
    assert Task(**binary.to_dict()).temperature is None  # a model saved before calibration, read back
    binary.temperature, binary.calibration = 2.0, {"n": 3}
    assert Task(**binary.to_dict()) == binary
    for bad in (0, -1.0, math.inf, math.nan, "2", True):
        with pytest.raises(BertrError, match="temperature must be a finite number > 0"):
            binary.check_temperature(bad)
    with pytest.raises(BertrError, match="calibration applies to classifiers .*not to a regression model"):
        Task("regression").check_temperature(None)
    # a threshold moves with the temperature so that it decides as before; 0.5 stays 0.5
    binary.threshold = 0.8
    moved = binary.moved_threshold(4.0)  # from T = 2 to T = 4: logit(0.8) * 2 / 4
    assert moved == pytest.approx(1 / (1 + np.exp(-np.log(4) / 2)))
    assert Task("multilabel", ["a", "b"], threshold=[0.5, 0.2]).moved_threshold(2.0)[0] == pytest.approx(0.5)


@pytest.fixture(scope="module")
def fitted(tiny_hf):
    texts, labels = toy_data()
    clf = BertClassifier(pretrained=str(tiny_hf), epochs=3, learning_rate=1e-2, **TINY)
    return clf.fit(texts, labels, classes=["no", "yes"])


def noisy_labels():
    """The held-out toy reviews with three labels flipped: not perfectly separable by any score."""
    labels = ["yes"] * 10 + ["no"] * 10
    for i in (0, 3, 15):
        labels[i] = "no" if labels[i] == "yes" else "yes"
    return labels


def test_calibration_changes_probabilities_not_rankings_or_decisions(fitted, tmp_path):
    labels = noisy_labels()
    facts = fitted.calibrate(HELD_OUT, labels)
    t = facts["temperature"]
    assert t > 0 and t != pytest.approx(1) and facts["n"] == 20 and facts["bins"] == 15
    assert facts["metrics"]["when"] == ["before", "after"] and facts["long_text"] == "truncate"
    loss, ece, auc, accuracy = (facts["metrics"][k] for k in ("loss", "ece", "auc", "accuracy"))
    assert loss[1] <= loss[0] and auc[0] == auc[1] and accuracy[0] == accuracy[1]
    assert len(facts["reliability"]["n"]) == 30 and sum(facts["reliability"]["n"]) == 40

    calibrated = fitted.with_temperature(t, facts)
    assert fitted.task_.temperature is None  # a copy: the original is not calibrated
    raw = fitted.predict_proba(HELD_OUT)[:, 1]
    prob = calibrated.predict_proba(HELD_OUT)[:, 1]
    expected = 1 / (1 + np.exp(-(np.log(raw) - np.log1p(-raw)) / t))
    assert np.allclose(prob, expected, rtol=1e-6) and not np.allclose(prob, raw)
    assert np.array_equal(np.argsort(raw, kind="stable"), np.argsort(prob, kind="stable"))
    truth = np.array(labels) == "yes"
    assert roc_auc(truth, prob) == roc_auc(truth, raw)
    assert calibrated.predict(HELD_OUT).tolist() == fitted.predict(HELD_OUT).tolist()  # 0.5 is a logit of 0
    assert calibrated.evaluate(HELD_OUT, labels) == pytest.approx(
        {k: v[1] for k, v in facts["metrics"].items() if k != "when"}
    )
    assert np.array_equal(calibrated.embed(HELD_OUT), fitted.embed(HELD_OUT))  # embeddings know no temperature
    assert calibrated.fitted_facts()["temperature"] == t and calibrated.fitted_facts()["calibration"]["n"] == 20
    assert fitted.fitted_facts()["temperature"] is None

    loaded = BertClassifier.load(calibrated.save(str(tmp_path / "calibrated")))
    assert loaded.task_.temperature == t and loaded.task_.calibration["metrics"] == facts["metrics"]
    assert np.array_equal(loaded.predict_proba(HELD_OUT), calibrated.predict_proba(HELD_OUT))
    again = calibrated.calibrate(HELD_OUT, labels)  # from the network's outputs: the same temperature again
    assert again["temperature"] == pytest.approx(t) and again["metrics"]["loss"][0] == loss[0]
    reset = loaded.with_temperature(None, facts)
    assert reset.task_.temperature is None and reset.task_.calibration is None
    assert np.array_equal(reset.predict_proba(HELD_OUT), fitted.predict_proba(HELD_OUT))
    plain = BertClassifier.load(fitted.save(str(tmp_path / "plain")))
    assert "temperature" not in plain.task_.to_dict()


def test_saved_calibration_facts_are_strict_json(fitted, tmp_path):
    """Empty bins' means and NaN metrics are saved as null (a bare NaN is not JSON for jq or jsonlite); a single
    warning that came back from R as one string is a list again."""
    facts = fitted.calibrate(HELD_OUT, noisy_labels())
    assert any(math.isnan(v) for v in facts["reliability"]["predicted"])  # some bins are empty
    facts["warnings"] = "one warning, as R returns a list of one"
    path = fitted.with_temperature(facts["temperature"], facts).save(str(tmp_path / "strict"))

    def refuse(constant):
        raise AssertionError(f"{constant} in manifest.json")

    manifest = json.loads((Path(path) / "manifest.json").read_text(), parse_constant=refuse)
    saved = manifest["task"]["calibration"]
    assert None in saved["reliability"]["predicted"] and saved["warnings"] == [
        "one warning, as R returns a list of one"
    ]


def test_a_threshold_in_force_decides_as_before_after_calibration(fitted):
    labels = noisy_labels()
    choice = fitted.choose_threshold(HELD_OUT, labels, metric="youden")
    tuned = fitted.with_threshold(choice["threshold"][0], choice)
    facts = tuned.calibrate(HELD_OUT, labels)
    calibrated = tuned.with_temperature(facts["temperature"], facts)
    assert calibrated.predict(HELD_OUT).tolist() == tuned.predict(HELD_OUT).tolist()
    moved = calibrated.task_.threshold
    assert moved != pytest.approx(tuned.task_.threshold) and calibrated.task_.threshold_choice["threshold"] == [moved]
    assert (
        facts["metrics"]["accuracy"][0]
        == facts["metrics"]["accuracy"][1]
        == tuned.evaluate(HELD_OUT, labels)["accuracy"]
    )
    assert tuned.task_.threshold_choice["threshold"] == choice["threshold"]  # the original keeps its own


def test_multiclass_calibration_keeps_the_most_probable_class(tiny_hf):
    texts, labels = toy_data()
    y = [("pos" if lab == "yes" else "neg") if i % 10 < 7 else "mixed" for i, lab in enumerate(labels)]
    clf = BertClassifier(pretrained=str(tiny_hf), epochs=4, **TINY).fit(texts, y)
    held = [("pos" if i < 10 else "neg") if i % 4 else "mixed" for i in range(20)]
    facts = clf.calibrate(HELD_OUT, held)
    calibrated = clf.with_temperature(facts["temperature"], facts)
    raw, prob = clf.predict_proba(HELD_OUT), calibrated.predict_proba(HELD_OUT)
    assert np.allclose(prob.sum(1), 1) and np.array_equal(prob.argmax(1), raw.argmax(1))
    assert facts["metrics"]["accuracy"][0] == facts["metrics"]["accuracy"][1]  # the decisions stay
    # no equality of the one-vs-rest AUC: a softmax couples the classes, so dividing the logits can reorder two rows'
    # probabilities of one class (logits (1, 0, 0) and (2, 1.9, -10): class 1 at 0.58 and 0.52, at T = 10 0.36, 0.44)
    assert facts["metrics"]["loss"][1] <= facts["metrics"]["loss"][0]
    assert set(calibrated.evaluate(HELD_OUT, held)) == {"loss", "accuracy", "macro_f1", "auc", "ece"}


def test_calibration_is_refused_where_it_does_not_apply(fitted, tiny_hf):
    with pytest.raises(BertrError, match="needs labelled held-out rows, but there are none"):
        fitted.calibrate([], [])
    with pytest.raises(BertrError, match="class\\(es\\) not seen in training: maybe"):
        fitted.calibrate(HELD_OUT, ["maybe"] * 20)
    with pytest.raises(BertrError, match="temperature must be a finite number > 0"):
        fitted.with_temperature(0)
    with pytest.raises(BertrError, match="has not been fitted"):
        BertClassifier().calibrate(HELD_OUT, noisy_labels())
    regression = BertClassifier(pretrained=str(tiny_hf), epochs=1, task="regression", **TINY)
    regression.fit(["a b", "b c", "c d", "d e"], [1.0, 2.0, 3.0, 5.0])
    for call in (lambda: regression.calibrate(["a b"], [1.0]), lambda: regression.with_temperature(2.0)):
        with pytest.raises(BertrError, match="calibration applies to classifiers"):
            call()
