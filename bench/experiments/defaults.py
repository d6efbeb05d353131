"""Defaults experiment (session 4, issue 5): the demo's protocol in Python. bertr's defaults plus the overrides
given as JSON (one run per argument), fitted on small_fine_foods' 4,000 training reviews (the default 10%
validation split, so 3,600 train), then scored on the 1,000 test reviews. Prints the history (validation AUC per
epoch), test AUC and fit seconds. Not part of the tests or of `make bench`.

    Rscript -e 'data("small_fine_foods", package = "modeldata"); data.table::fwrite(training_data,
      "/tmp/exp/train.csv"); data.table::fwrite(testing_data, "/tmp/exp/test.csv")'
    python bench/experiments/defaults.py '{"learning_rate": 5e-5}' '{"learning_rate": 1e-4}' '{"seq_len": 160}'

Session 4 results are in the README's Training section."""
import csv
import json
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "inst", "python"))
import bertr  # noqa: E402
from bertr.metrics import roc_auc  # noqa: E402

rows = list(csv.DictReader(open("/tmp/exp/train.csv")))
test = list(csv.DictReader(open("/tmp/exp/test.csv")))
for arg in sys.argv[1:]:
    cfg = json.loads(arg)
    clf = bertr.BertClassifier(**cfg)
    clf.fit([r["review"] for r in rows], [r["score"] for r in rows], classes=["great", "other"])
    prob = clf.predict_proba([r["review"] for r in test])[:, 1]
    auc = roc_auc(np.array([r["score"] == "other" for r in test], float), prob)
    print("RESULT", json.dumps(cfg), "test_auc", round(auc, 4), "history", json.dumps(clf.history_),
          "fit_s", round(clf.fit_seconds_), flush=True)
