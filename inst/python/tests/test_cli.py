"""``python -m bertr``: train, predict and evaluate over CSV files, run as a shell user runs them (new processes on a
tiny random BERT), with their exit statuses and messages; the options derived from BertClassifier's signature; and
multi-label data, errors and interruptions through ``cli.main`` in this process (no TensorFlow start per case)."""

import argparse
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bertr import BertClassifier, BertrError, cli, cli_commands, cli_settings
from bertr.testing import NEGATIVE, POSITIVE

PYTHON_DIR = Path(__file__).resolve().parents[1]  # inst/python
FAST = ["--epochs", "1", "--seq-len", "16", "--validation-split", "0", "--batch-size", "8"]


def bertr(*args, cwd):
    """``python -m bertr ARGS`` in a new process, as a shell user runs it."""
    env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR)}
    command = [sys.executable, "-m", "bertr", *map(str, args)]
    return subprocess.run(command, capture_output=True, text=True, cwd=cwd, env=env, timeout=300)


def write_csv(path, header, rows):
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def read_csv(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def work(tmp_path_factory):
    return tmp_path_factory.mktemp("cli")


@pytest.fixture(scope="module")
def reviews(work):
    """Toy reviews with an id, a text and a label column (labels yes/no), as a CSV file."""
    texts = (POSITIVE + NEGATIVE) * 2
    labels = (["yes"] * len(POSITIVE) + ["no"] * len(NEGATIVE)) * 2
    rows = [[f"id{i}", text, label] for i, (text, label) in enumerate(zip(texts, labels, strict=True))]
    return write_csv(work / "reviews.csv", ["id", "review", "sentiment"], rows)


@pytest.fixture(scope="module")
def trained(work, reviews, tiny_hf):
    """``train`` run once; its result (the process) and the model directory."""
    done = bertr(
        "train",
        reviews,
        "--text",
        "review",
        "--label",
        "sentiment",
        "--pretrained",
        tiny_hf,
        *FAST,
        "--output",
        "model",
        cwd=work,
    )
    assert done.returncode == 0, done.stderr
    return done, work / "model"


def test_help_lists_the_commands_and_the_exit_statuses(work):
    done = bertr("--help", cwd=work)
    assert done.returncode == 0
    for word in ("train", "predict", "evaluate", "info", "tokenize", "exit status", "--debug for the traceback"):
        assert word in done.stdout
    train = bertr("train", "--help", cwd=work)
    assert train.returncode == 0
    for group in ("data:", "model settings:", "training settings:", "distribution settings:", "output:", "examples:"):
        assert group in train.stdout
    assert "--seq-len N" in train.stdout and "(default: 128)" in train.stdout
    for setting in cli_settings.settings_of(BertClassifier):  # every setting, also those added later
        assert setting.flag in train.stdout


def test_the_command_line_starts_without_tensorflow(work):
    code = "import sys, bertr.cli; print(','.join(m for m in ('tensorflow', 'tf_keras') if m in sys.modules))"
    env = {**os.environ, "PYTHONPATH": str(PYTHON_DIR)}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=work, check=True)
    assert done.stdout.strip() == ""  # --help and input errors stay fast; TensorFlow starts with a model


def test_train_saves_a_model_that_loads_with_its_columns(trained):
    done, model = trained
    assert "Epoch 1/1: loss" in done.stderr  # progress, on stderr
    assert "task:       binary (classes no, yes; positive: yes)" in done.stdout
    assert f"saved to:   {model}" in done.stdout
    loaded = BertClassifier.load(str(model))
    assert loaded.task_.name == "binary" and loaded.classes_ == ["no", "yes"]
    assert loaded.seq_len == 16 and loaded.epochs == 1
    assert loaded.saved_["extra"] == {"text": "review", "text_pair": None, "label": ["sentiment"]}


def test_predict_writes_one_row_per_input_row_equal_to_predict_proba(trained, reviews, work):
    _, model = trained
    done = bertr("predict", model, reviews, "--keep", "id", "--output", "pred.csv", cwd=work)
    assert done.returncode == 0, done.stderr
    rows = read_csv(work / "pred.csv")
    data = read_csv(reviews)
    assert list(rows[0]) == ["row", "id", "prob_yes", "class"]
    assert [r["row"] for r in rows] == [str(i) for i in range(1, len(data) + 1)]
    assert [r["id"] for r in rows] == [d["id"] for d in data]  # the input's order
    loaded = BertClassifier.load(str(model))
    texts = [d["review"] for d in data]
    expected = loaded.predict_proba(texts)[:, 1]
    np.testing.assert_allclose([float(r["prob_yes"]) for r in rows], expected, atol=1e-6, rtol=0)
    assert [r["class"] for r in rows] == list(loaded.predict(texts))
    assert not [p.name for p in work.iterdir() if ".tmp-" in p.name]  # no temporary file left


