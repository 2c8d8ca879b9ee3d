"""Upgrading the SuperLink keeps its SQLite state: a run submitted to flower-superlink 1.41.0 (its
own venv, .tools/flwr/1.41.0) with --database is still listed by `flwr ls` (1.42 CLI) after
flower-superlink 1.42.0 (.tools/flwr/1.42.0) starts on the same file, which Alembic migrated from
1.41's head to 1.42's (both as schemas/flower-versions.yaml records them). This is what a
`helm upgrade` from global.flower.version=1.41.0 to 1.42.0 does to the SuperLink's PVC.

The run stays pending (no ServerApp SuperExec, no SuperNodes): what matters is that it survives.
"""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import yaml

from local_federation import (
    CONNECTION,
    HOST,
    ManagedProcess,
    flower_env,
    free_port,
    run_flwr,
    wait_for_health,
    write_cli_config,
)

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
TABLE = yaml.safe_load((REPO / "schemas" / "flower-versions.yaml").read_text())
OLD, NEW = "1.41", "1.42"


def _bin(minor: str) -> Path:
    release = TABLE["minors"][minor]["release"]
    bin_dir = REPO / ".tools" / "flwr" / release / "bin"
    if not (bin_dir / "flower-superlink").exists():
        pytest.fail(f"no venv for Flower {release} ({bin_dir}): run `make tools-test`", pytrace=False)
    return bin_dir


def _alembic_head(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return [row[0] for row in conn.execute("SELECT version_num FROM alembic_version")]


def _superlink(bin_dir: Path, db: Path, workdir: Path, name: str) -> tuple[ManagedProcess, int]:
    port = free_port()
    proc = ManagedProcess(
        name=name,
        args=[str(bin_dir / "flower-superlink"), "--insecure", "--isolation", "process",
              "--database", str(db), "--host", HOST, "--port", str(port)],
        env=flower_env(workdir / "homes" / name, bin_dir),
        log_path=workdir / "logs" / f"{name}.log",
    ).start()
    wait_for_health(f"http://{HOST}:{port}/health", 60.0, process=proc)
    return proc, port


def _run_ids(bin_dir: Path, home: Path) -> list[int]:
    res = run_flwr(["ls", CONNECTION, "--format", "json"], flwr_home=home, bin_dir=bin_dir, timeout=120)
    assert res.returncode == 0, res.stdout + res.stderr
    return [int(run["run-id"]) for run in json.loads(res.stdout)["runs"]]


def test_runs_survive_the_superlink_upgrade(digits_app_dir: Path, tmp_path: Path) -> None:
    old_bin, new_bin = _bin(OLD), _bin(NEW)
    db = tmp_path / "state.db"
    home = tmp_path / "cli"

    old, port = _superlink(old_bin, db, tmp_path, "superlink-old")
    try:
        write_cli_config(home, f"{HOST}:{port}")
        res = run_flwr(["run", str(digits_app_dir), CONNECTION, "--format", "json"], flwr_home=home, bin_dir=old_bin, timeout=180)
        assert res.returncode == 0, res.stdout + res.stderr
        (run_id,) = _run_ids(old_bin, home)
    finally:
        assert old.stop() is not None
    assert _alembic_head(db) == [TABLE["minors"][OLD]["database"]["head"]]

    new, port = _superlink(new_bin, db, tmp_path, "superlink-new")
    try:
        write_cli_config(home, f"{HOST}:{port}")
        assert _run_ids(new_bin, home) == [run_id], new.log_tail()
        assert new.alive(), new.log_tail()
    finally:
        new.stop()
    assert _alembic_head(db) == [TABLE["minors"][NEW]["database"]["head"]]
