"""bertr.metrics.bias_metrics (Jigsaw's unintended-bias benchmark) against a plain pairwise computation."""

import math

import numpy as np
import pytest

from bertr import BertrError, bias_metrics
from bertr.metrics import power_mean

NAN = float("nan")
# 10 rows: soft labels (0.7 is positive, 0.2 negative), tied scores (0.6 three times), and three identities:
# A (0.8 counts as in the subgroup), B (NaN: not in it), C (its subgroup holds positives only).
LABEL = [1, 1, 1, 0.7, 0, 0, 0.2, 0, 1, 0]
SCORE = [0.9, 0.8, 0.6, 0.6, 0.6, 0.3, 0.7, 0.1, 0.2, 0.4]
IDENTITIES = {
    "A": [1, 0, 1, 0, 1, 0.8, 0, 1, 0, 0],
    "B": [0, 1, NAN, 0, 1, 0, NAN, 0, 1, 1],
    "C": [1, 1, 0, 0, 0, 0, 0, 0, NAN, 0],
}


def pairwise_auc(label, score):
    """The share of (positive, negative) pairs ranked right, ties counting 1/2; NaN without both classes."""
    pos = [s for y, s in zip(label, score, strict=True) if y]
    neg = [s for y, s in zip(label, score, strict=True) if not y]
    if not pos or not neg:
        return NAN
    return sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in pos for n in neg) / (len(pos) * len(neg))


def reference(label, score, identities):
    positive = [y >= 0.5 for y in label]
    out = {"subgroup_auc": [], "bpsn_auc": [], "bnsp_auc": []}
    for values in identities.values():
        member = [not math.isnan(v) and v >= 0.5 for v in values]
        sets = {
            "subgroup_auc": member,
            "bpsn_auc": [(m and not p) or (not m and p) for m, p in zip(member, positive, strict=True)],
            "bnsp_auc": [(m and p) or (not m and not p) for m, p in zip(member, positive, strict=True)],
        }
        for kind, rows in sets.items():
            kept = [i for i, keep in enumerate(rows) if keep]
            out[kind].append(pairwise_auc([positive[i] for i in kept], [score[i] for i in kept]))
    return pairwise_auc(positive, score), out


def same(a, b):
    return np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=1e-12)


def test_values_equal_a_plain_pairwise_computation_and_hand_counts():
    result = bias_metrics(LABEL, SCORE, IDENTITIES)
    overall, aucs = reference(LABEL, SCORE, IDENTITIES)
    columns = result["columns"]
    assert columns["subgroup"] == ["A", "B", "C"]
    assert columns["n"] == [5, 4, 2]  # 0.8 is in A; B's and C's NaN rows are not in theirs
    for kind, values in aucs.items():
        same(columns[kind], values)
    assert result["overall_auc"] == pytest.approx(overall)
    # by hand: overall 18 of 25 pairs; A's subgroup 5.5 / 6 (one tie at 0.6); A's BPSN 6.5 / 9, BNSP 3 / 4
    assert result["overall_auc"] == pytest.approx(18 / 25)
    same(columns["subgroup_auc"], [5.5 / 6, 2 / 4, NAN])
    same(columns["bpsn_auc"], [6.5 / 9, 5 / 6, NAN])
    same(columns["bnsp_auc"], [3 / 4, 4 / 6, 1.0])


def test_one_class_aucs_are_nan_with_a_warning_and_left_out_of_the_means():
    result = bias_metrics(LABEL, SCORE, IDENTITIES)
    assert result["warnings"] == [
        "The subgroup AUC of identity 'C' is NA: its subgroup's rows are 2 rows, all positive; it is left out of "
        "the mean.",
        "The BPSN AUC of identity 'C' is NA: its subgroup's negatives with the background's positives are 3 rows, "
        "all positive; it is left out of the mean.",
    ]
    # by hand: ((11/12)^-5 + (1/2)^-5) / 2 = (1.545610 + 32) / 2 = 16.772805, to the power -1/5: 0.568958
    assert result["power_means"]["subgroup_auc"] == pytest.approx(0.568958, abs=1e-6)
    assert result["power_means"]["bpsn_auc"] == pytest.approx((((13 / 18) ** -5 + (5 / 6) ** -5) / 2) ** -0.2)
    assert result["power_means"]["bnsp_auc"] == pytest.approx(((0.75**-5 + (2 / 3) ** -5 + 1) / 3) ** -0.2)
    parts = [result["overall_auc"], *result["power_means"].values()]
    assert result["final_score"] == pytest.approx(sum(parts) / 4)
    assert result["power"] == -5


def test_power_mean_of_known_values():
    assert power_mean([0.5, 1.0], -1) == pytest.approx(2 / 3)  # the harmonic mean
    assert power_mean([0.8, NAN, 0.8], -5) == pytest.approx(0.8)
    assert math.isnan(power_mean([NAN], -5))
    with np.errstate(all="raise"):
        assert power_mean([0.0, 0.9], -5) == 0.0  # the limit, without a numpy warning


def test_no_identity_with_both_classes_makes_the_final_score_nan_with_warnings(capsys):
    result = bias_metrics(LABEL, SCORE, {"nobody": [NAN] * 10})
    assert result["columns"]["n"] == [0]
    assert all(math.isnan(result["columns"][k][0]) for k in ("subgroup_auc", "bpsn_auc", "bnsp_auc"))
    assert math.isnan(result["final_score"]) and not math.isnan(result["overall_auc"])
    assert "its subgroup's rows are 0 rows" in result["warnings"][0]
    assert result["warnings"][-1] == (
        "The final score is NA: the mean subgroup AUC, the mean BPSN AUC, the mean BNSP AUC are NA."
    )
    assert capsys.readouterr() == ("", "")  # warnings are returned, never printed


def test_bad_input_is_a_bertr_error_naming_it():
    with pytest.raises(BertrError, match=r"the label is missing \(NA\) in row\(s\) 2"):
        bias_metrics([1, None, 0], [0.1, 0.2, 0.3], {"A": [1, 1, 0]})
    with pytest.raises(BertrError, match=r"the score is missing \(NA\) in row\(s\) 3"):
        bias_metrics([1, 0, 0], [0.1, 0.2, NAN], {"A": [1, 1, 0]})
    with pytest.raises(BertrError, match="2 scores for 3 labels"):
        bias_metrics([1, 0, 0], [0.1, 0.2], {"A": [1, 1, 0]})
    with pytest.raises(BertrError, match="identity 'A' has 2 values for 3 rows"):
        bias_metrics([1, 0, 0], [0.1, 0.2, 0.3], {"A": [1, 1]})
    with pytest.raises(BertrError, match="identity 'A' must be numbers"):
        bias_metrics([1, 0, 0], [0.1, 0.2, 0.3], {"A": ["x", "y", "z"]})
    with pytest.raises(BertrError, match="no identity columns"):
        bias_metrics([1, 0, 0], [0.1, 0.2, 0.3], {})
    with pytest.raises(BertrError, match="power must be"):
        bias_metrics([1, 0, 0], [0.1, 0.2, 0.3], {"A": [1, 1, 0]}, power=0)
