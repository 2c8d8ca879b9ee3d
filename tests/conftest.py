"""Session fixtures shared by every test folder: where the repository, the chart, the pinned
helm binaries and the upstream OCM CRDs are."""

from __future__ import annotations

from pathlib import Path

import pytest

_REPO_ROOT = Path(__file__).resolve().parents[1]
# Helm major version -> binary installed by `make tools` (hack/install-tools.sh).
_HELM_BINS = {"4": ".tools/bin/helm4", "3": ".tools/bin/helm3"}


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return _REPO_ROOT


@pytest.fixture(scope="session")
def chart_dir(repo_root: Path) -> Path:
    return repo_root / "charts" / "flower-federation"


@pytest.fixture(scope="session")
def helm_bins(repo_root: Path) -> dict[str, Path]:
    bins = {version: repo_root / rel for version, rel in _HELM_BINS.items()}
    missing = [str(p) for p in bins.values() if not p.is_file()]
    if missing:
        pytest.fail(f"helm binaries missing ({', '.join(missing)}): run make tools", pytrace=False)
    return bins


@pytest.fixture(scope="session")
def ocm_crds_dir(repo_root: Path) -> Path:
    # Reference data outside the repository (CI has it at ../shared/ocm-crds).
    path = repo_root.parent / "shared" / "ocm-crds"
    if not any(path.glob("*.crd.yaml")):
        pytest.fail(
            f"upstream OCM CRDs not found in {path} (expected next to the repository at "
            "../shared/ocm-crds): the OCM objects cannot be validated without them",
            pytrace=False,
        )
    return path
