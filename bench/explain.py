"""Integrated-gradients explanations on a real fine-tuned model (issue 15): the embedded model fine-tuned on
small_fine_foods reviews, then test reviews explained at several step counts. Prints and writes the completeness
error (|sum of attributions - (f(text) - f(baseline))|, in probability units) and the seconds per text. Not a test:
run it on an otherwise idle machine.

    python bench/explain.py [--rows 2000] [--texts 100] [--steps 20 50 100] [--out bench/explain.json]
"""

from __future__ import annotations

import argparse
import json
import statistics
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
    parser.add_argument("--rows", type=int, default=2000, help="training reviews")
    parser.add_argument("--texts", type=int, default=100, help="test reviews explained")
    parser.add_argument("--steps", type=int, nargs="+", default=[20, 50, 100])
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--out", default=str(ROOT / "bench" / "explain.json"))
    args = parser.parse_args()

    from bertr import BertClassifier
    from bertr.metrics import roc_auc

    with tempfile.TemporaryDirectory() as tmp:
        train, test = export_data(Path(tmp))
        texts, labels = read_reviews(train)
        test_texts, test_labels = read_reviews(test)
    clf = BertClassifier(seq_len=args.seq_len, epochs=1, batch_size=32, learning_rate=1e-4, validation_split=0, seed=1)
    started = time.perf_counter()
    clf.fit(texts[: args.rows], labels[: args.rows], classes=["other", "great"])
    fit_seconds = time.perf_counter() - started
    auc = roc_auc([y == "great" for y in test_labels], clf.predict_proba(test_texts)[:, 1])
    chosen = test_texts[: args.texts]
    clf.predict_proba(chosen)  # traced once, then timed
    started = time.perf_counter()
    clf.predict_proba(chosen)
    predict_seconds = (time.perf_counter() - started) / len(chosen)
    runs = []
    clf.explain(chosen[:1], steps=2)  # the explanation's functions traced once, outside the timings
    for steps in args.steps:
        started = time.perf_counter()
        explained = clf.explain(chosen, target="great", steps=steps)
        seconds = time.perf_counter() - started
        summary = explained["texts"]
        errors = [abs(e) for e in summary["error"]]
        changes = [abs(a - b) for a, b in zip(summary["f_text"], summary["f_baseline"], strict=True)]
        run = {
            "steps": steps,
            "median_abs_error": statistics.median(errors),
            "max_abs_error": max(errors),
            "median_abs_change": statistics.median(changes),
            "median_relative_error": statistics.median(e / c for e, c in zip(errors, changes, strict=True) if c > 1e-3),
            "seconds_per_text": seconds / len(chosen),
            "cost_in_predictions": seconds / len(chosen) / predict_seconds,
        }
        runs.append(run)
        print(json.dumps(run), flush=True)
    tokens = [len(p.ids) for p in clf.tokenizer_.encode_pieces(chosen, args.seq_len)]
    result = {
        "train_rows": args.rows,
        "seq_len": args.seq_len,
        "fit_seconds": fit_seconds,
        "test_auc": auc,
        "texts": len(chosen),
        "median_tokens": statistics.median(tokens),
        "predict_seconds_per_text": predict_seconds,
        "runs": runs,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}))


if __name__ == "__main__":
    main()
