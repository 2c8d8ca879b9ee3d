"""Nothing is left running when an e2e session ends badly (issue 17): a session interrupted with
Ctrl-C in the middle of a test, or killed outright, leaves no API server, etcd, OCM, kwok, nginx or
Flower process of the fleet it started. Each case starts its own session on its own fleet directory,
so these tests run first (tests/e2e/conftest.py), before the session's own fleet holds the ports that
OCM's webhook server fixes (:8000)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from helm_flower.rehearse.processes import describe_pids, marked_pids
from hubview import wait_until
from ocmfleet import control
from ocmfleet.access import Fleet
from ocmfleet.layout import REPO_ROOT, Layout

# A short test of the suite that installs a release (the session is interrupted while it runs).
VICTIM = "tests/e2e/test_node_auth.py::test_the_registrar_may_read_only_what_it_needs"
VICTIM_NAMESPACE = "flower-nodeauth"


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["ctrl-c", "killed"])
def test_an_interrupted_session_leaves_no_fleet_process(signum, tmp_path):
    if control.running(Layout.default()):
        pytest.fail(f"a fleet already runs in {Layout.default().root} (make fleet-up): these tests start "
                    "their own and OCM's webhook server holds a fixed port; run make fleet-down first",
                    pytrace=False)
    layout = Layout(tmp_path / "fleet")
    env = {**os.environ, "OCMFLEET_DIR": str(layout.root)}
    with open(tmp_path / "session.log", "wb") as log:
        session = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", VICTIM],
                                   cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    try:
        wait_until("the session's fleet to be ready", lambda: layout.read_state().get("phase") == "ready", 240)
        wait_until("the session's test to be installing its release",
                   lambda: VICTIM_NAMESPACE in {n.metadata.name for n in Fleet(layout).core().list_namespace().items},
                   120, interval=0.2)
        assert marked_pids(layout.marker), "the fleet's processes carry its marker"
        os.killpg(session.pid, signum)  # what a terminal does on Ctrl-C: the whole foreground group
        session.wait(timeout=180)
        wait_until("every process of the session's fleet to be gone",
                   lambda: not marked_pids(layout.marker), 120)
    finally:
        left = describe_pids(marked_pids(layout.marker))
        if session.poll() is None:
            os.killpg(session.pid, signal.SIGKILL)
        control.down(layout, say=lambda text: None)
    assert not left, "left behind:\n" + "\n".join(left) + "\n" + (tmp_path / "session.log").read_text()[-3000:]
