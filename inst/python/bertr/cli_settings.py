"""BertClassifier's settings as command-line options, derived from its signature.

Every parameter of ``BertClassifier.__init__`` becomes an option (``seq_len`` -> ``--seq-len``), so a setting added
to the estimator appears on the command line without a change here. The value's type comes from the parameter's
annotation (else its default): whole numbers, numbers, text, or ``--x/--no-x`` for true/false settings. A few need
more than a type (:data:`SPECIAL`): ``early_stopping`` (true/false or a JSON object) and ``devices`` (repeatable or a
comma list); the valid words of a text setting are read from the module that owns them (:data:`CHOICES`). The help
text of each option is the estimator's own description of the parameter (its docstring). An option not given on
the command line is not passed: the estimator's default applies.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

# Where each setting is listed in `train --help`; a setting not named here is listed with the model settings.
GROUPS = {
    "training": (
        "batch_size",
        "epochs",
        "learning_rate",
        "warmup_proportion",
        "weight_decay",
        "validation_split",
        "seed",
        "early_stopping",
    ),
    "distribution": ("threads", "strategy", "devices", "precision"),
}
DEFAULT_GROUP = "model"

# The valid words of text settings: (bertr module, constant) of the module that checks them. A module or constant
# that does not exist (yet) leaves the option free text, checked by the estimator as ever.
CHOICES = {
    "task": ("tasks", "TASKS"),
    "pooling": ("checks", "POOLINGS"),
    "strategy": ("checks", "STRATEGIES"),
    "precision": ("checks", "PRECISIONS"),
    "truncation": ("long_text", "TRUNCATIONS"),
    "long_text": ("long_text", "LONG_TEXTS"),
    "window_pooling": ("long_text", "WINDOW_POOLINGS"),
}

PREFIX = "setting__"  # the argparse dest of a setting: PREFIX + the parameter's name


def choices_of(name: str) -> tuple[str, ...] | None:
    """The valid words of the text setting ``name``, from the module that owns them, or None."""
    if name not in CHOICES:
        return None
    module, constant = CHOICES[name]
    try:
        values = getattr(importlib.import_module(f"bertr.{module}"), constant)
    except (ImportError, AttributeError):
        return None
    return tuple(values)


def true_false(text: str) -> bool:
    """``true``/``false`` (also yes/no, 1/0, TRUE/FALSE) as a bool; argparse's error otherwise."""
    lowered = text.strip().lower()
    if lowered in ("true", "yes", "1", "t"):
        return True
    if lowered in ("false", "no", "0", "f"):
        return False
    raise argparse.ArgumentTypeError(f"expected true or false, not {text!r}")


def early_stopping_value(text: str) -> bool | dict:
    """``--early-stopping``: true/false, or a JSON object of early stopping's settings."""
    if text.strip().startswith("{"):
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise argparse.ArgumentTypeError(f"not a valid JSON object ({exc.msg}): {text}") from None
        if not isinstance(value, dict):
            raise argparse.ArgumentTypeError(f"expected true, false or a JSON object, not {text!r}")
        return value
    try:
        return true_false(text)
    except argparse.ArgumentTypeError:
        raise argparse.ArgumentTypeError(
            f'expected true, false or a JSON object such as \'{{"monitor": "val_loss", "patience": 2}}\', not {text!r}'
        ) from None


class CommaList(argparse.Action):
    """A repeatable option whose values may also be comma lists: ``--devices a,b --devices c`` -> [a, b, c]."""

    def __call__(self, parser, namespace, values, option_string=None):
        items = list(getattr(namespace, self.dest, None) or [])
        items += [item.strip() for item in str(values).split(",") if item.strip()]
        setattr(namespace, self.dest, items)


# Help for parameters the docstring describes only together with others ("batch_size, epochs, learning_rate: ...").
HELP = {
    "batch_size": "rows per training step (the global batch, split among replicas)",
    "epochs": "passes over the training rows",
    "learning_rate": "the peak learning rate: AdamWarmup warms up linearly over warmup_proportion of the steps, "
    "then decays linearly to 0",
    "warmup_proportion": "the fraction of the steps with a rising learning rate",
}
METAVARS = {"int": "N", "float": "X", "str": "TEXT"}  # the value's placeholder in the help, by kind
PLACEHOLDERS = {"pretrained": "DIR"}  # ... or by name


@dataclass
class Special:
    """How an option reads a setting whose value is more than a number or a word."""

    type: Callable[[str], Any] | None
    metavar: str
    help: str
    action: type[argparse.Action] | None = None


SPECIAL = {
    "early_stopping": Special(
        early_stopping_value,
        "true|false|JSON",
        "stop when the watched validation metric stops improving: true (the task's usual metric, patience 1), "
        'false, or a JSON object with monitor, patience, min_delta, restore_best, e.g. \'{"monitor": "val_loss", '
        '"patience": 2}\'',
    ),
    "devices": Special(
        None,
        "DEVICE",
        "with --strategy mirrored, the devices to use (e.g. /gpu:0); repeat the option or give a comma list",
        CommaList,
    ),
}


