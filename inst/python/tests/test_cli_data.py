"""The command line's files: CSV columns read with their missing values and row numbers, labels read by what they
hold, results written atomically, and the prediction table's columns per task."""

import numpy as np
import pytest

from bertr import BertrError
from bertr.cli_data import (
    FileProblem,
    check_writable,
    handle_missing,
    label_matrix,
    labels_for_classes,
    numbers,
    parse_labels,
    prediction_table,
    read_columns,
    write_atomically,
    write_csv,
)


def test_columns_are_read_with_missing_values_row_numbers_and_nrows(tmp_path):
    path = tmp_path / "d.csv"
    path.write_text('\ufefftext,label,other\n"a, quoted\ntext",yes,1\n\n  ,no,2\nc,NA,3\nd,yes,4\n', encoding="utf-8")
    table = read_columns(str(path), {"--text": "text", "--label": ["label"], "--text-pair": None})
    assert table.columns == {"text": ["a, quoted\ntext", None, "c", "d"], "label": ["yes", "no", None, "yes"]}
    assert table.rows == [1, 2, 3, 4]  # the blank line is not a row
    assert read_columns(str(path), {"--text": "text"}, nrows=2).columns == {"text": ["a, quoted\ntext", None]}

    with pytest.raises(
        BertrError, match=r"missing values \(empty, NA\): --text 'text' in row\(s\) 2; --label 'x' in row"
    ):
        handle_missing(table, {"text": "--text 'text'", "label": "--label 'x'"}, "fail")
    told = []
    kept = handle_missing(table, {"text": "--text 'text'", "label": "--label 'x'"}, "drop", told.append)
    assert kept.rows == [1, 4] and kept.columns["text"] == ["a, quoted\ntext", "d"]
    assert told == ["dropped 2 of 4 row(s) with missing values (empty, NA): row(s) 2, 3"]


def test_file_problems_name_the_file_and_column(tmp_path):
    with pytest.raises(FileProblem, match="cannot read 'nothere.csv': no such file"):
        read_columns("nothere.csv", {"--text": "text"})
    path = tmp_path / "d.tsv"
    path.write_text("review\tscore\ngood\t1\n", encoding="utf-8")
    assert read_columns(str(path), {"--text": "review"}).columns == {"review": ["good"]}  # tab-separated
    with pytest.raises(
        FileProblem, match=r"column 'text' \(--text\) is not in '.*d.tsv'; its columns are: review, score"
    ):
        read_columns(str(path), {"--text": "text"})
    bad = tmp_path / "bad.csv"
    bad.write_text("text,label\na,b,c\n", encoding="utf-8")
    with pytest.raises(BertrError, match="line 2 has 3 fields but the header has 2"):
        read_columns(str(bad), {"--text": "text"})
    latin = tmp_path / "latin.csv"
    latin.write_bytes("text\ncaf\xe9\n".encode("latin-1"))
    with pytest.raises(FileProblem, match="not UTF-8"):
        read_columns(str(latin), {"--text": "text"})


def test_labels_are_read_by_what_they_hold():
    assert parse_labels(["1", "0", None, "1"]) == [1, 0, None, 1]  # 0/1: binary, positive 1
    assert parse_labels(["0.25", "1", "0"]) == [0.25, 1.0, 0.0]  # fractions: soft
    assert parse_labels(["TRUE", "false"]) == [True, False]
    assert parse_labels(["yes", " no", "1"]) == ["yes", "no", "1"]  # texts stay texts (yes/no are not logical)
    assert labels_for_classes(["1", "0", "2.0", "x"], [0, 1, 2]) == [1, 0, 2, "x"]
    assert labels_for_classes(["1", "2"], ["1", "2"]) == ["1", "2"]  # a model's text classes, kept as text
    assert labels_for_classes(["TRUE", "false"], [False, True]) == [True, False]
    assert numbers(["1.5", None, "true"], "--sample-weight 'w'", [1, 2, 3])[::2] == [1.5, 1.0]
    with pytest.raises(BertrError, match="--sample-weight 'w' must be numeric, but row 7 holds 'heavy'"):
        numbers(["heavy"], "--sample-weight 'w'", [7])


def test_multilabel_columns_make_a_matrix(tmp_path):
    path = tmp_path / "m.csv"
    path.write_text("t,a,b\nx,1,0\ny,0,TRUE\n", encoding="utf-8")
    table = read_columns(str(path), {"--label": ["a", "b"]})
    np.testing.assert_array_equal(label_matrix(table, ["a", "b"]), [[1.0, 0.0], [0.0, 1.0]])


def test_results_are_written_atomically_and_not_over_existing_files(tmp_path):
    target = tmp_path / "out.csv"
    assert write_csv(str(target), ["row", "prob"], [[1, 0.25], [2, 1 / 3]], overwrite=False) == str(target)
    assert target.read_text() == f"row,prob\n1,0.25\n2,{1 / 3!r}\n"
    with pytest.raises(FileProblem, match="already exists; choose a new path or add --overwrite"):
        check_writable(str(target), overwrite=False)
    with pytest.raises(FileProblem, match="does not exist"):
        check_writable(str(tmp_path / "no" / "out.csv"), overwrite=False)

    def failing(handle):
        handle.write("row,prob\n")
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        write_atomically(str(target), failing, overwrite=True)
    assert target.read_text().startswith("row,prob\n1,0.25")  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.csv"]  # and no temporary file is left


def test_prediction_columns_per_task():
    proba2 = np.array([[0.8, 0.2], [0.3, 0.7]])
    header, rows = prediction_table("binary", ["no", "yes"], proba2, np.array(["no", "yes"]), [1, 2], {})
    assert header == ["row", "prob_yes", "class"] and rows == [[1, 0.2, "no"], [2, 0.7, "yes"]]
    header, _ = prediction_table("multiclass", ["a", "b"], proba2, None, [1, 2], {"id": ["x", None]})
    assert header == ["row", "id", "prob_a", "prob_b"]
    header, rows = prediction_table("multilabel", ["a", "b"], None, np.array([[1, 0], [0, 1]]), [1, 2], {})
    assert header == ["row", "pred_a", "pred_b"] and rows[1] == [2, 0, 1]
    assert prediction_table("soft", [], np.array([0.5]), np.array([1]), [3], {})[0] == ["row", "prob", "class"]
    header, rows = prediction_table("regression", [], np.array([float("nan")]), None, [1], {})
    assert header == ["row", "value"] and rows == [[1, "NA"]]
    with pytest.raises(BertrError, match="two columns named 'class'"):
        prediction_table("binary", ["no", "yes"], proba2, np.array(["no", "yes"]), [1, 2], {"class": ["a", "b"]})
