"""Shared fixtures: tiny random BERT checkpoints written on the fly, and a numpy reference BERT."""

import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # inst/python, when not pip-installed
os.environ.setdefault("TF_USE_LEGACY_KERAS", "1")

from bertr import runtime
from bertr.testing import write_tiny_bert

runtime.configure_threads()


@pytest.fixture(scope="session")
def tiny_hf(tmp_path_factory):
    return write_tiny_bert(tmp_path_factory.mktemp("tiny") / "tiny-hf", layout="huggingface", seed=3)


@pytest.fixture(scope="session")
def tiny_google(tmp_path_factory):
    return write_tiny_bert(tmp_path_factory.mktemp("tiny") / "tiny-google", layout="google", seed=3)
