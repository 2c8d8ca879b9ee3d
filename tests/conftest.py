"""Session fixtures shared by every test folder: where the repository, the chart, the pinned
helm binaries and the upstream OCM CRDs are."""

from __future__ import annotations

from pathlib import Path

import pytest

import tooling

_REPO_ROOT = tooling.REPO_ROOT


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return _REPO_ROOT


@pytest.fixture(scope="session")
def chart_dir(repo_root: Path) -> Path:
    return repo_root / "charts" / "flower-federation"


@pytest.fixture(scope="session")
def helm_bins(repo_root: Path) -> dict[str, Path]:
    bins = dict(tooling.HELM_BINS)
    missing = [str(p) for p in bins.values() if not p.is_file()]
    if missing:
        pytest.fail(f"helm binaries missing ({', '.join(missing)}): run make tools", pytrace=False)
    return bins


@pytest.fixture(scope="session")
def ocm_crds_dir() -> Path:
    return tooling.ocm_crds_dir()
