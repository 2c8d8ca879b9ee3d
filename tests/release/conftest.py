"""Helpers of the release tests (issue #8): the repository's generators and release modules."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools"


def load_module(name: str, path: Path):
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def docs_gen():
    return load_module("gen_chart_docs", ROOT / "hack" / "gen_chart_docs.py")


@pytest.fixture(scope="session")
def archive_mod():
    return load_module("archive", ROOT / "hack" / "release" / "archive.py")
