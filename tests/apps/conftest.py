"""Shared setup for the Flower app tests.

The app under test is imported from its source directory (no pip install into a
shared venv): ``flower-apps/digits`` is put on ``sys.path`` so ``import digits``
resolves to ``flower-apps/digits/digits``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
DIGITS_APP_DIR = REPO_ROOT / "flower-apps" / "digits"

# Keep the app directory free of __pycache__ (it is also the FAB source).
sys.dont_write_bytecode = True
if str(DIGITS_APP_DIR) not in sys.path:
    sys.path.insert(0, str(DIGITS_APP_DIR))
_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:  # for `import local_federation`
    sys.path.insert(0, _HERE)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "e2e: starts real Flower processes (SuperLink, SuperNodes, SuperExecs) on "
        "127.0.0.1 and runs an app; ~1 min each; deselect with -m 'not e2e'",
    )


@pytest.fixture(scope="session")
def digits_app_dir() -> Path:
    return DIGITS_APP_DIR
