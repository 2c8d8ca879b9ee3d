"""End-to-end rehearsals: real helm, real Flower processes on 127.0.0.1, flower-apps/digits.

Two runs in total: a full 3-round rehearsal with the default values (TLS on, generate mode) and
the sample fleet, and one with a broken SuperLink flag that must fail fast.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import uuid
from pathlib import Path

import pytest
from rehearse_helpers import CHART, DIGITS, FLEET, PYTHON, SAMPLE_CLUSTERS, cli_env, leftover

pytestmark = [pytest.mark.e2e, pytest.mark.helm]


def _rehearse(marker: str, *extra: str, timeout: float = 900) -> tuple[subprocess.CompletedProcess[str], float]:
    start = time.monotonic()
    proc = subprocess.run(
        [str(PYTHON), "-m", "helm_flower.rehearse", str(CHART), "--fleet", str(FLEET), "--app", str(DIGITS),
         "-o", "json", *extra],
        env=cli_env(marker), capture_output=True, text=True, timeout=timeout, check=False,
    )
    return proc, time.monotonic() - start


def _flower_processes_alive(pids: list[int]) -> list[str]:
    """Which of ``pids`` still run a Flower program (psutil if installed, else /proc)."""
    alive = []
    try:
        import psutil  # type: ignore[import-not-found]
    except ImportError:
        psutil = None
    for pid in pids:
        if psutil is not None:
            try:
                cmd = " ".join(psutil.Process(pid).cmdline())
            except psutil.Error:
                continue
        else:
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            except OSError:
                continue
        if "flower-" in cmd or "flwr" in cmd:
            alive.append(f"{pid} {cmd}")
    return alive


def _assert_nothing_left(marker: str, summary: dict) -> None:
    assert leftover(marker) == [], "processes of the rehearsal survived"
    pids = [p["pid"] for p in summary["processes"] if p.get("pid")]
    assert _flower_processes_alive(pids) == []
    assert summary["leftover_processes"] == []


def test_default_values_sample_fleet_digits_three_rounds(tmp_path: Path) -> None:
    marker = f"test-e2e-{uuid.uuid4().hex}"
    logs = tmp_path / "logs"
    proc, seconds = _rehearse(marker, "--rounds", "3", "--keep-logs", str(logs))
    assert proc.returncode == 0, proc.stderr[-4000:]
    summary = json.loads(proc.stdout)
    assert summary["ok"] and summary["status"] == "finished:completed"
    assert summary["tls"] is True
    assert [c["name"] for c in summary["clusters"]] == SAMPLE_CLUSTERS
    assert all(c["clientapps"] == ["default"] for c in summary["clusters"])
    roles = sorted(p["role"] for p in summary["processes"])
    assert roles == ["clientapp"] * 3 + ["serverapp", "superlink"] + ["supernode"] * 3
    # The TLS material is the chart's: every process was started with files from the render.
    superlink = next(p for p in summary["processes"] if p["role"] == "superlink")
    assert {c["flag"] for c in superlink["changes"]} >= {"--host", "--port", "--ssl-certfile", "--ssl-keyfile", "--ssl-ca-certfile"}
    assert summary["rounds_total"] == 3 and summary["rounds_completed"] == 3
    accuracy = summary["accuracy"]
    assert len(accuracy) == 4  # initial model + 3 rounds
    assert accuracy[-1] > accuracy[0] and accuracy[1] > accuracy[0]
    assert accuracy[-1] >= 0.85
    assert summary["failures"] == 0
    assert summary["partitions_added"] is True
    assert (logs / "superlink.log").is_file() and (logs / "commands.txt").is_file()
    _assert_nothing_left(marker, summary)


def test_broken_superlink_flag_fails_fast_naming_the_superlink(tmp_path: Path) -> None:
    marker = f"test-e2e-{uuid.uuid4().hex}"
    proc, seconds = _rehearse(marker, "--set", "superlink.extraArgs={--no-such-flag}", timeout=300)
    assert proc.returncode not in (0, None)
    summary = json.loads(proc.stdout)
    assert summary["ok"] is False
    assert summary["error"]["component"].startswith("SuperLink")
    assert "unrecognized arguments: --no-such-flag" in summary["error"]["log_tail"]
    assert "SuperLink" in proc.stderr and "unrecognized arguments: --no-such-flag" in proc.stderr
    assert summary["run_id"] is None  # nothing was submitted
    assert seconds < 120, f"took {seconds:.0f}s"
    _assert_nothing_left(marker, summary)
    assert not os.environ.get("HELM_FLOWER_REHEARSAL_ID")  # the marker stayed in the child's env
