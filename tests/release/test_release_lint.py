"""`make lint` (what `ct lint` runs) and its version-bump check (issue #8)."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from conftest import ROOT, TOOLS


@pytest.mark.parametrize("new, old, greater", [
    ("0.1.1", "0.1.0", True),
    ("0.2.0", "0.1.9", True),
    ("1.0.0", "0.99.99", True),
    ("0.1.0", "0.1.0", False),
    ("0.1.0", "0.1.1", False),
    ("0.10.0", "0.9.0", True),  # numeric, not lexical
    ("0.1.0", "0.1.0-rc.1", True),  # a release follows its pre-releases
    ("0.1.0-rc.2", "0.1.0-rc.1", True),
    ("0.1.0-rc.10", "0.1.0-rc.9", True),
    ("0.1.0-rc.1", "0.1.0-beta", True),
    ("0.1.0-alpha.1", "0.1.0-alpha", True),
    ("0.1.0+build.2", "0.1.0+build.1", False),  # build metadata has no precedence
])
def test_semver_precedence(ct_lint, new, old, greater):
    assert ct_lint.semver_greater(new, old) is greater


def test_ct_yaml_matches_what_make_lint_runs():
    import yaml

    config = yaml.safe_load((ROOT / "ct.yaml").read_text())
    assert config["chart-dirs"] == ["charts"] and config["target-branch"] == "main"
    assert config["validate-maintainers"] is False and config["check-version-increment"] is True
    assert config["chart-repos"] == [] and config["helm-extra-args"]
    assert (ROOT / config["lint-conf"]).is_file() and (ROOT / config["chart-yaml-schema"]).is_file()


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def _make_lint(repo: Path) -> subprocess.CompletedProcess:
    # `-o tools`: the copy shares this checkout's installed tools (.tools is a symlink).
    return subprocess.run(["make", "-C", str(repo), "--no-print-directory", "-o", "tools", "lint"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)


@pytest.fixture
def repo_copy(tmp_path) -> Path:
    """A throwaway git repository with this checkout's Makefile, ct.yaml, hack/ and charts/ on
    branch main, and a feature branch checked out."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("Makefile", "ct.yaml"):
        shutil.copy2(ROOT / name, repo / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "README.md")
    shutil.copytree(ROOT / "hack", repo / "hack", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(ROOT / "charts", repo / "charts", ignore=ignore)
    (repo / ".tools").symlink_to(TOOLS)
    (repo / ".gitignore").write_text("/.tools\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "checkout", "-q", "-b", "feature")
    return repo


@pytest.mark.helm
def test_make_lint_requires_a_version_bump_for_a_chart_change(repo_copy):
    values = repo_copy / "charts" / "flower-federation" / "charts" / "flower-superlink" / "values.yaml"
    values.write_text(values.read_text().replace("replicaCount: 1", "replicaCount: 1  # one SQLite file"))
    _git(repo_copy, "commit", "-q", "-am", "superlink: comment")

    failed = _make_lint(repo_copy)
    assert failed.returncode != 0
    out = failed.stdout + failed.stderr
    assert "FAIL version increment charts/flower-federation" in out
    assert "charts/flower-federation/charts/flower-superlink/values.yaml" in out
    assert "bump `version` in charts/flower-federation/Chart.yaml" in out
    assert not re.search(r"FAIL (?!version increment)", out), out  # every other check passed

    chart_yaml = repo_copy / "charts" / "flower-federation" / "Chart.yaml"
    text = chart_yaml.read_text()
    old = re.search(r"^version: (\S+)$", text, re.M).group(1)
    major, minor, patch = (int(x) for x in old.split("-")[0].split("."))
    chart_yaml.write_text(text.replace(f"version: {old}", f"version: {major}.{minor}.{patch + 1}", 1))

    passed = _make_lint(repo_copy)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert f"version {old} -> {major}.{minor}.{patch + 1}" in passed.stdout
    assert "[lint] all checks passed" in passed.stdout


def test_version_check_ignores_changes_outside_charts(ct_lint, repo_copy, capsys):
    (repo_copy / "hack" / "NOTE").write_text("not a chart change\n")
    linter = ct_lint.Linter(repo_copy, [])
    linter.check_versions()
    assert linter.failures == []
    assert "no changes" in capsys.readouterr().out


def test_version_check_prefers_the_remote_target_branch(ct_lint, repo_copy):
    _git(repo_copy, "update-ref", "refs/remotes/origin/main", "main")
    assert ct_lint.Linter(repo_copy, []).base_ref() == "origin/main"
    _git(repo_copy, "update-ref", "-d", "refs/remotes/origin/main")
    assert ct_lint.Linter(repo_copy, []).base_ref() == "main"
