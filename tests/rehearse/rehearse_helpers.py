"""Constants and helpers shared by the rehearsal tests (import as ``rehearse_helpers``)."""

from __future__ import annotations

import os
from pathlib import Path

from helm_flower.rehearse.processes import MARKER_ENV, marked_pids

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "flower-federation"
FLEET = REPO / "examples" / "fleet.yaml"
DIGITS = REPO / "flower-apps" / "digits"
HELM = REPO / ".tools" / "bin" / "helm"
PYTHON = REPO / ".tools" / "venv" / "bin" / "python"
DATA = Path(__file__).resolve().parent / "data"
SAMPLE_CLUSTERS = ["bank-frankfurt", "hospital-berlin", "hospital-lyon"]


def leftover(marker: str) -> list[int]:
    """Processes that still carry the rehearsal's marker in their environment."""
    return marked_pids(marker)


def cli_env(marker: str) -> dict[str, str]:
    """Environment for `python -m helm_flower.rehearse` in a subprocess, tagged with ``marker``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO / "plugin" / "src"), env.get("PYTHONPATH")]))
    env["HELM_BIN"] = str(HELM)
    env["HELM_FLOWER_REHEARSAL_ID"] = marker
    env.pop("HELM_NAMESPACE", None)
    return env


__all__ = ["CHART", "DATA", "DIGITS", "FLEET", "HELM", "MARKER_ENV", "PYTHON", "REPO", "SAMPLE_CLUSTERS", "cli_env", "leftover"]
