"""Fixtures of the `helm flower images` tests (helpers live in images_helpers.py)."""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:  # for `import images_helpers`
    sys.path.insert(0, str(_HERE))

from images_helpers import CHART, CliResult, run_images  # noqa: E402


@pytest.fixture
def cli() -> Callable[..., CliResult]:
    """Run `helm flower images ARGS...` in-process; --chart defaults to the repository's chart."""

    def call(*argv: str | os.PathLike, chart: bool = True) -> CliResult:
        extra = ["--chart", str(CHART)] if chart and "--chart" not in map(str, argv) else []
        return run_images(*argv, *extra)

    return call


@pytest.fixture
def app_copy(tmp_path: Path) -> Callable[..., Path]:
    """Copy an app directory into tmp_path (tests that write Containerfiles or use git)."""

    def copy(src: Path, name: str | None = None) -> Path:
        dest = tmp_path / (name or src.name)
        shutil.copytree(src, dest, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        return dest

    return copy
