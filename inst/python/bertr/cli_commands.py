"""What each command of ``python -m bertr`` does, given its parsed arguments (the parser is :mod:`bertr.cli`): train
a classifier on a CSV file and save it; predict or evaluate a CSV file with a saved model; info, install-model and
tokenize. Errors are raised (:class:`~bertr.errors.BertrError`, :class:`~bertr.cli_data.FileProblem`); :mod:`bertr.cli`
turns them into exit statuses."""

from __future__ import annotations

import argparse
import inspect
import json
import math
import re
import sys
from pathlib import Path
from typing import Any

import numpy as np

from . import cli_data, cli_settings
from .cli_data import FileProblem
from .cli_progress import ProgressLines, format_metrics, format_seconds, tell
from .embedded import EMBEDDED_NAME, install_embedded_model
from .errors import BertrError
from .estimator import BertClassifier
from .pretrained import tokenizer
from .runtime import versions
from .storage import MANIFEST, read_json


def _reporter(args: argparse.Namespace) -> ProgressLines | None:
    return None if args.quiet else ProgressLines()


def _described(**columns: str | list[str] | None) -> dict[str, str]:
    """Column -> how messages name it (``--label 'score'``), for the options given."""
    found: dict[str, str] = {}
    for option, names in columns.items():
        for name in [names] if isinstance(names, str) else names or []:
            found.setdefault(name, f"--{option.replace('_', '-')} '{name}'")
    return found


def _check_exists(path: str | None, option: str) -> None:
    """Fail early (before TensorFlow starts) when the file or directory an option names is missing."""
    if path is not None and not Path(path).expanduser().exists():
        raise FileProblem(f"{option} '{path}': no such file or directory")


FIT_OPTIONS = ("sample_weight", "class_weight", "checkpoint_dir", "checkpoint_every")  # fit()'s, as options


def _naming_option(exc: BertrError) -> BertrError:
    """The estimator's error about a setting (``seq_len must be ...``) with the option that sets it appended."""
    first = re.match(r"([a-z_]+)(?:'s)?\b", str(exc))
    names = {setting.name for setting in cli_settings.settings_of(BertClassifier)} | set(FIT_OPTIONS)
    if first is None or first.group(1) not in names:
        return exc
    return type(exc)(f"{exc} ({cli_settings.flag_of(first.group(1))})")


def train(args: argparse.Namespace) -> None:
    """``train``: the CSV file's columns read and checked, the classifier fitted with the settings given, saved
    with the column names (``extra``), and a summary printed."""
    settings = cli_settings.given_settings(args)
    _check_exists(settings.get("pretrained"), "--pretrained")
    cli_data.check_writable(args.output, args.overwrite)  # before the slow part, not after it
    labels = list(args.label)
    described = _described(text=args.text, text_pair=args.text_pair, label=labels, sample_weight=args.sample_weight)
    table = cli_data.read_columns(
        args.data,
        {"--text": args.text, "--text-pair": args.text_pair, "--label": labels, "--sample-weight": args.sample_weight},
        args.nrows,
    )
    table = cli_data.handle_missing(table, described, args.na_action, tell)
    if len(labels) > 1:
        y: Any = cli_data.label_matrix(table, labels)
    else:
        y = cli_data.parse_labels(table.columns[labels[0]])
    weight = None
    if args.sample_weight is not None:
        weight = cli_data.numbers(table.columns[args.sample_weight], described[args.sample_weight], table.rows)
    classifier = BertClassifier(**settings)
    try:
        classifier.fit(
            table.columns[args.text],
            y,
            pairs=None if args.text_pair is None else table.columns[args.text_pair],
            sample_weight=weight,
            class_weight=args.class_weight,
            label_names=labels if len(labels) > 1 else None,
            callback=_reporter(args),
            checkpoint_dir=args.checkpoint_dir,
            checkpoint_every=args.checkpoint_every,
            resume=not args.no_resume,
        )
    except BertrError as exc:
        raise _naming_option(exc) from exc
    extra = {"text": args.text, "text_pair": args.text_pair, "label": labels}  # predict / evaluate's defaults
    try:
        path = classifier.save(args.output, extra=extra, overwrite=args.overwrite)
    except BertrError as exc:  # the directory could not be written
        raise FileProblem(str(exc)) from None
    for name, value in train_summary(classifier, path):
        print(f"{name + ':':<12}{value}")


