"""Where a training step's time goes (issue 17, part 2): the embedded model, small_fine_foods' training reviews,
bertr's own length-bucketed batches at batch 32 and seq_len 128. Not a test: run on an otherwise idle machine.

    python bench/experiments/step_breakdown.py --train train.csv [--batches 40] [--precision float32]

For the same batches (the first ``--batches`` of epoch 0), medians of 3 passes, in seconds per batch:
``feed`` (slicing and padding the id matrices, in Python), ``forward`` (the network in training mode, no tape),
``forward_backward`` (the loss and every gradient, not applied), ``step`` (bertr's compiled training step:
forward, backward and the AdamWarmup update). ``backward`` = forward_backward - forward, ``optimizer`` = step -
forward_backward. Also the useful FLOP/s of each part against TensorFlow's float32 matmul peak measured here
(2048^3) and which gradients arrive as IndexedSlices (the token embedding's, densified by Adam).
"""

from __future__ import annotations

import argparse
import csv
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "inst" / "python"))

from bertr import BertClassifier, runtime  # noqa: E402

runtime.configure_threads()
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402

from bertr import inference  # noqa: E402
from bertr.inference import lengths_of, padded_batch  # noqa: E402
from bertr.training import _train_function, epoch_batches  # noqa: E402


def read_reviews(path: str) -> tuple[list[str], list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [row["review"] for row in rows], [row["score"] for row in rows]


def matmul_peak() -> float:
    a = tf.random.normal((2048, 2048))
    product = tf.function(lambda x: tf.matmul(x, x))
    product(a).numpy()
    times = []
    for _ in range(5):
        started = time.perf_counter()
        product(a).numpy()
        times.append(time.perf_counter() - started)
    return 2 * 2048**3 / statistics.median(times) / 1e9


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--batches", type=int, default=40)
    parser.add_argument("--precision", default="float32")
    parser.add_argument("--dropout", type=float, default=None, help="the encoder's dropout (default: the config's)")
    parser.add_argument("--pad-multiple", type=int, default=None, help="batch widths' multiple (default: bertr's)")
    args = parser.parse_args()
    if args.pad_multiple is not None:
        inference.PAD_MULTIPLE = args.pad_multiple
    texts, labels = read_reviews(args.train)
    clf = BertClassifier(
        seq_len=128, batch_size=32, epochs=1, validation_split=0, seed=1, precision=args.precision, dropout=args.dropout
    ).fit(texts[:64], labels[:64])  # a compiled model with its optimizer (and its traced step)
    model = clf.model_
    encoded = clf.encode(texts)
    lengths = lengths_of(encoded)
    batches = epoch_batches(lengths, 32, 1, 0)[: args.batches]
    target = (np.array(labels) == clf.classes_[1]).astype(np.float32)[:, None]
    loss_of = tf_keras.losses.get(model.loss)
    ids = tf.TensorSpec((None, None), tf.int32)

    @tf.function(input_signature=[ids, ids])
    def forward(token, segment):
        return model([token, segment], training=True)

    @tf.function(input_signature=[ids, ids, tf.TensorSpec((None, 1), tf.float32)])
    def forward_backward(token, segment, y):
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(loss_of(y, model([token, segment], training=True)))
        return tape.gradient(loss, model.trainable_variables)

    step = _train_function(model, 1, tf.distribute.get_strategy())
    fed = [padded_batch(encoded, rows, lengths) for rows in batches]
    weights = [np.ones(len(rows), np.float32) for rows in batches]

    def feed():
        for rows in batches:
            padded_batch(encoded, rows, lengths)

    parts = {
        "feed": feed,
        "forward": lambda: [forward(t, s).numpy() for t, s in fed],
        "forward_backward": lambda: [
            forward_backward(t, s, target[rows])[-1].numpy() for (t, s), rows in zip(fed, batches, strict=True)
        ],
        "step": lambda: [
            step(t, s, target[rows], w).numpy() for (t, s), rows, w in zip(fed, batches, weights, strict=True)
        ],
    }
    result = {}
    for name, run in parts.items():
        run()  # traced, warm
        times = []
        for _ in range(3):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        result[name] = statistics.median(times) / len(batches)
    result["backward"] = result["forward_backward"] - result["forward"]
    result["optimizer"] = result["step"] - result["forward_backward"]
    gradients = forward_backward(*fed[0], target[batches[0]])
    sparse = [
        v.name for v, g in zip(model.trainable_variables, gradients, strict=True) if isinstance(g, tf.IndexedSlices)
    ]
    real = np.array([lengths[rows].astype(np.float64) for rows in batches], dtype=object)
    h, inner, layers = 384, 1536, 6  # all-MiniLM-L6-v2
    forward_flops = sum(float(np.sum(r * (8 * h * h + 4 * h * inner) + 4 * r * r * h)) for r in real) * layers
    peak = matmul_peak()
    per_batch = forward_flops / len(batches)
    result.update(
        {
            "batches": len(batches),
            "precision": args.precision,
            "dropout": args.dropout,
            "pad_multiple": inference.PAD_MULTIPLE,
            "real_tokens": int(sum(lengths[rows].sum() for rows in batches)),
            "padded_tokens": int(sum(token.size for token, _ in fed)),
            "sparse_gradients": sparse,
            "matmul_peak_gflops": peak,
            "useful_forward_fraction_of_peak": per_batch / result["forward"] / 1e9 / peak,
            "useful_step_fraction_of_peak": 3 * per_batch / result["step"] / 1e9 / peak,
            "shares_of_step": {
                name: result[name] / result["step"] for name in ("feed", "forward", "backward", "optimizer")
            },
        }
    )
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
