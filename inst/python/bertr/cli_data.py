"""Files for the command line: CSV files read into the columns a command needs (texts, labels, row weights), and
results (prediction tables, metrics) written atomically.

Rows are counted from 1 after the header, as the ``row`` column of ``predict``'s output counts them; blank lines
are skipped. A field that is empty, only whitespace, or one of :data:`MISSING` is missing. Labels are read by what
the column holds: true/false, whole numbers (0/1 for a binary label), fractions in [0, 1] (a soft label), other
numbers, else text. A file that cannot be read or written, or a column it does not have, is a :class:`FileProblem`
(exit status 3); the output is written to a temporary file next to its destination and renamed into place, so an
interrupted command never leaves a half-written file.
"""

from __future__ import annotations

import csv
import math
import os
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

import numpy as np

from .checks import _rows
from .errors import BertrError

MISSING = frozenset({"", "NA", "N/A", "NaN", "nan", "NULL", "null"})  # besides fields of only whitespace
TRUE, FALSE = "true", "false"  # logical labels (R writes TRUE/FALSE), compared in lower case
STDIO = "-"  # a path meaning standard input (data) or standard output (results)

csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # texts may be longer than csv's default 128 KiB field limit


class FileProblem(BertrError):
    """A file that cannot be read or written, or a column the file does not have (exit status 3)."""


def _delimiter(path: str) -> str:
    return "\t" if path.lower().endswith((".tsv", ".tab")) else ","


@dataclass
class Table:
    """The columns a command asked for from one CSV file: raw text, None where missing."""

    path: str
    columns: dict[str, list[str | None]]
    rows: list[int]  # each row's number in the file (1-based, after the header)

    def __len__(self) -> int:
        return len(self.rows)

    def keep(self, mask: Sequence[bool]) -> Table:
        """The rows where ``mask`` is true."""
        index = [i for i, kept in enumerate(mask) if kept]
        return Table(
            self.path,
            {name: [values[i] for i in index] for name, values in self.columns.items()},
            [self.rows[i] for i in index],
        )


def _missing(field: str) -> bool:
    return field.strip() in MISSING