def train_summary(classifier: BertClassifier, path: str) -> list[tuple[str, str]]:
    """What a fit did, in lines of (name, value): task and classes, rows, epochs, the kept epoch's validation
    metrics, time, and where the model is."""
    task, classes = classifier.task_.name, [str(c) for c in classifier.classes_]
    if task == "binary":
        described = f"binary (classes {', '.join(classes)}; positive: {classes[1]})"
    elif task == "multiclass":
        described = f"multiclass ({len(classes)} classes: {', '.join(classes)})"
    elif task == "multilabel":
        described = f"multilabel ({len(classes)} labels: {', '.join(classes)})"
    else:
        described = task
    history = classifier.history_
    epochs = f"{len(history)} of {classifier.epochs}"
    if classifier.stopped_early_:
        epochs += ", stopped early"
    kept = classifier.kept_epoch_
    if kept and kept != len(history):
        epochs += f"; the model holds epoch {kept}'s weights"
    row = history[kept - 1] if kept else {}
    validation = {k: v for k, v in row.items() if k.startswith("val_")}
    shown = f"{format_metrics(validation)} (epoch {kept})" if validation else "none (no rows held out)"
    return [
        ("task", described),
        ("rows", f"{classifier.n_train_} training, {classifier.n_validation_} validation"),
        ("epochs", epochs),
        ("validation", shown),
        ("time", format_seconds(classifier.fit_seconds_ or 0.0)),
        ("saved to", path),
    ]


def _saved_columns(model: str) -> dict[str, Any]:
    """The column names a saved model was trained on (``extra`` of its manifest: ``text``, ``text_pair``, ``label``;
    models saved from R: ``r_text``, ...), read without loading it (fast, before TensorFlow starts); the model
    itself is verified when it is loaded."""
    path = Path(model).expanduser()
    if not path.is_dir():
        raise FileProblem(f"MODEL_DIR '{model}': no such directory")
    try:
        manifest = read_json(path / MANIFEST, f"the saved model '{model}'")
    except BertrError as exc:
        raise FileProblem(str(exc)) from None
    extra = manifest.get("extra") if isinstance(manifest, dict) else None
    extra = extra if isinstance(extra, dict) else {}
    label = extra.get("label", extra.get("r_label"))
    return {
        "text": extra.get("text", extra.get("r_text")),
        "text_pair": extra.get("text_pair", extra.get("r_text_pair")),
        "label": [label] if isinstance(label, str) else list(label or []),
    }


def _load(model: str) -> BertClassifier:
    try:
        return BertClassifier.load(model)
    except BertrError as exc:  # a damaged or incomplete model directory
        raise FileProblem(str(exc)) from None


def _text_columns(args: argparse.Namespace, saved: dict[str, Any]) -> tuple[str, str | None]:
    text = args.text or saved["text"]
    if text is None:
        raise BertrError("the model does not record its text column: give --text COL")
    return text, args.text_pair or saved["text_pair"]


def _keywords(method: Any, given: dict[str, Any]) -> dict[str, Any]:
    """``given`` (the options set) if ``method`` takes them all, else an error naming the first it lacks."""
    accepted = inspect.signature(method).parameters
    for name in given:
        if name not in accepted:
            raise BertrError(
                f"{cli_settings.flag_of(name)} needs a newer bertr: this one's BertClassifier.{method.__name__}() "
                f"has no '{name}' argument"
            )
    return given


