"""Teardown: no process of a rehearsal survives, on success, on failure and on SIGINT/SIGTERM."""

from __future__ import annotations

import os
import signal
import sys
import time
import uuid
from pathlib import Path

import pytest
from rehearse_helpers import leftover

from helm_flower.rehearse import runner
from helm_flower.rehearse.errors import EXIT_SIGINT, EXIT_SIGTERM, Interrupted, RehearsalError
from helm_flower.rehearse.processes import Proc, Supervisor

# A process that leaves a child in a NEW session (outside its process group) and one in its group.
ESCAPER = (
    "import subprocess, sys, time\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'], start_new_session=True)\n"
    "subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)'])\n"
    "print('spawned', flush=True)\n"
    "time.sleep(300)\n"
)


def _escaper(tmp_path: Path, name: str = "escaper") -> Proc:
    return Proc(name, name, [sys.executable, "-c", ESCAPER], dict(os.environ), tmp_path / f"{name}.log")


def _wait_for(predicate, timeout: float = 20.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.05)


def test_teardown_kills_descendants_in_other_sessions(tmp_path: Path) -> None:
    marker = f"test-{uuid.uuid4().hex}"
    supervisor = Supervisor(marker)
    proc = supervisor.start(_escaper(tmp_path))
    _wait_for(lambda: "spawned" in proc.log_text())
    assert len(leftover(marker)) == 3
    assert supervisor.teardown(grace=2.0) == []
    assert leftover(marker) == []
    assert not proc.alive()


def test_check_alive_names_the_dead_component_with_its_log(tmp_path: Path) -> None:
    supervisor = Supervisor(f"test-{uuid.uuid4().hex}")
    proc = supervisor.start(Proc("x", "SuperLink (test)", [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"],
                                 dict(os.environ), tmp_path / "x.log"))
    proc.popen.wait(timeout=20)
    with pytest.raises(RehearsalError) as info:
        supervisor.check_alive()
    assert info.value.component == "SuperLink (test)"
    assert "code 3" in info.value.message and "boom" in info.value.log_tail
    supervisor.teardown()


def test_wait_healthy_fails_fast_when_the_process_exits(tmp_path: Path) -> None:
    supervisor = Supervisor(f"test-{uuid.uuid4().hex}")
    proc = supervisor.start(Proc("x", "SuperNode @ c1", [sys.executable, "-c", "raise SystemExit('bad flag')"],
                                 dict(os.environ), tmp_path / "x.log"))
    start = time.monotonic()
    with pytest.raises(RehearsalError) as info:
        supervisor.wait_healthy([(proc, "http://127.0.0.1:9/health")], timeout=30)
    assert time.monotonic() - start < 20
    assert info.value.component == "SuperNode @ c1" and "bad flag" in info.value.log_tail
    supervisor.teardown()


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, EXIT_SIGINT), (signal.SIGTERM, EXIT_SIGTERM)])
def test_a_signal_tears_everything_down(monkeypatch, tmp_path: Path, signum: int, code: int) -> None:
    marker = f"test-{uuid.uuid4().hex}"
    monkeypatch.setenv("HELM_FLOWER_REHEARSAL_ID", marker)
    monkeypatch.setattr(runner, "_prepare", lambda *a, **k: (None, tmp_path))

    def fake_run(plan, options, reporter, result, supervisor, workdir, logs, bin_dir, t0):
        procs = [supervisor.start(_escaper(tmp_path, f"p{i}")) for i in range(2)]
        _wait_for(lambda: all("spawned" in p.log_text() for p in procs))
        assert len(leftover(marker)) == 6
        os.kill(os.getpid(), signum)
        time.sleep(30)  # the handler raises Interrupted before this ends
        raise AssertionError("not interrupted")

    monkeypatch.setattr(runner, "_run", fake_run)
    previous = signal.getsignal(signum)
    result = runner.rehearse(runner.Options(fleet="f", app="a"))
    assert isinstance(result.error, Interrupted)
    assert result.exit_code == code
    assert leftover(marker) == []
    assert signal.getsignal(signum) is previous  # handlers restored
