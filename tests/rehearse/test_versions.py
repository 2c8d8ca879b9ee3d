"""The rehearsal refuses (exit 2) when the flwr it is given (--flwr-venv) is not the chart's Flower
version (without --flwr-venv it provisions the chart's own: test_flwr_venv.py)."""

from __future__ import annotations

import json
import subprocess
import uuid
from pathlib import Path

import pytest
import yaml
from rehearse_helpers import CHART, DIGITS, FLEET, PYTHON, cli_env, leftover

from helm_flower.rehearse.errors import EXIT_REFUSED, Refusal
from helm_flower.rehearse.flwr_venv import check_versions, installed_flwr_version

CHART_VERSION = yaml.safe_load((CHART / "values.yaml").read_text())["global"]["flower"]["version"]


def test_equal_versions_pass() -> None:
    check_versions("1.41.0", "1.41.0")


@pytest.mark.parametrize(("chart", "installed"), [("1.42.0", "1.41.0"), ("1.41.0", "1.41.1"), ("1.41", "1.41.0")])
def test_different_versions_refuse(chart: str, installed: str) -> None:
    with pytest.raises(Refusal) as info:
        check_versions(chart, installed)
    assert info.value.exit_code == EXIT_REFUSED
    assert chart in info.value.message and installed in info.value.message
    assert info.value.component == "flwr version"


def test_unknown_versions_refuse() -> None:
    with pytest.raises(Refusal):
        check_versions(None, "1.41.0")
    with pytest.raises(Refusal):
        check_versions("1.41.0", None)


def test_installed_version_is_read_from_the_dist_info_beside_the_binaries(tmp_path: Path) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "lib" / "python3.11" / "site-packages" / "flwr-9.8.7.dist-info").mkdir(parents=True)
    assert installed_flwr_version(tmp_path / "bin") == "9.8.7"


def test_installed_version_of_the_project_venv() -> None:
    assert installed_flwr_version(PYTHON.parent) == CHART_VERSION


@pytest.mark.helm
def test_cli_refuses_a_flwr_venv_of_another_flower_version_before_starting_anything() -> None:
    marker = f"test-refuse-{uuid.uuid4().hex}"
    proc = subprocess.run(
        [str(PYTHON), "-m", "helm_flower.rehearse", str(CHART), "--fleet", str(FLEET), "--app", str(DIGITS),
         "--set", "global.flower.version=1.41.0", "--flwr-venv", str(PYTHON.parent.parent), "-o", "json"],
        env=cli_env(marker), capture_output=True, text=True, timeout=120, check=False,
    )
    assert proc.returncode == 2, proc.stderr
    summary = json.loads(proc.stdout)
    assert summary["ok"] is False and summary["exit_code"] == 2
    assert summary["error"]["component"] == "flwr version"
    assert "1.41.0" in proc.stderr and CHART_VERSION in proc.stderr
    assert summary["processes"] == []
    assert leftover(marker) == []
