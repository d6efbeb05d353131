"""Calibrated probabilities (issue 15): on small_fine_foods, the expected calibration error and the log loss of the
1,000 test reviews before and after temperature scaling fitted on held-out training reviews, and the AUC before and
after (temperature scaling keeps the order of the scores: the two must be identical). Not a test.

    python bench/calibration.py [--train 3000] [--calibration 1000] [--epochs 2] [--seed 1] [--out FILE.json]

The training reviews are shuffled (seeded) and split: the first ``--train`` fine-tune the embedded model with the
settings of ``make demo`` (seq_len 128, batch 32, 2 epochs, learning rate 1e-4; no validation split), the next
``--calibration`` fit the temperature. ECE: 15 equal-width bins of the probability of "great" against the
fraction of "great" reviews (see bertr.calibration).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "inst" / "python"))
from scaling import export_data, read_reviews  # noqa: E402  (the same CSV export of R's modeldata)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=int, default=3000, help="training reviews that fine-tune the model")
    parser.add_argument("--calibration", type=int, default=1000, help="held-out training reviews that fit T")
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", default=str(ROOT / "bench" / "calibration.json"))
    args = parser.parse_args()

    import numpy as np

    from bertr import BertClassifier
    from bertr.metrics import roc_auc

    with tempfile.TemporaryDirectory() as tmp:
        train_csv, test_csv = export_data(Path(tmp))
        texts, labels = read_reviews(train_csv)
        test_texts, test_labels = read_reviews(test_csv)
    order = list(range(len(texts)))
    random.Random(args.seed).shuffle(order)
    fit_rows, cal_rows = order[: args.train], order[args.train : args.train + args.calibration]

    clf = BertClassifier(epochs=args.epochs, validation_split=0.0, seed=args.seed)  # the rest: make demo's
    started = time.perf_counter()
    clf.fit([texts[i] for i in fit_rows], [labels[i] for i in fit_rows], classes=["other", "great"])
    fit_seconds = time.perf_counter() - started

    started = time.perf_counter()
    facts = clf.calibrate([texts[i] for i in cal_rows], [labels[i] for i in cal_rows])
    calibrate_seconds = time.perf_counter() - started
    calibrated = clf.with_temperature(facts["temperature"], facts)

    before = clf.evaluate(test_texts, test_labels)
    after = calibrated.evaluate(test_texts, test_labels)
    prob_before = clf.predict_proba(test_texts)[:, 1]
    prob_after = calibrated.predict_proba(test_texts)[:, 1]
    positive = np.asarray(test_labels) == "great"
    same_order = bool(np.array_equal(np.argsort(prob_before, kind="stable"), np.argsort(prob_after, kind="stable")))
    figure = {name: [before[name], after[name]] for name in before}
    result = {
        "data": {
            "training": len(fit_rows),
            "calibration": len(cal_rows),
            "test": len(test_texts),
            "test_great": int(positive.sum()),
        },
        "settings": {"epochs": args.epochs, "seq_len": clf.seq_len, "batch_size": clf.batch_size, "seed": args.seed},
        "temperature": facts["temperature"],
        "test": {
            "before_after": figure,
            "auc_identical": roc_auc(positive, prob_before) == roc_auc(positive, prob_after),
            "order_identical": same_order,
            "same_decisions_at_0.5": bool(np.array_equal(prob_before >= 0.5, prob_after >= 0.5)),
            "mean_probability": [float(prob_before.mean()), float(prob_after.mean())],
            "share_great": float(positive.mean()),
        },
        "calibration_rows": {name: facts["metrics"][name] for name in facts["metrics"] if name != "when"},
        "seconds": {"fit": fit_seconds, "calibrate": calibrate_seconds},
        "versions": __import__("bertr").runtime.versions_brief(),
    }
    text = json.dumps(result, indent=2)
    print(text)
    Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
