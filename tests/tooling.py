"""Where `make` installs what the tests use (one place for these paths): the pinned helm binaries
(hack/install-tools.sh) and the upstream OCM CRDs (hack/install-go-tools.sh ocm-crds, from the pinned
open-cluster-management.io/api module)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest
import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
TOOLS = REPO_ROOT / ".tools"
HELM_BINS = {"4": TOOLS / "bin" / "helm4", "3": TOOLS / "bin" / "helm3"}
OCM_CRDS_DIR = TOOLS / "ocm-crds"
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def ocm_crds_dir() -> Path:
    """The installed OCM CRDs; fails the test (never skips) when they are not there."""
    if not any(OCM_CRDS_DIR.glob("*.crd.yaml")):
        pytest.fail(f"upstream OCM CRDs not found in {OCM_CRDS_DIR}: run make tools "
                    "(hack/install-go-tools.sh ocm-crds installs them)", pytrace=False)
    return OCM_CRDS_DIR


@functools.cache
def ocm_crd_index(crds_dir: Path) -> dict[tuple[str, str], dict]:
    """(apiVersion, kind) -> {"file", "schema"} of every served version of the OCM CRDs in crds_dir,
    parsed once per process (with libyaml: the pure-Python parser took 2 s per pass)."""
    index: dict[tuple[str, str], dict] = {}
    for path in sorted(crds_dir.glob("*.crd.yaml")):
        spec = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)["spec"]
        for version in spec["versions"]:
            if version.get("served", True):
                index[(f"{spec['group']}/{version['name']}", spec["names"]["kind"])] = {
                    "file": path.name, "schema": version["schema"]["openAPIV3Schema"]}
    return index


def ocm_crd_schema(group: str, version: str, kind: str) -> dict:
    """openAPIV3Schema of one served version of an upstream OCM CRD."""
    entry = ocm_crd_index(ocm_crds_dir()).get((f"{group}/{version}", kind))
    if entry is None:
        pytest.fail(f"no CRD for {group}/{version} {kind} in {OCM_CRDS_DIR}", pytrace=False)
    return entry["schema"]
