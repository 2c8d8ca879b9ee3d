"""`status --wait`: watches with resourceVersion (no polling) until enough clusters are ready."""

from __future__ import annotations

import json
import threading
import time

import fleetgen
import pytest

from hubtest import parse
from helm_flower.commands import status
from helm_flower.hub.wait import parse_duration

NS = "flower"
ADDON_PATH = "/apis/addon.open-cluster-management.io/v1alpha1/managedclusteraddons"


class Background:
    """Runs `status` in a thread; its output is captured through explicit streams."""

    def __init__(self, argv: list[str]) -> None:
        import io

        self.out, self.err = io.StringIO(), io.StringIO()
        self.args = parse(status, argv)
        self.rc: int | None = None
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.started = time.monotonic()
        self.thread.start()

    def _run(self) -> None:
        from helm_flower.hub.cliargs import run_guarded

        self.rc = run_guarded(lambda: status._run(self.args, self.out, self.err), self.err)
        self.elapsed = time.monotonic() - self.started

    def join(self, timeout: float = 30) -> int:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), "status --wait did not return"
        assert self.rc is not None
        return self.rc


def wait_for_watches(hub, n: int, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while hub.open_watches < n:
        assert time.monotonic() < deadline, f"only {hub.open_watches} watches opened"
        time.sleep(0.02)


def bring_up(hub, spec, cluster: str) -> None:
    """What OCM does when the last SuperNode comes up: addon available, the ClientApp placement
    picks the cluster, the MWRS creates its ManifestWork, the work agent reports it available."""
    fleetgen.flip_addon(hub, spec, cluster, "available")
    placement = fleetgen.clientapp_placement_name(spec, "default")
    fleetgen.set_decisions(hub, spec, placement, [c for c in spec.clusters_of("default")
                                                  if spec.addon_of(c) == "available"])
    fleetgen.flip_work(hub, spec, "digits", cluster, placement, "pending")
    fleetgen.flip_work(hub, spec, "digits", cluster, placement, "available")


def test_wait_succeeds_when_the_last_cluster_becomes_available(make_hub):
    spec = fleetgen.small_fleet(ready=False)
    hub = make_hub(spec)
    bg = Background(["status", "fed", "-n", NS, "--wait", "--timeout", "30s"])
    wait_for_watches(hub, 4)  # addons, decisions, MWRS, ManifestWorks
    before = [r for r in hub.requests if r[2].get("watch") != "true"]
    time.sleep(0.5)  # nothing changes: nothing is requested (no polling)
    assert [r for r in hub.requests if r[2].get("watch") != "true"] == before
    watches = [r for r in hub.requests if r[2].get("watch") == "true"]
    assert len(watches) == 4 and all(r[2].get("resourceVersion") for r in watches)
    assert any(r[0] == "GET" and r[1] == ADDON_PATH and r[2].get("fieldSelector") == "metadata.name=flower-fed-flower"
               for r in watches)
    bring_up(hub, spec, "charlie")
    assert bg.join() == 0, bg.err.getvalue()
    assert "ready: 3/3 clusters have an available SuperNode and ClientApp" in bg.out.getvalue()
    assert "waiting: 3/3 clusters ready" in bg.err.getvalue()
    assert [r for r in hub.requests if r[2].get("watch") != "true"] == before  # still no list/get
    assert hub.open_watches == 0 or _eventually(lambda: hub.open_watches == 0)


def _eventually(cond, timeout: float = 5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if cond():
            return True
        time.sleep(0.05)
    return cond()


def test_wait_times_out_with_the_reasons(make_hub):
    spec = fleetgen.small_fleet(ready=False)
    make_hub(spec)
    bg = Background(["status", "fed", "-n", NS, "--wait", "--timeout", "2s"])
    assert bg.join() == 1
    assert 1.9 < bg.elapsed < 10
    err = bg.err.getvalue()
    assert "timed out after 2s: not ready: 2/3 clusters ready" in err
    assert "charlie: SuperNode: Progressing: progressing... work is not ready" in err


def test_wait_min_clusters_json(make_hub):
    spec = fleetgen.small_fleet(ready=False)
    spec.addon_state["bravo"] = "unavailable"
    hub = make_hub(spec)
    bg = Background(["status", "fed", "-n", NS, "--wait", "--min-clusters", "2", "--timeout", "30s", "-o", "json"])
    wait_for_watches(hub, 4)
    bring_up(hub, spec, "charlie")
    assert bg.join() == 0
    data = json.loads(bg.out.getvalue())
    assert data["ready"] is True and data["clusters"]["ready"] == 2 and data["clusters"]["required"] == 2


def test_wait_resumes_watches_and_relists_after_410(make_hub):
    """The server ends every watch after 0.5 s and keeps only 20 events of history: the watches
    resume from their resourceVersion, and once that version is compacted (410 Gone) they relist."""
    spec = fleetgen.small_fleet(ready=False)
    hub = make_hub(spec, watch_timeout=0.5, history=20)
    bg = Background(["status", "fed", "-n", NS, "--wait", "--timeout", "30s"])
    wait_for_watches(hub, 4)
    for i in range(60):  # unrelated changes push the watched versions out of the history
        hub.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": f"noise-{i}", "namespace": NS}})
    assert _eventually(lambda: sum(1 for m, p, q in hub.requests
                                   if p == ADDON_PATH and q.get("watch") != "true") >= 2, timeout=10)
    bring_up(hub, spec, "charlie")
    assert bg.join() == 0, bg.err.getvalue()
    resumed = [q for m, p, q in hub.requests if p == ADDON_PATH and q.get("watch") == "true"]
    assert len(resumed) >= 2


def test_wait_on_a_fleet_of_300_clusters(make_hub):
    names = fleetgen.names(300)
    spec = fleetgen.FleetSpec(placements={"default": [("", names)]}, apps={"digits": ["default"]})
    spec.addon_state[names[-1]] = "missing"  # the addon manager has not got to the last one yet
    hub = make_hub(spec)
    bg = Background(["status", "fed", "-n", NS, "--wait", "--timeout", "30s", "--page-size", "50"])
    wait_for_watches(hub, 4)
    fleetgen.flip_addon(hub, spec, names[-1], "available")  # created (ADDED event)
    fleetgen.set_decisions(hub, spec, "fed-default-clientapp", names)
    fleetgen.flip_work(hub, spec, "digits", names[-1], "fed-default-clientapp", "available")
    assert bg.join() == 0, bg.err.getvalue()
    assert "ready: 300/300 clusters" in bg.out.getvalue()


@pytest.mark.parametrize("text,seconds", [("90s", 90), ("10m", 600), ("1h30m", 5400), ("500ms", 0.5), ("2", 2),
                                          ("1.5m", 90)])
def test_parse_duration(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "10x", "-1s", "0s", "1m2", "s"])
def test_parse_duration_rejects(text):
    with pytest.raises(ValueError):
        parse_duration(text)


def test_bad_timeout_is_a_usage_error(make_hub, run_cmd):
    make_hub(fleetgen.small_fleet())
    rc, _, err = run_cmd(status, ["status", "fed", "-n", NS, "--wait", "--timeout", "soon"])
    assert rc == 2 and "--timeout: invalid duration 'soon'" in err
