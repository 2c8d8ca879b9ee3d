"""End-to-end: the digits app on a real, hand-started local Flower federation.

Starts flower-superlink, flower-supernode and flower-superexec processes on
127.0.0.1 (see local_federation.py), runs ``flwr run flower-apps/digits ... --stream``
and checks the run and its central accuracy. About a minute per federation.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from local_federation import (
    FederationError,
    FederationResult,
    flower_bin_dir,
    run_plain_federation,
)

pytestmark = pytest.mark.e2e

try:
    BIN_DIR: Path | None = flower_bin_dir()
except FederationError:
    BIN_DIR = None

needs_flower = pytest.mark.skipif(
    BIN_DIR is None, reason="Flower binaries not found (set FLOWER_OCM_FLWR_BIN)"
)


def _pids_alive(pids: list[int]) -> list[int]:
    alive = []
    for pid in pids:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        alive.append(pid)
    return alive


def _check_run(result: FederationResult, num_rounds: int = 3) -> None:
    diagnostics = (
        f"result={result.to_dict()}\n--- flwr run output ---\n{result.output[-4000:]}"
    )
    assert result.returncode == 0, diagnostics
    assert result.status == "finished:completed", diagnostics
    assert result.finished
    # Central evaluation before training (round 0) and after every round.
    assert sorted(result.central) == list(range(num_rounds + 1)), diagnostics
    acc = result.accuracies
    assert acc[0] < 0.3, diagnostics  # random initial model
    assert acc[-1] >= 0.85, diagnostics
    assert acc[1] > acc[0] and acc[-1] > acc[0], diagnostics  # accuracy rose
    # The app's own summary agrees with the per-round lines.
    assert result.summary is not None
    assert result.summary["central"][str(num_rounds)]["accuracy"] == pytest.approx(
        acc[-1]
    )
    assert result.wall_seconds > 0 and result.startup_seconds > 0


@needs_flower
def test_two_nodes_insecure(digits_app_dir: Path, tmp_path: Path) -> None:
    result = run_plain_federation(
        digits_app_dir, num_nodes=2, tls=False, workdir=tmp_path
    )
    _check_run(result)
    # Training metrics arrived from the ClientApps for every round.
    assert sorted(result.summary["train"]) == ["1", "2", "3"]  # type: ignore[index]
    # Deterministic app: the same numbers as every other 2-node run.
    assert result.accuracies[-1] == pytest.approx(0.9276, abs=0.01)


@needs_flower
def test_three_nodes_tls_and_teardown(digits_app_dir: Path, tmp_path: Path) -> None:
    from local_federation import LocalFederation

    with LocalFederation(3, tls=True, workdir=tmp_path) as fed:
        assert (tmp_path / "tls" / "ca.crt").exists()
        pids = [p.pid for p in fed.processes if p.pid]
        assert len(pids) == 2 + 2 * 3  # superlink+superexec, 3 x (supernode+superexec)
        result = fed.run(digits_app_dir, run_config={"num-server-rounds": 2})
    _check_run(result, num_rounds=2)
    assert result.tls and result.num_nodes == 3
    # Every process group was killed on exit.
    assert _pids_alive(pids) == []
