"""Values that must not train silently (non-finite labels and weights, texts that are numbers, a loss that becomes
NaN or infinite), and inputs with no rows, which give empty results of the right shape."""

import json
import math

import numpy as np
import pytest

import bertr
from bertr import BertClassifier, BertrError
from bertr.graph import OUTPUT_LAYER
from bertr.storage import read_arrays
from bertr.testing import toy_data

TINY = dict(seq_len=16, batch_size=8, validation_split=0, seed=1)


def _fit(tiny_hf, texts, labels, **kw):
    settings = {**TINY, "epochs": 1, **{k: v for k, v in kw.items() if k in BertClassifier().get_params()}}
    fit_args = {k: v for k, v in kw.items() if k not in settings}
    return BertClassifier(pretrained=str(tiny_hf), **settings).fit(texts, labels, **fit_args)


@pytest.mark.parametrize(
    "labels,task,message",
    [
        ([1.0, 2.0, math.inf, 4.0], "regression", r"label must be a finite number, but row\(s\) 3 hold Inf"),
        ([1.0, -math.inf, 3.0, 4.0], "regression", r"row\(s\) 2 hold -Inf"),
        ([1.0, 2.0, 3.0, 1e300], "regression", r"row\(s\) 4 hold 1e\+300"),  # Inf in float32
        ([0.2, math.inf, 0.5, 0.1], None, r"row\(s\) 2 hold Inf"),
        ([0.0, 1.0, math.nan, 1.0], None, r"label is missing \(NA\) in row\(s\) 3"),
    ],
)
def test_non_finite_labels_are_refused(labels, task, message, tiny_hf):
    with pytest.raises(BertrError, match=message):
        _fit(tiny_hf, ["a", "b", "c", "d"], labels, task=task)


@pytest.mark.parametrize(
    "weight,message",
    [
        ([1.0, math.inf, 1.0, 1.0], r"row\(s\) 2 hold Inf"),
        ([1.0, 1.0, 1e39, 1.0], r"at most 3.4e\+38\), but row\(s\) 3 hold 1e\+39"),
        ([1.0, -2.0, 1.0, 1.0], r"row\(s\) 2 hold -2"),
        ([1.0, 1.0, 1.0, None], r"sample_weight is missing \(NA\) in row\(s\) 4"),
    ],
)
def test_non_finite_weights_are_refused(weight, message, tiny_hf):
    with pytest.raises(BertrError, match=message):
        _fit(tiny_hf, ["a", "b", "c", "d"], [0, 1, 0, 1], sample_weight=weight)


def test_texts_that_are_numbers_are_refused(tiny_hf):
    with pytest.raises(BertrError, match="text must be character, but row 1 holds a int"):
        _fit(tiny_hf, [1, 2, 3, 4], [0, 1, 0, 1])
    with pytest.raises(BertrError, match="text must be character, but row 3 holds a float"):
        _fit(tiny_hf, ["a", "b", 2.5, "d"], [0, 1, 0, 1])


def test_a_diverging_loss_stops_training_and_keeps_the_last_good_checkpoint(tiny_hf, tmp_path):
    texts, labels = toy_data(1)
    steps = []
    with pytest.raises(BertrError) as caught:
        _fit(
            tiny_hf,
            texts,
            labels,
            epochs=4,
            learning_rate=1e8,
            checkpoint_dir=str(tmp_path),
            checkpoint_every=1,
            on_step=lambda info: steps.append(info["step"]),
        )
    message = str(caught.value)
    bad_step = len(steps) + 1  # on_step runs only after steps whose loss was finite
    assert f"Training stopped at step {bad_step} " in message
    assert "the loss became" in message and "The last finite loss was " in message
    assert f"at step {bad_step - 1}." in message
    assert "learning rate (up to 1e+08 so far)" in message and "lower learning_rate" in message
    pointer = json.loads((tmp_path / "latest.json").read_text())
    assert pointer["step"] == bad_step - 1  # written before the bad step, and still the current one
    assert f"kept: {tmp_path / pointer['checkpoint']}." in message
    weights = read_arrays(tmp_path / pointer["checkpoint"] / "weights.safetensors", "checkpoint")
    assert all(np.isfinite(w).all() for w in weights.values())


