"""`up`, `down` and `status` of the test fleet: used by `make fleet-up`/`fleet-down` and by the e2e
suite's session fixture (one implementation for both)."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from helm_flower.rehearse.processes import describe_pids, marked_pids

from .layout import BIN, KWOK_STAGES, OCM_CRDS, OCM_MANIFESTS, Layout, pid_alive

UP_TIMEOUT = 600.0
PACKAGE_PARENT = Path(__file__).resolve().parents[1]  # tests/, so `python -m ocmfleet` finds us
REQUIRED = ("etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok", "registration",
            "work", "placement", "addon", "registration-operator", "webhooks", "clusteradm")


class FleetDown(RuntimeError):
    pass


def running(layout: Layout) -> bool:
    state = layout.read_state()
    return state.get("phase") in ("starting", "ready", "degraded") and pid_alive(state.get("supervisor_pid"))


def missing_tools() -> list[str]:
    missing = [str(BIN / name) for name in REQUIRED if not (BIN / name).exists()]
    for folder in (OCM_CRDS, KWOK_STAGES, OCM_MANIFESTS):
        if not folder.is_dir():
            missing.append(str(folder))
    return missing


def up(layout: Layout, say: Callable[[str], None] = print, timeout: float = UP_TIMEOUT,
       owner_pid: int | None = None) -> dict:
    """Start the fleet unless it runs (a no-op then); return its state once ready. With owner_pid,
    a fleet started here stops by itself once that process is gone, however it ended."""
    if running(layout):
        state = wait_ready(layout, say, timeout)
        say(f"fleet already running ({layout.kubeconfig})")
        return state
    missing = missing_tools()
    if missing:
        raise FleetDown(f"missing {', '.join(missing)}: run make e2e-tools (hack/install-go-tools.sh)")
    stop_leftovers(layout, say)
    for sub in ("pki", "kubeconfigs", "agents", "etcd", "logs"):
        shutil.rmtree(layout.root / sub, ignore_errors=True)
    layout.state_file.unlink(missing_ok=True)
    layout.logs.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    with open(layout.logs / "supervisor.log", "ab") as log:
        subprocess.Popen(  # noqa: S603 (our own module)
            [sys.executable, "-m", "ocmfleet", "supervise", *(["--owner-pid", str(owner_pid)] if owner_pid else [])],
            cwd=str(PACKAGE_PARENT), env=env,
            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    return wait_ready(layout, say, timeout)


def wait_ready(layout: Layout, say: Callable[[str], None], timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    shown = ""
    started = time.monotonic()
    while True:
        state = layout.read_state()
        progress = state.get("progress", "")
        if progress and progress != shown:
            say(f"[fleet {time.monotonic() - started:5.1f}s] {progress}")
            shown = progress
        phase = state.get("phase")
        if phase == "ready":
            return state
        if phase == "degraded":
            raise FleetDown(describe_dead(state))
        if phase in ("failed", "stopped") or (state and not pid_alive(state.get("supervisor_pid"))):
            raise FleetDown(f"the fleet did not come up: {state.get('error') or phase}\n{describe_dead(state)}"
                            f"\nlogs: {layout.logs}")
        if time.monotonic() > deadline:
            raise FleetDown(f"the fleet was not ready within {timeout:.0f}s (last step: {progress}); logs: {layout.logs}")
        time.sleep(0.5)


def describe_dead(state: dict) -> str:
    return "\n".join(f"{d['process']} exited with code {d['returncode']} ({d['log']}):\n{d['tail']}"
                     for d in state.get("dead", []))


def down(layout: Layout, say: Callable[[str], None] = print, timeout: float = 60.0) -> None:
    state = layout.read_state()
    pid = state.get("supervisor_pid")
    if pid_alive(pid):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while pid_alive(pid) and time.monotonic() < deadline:
            time.sleep(0.2)
    stop_leftovers(layout, say)
    say("fleet stopped")


def stop_leftovers(layout: Layout, say: Callable[[str], None]) -> None:
    """Kill whatever a crashed supervisor left behind (every process carrying the fleet's marker)."""
    for _ in range(50):
        pids = marked_pids(layout.marker)
        if not pids:
            return
        sig = signal.SIGTERM if _ == 0 else signal.SIGKILL
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        time.sleep(0.2)
    raise FleetDown(f"processes survived the teardown: {describe_pids(marked_pids(layout.marker))}")
