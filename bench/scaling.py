"""Scaling figures (issue 13): the embedded model trained on small_fine_foods reviews on one device, on 2 logical
CPU devices (MirroredStrategy), on 2 local worker processes (MultiWorkerMirroredStrategy over 127.0.0.1), and with
mixed_bfloat16; each reports examples/s and test AUC. Not a test: run it on an otherwise idle machine.

    python bench/scaling.py [--rows 2000] [--test-rows 1000] [--out bench/scaling.json]

Every configuration runs in new processes (logical devices and clusters are set before TensorFlow starts). On a
2-core machine no speed-up is expected from 2 replicas: they share the same cores; the figures show the overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SETTINGS = dict(seq_len=128, batch_size=32, epochs=1, learning_rate=5e-5, seed=1, validation_split=0.0)


def export_data(directory: Path) -> tuple[Path, Path]:
    """small_fine_foods' training and test reviews as CSV files (the data ship with R's modeldata)."""
    train, test = directory / "train.csv", directory / "test.csv"
    script = (
        'data(small_fine_foods, package = "modeldata"); '
        f'write.csv(training_data, "{train}", row.names = FALSE); write.csv(testing_data, "{test}", row.names = FALSE)'
    )
    subprocess.run(["Rscript", "-e", script], check=True)
    return train, test


def read_reviews(path: Path, rows: int | None = None) -> tuple[list[str], list[str]]:
    """The ``review`` texts and ``score`` labels of an :func:`export_data` CSV (its first ``rows``)."""
    import csv

    with open(path, newline="") as handle:
        table = list(csv.DictReader(handle))[:rows]
    return [r["review"] for r in table], [r["score"] for r in table]


def worker(spec: dict) -> dict:
    """One process of one configuration: fit, then (the chief) score the test reviews."""
    sys.path.insert(0, str(ROOT / "inst" / "python"))
    import numpy as np
    from bertr import BertClassifier
    from bertr.metrics import roc_auc

    texts, labels = read_reviews(spec["train"], spec["rows"])
    test_texts, test_labels = read_reviews(spec["test"], spec["test_rows"])
    started = time.perf_counter()
    clf = BertClassifier(
        strategy=spec.get("strategy"),
        precision=spec.get("precision", "float32"),
        threads=spec.get("threads"),
        **SETTINGS,
    ).fit(texts, labels)
    fit_seconds = time.perf_counter() - started
    steps = [row for row in clf.trace_]
    times = [clf.history_[0]["seconds"]]
    result = {
        "name": spec["name"],
        "distribution": clf.distribution_text(),
        "rows": len(texts),
        "fit_seconds": fit_seconds,
        "epoch_seconds": times[0],
        "train_examples_per_s": len(texts) / times[0],
        "steps": len(steps),
    }
    if clf.placement_.chief:
        started = time.perf_counter()
        probability = clf.predict_proba(test_texts)[:, list(clf.classes_).index("other")]
        result["predict_examples_per_s"] = len(test_texts) / (time.perf_counter() - started)
        positive = np.asarray([y == "other" for y in test_labels], dtype=float)
        result["test_auc"] = float(roc_auc(positive, probability))
    return result


def free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def run(config: dict, base: dict, directory: Path) -> dict:
    """Start the configuration's processes and return the chief's result."""
    workers = config.get("workers", 1)
    ports = free_ports(workers)
    processes = []
    for i in range(workers):
        spec = {**base, **config, "out": str(directory / f"{config['name']}-{i}.json")}
        spec_path = directory / f"{config['name']}-{i}-spec.json"
        spec_path.write_text(json.dumps(spec))
        env = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
        env.update(config.get("env", {}))
        if workers > 1:
            cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
            env["TF_CONFIG"] = json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})
        processes.append(subprocess.Popen([sys.executable, __file__, "--worker", str(spec_path)], env=env))
    for process in processes:
        if process.wait() != 0:
            raise SystemExit(f"{config['name']}: a process failed")
    return json.loads((directory / f"{config['name']}-0.json").read_text())


CONFIGS = [
    {"name": "1 device, float32"},
    {"name": "2 logical CPU devices (mirrored)", "strategy": "mirrored", "env": {"BERTR_CPU_DEVICES": "2"}},
    {"name": "2 local workers (multi_worker), 1 thread each", "strategy": "multi_worker", "workers": 2, "threads": 1},
    {"name": "1 device, mixed_bfloat16", "precision": "mixed_bfloat16"},
]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--test-rows", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--only", default=None, help="run only the configurations whose name contains this")
    parser.add_argument("--out", default=str(ROOT / "bench" / "scaling.json"))
    args = parser.parse_args()
    if args.worker:
        spec = json.loads(Path(args.worker).read_text())
        Path(spec["out"]).write_text(json.dumps(worker(spec)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        train, test = export_data(directory)
        base = {"train": str(train), "test": str(test), "rows": args.rows, "test_rows": args.test_rows}
        results = []
        for config in CONFIGS:
            if args.only and args.only not in config["name"]:
                continue
            runs = [run(config, base, directory) for _ in range(args.repeats)]
            median = {
                key: statistics.median(r[key] for r in runs) for key in runs[0] if isinstance(runs[0][key], float)
            }
            row = {**runs[0], **median, "runs": len(runs)}
            results.append(row)
            print(
                f"{row['name']:<48} train {row['train_examples_per_s']:6.2f} ex/s  "
                f"predict {row.get('predict_examples_per_s', float('nan')):6.1f} ex/s  "
                f"test AUC {row.get('test_auc', float('nan')):.4f}  [{row['distribution']}]",
                flush=True,
            )
    Path(args.out).write_text(json.dumps({"settings": SETTINGS, "rows": args.rows, "results": results}, indent=1))


if __name__ == "__main__":
    main()
