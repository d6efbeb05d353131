"""Texts longer than the window (issue 14): on the small_fine_foods reviews longer than 64 tokens, at seq_len = 64,
the test AUC and the cost of the head, tail and head_tail cuts and of windows (predicting with windows from a head
model, and training on windows). Not a test: run it on an otherwise idle machine.

    python bench/long_texts.py [--seeds 1 2 3] [--epochs 1] [--rows 1000] [--out bench/long_texts.json]

Each configuration is a new process (the same start for all), fine-tuning the embedded model on the long training
reviews and scoring the long test reviews; figures are medians over the seeds.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from scaling import export_data, read_reviews  # noqa: E402  (the same CSV export of R's modeldata)

SEQ_LEN = 64
CONFIGS = {  # name: (training settings, {prediction name: prediction settings})
    "head": ({"truncation": "head"}, {"head": {}, "head, windows (mean) at prediction": {"long_text": "window"}}),
    "tail": ({"truncation": "tail"}, {"tail": {}}),
    "head_tail": ({"truncation": "head_tail"}, {"head_tail": {}}),
    "windows": (
        {"long_text": "window"},
        {
            "windows (mean), trained on windows": {},
            "windows (max), trained on windows": {"window_pooling": "max"},
        },
    ),
}


def worker(spec: dict) -> dict:
    sys.path.insert(0, str(ROOT / "inst" / "python"))
    from bertr import BertClassifier
    from bertr.metrics import roc_auc
    from bertr.pretrained import tokenizer

    wordpiece = tokenizer(None)

    def long_only(texts, labels):  # more than seq_len tokens with [CLS] and [SEP]
        keep = [i for i, t in enumerate(texts) if len(wordpiece.tokenize(t)) + 2 > SEQ_LEN]
        return [texts[i] for i in keep], [labels[i] for i in keep]

    texts, labels = long_only(*read_reviews(spec["train"]))
    texts, labels = texts[: spec["rows"]], labels[: spec["rows"]]
    test_texts, test_labels = long_only(*read_reviews(spec["test"]))
    train_settings, predictions = CONFIGS[spec["config"]]
    clf = BertClassifier(
        seq_len=SEQ_LEN,
        epochs=spec["epochs"],
        batch_size=32,
        learning_rate=1e-4,
        validation_split=0.0,
        seed=spec["seed"],
        **train_settings,
    )
    started = time.perf_counter()
    clf.fit(texts, labels, classes=["other", "great"])
    fit_seconds = time.perf_counter() - started
    runs = []
    for name, settings in predictions.items():
        started = time.perf_counter()
        prob = clf.predict_proba(test_texts, **settings)[:, 1]
        runs.append(
            {
                "config": name,
                "seed": spec["seed"],
                "train_texts": len(texts),
                "train_windows": len(clf.tokenizer_.encode_windows(texts, SEQ_LEN)[1]),
                "test_texts": len(test_texts),
                "test_auc": roc_auc([label == "great" for label in test_labels], prob),
                "fit_seconds": fit_seconds,
                "predict_seconds": time.perf_counter() - started,
            }
        )
    return runs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--rows", type=int, default=1000, help="long training reviews used (of about 2,100)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "long_texts.json"))
    parser.add_argument("--configs", nargs="+", choices=list(CONFIGS), default=list(CONFIGS), help="trainings to run")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(json.loads(args.worker))))
        return
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        train, test = export_data(Path(tmp))
        for seed in args.seeds:
            for config in args.configs:
                spec = {"config": config, "seed": seed, "epochs": args.epochs, "rows": args.rows}
                spec.update(train=str(train), test=str(test))
                out = subprocess.run(
                    [sys.executable, __file__, "--worker", json.dumps(spec)], check=True, capture_output=True, text=True
                )
                for run in json.loads(out.stdout.strip().splitlines()[-1]):
                    runs.append(run)
                    print(json.dumps(run), flush=True)
    summary = {}
    for config in dict.fromkeys(r["config"] for r in runs):
        mine = [r for r in runs if r["config"] == config]
        summary[config] = {
            "test_auc": statistics.median(r["test_auc"] for r in mine),
            "fit_seconds": statistics.median(r["fit_seconds"] for r in mine),
            "predict_seconds": statistics.median(r["predict_seconds"] for r in mine),
        }
    first = runs[0]
    result = {
        "seq_len": SEQ_LEN,
        "epochs": args.epochs,
        "rows": args.rows,
        "seeds": args.seeds,
        "train_texts": first["train_texts"],
        "train_windows": first["train_windows"],
        "test_texts": first["test_texts"],
        "medians": summary,
        "runs": runs,
    }
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'configuration':<38} {'test AUC':>9} {'fit s':>7} {'predict s':>10}")
    for config, figures in summary.items():
        print(
            f"{config:<38} {figures['test_auc']:>9.4f} {figures['fit_seconds']:>7.1f} "
            f"{figures['predict_seconds']:>10.1f}"
        )


if __name__ == "__main__":
    main()
