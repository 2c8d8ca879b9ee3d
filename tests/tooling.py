"""Where `make` installs what the tests use (one place for these paths): the pinned helm binaries
(hack/install-tools.sh) and the upstream OCM CRDs (hack/install-go-tools.sh ocm-crds, from the pinned
open-cluster-management.io/api module)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
TOOLS = REPO_ROOT / ".tools"
HELM_BINS = {"4": TOOLS / "bin" / "helm4", "3": TOOLS / "bin" / "helm3"}
OCM_CRDS_DIR = TOOLS / "ocm-crds"


def ocm_crds_dir() -> Path:
    """The installed OCM CRDs; fails the test (never skips) when they are not there."""
    if not any(OCM_CRDS_DIR.glob("*.crd.yaml")):
        pytest.fail(f"upstream OCM CRDs not found in {OCM_CRDS_DIR}: run make tools "
                    "(hack/install-go-tools.sh ocm-crds installs them)", pytrace=False)
    return OCM_CRDS_DIR


def ocm_crd_schema(group: str, version: str, kind: str) -> dict:
    """openAPIV3Schema of one served version of an upstream OCM CRD."""
    for path in sorted(ocm_crds_dir().glob("*.crd.yaml")):
        spec = yaml.safe_load(path.read_text(encoding="utf-8"))["spec"]
        if spec["group"] != group or spec["names"]["kind"] != kind:
            continue
        for served in spec["versions"]:
            if served["name"] == version:
                return served["schema"]["openAPIV3Schema"]
    pytest.fail(f"no CRD for {group}/{version} {kind} in {OCM_CRDS_DIR}", pytrace=False)