def predict(args: argparse.Namespace) -> None:
    """``predict``: probabilities and decisions for the CSV file's texts, one output row per input row. The options
    that BertClassifier.predict gained later (``threshold``, ``long_text``, ...) are passed only when given."""
    saved = _saved_columns(args.model)
    cli_data.check_writable(args.output, args.overwrite)
    text, pair = _text_columns(args, saved)
    options = {name: getattr(args, name) for name in ("long_text", "stride", "window_pooling")}
    reading = {name: value for name, value in options.items() if value is not None}  # given ones only
    if args.precision != "model":
        reading["precision"] = args.precision
    deciding = {} if args.threshold is None else {"threshold": args.threshold}
    want_prob, want_class = args.type in ("prob", "both"), args.type in ("class", "both")
    if args.threshold is not None and not want_class:
        raise BertrError("--threshold decides classes: use it with --type class or --type both")
    prob_options = _keywords(BertClassifier.predict_proba, reading)  # also for regression's values
    class_options = _keywords(BertClassifier.predict, {**reading, **deciding}) if want_class else {}
    table = cli_data.read_columns(args.data, {"--text": text, "--text-pair": pair, "--keep": args.keep}, args.nrows)
    table = cli_data.handle_missing(table, _described(text=text, text_pair=pair), args.na_action, tell)
    classifier = _load(args.model)
    task = classifier.task_.name
    if args.threshold is not None:
        classifier.task_.check_threshold(args.threshold)  # e.g. a regression model has none: say so
    texts = table.columns[text]
    pairs = None if pair is None else table.columns[pair]
    report = _reporter(args)
    proba = decided = None
    if want_prob and want_class and task != "regression":  # one pass of the network for both
        proba, decided = classifier.predict_both(
            texts, pairs, batch_size=args.batch_size, report=report, **{**prob_options, **class_options}
        )
    elif want_prob or task == "regression":
        proba = classifier.predict_proba(texts, pairs, batch_size=args.batch_size, report=report, **prob_options)
    elif want_class:
        decided = classifier.predict(texts, pairs, batch_size=args.batch_size, report=report, **class_options)
    header, rows = cli_data.prediction_table(
        task, classifier.classes_, proba, decided, table.rows, {name: table.columns[name] for name in args.keep}
    )
    written = cli_data.write_csv(args.output, header, rows, args.overwrite)
    if not args.quiet and written != cli_data.STDIO:
        tell(f"wrote {len(rows)} rows ({', '.join(header)}) to {written}")


def evaluate(args: argparse.Namespace) -> None:
    """``evaluate``: BertClassifier.evaluate's metrics on the CSV file's labelled texts, as a table or JSON."""
    saved = _saved_columns(args.model)
    if args.output is not None:
        cli_data.check_writable(args.output, args.overwrite)
    text, pair = _text_columns(args, saved)
    labels = args.label or saved["label"]
    if not labels:
        raise BertrError("the model does not record its label column: give --label COL")
    table = cli_data.read_columns(args.data, {"--text": text, "--text-pair": pair, "--label": labels}, args.nrows)
    described = _described(text=text, text_pair=pair, label=labels)
    table = cli_data.handle_missing(table, described, args.na_action, tell)
    classifier = _load(args.model)
    task = classifier.task_.name
    if task == "multilabel":
        y: Any = cli_data.label_matrix(table, labels)
    elif len(labels) > 1:
        raise BertrError(f"a {task} model has one label column, not {len(labels)}: {', '.join(labels)}")
    elif task in ("binary", "multiclass"):
        y = cli_data.labels_for_classes(table.columns[labels[0]], classifier.classes_)
    else:
        y = cli_data.numbers(table.columns[labels[0]], described[labels[0]], table.rows)
    metrics = classifier.evaluate(
        table.columns[text],
        y,
        pairs=None if pair is None else table.columns[pair],
        batch_size=args.batch_size,
        report=_reporter(args),
    )
    result = {"n": len(table), **{name: _finite(value) for name, value in metrics.items()}}
    as_json = json.dumps(result, indent=2) + "\n"
    if args.json:
        sys.stdout.write(as_json)
    else:
        width = max(len(name) for name in result) + 2
        for name, value in result.items():
            shown = "NaN" if value is None else f"{value:.4g}" if isinstance(value, float) else json.dumps(value)
            print(f"{name:<{width}}{shown}")
    if args.output is not None:
        cli_data.write_atomically(args.output, lambda handle: handle.write(as_json), args.overwrite)


def _finite(value: Any) -> Any:
    """A metric for JSON: a number, None for NaN (no positives, no rows); anything else as it is."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        return value
    return None if math.isnan(float(value)) else float(value)


def info(args: argparse.Namespace) -> None:
    for key, value in versions().items():
        print(f"{key:<20} {value}")


def export(args: argparse.Namespace) -> None:
    classifier = _load(args.model)
    path = classifier.export(args.out, columns=_saved_columns(args.model), overwrite=args.overwrite)
    print(f"exported to {path}: tf.saved_model.load() it after `import tensorflow_text`; model_card.json describes it")


def install_model(args: argparse.Namespace) -> None:
    path = install_embedded_model(report=lambda text: print(text, flush=True))
    print(f"{EMBEDDED_NAME}: ready (sha256 verified) at {path}")


def tokenize(args: argparse.Namespace) -> None:
    wordpiece = tokenizer(args.pretrained)
    encoded = wordpiece.encode(args.texts, args.seq_len)
    for text, ids in zip(args.texts, encoded.token, strict=True):
        print(
            json.dumps(
                {"text": text, "tokens": wordpiece.tokenize(text), "ids": [int(i) for i in ids if i]},
                ensure_ascii=False,
            )
        )