def _open_input(path: str) -> TextIO:
    if path == STDIO:
        sys.stdin.reconfigure(encoding="utf-8-sig", newline="")
        return sys.stdin
    try:
        return open(Path(path).expanduser(), encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise FileProblem(f"cannot read '{path}': no such file") from None
    except IsADirectoryError:
        raise FileProblem(f"cannot read '{path}': it is a directory, not a CSV file") from None
    except OSError as exc:
        raise FileProblem(f"cannot read '{path}': {exc.strerror or exc}") from None


def read_columns(path: str, wanted: dict[str, str | Sequence[str] | None], nrows: int | None = None) -> Table:
    """The columns named in ``wanted`` (option -> column name(s); None for an option not given) of the CSV file at
    ``path`` (``-``: standard input; tab-separated for .tsv), its first ``nrows`` rows when given. A column not in
    the file is an error naming the option, the column and the file's columns."""
    if nrows is not None and nrows < 0:
        raise BertrError(f"--nrows must be 0 or more, not {nrows}")
    names: list[tuple[str, str]] = []
    for option, columns in wanted.items():
        for column in [columns] if isinstance(columns, str) else columns or []:
            names.append((option, column))
    handle = _open_input(path)
    try:
        reader = csv.reader(handle, delimiter=_delimiter(path))
        header = next(reader, None)
        if header is None:
            raise BertrError(f"'{path}' is empty: a CSV file with a header line is needed")
        for option, column in names:
            if column not in header:
                raise FileProblem(
                    f"column '{column}' ({option}) is not in '{path}'; its columns are: {', '.join(header)}"
                )
            if header.count(column) > 1:
                raise BertrError(f"'{path}' has {header.count(column)} columns named '{column}'; rename them")
        where = {column: header.index(column) for _, column in names}
        columns: dict[str, list[str | None]] = {column: [] for column in where}
        rows: list[int] = []
        for record in reader:
            if nrows is not None and len(rows) >= nrows:
                break
            if not record:
                continue  # a blank line
            if len(record) != len(header):
                raise BertrError(
                    f"'{path}' line {reader.line_num} has {len(record)} fields but the header has {len(header)}; "
                    "is a text with a comma or a line break not quoted?"
                )
            rows.append(len(rows) + 1)
            for column, index in where.items():
                field = record[index]
                columns[column].append(None if _missing(field) else field)
    except UnicodeDecodeError as exc:
        raise FileProblem(f"cannot read '{path}': it is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except csv.Error as exc:
        raise BertrError(f"'{path}' line {reader.line_num} is not valid CSV: {exc}") from None
    except OSError as exc:
        raise FileProblem(f"cannot read '{path}': {exc.strerror or exc}") from None
    finally:
        if handle is not sys.stdin:
            handle.close()
    return Table(path, columns, rows)


def handle_missing(
    table: Table, described: dict[str, str], action: str, report: Callable[[str], None] | None = None
) -> Table:
    """The table without rows that lack a value in a column of ``described`` (column -> how to name it, e.g.
    "--text 'review'"): with ``action`` "fail", an error naming the columns and rows; with "drop", those rows
    dropped and ``report`` told which."""
    missing = {column: [i for i, v in enumerate(table.columns[column]) if v is None] for column in described}
    missing = {column: rows for column, rows in missing.items() if rows}
    if not missing:
        return table
    if action == "fail":
        parts = [
            f"{described[column]} in row(s) {_rows([table.rows[i] - 1 for i in rows])}"
            for column, rows in missing.items()
        ]
        raise BertrError(
            f"'{table.path}' has missing values (empty, NA): {'; '.join(parts)}. Fill them in, or drop those rows "
            "with --na-action drop"
        )
    bad = sorted({i for rows in missing.values() for i in rows})
    if report is not None:
        report(
            f"dropped {len(bad)} of {len(table)} row(s) with missing values (empty, NA): row(s) "
            f"{_rows([table.rows[i] - 1 for i in bad])}"
        )
    dropped = set(bad)
    return table.keep([i not in dropped for i in range(len(table))])


# labels ------------------------------------------------------------------------------------------------------


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


def parse_labels(values: Sequence[str | None]) -> list:
    """A label column's values as the estimator reads them: bools (true/false), ints (whole numbers, e.g. 0/1),
    floats (other numbers: fractions in [0, 1] make a soft label), else the texts (stripped). None stays None."""
    present = [v.strip() for v in values if v is not None]
    if present and all(v.lower() in (TRUE, FALSE) for v in present):
        return [None if v is None else v.strip().lower() == TRUE for v in values]
    numbers = [_number(v) for v in present]
    if present and all(n is not None for n in numbers):
        whole = all(math.isfinite(n) and n == int(n) for n in numbers)
        convert = (lambda v: int(float(v))) if whole else float
        return [None if v is None else convert(v.strip()) for v in values]
    return [None if v is None else v.strip() for v in values]


def labels_for_classes(values: Sequence[str | None], classes: Sequence[Any]) -> list:
    """A label column read as one of a fitted model's ``classes`` where it names one (by its text, as a number, or
    as true/false); other values stay text (the estimator reports them as unseen classes)."""
    by_text = {str(c): c for c in classes}
    numeric = {float(c): c for c in classes if isinstance(c, (int, float)) and not isinstance(c, bool)}
    found = []
    for value in values:
        if value is None:
            found.append(None)
            continue
        text = value.strip()
        lowered = text.lower()
        number = _number(text)
        if text in by_text:
            found.append(by_text[text])
        elif number is not None and number in numeric:
            found.append(numeric[number])
        elif lowered in (TRUE, FALSE) and any(c is (lowered == TRUE) for c in classes):
            found.append(lowered == TRUE)
        else:
            found.append(text)
    return found


def numbers(values: Sequence[str | None], what: str, rows: Sequence[int]) -> list[float]:
    """A numeric column (row weights, soft or regression labels) as floats; NaN where missing; true/false as 1/0.
    ``rows`` are the values' row numbers (for errors)."""
    found = []
    for row, value in zip(rows, values, strict=True):
        if value is None:
            found.append(float("nan"))
            continue
        text = value.strip()
        number = _number(text)
        if number is None and text.lower() in (TRUE, FALSE):
            number = 1.0 if text.lower() == TRUE else 0.0
        if number is None:
            raise BertrError(f"{what} must be numeric, but row {row} holds {text!r}")
        found.append(number)
    return found


def label_matrix(table: Table, columns: Sequence[str]) -> np.ndarray:
    """Several 0/1 label columns as an (n, k) float array (multi-label), NaN where missing."""
    return np.column_stack([numbers(table.columns[c], f"label column '{c}'", table.rows) for c in columns])


# results -----------------------------------------------------------------------------------------------------


def check_writable(path: str, overwrite: bool, option: str = "--output") -> None:
    """Fail early (before any slow work) when ``path`` exists without ``overwrite`` or its directory is missing."""
    if path == STDIO:
        return
    target = Path(path).expanduser()
    if target.exists() and not overwrite:
        raise FileProblem(f"{option} '{path}' already exists; choose a new path or add --overwrite")
    parent = target.absolute().parent
    if not parent.is_dir():
        raise FileProblem(f"{option} '{path}': the directory {parent} does not exist")


def write_atomically(path: str, write: Callable[[TextIO], None], overwrite: bool) -> str:
    """Call ``write(handle)`` on a temporary file next to ``path``, then rename it into place (``-``: standard
    output). Nothing is left behind when writing fails or is interrupted. Returns the path written."""
    if path == STDIO:
        write(sys.stdout)
        sys.stdout.flush()
        return path
    check_writable(path, overwrite)
    target = Path(path).expanduser().absolute()
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.tmp-", dir=target.parent)
    except OSError as exc:
        raise FileProblem(f"cannot write '{path}': {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise FileProblem(f"cannot write '{path}': {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return str(target)


def write_csv(path: str, header: Sequence[str], rows: Sequence[Sequence[Any]], overwrite: bool) -> str:
    """A CSV file (comma-separated, quoted where needed, ``\\n`` line ends) written atomically."""

    def write(handle: TextIO) -> None:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)

    return write_atomically(path, write, overwrite)


def _cell(value: Any) -> Any:
    """A value as a CSV field: floats at full precision, numpy scalars as Python's, NaN as NA."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return "NA"
    return value


PREDICTION_TYPES = ("prob", "class", "both")


def prediction_table(
    task: str,
    classes: Sequence[Any],
    proba: np.ndarray | None,
    decided: np.ndarray | None,
    rows: Sequence[int],
    kept: dict[str, list[str | None]],
) -> tuple[list[str], list[list[Any]]]:
    """The header and rows of ``predict``'s output: ``row`` (the input's row number), the ``kept`` input columns,
    then the probabilities (``proba``, when given: binary ``prob_<positive class>``; multiclass and multilabel
    ``prob_<class>`` per class or label; soft ``prob``; regression ``value``) and the decisions (``decided``, when
    given: ``class``; multilabel ``pred_<label>`` 0/1 per label)."""
    columns: dict[str, list[Any]] = {"row": list(rows)}
    for name, values in kept.items():
        columns[name] = ["NA" if v is None else v for v in values]

    def add(name: str, values: Any) -> None:
        if name in columns:
            raise BertrError(f"the output would have two columns named '{name}'; do not --keep '{name}'")
        columns[name] = list(values)

    if proba is not None:
        if task == "binary":
            add(f"prob_{classes[1]}", proba[:, 1])
        elif task in ("multiclass", "multilabel"):
            for j, name in enumerate(classes):
                add(f"prob_{name}", proba[:, j])
        elif task == "soft":
            add("prob", proba)
        else:
            add("value", proba)
    if decided is not None and task != "regression":
        if task == "multilabel":
            for j, name in enumerate(classes):
                add(f"pred_{name}", decided[:, j])
        else:
            add("class", decided)
    header = list(columns)
    return header, [[_cell(columns[name][i]) for name in header] for i in range(len(rows))]
