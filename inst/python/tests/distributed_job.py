"""One process of a distributed test fit (run by test_distribution.py as a subprocess, one per worker).

    python distributed_job.py SPEC.json

SPEC holds: pretrained (a tiny checkpoint), strategy, checkpoint_dir, checkpoint_every, save (a directory or
null), out (where this process writes its result JSON and weights), step_seconds (a pause after every step,
so that a test can kill a worker mid-run) and compare (also fit the same data without a strategy in this
process, for a reference). TF_CONFIG / BERTR_CPU_DEVICES come from the environment. Exit status 0, or 3 with
the BertrError's message on stderr and in the result.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

# The fit every process of a distributed test runs (test_distribution.py compares with it in one process).
SETTINGS = dict(epochs=2, batch_size=8, seq_len=16, dropout=0.0, validation_split=0.2, seed=5, learning_rate=1e-3)
TOY_REPEAT = 3  # copies of bertr.testing's toy reviews


def main(spec_path: str) -> int:
    spec = json.loads(Path(spec_path).read_text())
    sys.path.insert(0, spec["core"])
    from bertr import BertClassifier, BertrError
    from bertr.testing import toy_data

    texts, labels = toy_data(TOY_REPEAT)
    settings = {**SETTINGS, "pretrained": spec["pretrained"], "epochs": spec.get("epochs", SETTINGS["epochs"])}
    out = Path(spec["out"])
    pause = float(spec.get("step_seconds", 0))
    result: dict = {"started": time.time()}
    try:
        clf = BertClassifier(strategy=spec.get("strategy"), **settings).fit(
            texts,
            labels,
            checkpoint_dir=spec.get("checkpoint_dir"),
            checkpoint_every=spec.get("checkpoint_every"),
            on_step=(lambda info: time.sleep(pause)) if pause else None,
        )
        if spec.get("save"):
            result["saved"] = clf.save(spec["save"])
        result.update(
            distribution=clf.distribution_,
            resumed_at=clf.resumed_at_,
            history=clf.history_,
            probabilities=clf.predict_proba(texts)[:, 1].tolist(),
        )
        from bertr.graph import weight_arrays

        np.savez(out.with_suffix(".npz"), **{k.replace("/", "|"): v for k, v in weight_arrays(clf.model_).items()})
        if spec.get("compare"):
            reference = BertClassifier(**settings).fit(texts, labels)
            result["reference"] = reference.predict_proba(texts)[:, 1].tolist()
            np.savez(
                out.with_name(out.stem + "-reference.npz"),
                **{k.replace("/", "|"): v for k, v in weight_arrays(reference.model_).items()},
            )
        status = 0
    except BertrError as exc:
        result["error"] = str(exc)
        print(f"bertr: error: {exc}", file=sys.stderr, flush=True)
        status = 3
    result["finished"] = time.time()
    out.write_text(json.dumps(result))
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
