"""Throughput of an exported SavedModel against predict() (issue 16): the embedded model fine-tuned on
small_fine_foods reviews, exported with BertClassifier.export(), then the 1,000 test reviews scored by predict() in
this process and by the SavedModel in a new process without bertr (tensorflow-text's tokenizer in the graph), each
in one call and in requests of 32 texts (an API's traffic).
Prints and writes texts/s (medians of --repeats runs, after one warm-up), their ratio, and the largest difference
between the two sets of probabilities. Not a test: run it on an otherwise idle machine.

    python bench/export.py [--rows 800] [--repeats 3] [--out bench/export.json]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "inst" / "python"))
from scaling import export_data, read_reviews  # noqa: E402  (the same CSV export of R's modeldata)

# Scores texts with an export in a process that has TensorFlow and tensorflow-text only: whole set in one call, and
# in requests of 32 texts (an API's traffic); TensorFlow's default threads, or bertr's (inter-op 1, intra-op all).
SERVE = r"""
import json, sys, time, statistics
spec = json.load(sys.stdin)
import tensorflow as tf
if spec["threads"] == "bertr":
    import os
    tf.config.threading.set_inter_op_parallelism_threads(1)
    tf.config.threading.set_intra_op_parallelism_threads(os.cpu_count())
import tensorflow_text
serve = tf.saved_model.load(spec["path"]).signatures["serving_default"]
texts = spec["texts"]
def whole():
    return serve(texts=tf.constant(texts))["probabilities"].numpy()
def requests():
    return [serve(texts=tf.constant(texts[i:i + 32]))["probabilities"].numpy() for i in range(0, len(texts), 32)]
out = {"probabilities": whole().tolist()}
requests()
for name, run in (("one call", whole), ("requests of 32", requests)):
    seconds = []
    for _ in range(spec["repeats"]):
        started = time.perf_counter(); run(); seconds.append(time.perf_counter() - started)
    out[name] = seconds
print(json.dumps(out))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=800, help="training reviews")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seq-len", type=int, default=128)
    parser.add_argument("--out", default=str(ROOT / "bench" / "export.json"))
    args = parser.parse_args()

    import numpy as np

    from bertr import BertClassifier
    from bertr.metrics import roc_auc

    with tempfile.TemporaryDirectory() as tmp:
        train, test = export_data(Path(tmp))
        texts, labels = read_reviews(train, args.rows)
        test_texts, test_labels = read_reviews(test)
        clf = BertClassifier(seq_len=args.seq_len, epochs=1, batch_size=32, learning_rate=1e-4, validation_split=0)
        clf.fit(texts, labels, classes=["other", "great"])
        started = time.perf_counter()
        path = clf.export(str(Path(tmp) / "export"))
        export_seconds = time.perf_counter() - started
        size = sum(f.stat().st_size for f in Path(path).rglob("*") if f.is_file())
        probabilities = clf.predict_proba(test_texts)  # traced once, then timed
        seconds, request_seconds = [], []
        for _ in range(args.repeats):
            started = time.perf_counter()
            clf.predict_proba(test_texts)
            seconds.append(time.perf_counter() - started)
            started = time.perf_counter()
            for i in range(0, len(test_texts), 32):
                clf.predict_proba(test_texts[i : i + 32])
            request_seconds.append(time.perf_counter() - started)
        env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "TF_USE_LEGACY_KERAS")}
        served = {}
        for threads in ("default", "bertr"):
            spec = {"path": path, "texts": test_texts, "repeats": args.repeats, "threads": threads}
            done = subprocess.run(
                [sys.executable, "-c", SERVE], input=json.dumps(spec), capture_output=True, text=True, env=env
            )
            if done.returncode != 0:
                sys.exit(done.stderr[-3000:])
            served[threads] = json.loads(done.stdout.strip().splitlines()[-1])

    n = len(test_texts)
    predict_rates = {
        "one call": n / statistics.median(seconds),
        "requests of 32": n / statistics.median(request_seconds),
    }
    result = {
        "rows": args.rows,
        "test_texts": n,
        "seq_len": args.seq_len,
        "test_auc": roc_auc([y == "great" for y in test_labels], probabilities[:, 1]),
        "export_seconds": export_seconds,
        "export_megabytes": size / 1e6,
        "predict_texts_per_s (one call)": predict_rates["one call"],
        "predict_texts_per_s (requests of 32)": predict_rates["requests of 32"],
        "largest_probability_difference": float(
            np.max(np.abs(np.asarray(served["default"]["probabilities"]) - probabilities))
        ),
    }
    for threads, out in served.items():
        for name in ("one call", "requests of 32"):
            rate = n / statistics.median(out[name])
            result[f"export_texts_per_s ({name}, {threads} threads)"] = rate
            result[f"export / predict ({name}, {threads} threads)"] = rate / predict_rates[name]
    print(json.dumps(result, indent=2))
    Path(args.out).write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
