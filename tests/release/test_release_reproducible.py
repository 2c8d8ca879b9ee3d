"""Reproducible release archives (issue #8): the chart archive and the plugin archive are
byte-identical from one packaging to the next, whatever the checkout's file mtimes."""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import ROOT, TOOLS

RELEASE = ROOT / "hack" / "release" / "release.py"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package(out: Path, helm: str, chart: Path = ROOT / "charts" / "flower-federation") -> Path:
    env = {**os.environ, "SOURCE_DATE_EPOCH": "1700000000"}
    result = subprocess.run([sys.executable, str(RELEASE), "package", "--out", str(out), "--chart", str(chart),
                             "--helm", str(TOOLS / "bin" / helm)], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    return Path(result.stdout.split()[0])


@pytest.mark.helm
def test_packaging_twice_gives_byte_identical_chart_archives(tmp_path):
    first = package(tmp_path / "a", "helm4")
    # a copy with other file mtimes (as in another checkout): `helm package` would stamp them
    chart = tmp_path / "copy" / "flower-federation"
    shutil.copytree(ROOT / "charts" / "flower-federation", chart)
    for index, path in enumerate(sorted(chart.rglob("*"))):
        os.utime(path, (1_600_000_000 + index, 1_600_000_000 + index))
    second = package(tmp_path / "b", "helm4", chart)
    third = package(tmp_path / "c", "helm3", chart)
    assert sha256(first) == sha256(second) == sha256(third)


@pytest.mark.helm
def test_chart_archive_is_normalised(tmp_path):
    archive = package(tmp_path, "helm4")
    raw = archive.read_bytes()
    assert raw[:2] == b"\x1f\x8b" and raw[4:8] == b"\0\0\0\0", "gzip header mtime must be 0"
    assert not raw[3] & 0x08, "no file name in the gzip header"
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names)
    assert {(m.uid, m.gid, m.uname, m.gname, m.mtime) for m in members} == {(0, 0, "", "", 1700000000)}
    assert "flower-federation/charts/flower-superlink/Chart.yaml" in names  # subcharts are embedded


def test_real_plugin_archive_is_reproducible(tmp_path):
    if not (ROOT / "plugin" / "plugin.yaml").exists():
        pytest.fail("plugin/plugin.yaml is missing: the helm flower plugin is not ready", pytrace=False)
    outs = []
    for name in ("a", "b"):
        result = subprocess.run([sys.executable, str(RELEASE), "plugin-archive", "--out", str(tmp_path / name)],
                                capture_output=True, text=True, env={**os.environ, "SOURCE_DATE_EPOCH": "0"})
        assert result.returncode == 0, result.stderr
        outs.append(Path(result.stdout.split()[0]))
    assert sha256(outs[0]) == sha256(outs[1])
    with tarfile.open(outs[0]) as tar:
        members = {m.name: m for m in tar.getmembers()}
    names = sorted(members)
    assert "plugin.yaml" in names and not any(".venv" in n or "__pycache__" in n for n in names)
    # The plugin's own layout: at the root (Helm 3) and under helm-flower/ (Helm 4 local installs),
    # with directory entries, executables kept executable, and the offline OCM schemas that
    # `validate --rendered` uses by default.
    for prefix in ("", "helm-flower/"):
        assert prefix + "plugin.yaml" in names and members[prefix + "bin"].isdir()
        assert members[prefix + "bin/helm-flower"].mode == 0o755 and members[prefix + "plugin.yaml"].mode == 0o644
        assert any(n.startswith(prefix + "schemas/ocm/") and n.endswith(".json") for n in names)
    assert {(m.uid, m.gid) for m in members.values()} == {(0, 0)}
    assert gzip.open(outs[0]).read()  # valid gzip
