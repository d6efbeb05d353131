"""The command line's lines on stderr: the core's progress events (see :mod:`bertr.progress`), and messages.

A line per epoch with its loss and validation metrics (``*`` marks the best epoch under early stopping). Within an
epoch, and while tokenizing or predicting, a bar: redrawn in place on a terminal; else, once it has run a few seconds,
written at each quarter so that logs hold a few readable lines.
"""

from __future__ import annotations

import sys
from typing import TextIO


def tell(text: str) -> None:
    """A message to the user on stderr, marked as bertr's (``bertr: ...``)."""
    print(f"bertr: {text}", file=sys.stderr, flush=True)


def format_seconds(seconds: float) -> str:
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(int(round(seconds)), 60)
    if minutes < 60:
        return f"{minutes} min {rest:02d} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


def format_metrics(row: dict) -> str:
    """``loss 0.6931, val_loss 0.6902, val_auc 0.75``: the loss and the validation metrics of a history row."""
    names = [name for name in row if name == "loss" or name.startswith("val_")]
    return ", ".join(f"{name} {row[name]:.4g}" for name in names)


def _bar(fraction: float, width: int = 24) -> str:
    filled = round(max(0.0, min(1.0, fraction)) * width)
    return "[" + "=" * filled + "-" * (width - filled) + "]"


class ProgressLines:
    """A progress callback (``fit(callback=)``, ``predict(report=)``) writing to ``stream``."""

    def __init__(self, stream: TextIO | None = None, quiet_seconds: float = 3.0):
        self.stream = stream or sys.stderr
        self.dynamic = bool(getattr(self.stream, "isatty", lambda: False)())
        self.quiet_seconds = quiet_seconds
        self.key: str | None = None  # the bar being drawn
        self.shown = -1  # its last quarter written (not dynamic)
        self.open = False  # a dynamic bar's line is not ended yet

    def write(self, line: str) -> None:
        self.done()
        print(line, file=self.stream, flush=True)

    def done(self) -> None:
        if self.open:
            print(file=self.stream, flush=True)
            self.open = False
        self.key = None

    def step(self, key: str, label: str, step: int, steps: int, detail: str, eta: float) -> None:
        if key != self.key:
            self.done()
            self.key, self.shown = key, -1
        line = f"{label} {_bar(step / max(steps, 1))} {step}/{steps} | {detail} | ETA {format_seconds(eta)}"
        if self.dynamic:
            print("\r" + line + "\033[K", end="", file=self.stream, flush=True)
            self.open = True
            return
        quarter = 4 * step // max(steps, 1)
        if quarter > self.shown:
            self.shown = quarter
            print(line, file=self.stream, flush=True)

    def __call__(self, event: dict) -> None:
        kind = event.get("event")
        if kind == "train_begin" and event.get("step", 0) == 0:
            self.write(
                f"Training on {event['rows']} rows ({event['validation_rows']} held out): "
                f"{event['epochs']} epoch(s) of {event['steps']} steps"
            )
        elif kind == "resume":
            if event.get("finished"):
                self.write(f"Checkpoint at step {event['step']} holds a finished run: nothing left to train")
            else:
                self.write(f"Resuming from the checkpoint at step {event['step']} (epoch {event['epoch']})")
        elif kind == "batch":
            if not self.dynamic and event["elapsed"] < self.quiet_seconds and self.key is None:
                return  # in a log, a short epoch gets its one line (below), not a bar
            label = f"Epoch {event['epoch']}/{event['epochs']}"
            detail = f"loss {event['loss']:.4f}"
            self.step(f"epoch {event['epoch']}", label, event["step"], event["steps"], detail, event["eta"])
        elif kind == "epoch":
            best = " *" if event.get("best") else ""
            self.write(
                f"Epoch {event['epoch']}/{event['epochs']}: {format_metrics(event)} "
                f"({format_seconds(event['seconds'])}){best}"
            )
        elif kind == "train_end" and event.get("stopped_early"):
            self.write(
                f"Stopped early after epoch {event['epochs_run']}: no improvement since epoch "
                f"{event['best_epoch']}, whose weights are kept"
            )
        elif kind in ("tokenize", "predict"):
            label = "Tokenizing" if kind == "tokenize" else "Predicting"
            if event["elapsed"] < self.quiet_seconds and self.key != label:
                return
            step, steps = event["step"], event["steps"]
            eta = event["elapsed"] / max(step, 1) * (steps - step)
            self.step(label, label, step, steps, "rows" if kind == "tokenize" else "batches", eta)
            if step >= steps:
                self.done()
