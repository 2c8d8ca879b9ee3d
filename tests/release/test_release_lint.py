"""`make lint`: chart-testing's real `ct lint` (hack/lint/lint.sh) on throwaway git repositories.

Most cases give lint.sh stand-in Helms (scripts that log how ct called them) so that they exercise
ct, git, yamllint and yamale for real in seconds; one runs the whole `make lint` with Helm 4 and 3.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, TOOLS

LINT = ["bash", "hack/lint/lint.sh"]
CHART = Path("charts") / "flower-federation"
SUPERLINK_VALUES = CHART / "charts" / "flower-superlink" / "values.yaml"


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout


def _run(repo: Path, *args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*LINT, *args], cwd=repo, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env={**os.environ, **(env or {})})


def _make_lint(repo: Path) -> subprocess.CompletedProcess:
    # `-o tools-test`: the copy shares this checkout's installed tools (.tools is a symlink).
    return subprocess.run(["make", "-C", str(repo), "--no-print-directory", "-o", "tools-test", "lint"],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)


@pytest.fixture
def repo_copy(tmp_path) -> Path:
    """A throwaway git repository with this checkout's Makefile, ct.yaml, hack/, charts/ and
    workflows on branch main (no remote), and a feature branch checked out."""
    repo = tmp_path / "repo"
    repo.mkdir()
    for name in ("Makefile", "ct.yaml"):
        shutil.copy2(ROOT / name, repo / name)
    shutil.copytree(ROOT / "hack", repo / "hack", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    shutil.copytree(ROOT / "charts", repo / "charts", ignore=shutil.ignore_patterns("README.md"))
    shutil.copytree(ROOT / ".github", repo / ".github")
    (repo / ".tools").symlink_to(TOOLS)
    (repo / ".gitignore").write_text("/.tools\n")
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "-m", "base")
    _git(repo, "checkout", "-q", "-b", "feature")
    return repo


@pytest.fixture
def stand_in_helms(tmp_path) -> tuple[Path, Path, Path]:
    """Two stand-in Helms that log `<name> <args>` to a file and succeed (Helm "v3.99.0"); returns
    (a, b, log)."""
    log = tmp_path / "helm.log"
    helms = []
    for name in ("helm-a", "helm-b"):
        path = tmp_path / "bin" / name
        path.parent.mkdir(exist_ok=True)
        path.write_text(f'#!/bin/sh\necho "{name} $*" >> "{log}"\n'
                        '[ "$1" = version ] && echo v3.99.0\nexit 0\n')  # ct asks for the Helm version first
        path.chmod(0o755)
        helms.append(path)
    return helms[0], helms[1], log


def _bump(repo: Path) -> tuple[str, str]:
    chart_yaml = repo / CHART / "Chart.yaml"
    text = chart_yaml.read_text()
    old = re.search(r"^version: (\S+)$", text, re.M).group(1)
    major, minor, patch = (int(x) for x in old.split("-")[0].split("."))
    new = f"{major}.{minor}.{patch + 1}"
    chart_yaml.write_text(text.replace(f"version: {old}", f"version: {new}", 1))
    return old, new


def _change_superlink(repo: Path) -> None:
    values = repo / SUPERLINK_VALUES
    values.write_text(values.read_text().replace("replicaCount: 1", "replicaCount: 1  # one SQLite file"))
    _git(repo, "commit", "-q", "-am", "superlink: comment")


def test_ct_yaml_matches_what_make_lint_runs():
    config = yaml.safe_load((ROOT / "ct.yaml").read_text())
    assert config["chart-dirs"] == ["charts"] and config["target-branch"] == "main" and config["remote"] == "origin"
    assert config["validate-maintainers"] is False and config["check-version-increment"] is True
    assert config["validate-chart-schema"] is True and config["validate-yaml"] is True
    # embedded subcharts: `helm dependency build` would only write a Chart.lock into the chart
    assert config["chart-repos"] == [] and config["skip-helm-dependencies"] is True
    assert (ROOT / config["lint-conf"]).is_file() and (ROOT / config["chart-yaml-schema"]).is_file()
    assert not (ROOT / "hack" / "lint" / "ct_lint.py").exists()


def test_ct_is_the_pinned_chart_testing():
    result = subprocess.run([TOOLS / "bin" / "ct", "version"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    pinned = re.search(r"github.com/helm/chart-testing/v3 v(\S+)", (ROOT / "hack/go/ct/go.mod").read_text()).group(1)
    assert re.search(rf"^Version:\s+{re.escape(pinned)}$", result.stdout, re.M), result.stdout


@pytest.mark.helm
@pytest.mark.slow
def test_make_lint_requires_a_version_bump_for_a_chart_change(repo_copy):
    _change_superlink(repo_copy)

    failed = _make_lint(repo_copy)
    out = failed.stdout + failed.stderr
    assert failed.returncode != 0, out
    assert "chart version not ok. Needs a version bump!" in out  # ct's own verdict
    assert "[lint] FAIL version bump of changed charts vs main (local branch: there is no origin/main)" in out
    assert [line for line in out.splitlines() if line.startswith("[lint] FAIL")] == [
        "[lint] FAIL version bump of changed charts vs main (local branch: there is no origin/main) (ct lint, helm4)"]
    for check in ("every chart (ct lint --all, helm4)", "every chart (ct lint --all, helm3)",
                  "yamllint of what ct does not lint", "yamale of embedded subcharts' Chart.yaml"):
        assert f"[lint] ok   {check}" in out
    assert "values documented: ok" in out

    old, new = _bump(repo_copy)  # a working-tree change counts, as with `git diff <merge base>`
    passed = _make_lint(repo_copy)
    assert passed.returncode == 0, passed.stdout + passed.stderr
    assert f"Old chart version: {old}\nNew chart version: {new}\nChart version ok." in passed.stdout
    assert "[lint] all checks passed" in passed.stdout


def test_every_helm_lints_every_ci_values_file(repo_copy, stand_in_helms):
    helm_a, helm_b, log = stand_in_helms
    result = _run(repo_copy, "--no-version-check", "--helm", str(helm_a), "--helm", str(helm_b))
    assert result.returncode == 0, result.stdout + result.stderr
    calls = log.read_text().splitlines()
    ci_files = sorted((repo_copy / CHART / "ci").glob("*-values.yaml"))
    assert ci_files
    for name in ("helm-a", "helm-b"):
        linted = [c for c in calls if c.startswith(f"{name} lint {CHART} --values ")]
        assert sorted(c.rsplit(" ", 1)[1] for c in linted) == [str(f.relative_to(repo_copy)) for f in ci_files]
    assert "version bump" not in result.stdout


def test_a_failing_helm_lint_fails(repo_copy, stand_in_helms, tmp_path):
    helm_a, _, _ = stand_in_helms
    failing = tmp_path / "bin" / "helm-broken"
    failing.write_text('#!/bin/sh\n[ "$1" = version ] && echo v3.99.0 && exit 0\necho "[ERROR] templates/: broken" >&2\nexit 1\n')
    failing.chmod(0o755)
    result = _run(repo_copy, "--no-version-check", "--helm", str(helm_a), "--helm", str(failing))
    assert result.returncode == 1
    assert "[lint] ok   every chart (ct lint --all, helm-a)" in result.stdout
    assert "[lint] FAIL every chart (ct lint --all, helm-broken)" in result.stdout


def test_version_check_ignores_changes_outside_charts(repo_copy, stand_in_helms):
    helm_a, _, _ = stand_in_helms
    (repo_copy / "hack" / "NOTE").write_text("not a chart change\n")
    _git(repo_copy, "add", "hack/NOTE")
    _git(repo_copy, "commit", "-q", "-m", "note")
    result = _run(repo_copy, "--helm", str(helm_a))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No chart changes detected." in result.stdout


def test_version_check_prefers_the_remote_target_branch(repo_copy, stand_in_helms):
    helm_a, _, _ = stand_in_helms
    _change_superlink(repo_copy)
    assert _run(repo_copy, "--helm", str(helm_a)).returncode == 1  # vs local main: no bump
    _git(repo_copy, "update-ref", "refs/remotes/origin/main", "HEAD")  # origin/main has the change
    result = _run(repo_copy, "--helm", str(helm_a))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "[lint] ok   version bump of changed charts vs origin/main" in result.stdout
    assert "No chart changes detected." in result.stdout


def test_version_check_without_a_target_branch_is_a_clear_failure(repo_copy, stand_in_helms):
    helm_a, _, _ = stand_in_helms
    _git(repo_copy, "branch", "-q", "-D", "main")
    result = _run(repo_copy, "--helm", str(helm_a))
    assert result.returncode == 1
    assert "[lint] FAIL version bump: neither origin/main nor main exists" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_yaml_that_ct_does_not_lint_is_linted(repo_copy, stand_in_helms):
    helm_a, _, _ = stand_in_helms
    values = repo_copy / SUPERLINK_VALUES  # an embedded subchart: ct lints only charts/flower-federation
    values.write_text(values.read_text().replace("replicaCount: 1", "replicaCount: 1   "))
    sub_chart = repo_copy / CHART / "charts" / "flower-common" / "Chart.yaml"
    sub_chart.write_text(sub_chart.read_text().replace("type: library", "type: libary"))
    result = _run(repo_copy, "--no-version-check", "--helm", str(helm_a))
    assert result.returncode == 1
    assert "[lint] ok   every chart (ct lint --all, helm-a)" in result.stdout
    assert re.search(rf"{re.escape(str(SUPERLINK_VALUES))}:\d+:\d+: \[error\] trailing spaces", result.stdout)
    assert "[lint] FAIL yamllint of what ct does not lint" in result.stdout
    assert "[lint] FAIL yamale of embedded subcharts' Chart.yaml" in result.stdout
    assert "libary" in result.stdout + result.stderr


def test_bad_usage_and_missing_tools_are_clear_errors(repo_copy, tmp_path):
    result = _run(repo_copy, "--bogus")
    assert result.returncode == 2 and "usage: hack/lint/lint.sh" in result.stderr
    result = _run(repo_copy, env={"TOOLS": str(tmp_path / "empty")})
    assert result.returncode == 2
    assert f"[lint] missing: {tmp_path / 'empty' / 'bin' / 'ct'}" in result.stderr and "make tools" in result.stderr