def test_evaluate_prints_the_python_apis_metrics(trained, reviews, work):
    _, model = trained
    done = bertr("evaluate", model, reviews, "--json", "--output", "metrics.json", "--quiet", cwd=work)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)
    assert json.loads((work / "metrics.json").read_text()) == printed
    data = read_csv(reviews)
    expected = BertClassifier.load(str(model)).evaluate([d["review"] for d in data], [d["sentiment"] for d in data])
    assert printed["n"] == len(data)
    assert set(printed) == {"n", *expected}
    for name, value in expected.items():
        assert printed[name] == pytest.approx(value, abs=1e-9)


def test_exit_statuses_and_messages_for_bad_input(trained, reviews, work):
    _, model = trained
    train = ["train", reviews, "--text", "review", "--label", "sentiment"]

    missing = bertr("train", "nothere.csv", "--text", "review", "--label", "sentiment", "--output", "m", cwd=work)
    assert missing.returncode == 3 and "nothere.csv" in missing.stderr and "Traceback" not in missing.stderr

    column = bertr(*train[:-1], "stars", "--output", "m", cwd=work)
    assert column.returncode == 3
    assert "column 'stars' (--label) is not in" in column.stderr and "id, review, sentiment" in column.stderr

    setting = bertr(*train, "--seq-len", "2", "--output", "m", cwd=work)
    assert setting.returncode == 2
    assert setting.stderr.strip() == "bertr: error: seq_len must be between 8 and 512, not 2 (--seq-len)"

    exists = bertr(*train, "--output", model, cwd=work)
    assert exists.returncode == 3 and "already exists" in exists.stderr and "--overwrite" in exists.stderr

    usage = bertr(*train, "--early-stopping", "maybe", "--output", "m", cwd=work)
    assert usage.returncode == 2 and "--early-stopping" in usage.stderr

    unknown = bertr("predict", model, reviews, "--text", "body", "--output", "p.csv", cwd=work)
    assert unknown.returncode == 3 and "column 'body' (--text)" in unknown.stderr

    no_model = bertr("predict", work / "nomodel", reviews, "--output", "p.csv", cwd=work)
    assert no_model.returncode == 3 and "nomodel" in no_model.stderr
    assert not (work / "m").exists() and not (work / "p.csv").exists()


# in this process: cli.main ------------------------------------------------------------------------------------


def test_a_threshold_needs_class_decisions(trained, reviews, capsys, tmp_path):
    _, model = trained
    pred = tmp_path / "p.csv"
    assert (
        cli.main(["predict", str(model), str(reviews), "--type", "prob", "--threshold", "0.3", "--output", str(pred)])
        == 2
    )
    assert "--threshold decides classes: use it with --type class or --type both" in capsys.readouterr().err
    assert not pred.exists()


def test_multilabel_columns_train_predict_and_evaluate(tiny_hf, tmp_path, capsys):
    texts = POSITIVE + NEGATIVE
    rows = [[t, int(i < 10), int("coffee" in t or "tea" in t), ""] for i, t in enumerate(texts)]
    rows[4][0] = "NA"  # a missing text: dropped with --na-action drop
    data = write_csv(tmp_path / "tags.csv", ["text", "good", "drink", "unused"], rows)
    model = tmp_path / "tags"
    common = ["--pretrained", str(tiny_hf), *FAST, "--quiet"]
    assert (
        cli.main(
            [
                "train",
                str(data),
                "--text",
                "text",
                "--label",
                "good",
                "--label",
                "drink",
                *common,
                "--output",
                str(model),
            ]
        )
        == 2
    )
    assert "--text 'text' in row(s) 5" in capsys.readouterr().err
    args = ["train", str(data), "--text", "text", "--label", "good", "--label", "drink", "--na-action", "drop"]
    assert cli.main([*args, *common, "--output", str(model)]) == 0
    out = capsys.readouterr()
    assert (
        "multilabel (2 labels: good, drink)" in out.out
        and "dropped 1 of 20 row(s)" in out.err
        and "row(s) 5" in out.err
    )

    pred = tmp_path / "tags.csv.pred"
    assert cli.main(["predict", str(model), str(data), "--na-action", "drop", "--output", str(pred), "--quiet"]) == 0
    table = read_csv(pred)
    assert list(table[0]) == ["row", "prob_good", "prob_drink", "pred_good", "pred_drink"]
    assert [r["row"] for r in table] == [str(i) for i in range(1, 21) if i != 5]
    loaded = BertClassifier.load(str(model))
    kept = [t for i, t in enumerate(texts) if i != 4]
    np.testing.assert_allclose(
        [[float(r["prob_good"]), float(r["prob_drink"])] for r in table], loaded.predict_proba(kept), atol=1e-6, rtol=0
    )
    assert {r["pred_good"] for r in table} <= {"0", "1"}

    assert cli.main(["evaluate", str(model), str(data), "--na-action", "drop", "--json", "--quiet"]) == 0
    metrics = json.loads(capsys.readouterr().out)
    labels = np.array([[r[1], r[2]] for i, r in enumerate(rows) if i != 4], dtype=float)
    assert metrics["n"] == 19
    assert metrics["auc"] == pytest.approx(loaded.evaluate(kept, labels)["auc"], abs=1e-9)


