"""Feeding experiment (session 3, issue 5): seconds per training step and ms per token on the same real
length-bucketed batches, for `trainer` (bertr's Trainer), `static` (plain train_on_batch). The `oldloop` mode
needs the pre-929affd `make_dataset`. Session 3: oldloop 1.33-1.44 ms/token, static 0.90, trainer 0.94.

    python bench/experiments/feeding.py trainer 30     # needs /tmp/exp/train.csv (see settings.py)
"""
import os
import sys, time, csv, numpy as np
sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "inst", "python"))
import bertr
from bertr import inference as I, runtime, training as T
from bertr.estimator import BertClassifier
from bertr.tasks import make_task
runtime.configure_threads(); runtime.set_seed(1)
rows = list(csv.DictReader(open('/tmp/exp/train.csv')))[:1600]
texts = [r['review'] for r in rows]; y = [r['score'] for r in rows]
p = bertr.load_pretrained(None)
tok = bertr.WordPieceTokenizer(p.vocab_path, True)
enc = tok.encode(texts, 128)
task = make_task(y, None, None, None); target = task.encode(y).astype(np.float32)
clf = BertClassifier()
model = clf._initialize_model(p, p.pooling, task, n_train=1600)
lengths = I.lengths_of(enc)
batches = T.epoch_batches(lengths, 32, 1, 0)[:int(sys.argv[2])]
widths = [I._padded_width(lengths, b, 128) for b in batches]
mode = sys.argv[1]
times = []
if mode == "loop":
    step = model.make_train_function()
    it = iter(T.make_dataset(enc, batches, target))
    for b in batches:
        s = time.perf_counter(); model.reset_metrics(); float(step(it)["loss"]); times.append(time.perf_counter() - s)
elif mode == "trainer":
    tr = T.Trainer(model, enc, target, epochs=1, batch_size=32, seed=1)
    tr.on_step = None
    last = [time.perf_counter()]
    def on_step(info):
        now = time.perf_counter(); times.append(now - last[0]); last[0] = now
    tr.on_step = on_step
    tr.lengths = lengths
    import types
    orig = T.epoch_batches
    T.epoch_batches = lambda *a: batches
    try:
        tr._run_epoch()
    except Exception as e:
        print(e)
else:
    seen = set()
    for b, w in zip(batches, widths):
        s = time.perf_counter(); model.train_on_batch([enc.token[b, :w], enc.segment[b, :w]], target[b]); times.append(time.perf_counter() - s)
ms_tok = [t / (len(b) * w) * 1000 for t, b, w in zip(times, batches, widths)]
print(mode, "widths", widths[:12], "med s", round(float(np.median(times[3:])), 3), "ms/token med", round(float(np.median(ms_tok[3:])), 4), "total", round(sum(times), 1), [round(t, 2) for t in times])