def test_an_overflowing_weighted_loss_names_the_weights(tiny_hf):
    texts, labels = toy_data(1)
    with pytest.raises(
        BertrError,
        match=r"step 1 .*loss became Inf\. No step had a finite loss\. Likely cause: row "
        r"weights \(sample_weight, class_weight\) reach 3e\+38",
    ):
        _fit(tiny_hf, texts, labels, sample_weight=[3e38] * len(texts))


def test_weights_that_become_nan_are_caught_before_they_are_kept(tiny_hf, tmp_path, monkeypatch):
    """An update can leave NaN in the weights after a step whose loss was finite; here the last step of epoch 1
    does (a hook writes NaN into the output kernel): the epoch's end refuses to keep it, and no checkpoint holds
    it."""
    texts, labels = toy_data(1)  # 20 rows: 3 steps per epoch
    clf = BertClassifier(pretrained=str(tiny_hf), **TINY, epochs=2)
    compile_model = clf._initialize_model
    built = []
    monkeypatch.setattr(
        clf, "_initialize_model", lambda *args, **kwargs: built.append(compile_model(*args, **kwargs)) or built[-1]
    )

    def poison(info):
        if info["step"] == 3:
            kernel = built[0].get_layer(OUTPUT_LAYER).kernel
            kernel.assign(np.full(kernel.shape, np.nan, np.float32))

    with pytest.raises(
        BertrError,
        match=r"Training stopped at step 3 \(epoch 1, batch 3 of 3\): the weights became "
        r"NaN or infinite\. The last finite loss was [0-9.e+-]+ at step 3\.",
    ):
        clf.fit(texts, labels, checkpoint_dir=str(tmp_path), on_step=poison)
    assert not (tmp_path / "latest.json").exists()  # the end of epoch 1 wrote no checkpoint


def test_no_rows_give_empty_results_of_the_right_shape(tiny_hf):
    texts, labels = toy_data(1)
    clf = _fit(tiny_hf, texts, labels)
    proba = clf.predict_proba([])
    assert proba.shape == (0, 2) and proba.dtype == np.float64
    assert clf.predict([]).shape == (0,)
    hidden = clf.pretrained_["hidden_size"]
    assert clf.embed([]).shape == (0, hidden)
    metrics = clf.evaluate([], [])
    assert set(metrics) == {"loss", "accuracy", "auc", "ece"} and all(math.isnan(v) for v in metrics.values())
    encoded = clf.encode([])
    assert encoded.token.shape == (0, 16) and encoded.token.dtype == np.int32
    assert bertr.embed([], pretrained=str(tiny_hf), seq_len=16).shape == (0, hidden)
    assert bertr.tokenizer(str(tiny_hf)).encode([], 12).segment.shape == (0, 12)
    with pytest.raises(BertrError, match="text has no rows"):  # training on nothing stays an error
        _fit(tiny_hf, [], [])


@pytest.mark.parametrize(
    "task,labels,names",
    [
        ("multiclass", ["a", "b", "c", "a"], {"loss", "accuracy", "macro_f1", "auc", "ece"}),
        ("regression", [1.0, 2.0, 3.0, 5.0], {"loss", "rmse", "mae", "r2"}),
    ],
)
def test_metrics_of_no_rows_are_nan_for_every_task(task, labels, names, tiny_hf):
    clf = _fit(tiny_hf, ["a b", "b c", "c d", "d e"], labels, task=task)
    metrics = clf.evaluate([], [])
    assert set(metrics) == names and all(math.isnan(v) for v in metrics.values())
    assert clf.predict_proba([]).shape == ((0, 3) if task == "multiclass" else (0,))
