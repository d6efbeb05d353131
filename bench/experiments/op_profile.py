"""Where a training step's time goes, op by op (issue 17, part 2): TensorFlow's profiler over bertr's compiled
training step on the same batches as step_breakdown.py (the embedded model, small_fine_foods' training reviews,
bertr's length-bucketed batches at batch 32 and seq_len 128). Not a test: run on an otherwise idle machine.

    python bench/experiments/op_profile.py --train train.csv [--batches 20] [--pad-multiple 8] [--out op_profile.json]

Prints (and writes) milliseconds per step by kind of work -- the dense matrix products (GEMM), the attention's
batched products, layer norms, the feed-forward's element-wise ops (GELU), dropout, the attention's element-wise
ops, Adam, embeddings, the written-out gradients of GELU and the layer norms -- forward and backward apart, from
the op events the profiler records on TensorFlow's compute thread; the GEMMs' achieved GFLOP/s from the padded
tokens; and the padding's share of the tokens.
"""

from __future__ import annotations

import argparse
import collections
import csv
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "inst" / "python"))

from bertr import BertClassifier, inference, runtime  # noqa: E402

runtime.configure_threads()
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

from bertr.inference import lengths_of, padded_batch  # noqa: E402
from bertr.training import _train_function, epoch_batches  # noqa: E402

H, INNER, LAYERS = 384, 1536, 6  # all-MiniLM-L6-v2


def read_reviews(path: str) -> tuple[list[str], list[str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [row["review"] for row in rows], [row["score"] for row in rows]


def kind_of(name: str, op: str) -> str:
    """The kind of work of one op, from its type and its Keras layer's name."""
    if op == "_MklMatMul":
        return "gemm"
    if op == "_MklBatchMatMulV2":
        return "attention_products"
    for part, kind in (
        ("AdamWarmup", "adam"),
        ("Dropout", "dropout"),
        ("-Norm", "layer_norm"),
        ("FeedForward", "feed_forward_elementwise"),
        ("MultiHeadSelfAttention", "attention_elementwise"),
        ("Embedding", "embeddings"),
    ):
        if part in name:
            return kind
    if "/" not in name:  # bertr's written-out gradients (exact GELU, layer norms) run outside the layers' scopes
        return "written_out_gradients"
    return "other"


def profile(run, logdir: str) -> list[tuple[str, str, float]]:
    """(op name, op type, seconds) of every op run on TensorFlow's compute thread during ``run()``."""
    tf.profiler.experimental.start(logdir)
    run()
    tf.profiler.experimental.stop()
    (path,) = Path(logdir).rglob("*.xplane.pb")
    space = xplane_pb2.XSpace()
    space.ParseFromString(path.read_bytes())
    events = []
    for plane in space.planes:
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):
                continue
            for event in line.events:
                label = plane.event_metadata[event.metadata_id].name
                if ":" in label and not label.startswith("ExecutorState"):
                    name, op = label.rsplit(":", 1)
                    events.append((name, op, event.duration_ps / 1e12))
    return events


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", required=True)
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--pad-multiple", type=int, default=None, help="batch widths' multiple (default: bertr's)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.pad_multiple is not None:
        inference.PAD_MULTIPLE = args.pad_multiple
    texts, labels = read_reviews(args.train)
    clf = BertClassifier(seq_len=128, batch_size=32, epochs=1, validation_split=0, seed=1).fit(texts[:64], labels[:64])
    model = clf.model_
    encoded = clf.encode(texts)
    lengths = lengths_of(encoded)
    batches = epoch_batches(lengths, 32, 1, 0)[: args.batches]
    target = (np.array(labels) == clf.classes_[1]).astype(np.float32)[:, None]
    step = _train_function(model, 1, tf.distribute.get_strategy())
    fed = [padded_batch(encoded, rows, lengths) for rows in batches]

    def run():
        for (token, segment), rows in zip(fed, batches, strict=True):
            step(token, segment, target[rows], np.ones(len(rows), np.float32)).numpy()

    run()  # warm
    times = []
    for _ in range(3):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    with tempfile.TemporaryDirectory() as logdir:
        events = profile(run, logdir)
    n = len(batches)
    by_kind: collections.Counter = collections.Counter()
    by_op: collections.Counter = collections.Counter()
    for name, op, seconds in events:
        kind = kind_of(name, op)
        direction = "backward" if name.startswith("gradient_tape") else "forward"
        by_kind[kind if kind in ("adam", "written_out_gradients") else f"{kind}_{direction}"] += seconds / n
        by_op[op] += seconds / n
    ops_total = sum(by_kind.values())
    padded = sum(token.size for token, _ in fed)
    real = int(sum(lengths[rows].sum() for rows in batches))
    gemm_flops = 3 * (8 * H * H + 4 * H * INNER) * LAYERS * padded / n
    gemm_seconds = by_kind["gemm_forward"] + by_kind["gemm_backward"]
    result = {
        "batches": n,
        "pad_multiple": inference.PAD_MULTIPLE,
        "step_seconds_unprofiled": statistics.median(times) / n,
        "op_seconds_per_step": ops_total,
        "real_tokens": real,
        "padded_tokens": int(padded),
        "padding_share": 1 - real / padded,
        "gemm_gflops_achieved": gemm_flops / gemm_seconds / 1e9,
        "ms_per_step_by_kind": {k: round(v * 1e3, 2) for k, v in by_kind.most_common()},
        "share_by_kind": {k: round(v / ops_total, 4) for k, v in by_kind.most_common()},
        "ms_per_step_by_op_type": {k: round(v * 1e3, 2) for k, v in by_op.most_common(20)},
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        Path(args.out).write_text(text + "\n")


if __name__ == "__main__":
    main()
