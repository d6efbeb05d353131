"""Checkpoints and resume (a real SIGKILL), early stopping, and seeded determinism, on a tiny model."""

import json
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import bertr
from bertr import BertClassifier, BertrError
from bertr.testing import NEGATIVE, POSITIVE, toy_data
from bertr.training import split_validation

TESTS = Path(__file__).parent
CORE = Path(bertr.__file__).parents[1]  # the directory holding the bertr package
SETTINGS = dict(seq_len=16, batch_size=8, epochs=3, learning_rate=1e-2, validation_split=0.2, seed=3)
STEPS_PER_EPOCH = 8  # 64 training rows / batch 8


def _classifier(tiny_hf, **kw):
    return BertClassifier(pretrained=str(tiny_hf), **{**SETTINGS, **kw})


def _record(steps):
    return lambda info: steps.append(
        {
            "step": info["step"],
            "epoch": info["epoch"],
            "batch": info["batch"],
            "learning_rate": info["learning_rate"],
            "rows": [int(r) for r in info["rows"]],
        }
    )


def _run_child(tiny_hf, checkpoint_dir, log, body):
    """Train in a separate Python process that records its steps to ``log``; ``body`` may kill it."""
    script = (
        textwrap.dedent(f"""
        import json, os, signal, sys
        sys.path[:0] = [{str(TESTS)!r}, {str(CORE)!r}]
        from bertr.testing import toy_data
        from bertr import BertClassifier
        import bertr.storage
        texts, labels = toy_data()
        log = open({str(log)!r}, "a")
        def on_step(info):
            log.write(json.dumps({{"step": info["step"], "epoch": info["epoch"], "batch": info["batch"],
                                  "learning_rate": info["learning_rate"],
                                  "rows": [int(r) for r in info["rows"]]}}) + "\\n")
            log.flush()
        def kill():
            os.kill(os.getpid(), signal.SIGKILL)
    """)
        + textwrap.dedent(body)
        + textwrap.dedent(f"""
        BertClassifier(pretrained={str(tiny_hf)!r}, **{SETTINGS!r}).fit(
            texts, labels, classes=["no", "yes"], checkpoint_dir={str(checkpoint_dir)!r}, checkpoint_every=3,
            callback=callback, on_step=on_step)
    """)
    )
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)


def _read_log(log):
    return [json.loads(line) for line in Path(log).read_text().splitlines()]


@pytest.fixture(scope="module")
def uninterrupted(tiny_hf):
    texts, labels = toy_data()
    steps = []
    clf = _classifier(tiny_hf).fit(texts, labels, classes=["no", "yes"], on_step=_record(steps))
    return clf, steps