@dataclass
class Setting:
    """One estimator parameter as an option."""

    name: str
    flag: str
    group: str
    default: Any
    kind: str  # "int", "float", "str", "bool" or "special"
    choices: tuple[str, ...] | None
    help: str


def _kind(parameter: inspect.Parameter) -> str:
    """The value type of a parameter, from its annotation (``int | None`` -> int), else from its default."""
    annotation = parameter.annotation
    text = annotation if isinstance(annotation, str) else getattr(annotation, "__name__", str(annotation))
    optional = re.fullmatch(r"(?:typing\.)?Optional\[(.*)\]", text)
    if optional:
        text = optional.group(1)
    parts = {part.strip() for part in text.split("|")} - {"None", "NoneType"}
    if parts == {"bool"}:
        return "bool"
    if parts == {"int"}:
        return "int"
    if parts and parts <= {"int", "float"}:
        return "float"
    if parts == {"str"}:
        return "str"
    default = parameter.default
    for kind in (bool, int, float, str):  # bool first: True is an int too
        if default is not inspect.Parameter.empty and default is not None and isinstance(default, kind):
            return kind.__name__
    return "str"


def parameter_docs(cls: type) -> dict[str, str]:
    """Each parameter's description from the class docstring's "Parameters" section (``name: text`` entries,
    continued on indented lines; ``a, b: text`` describes several)."""
    doc = inspect.getdoc(cls) or ""
    section = doc.split("----------", 1)[1] if "----------" in doc else ""
    docs: dict[str, str] = {}
    names: list[str] = []
    for line in section.splitlines():
        entry = re.match(r"^([a-z_][a-z0-9_]*(?:, [a-z_][a-z0-9_]*)*): (.*)$", line)
        if entry:
            names = entry.group(1).split(", ")
            for name in names:
                docs[name] = entry.group(2).strip()
        elif line.startswith(" ") and names:
            for name in names:
                docs[name] += " " + line.strip()
        else:
            names = []
    return {name: _plain(text) for name, text in docs.items()}


def _plain(text: str) -> str:
    """A docstring's description for the command line: no reST markup, and None (an argument left out) "unset"."""
    text = re.sub(r":\w+:`~?([^`]*)`", r"\1", text)  # :mod:`bertr.tasks` -> bertr.tasks
    text = re.sub(r"``([^`]*)``", r"\1", text)
    return re.sub(r"\bNone\b", "unset", text)


def settings_of(cls: type) -> list[Setting]:
    """The options for the parameters of ``cls.__init__`` (all but ``self``), in the signature's order."""
    docs = parameter_docs(cls)
    group_of = {name: group for group, names in GROUPS.items() for name in names}
    found = []
    for name, parameter in inspect.signature(cls.__init__).parameters.items():
        if name == "self" or parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            continue
        default = None if parameter.default is inspect.Parameter.empty else parameter.default
        kind = "special" if name in SPECIAL else _kind(parameter)
        described = (
            SPECIAL[name].help if name in SPECIAL else HELP.get(name) or docs.get(name, f"BertClassifier's {name}")
        )
        found.append(
            Setting(
                name=name,
                flag="--" + name.replace("_", "-"),
                group=group_of.get(name, DEFAULT_GROUP),
                default=default,
                kind=kind,
                choices=choices_of(name) if kind == "str" else None,
                help=described,
            )
        )
    return found


def _shown(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def add_settings(groups: dict[str, Any], cls: type) -> list[Setting]:
    """Add an option per setting of ``cls`` to the argparse groups (``groups[setting.group]``, or the model group);
    not given, an option leaves its dest unset (argparse.SUPPRESS), so :func:`given_settings` passes only what
    the command line says."""
    settings = settings_of(cls)
    for setting in settings:
        group = groups.get(setting.group, groups[DEFAULT_GROUP])
        help_text = f"{setting.help} (default: {_shown(setting.default)})".replace("%", "%%")
        options: dict[str, Any] = {"dest": PREFIX + setting.name, "default": argparse.SUPPRESS, "help": help_text}
        if setting.kind == "bool":
            group.add_argument(setting.flag, action=argparse.BooleanOptionalAction, **options)
            continue
        if setting.kind == "special":
            special = SPECIAL[setting.name]
            if special.action is not None:
                options["action"] = special.action
            else:
                options["type"] = special.type
            group.add_argument(setting.flag, metavar=special.metavar, **options)
            continue
        options["type"] = {"int": int, "float": float, "str": str}[setting.kind]
        if setting.choices:
            options["choices"] = setting.choices
        else:
            options["metavar"] = PLACEHOLDERS.get(setting.name, METAVARS[setting.kind])
        group.add_argument(setting.flag, **options)
    return settings


def given_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The settings given on the command line, by parameter name (for ``BertClassifier(**settings)``)."""
    return {key[len(PREFIX) :]: value for key, value in vars(args).items() if key.startswith(PREFIX)}


def flag_of(name: str) -> str:
    """The option that sets parameter ``name``."""
    return "--" + name.replace("_", "-")
