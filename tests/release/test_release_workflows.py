"""The GitHub workflows (ci, release, e2e) cannot run here; they are linted (issue #8)."""
from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from conftest import ROOT, TOOLS

WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yaml"))


def test_the_three_workflows_exist():
    assert {p.name for p in WORKFLOWS} >= {"ci.yaml", "release.yaml", "e2e.yaml"}


def test_actionlint_passes():
    actionlint = TOOLS / "bin" / "actionlint"
    if not actionlint.exists():
        pytest.fail(f"{actionlint} is missing: run make tools", pytrace=False)
    result = subprocess.run([actionlint, "-no-color", *map(str, WORKFLOWS)], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_third_party_actions_are_pinned_by_commit(workflow):
    uses = re.findall(r"^\s*(?:-\s*)?uses:\s*(\S+)", workflow.read_text(), re.M)
    assert uses
    unpinned = [u for u in uses if not u.startswith("./") and not re.search(r"@[0-9a-f]{40}$", u)]
    assert unpinned == []


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflows_declare_least_privilege_permissions(workflow):
    document = yaml.safe_load(workflow.read_text())
    assert "permissions" in document, "set top-level permissions (the default token is too broad)"
