"""Two versions of bertr's Python core fitted on the same data, one after the other, each in a fresh process
(issue 17: a before/after figure for a change to the training step). Not a test: run on an otherwise idle machine.

    git worktree add /tmp/before <commit>
    python bench/experiments/fit_ab.py --train train.csv --test test.csv --before /tmp/before --after . \\
        [--runs 2] [--out fused_steps.json]

Each run: ``BertClassifier(seq_len=128, batch_size=32, epochs=1, validation_split=0, seed=1).fit`` on the training
reviews (the embedded model, bertr's defaults otherwise), then ``predict_proba`` on the test reviews. Recorded: the
fit's seconds (tokenization and graph build included), the epoch's seconds (bertr's history: the training loop, XLA's
compiles included), the test AUC (P(second class)), and the process's peak RSS (ru_maxrss) after the prediction.
Runs alternate (before, after, before, ...), so a drift of the machine's speed falls on both; medians and the
after/before ratios are reported. The CSVs have ``review`` and ``score`` columns (e.g. modeldata's
small_fine_foods, written from R with ``write.csv``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

ONE_RUN = r"""
import csv, json, resource, sys, time
sys.path.insert(0, sys.argv[1] + "/inst/python")
import numpy as np
from bertr import BertClassifier, runtime
from bertr.metrics import roc_auc
runtime.configure_threads()
def read(path):
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [r["review"] for r in rows], [r["score"] for r in rows]
texts, labels = read(sys.argv[2])
test_texts, test_labels = read(sys.argv[3])
start = time.perf_counter()
clf = BertClassifier(seq_len=128, batch_size=32, epochs=1, validation_split=0, seed=1).fit(texts, labels)
fit_s = time.perf_counter() - start
proba = np.asarray(clf.predict_proba(test_texts))[:, 1]
positive = [label == clf.classes_[1] for label in test_labels]
print(json.dumps({"fit_s": fit_s, "epoch_s": clf.history_[-1]["seconds"], "test_auc": roc_auc(positive, proba),
                  "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9}))
"""


def run(code: str, train: str, test: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", ONE_RUN, code, train, test], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--train", required=True)
    parser.add_argument("--test", required=True)
    parser.add_argument("--before", required=True, help="a checkout of the code before the change")
    parser.add_argument("--after", required=True, help="a checkout of the code after the change")
    parser.add_argument("--runs", type=int, default=2, help="runs of each version")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    runs = {"before": [], "after": []}
    for _ in range(args.runs):
        for name in ("before", "after"):
            runs[name].append(run(getattr(args, name), args.train, args.test))
            print(name, json.dumps(runs[name][-1]), file=sys.stderr, flush=True)
    medians = {
        name: {key: statistics.median(r[key] for r in results) for key in results[0]} for name, results in runs.items()
    }
    result = {
        "runs": runs,
        "medians": medians,
        "after_over_before": {key: medians["after"][key] / medians["before"][key] for key in medians["after"]},
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            handle.write(text + "\n")


if __name__ == "__main__":
    main()