def test_resume_after_sigkill_continues_exactly(tiny_hf, tmp_path, uninterrupted):
    reference, reference_steps = uninterrupted
    ckpt, log = tmp_path / "ckpt", tmp_path / "steps.jsonl"
    # killed right after the mid-epoch checkpoint at step 12 (epoch 2, batch 4)
    done = _run_child(
        tiny_hf,
        ckpt,
        log,
        """
        def callback(event):
            if event["event"] == "checkpoint" and event["step"] == 12:
                kill()
    """,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    before = _read_log(log)
    assert [s["step"] for s in before] == list(range(1, 13))
    assert json.loads((ckpt / "latest.json").read_text())["checkpoint"] == "step-00000012"

    texts, labels = toy_data()
    events, after = [], []
    resumed = _classifier(tiny_hf).fit(
        texts, labels, classes=["no", "yes"], checkpoint_dir=str(ckpt), callback=events.append, on_step=_record(after)
    )
    resume = [e for e in events if e["event"] == "resume"]
    assert resume and resume[0]["step"] == 12 and resume[0]["epoch"] == 2
    # step counter, learning rate, epoch and data order continue: nothing repeated, nothing skipped
    assert [s["step"] for s in after] == list(range(13, 3 * STEPS_PER_EPOCH + 1))
    assert before + after == reference_steps
    assert resumed.resumed_at_ == [12]
    assert len(resumed.history_) == 3 and [r["step"] for r in resumed.history_] == [8, 16, 24]
    probe = POSITIVE + NEGATIVE
    np.testing.assert_allclose(resumed.predict_proba(probe), reference.predict_proba(probe), atol=1e-4, rtol=0)
    for ours, theirs in zip(resumed.history_, reference.history_, strict=True):
        assert ours["val_auc"] == pytest.approx(theirs["val_auc"], abs=1e-6)
        assert ours["loss"] == pytest.approx(theirs["loss"], abs=1e-4)


def test_kill_while_writing_a_checkpoint_keeps_the_previous_one(tiny_hf, tmp_path, uninterrupted):
    reference, reference_steps = uninterrupted
    ckpt, log = tmp_path / "ckpt", tmp_path / "steps.jsonl"
    # dies half-way through writing the checkpoint of step 6 (its weights are written, the rest is not)
    done = _run_child(
        tiny_hf,
        ckpt,
        log,
        """
        callback = None
        original = bertr.storage.write_arrays
        def write_arrays(path, arrays):
            original(path, arrays)
            if ".step-00000006" in str(path) and path.name == "weights.safetensors":
                kill()
        bertr.storage.write_arrays = write_arrays
        import bertr.training_checkpoints
        bertr.training_checkpoints.write_arrays = write_arrays
    """,
    )
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]
    assert json.loads((ckpt / "latest.json").read_text())["checkpoint"] == "step-00000003"
    assert any(p.name.startswith(".step-00000006") for p in ckpt.iterdir())  # the half-written one, hidden
    texts, labels = toy_data()
    after = []
    resumed = _classifier(tiny_hf).fit(
        texts, labels, classes=["no", "yes"], checkpoint_dir=str(ckpt), on_step=_record(after)
    )
    assert after == reference_steps[3:]
    assert not any(p.name.startswith(".step-") for p in ckpt.iterdir())  # cleaned up
    probe = POSITIVE + NEGATIVE
    np.testing.assert_allclose(resumed.predict_proba(probe), reference.predict_proba(probe), atol=1e-4, rtol=0)


def test_finished_checkpoint_gives_back_the_model_without_training(tiny_hf, tmp_path):
    texts, labels = toy_data()
    first = _classifier(tiny_hf, epochs=1).fit(texts, labels, checkpoint_dir=str(tmp_path))
    steps = []
    again = _classifier(tiny_hf, epochs=1).fit(texts, labels, checkpoint_dir=str(tmp_path), on_step=steps.append)
    assert steps == []
    np.testing.assert_array_equal(again.predict_proba(POSITIVE), first.predict_proba(POSITIVE))
    assert again.history_ == first.history_


def test_checkpoint_of_another_run_is_not_resumed(tiny_hf, tmp_path):
    texts, labels = toy_data()
    _classifier(tiny_hf, epochs=1).fit(texts, labels, checkpoint_dir=str(tmp_path))
    with pytest.raises(BertrError, match=r"other settings \(seed = 3 there, 4 now\).*resume = FALSE"):
        _classifier(tiny_hf, epochs=1, seed=4).fit(texts, labels, checkpoint_dir=str(tmp_path))
    with pytest.raises(BertrError, match="other data"):
        _classifier(tiny_hf, epochs=1).fit(texts[::-1], labels[::-1], checkpoint_dir=str(tmp_path))
    (tmp_path / "notes.txt").write_text("mine")
    steps = []
    _classifier(tiny_hf, epochs=1, seed=4).fit(
        texts, labels, checkpoint_dir=str(tmp_path), resume=False, on_step=steps.append
    )
    assert len(steps) == STEPS_PER_EPOCH
    assert (tmp_path / "notes.txt").read_text() == "mine"  # only bertr's own files are replaced