def test_an_unexpected_error_is_status_1_with_a_hint_and_debug_shows_the_traceback(monkeypatch, capsys, tmp_path):
    def broken(args):
        raise RuntimeError("boom")

    monkeypatch.setattr(cli.cli_commands, "info", broken)
    assert cli.main(["info"]) == 1
    err = capsys.readouterr().err
    assert "bertr: internal error: RuntimeError: boom" in err and "--debug" in err and "Traceback" not in err
    assert cli.main(["info", "--debug"]) == 1
    assert "Traceback" in capsys.readouterr().err


def test_ctrl_c_is_status_130_and_leaves_no_partial_output(monkeypatch, capsys, tmp_path):
    def interrupted(handle):
        handle.write("row,prob\n1,0.5\n")
        raise KeyboardInterrupt

    monkeypatch.setattr(
        cli.cli_commands,
        "info",
        lambda args: cli.cli_data.write_atomically(str(tmp_path / "out.csv"), interrupted, overwrite=False),
    )
    assert cli.main(["info"]) == 130
    assert "bertr: interrupted" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_every_estimator_setting_is_an_option():
    assert [s.name for s in cli_settings.settings_of(BertClassifier)] == list(BertClassifier().get_params())
    parser = cli.build_parser()
    args = parser.parse_args(["train", "d.csv", "--text", "t", "--label", "l", "--output", "o"])
    assert cli_settings.given_settings(args) == {}  # not given: the estimator's defaults apply
    args = parser.parse_args(
        [
            "train",
            "d.csv",
            "--text",
            "t",
            "--label",
            "l",
            "--output",
            "o",
            "--seq-len",
            "64",
            "--learning-rate",
            "3e-5",
            "--no-do-lower-case",
            "--early-stopping",
            '{"monitor": "val_loss", "patience": 2}',
            "--devices",
            "/cpu:0,/cpu:1",
            "--devices",
            "/cpu:2",
            "--pooling",
            "mean",
        ]
    )
    assert cli_settings.given_settings(args) == {
        "seq_len": 64,
        "learning_rate": 3e-5,
        "do_lower_case": False,
        "early_stopping": {"monitor": "val_loss", "patience": 2},
        "devices": ["/cpu:0", "/cpu:1", "/cpu:2"],
        "pooling": "mean",
    }
    assert BertClassifier(**cli_settings.given_settings(args)).seq_len == 64


class Later:
    """An estimator with settings added after the command line was written (as the long-text ones were)."""

    def __init__(
        self,
        seq_len: int = 128,
        truncation: str = "head",
        head_tokens: int | None = None,
        long_text: str = "truncate",
        stride: int | None = None,
        window_pooling: str = "mean",
        margin: float | None = None,
        shuffle: bool = True,
        mode=None,
    ):
        pass


def test_settings_added_to_the_estimator_become_options_typed_by_their_annotation():
    parser = argparse.ArgumentParser()
    groups = {name: parser.add_argument_group(name) for name in ("model", "training", "distribution")}
    settings = cli_settings.add_settings(groups, Later)
    assert [s.flag for s in settings] == [
        "--seq-len",
        "--truncation",
        "--head-tokens",
        "--long-text",
        "--stride",
        "--window-pooling",
        "--margin",
        "--shuffle",
        "--mode",
    ]
    args = parser.parse_args(
        [
            "--truncation",
            "head_tail",
            "--head-tokens",
            "32",
            "--stride",
            "64",
            "--margin",
            "0.5",
            "--no-shuffle",
            "--mode",
            "fast",
            "--window-pooling",
            "max",
        ]
    )
    assert cli_settings.given_settings(args) == {
        "truncation": "head_tail",
        "head_tokens": 32,
        "stride": 64,
        "margin": 0.5,
        "shuffle": False,
        "mode": "fast",
        "window_pooling": "max",
    }
    with pytest.raises(SystemExit):
        parser.parse_args(["--head-tokens", "many"])


def test_predict_options_the_installed_estimator_lacks_are_a_clear_error():
    def predict(texts, pairs=None, batch_size=None, report=None):
        return None

    assert cli_commands._keywords(predict, {}) == {}
    with pytest.raises(BertrError, match=r"--threshold needs a newer bertr: .*predict\(\) has no 'threshold' argument"):
        cli_commands._keywords(predict, {"threshold": 0.3})