def test_damaged_checkpoint_is_a_clear_error(tiny_hf, tmp_path):
    texts, labels = toy_data()
    _classifier(tiny_hf, epochs=1).fit(texts, labels, checkpoint_dir=str(tmp_path))
    current = tmp_path / json.loads((tmp_path / "latest.json").read_text())["checkpoint"]
    optimizer = current / "optimizer.safetensors"
    optimizer.write_bytes(optimizer.read_bytes()[:100])
    with pytest.raises(BertrError, match="optimizer.safetensors has 100 bytes"):
        _classifier(tiny_hf, epochs=1).fit(texts, labels, checkpoint_dir=str(tmp_path))


def test_early_stopping_keeps_the_best_epoch(tiny_hf):
    texts, labels = toy_data()
    clf = _classifier(tiny_hf, epochs=30, early_stopping={"monitor": "val_loss", "patience": 2}).fit(texts, labels)
    losses = [row["val_loss"] for row in clf.history_]
    assert clf.stopped_early_ and len(losses) < 30
    best = int(np.argmin(losses))
    assert clf.best_epoch_ == best + 1 and len(losses) == best + 3  # stopped after 2 epochs without improvement
    _, val = split_validation(len(texts), SETTINGS["validation_split"], SETTINGS["seed"])
    held_out = clf.evaluate([texts[i] for i in val], [labels[i] for i in val])
    assert held_out["loss"] == pytest.approx(losses[best], abs=1e-5)  # the best epoch's weights were restored
    assert clf.kept_epoch_ == best + 1 and clf.monitor_ == "val_loss"  # the facts R reads (fitted_facts)
    facts = clf.fitted_facts()
    assert facts["kept_epoch"] == best + 1 and facts["history"]["val_loss"] == losses and "trace" not in facts


def test_without_restore_best_the_last_epoch_is_kept(tiny_hf):
    texts, labels = toy_data()
    stopping = {"monitor": "val_loss", "patience": 1, "restore_best": False}
    clf = _classifier(tiny_hf, epochs=3, early_stopping=stopping).fit(texts, labels)
    assert clf.kept_epoch_ == len(clf.history_) and clf.monitor_ == "val_loss"
    assert _classifier(tiny_hf, epochs=1, validation_split=0).fit(texts, labels).monitor_ is None  # nothing judged


def test_early_stopping_settings_are_checked(tiny_hf):
    texts, labels = toy_data()
    with pytest.raises(BertrError, match="needs validation rows"):
        _classifier(tiny_hf, validation_split=0, early_stopping={"monitor": "val_auc"}).fit(texts, labels)
    with pytest.raises(BertrError, match="unknown setting.*paitence"):
        _classifier(tiny_hf, early_stopping={"paitence": 2}).fit(texts, labels)
    steps = []
    with pytest.raises(BertrError, match="monitors 'val_f1'.*val_loss, val_accuracy, val_auc"):
        _classifier(tiny_hf, epochs=1, early_stopping={"monitor": "val_f1"}).fit(texts, labels, on_step=steps.append)
    assert steps == []  # refused before training, not after the first epoch


def test_same_seed_gives_identical_weights_and_predictions(tiny_hf, uninterrupted):
    reference, _ = uninterrupted
    texts, labels = toy_data()
    again = _classifier(tiny_hf).fit(texts, labels, classes=["no", "yes"])
    for a, b in zip(reference.model_.get_weights(), again.model_.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(reference.predict_proba(POSITIVE), again.predict_proba(POSITIVE))
    other = _classifier(tiny_hf, seed=4).fit(texts, labels, classes=["no", "yes"])
    assert not np.array_equal(other.model_.get_weights()[-2], reference.model_.get_weights()[-2])


def test_unusable_checkpoint_dir_fails_before_training(tiny_hf, tmp_path):
    texts, labels = toy_data()
    a_file = tmp_path / "file"
    a_file.write_text("x")
    steps = []
    with pytest.raises(BertrError, match="is a file, not a directory"):
        _classifier(tiny_hf, epochs=1).fit(texts, labels, checkpoint_dir=str(a_file), on_step=steps.append)
    with pytest.raises(BertrError, match="cannot write checkpoints"):
        _classifier(tiny_hf, epochs=1).fit(texts, labels, checkpoint_dir=str(a_file / "sub"), on_step=steps.append)
    assert steps == []
