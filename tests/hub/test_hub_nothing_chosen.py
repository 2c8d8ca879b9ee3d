"""`helm flower status` when the placements chose no cluster: a federation of no SuperNode is not
ready, whatever --min-clusters says (0 ready of 0 chosen would otherwise read as "all ready"), and
--wait keeps waiting. (A status that said ready here passed every other test.)"""

from __future__ import annotations

import json

import fleetgen

from helm_flower.commands import status

NS = "flower"
NOTHING = "not ready: the placements chose no cluster (check the ManagedClusterSetBindings in namespace flower, "


def _empty_fleet() -> fleetgen.FleetSpec:
    return fleetgen.FleetSpec(placements={"default": [("", [])]}, apps={"digits": ["default"]})


def test_placements_that_chose_no_cluster_are_not_ready(make_hub, run_cmd):
    make_hub(_empty_fleet())
    rc, out, err = run_cmd(status, ["status", "fed", "-n", NS])
    assert rc == 1, (out, err)
    assert NOTHING in out
    rc, out, _ = run_cmd(status, ["status", "fed", "-n", NS, "-o", "json"])
    data = json.loads(out)
    assert rc == 1 and data["ready"] is False and data["verdict"].startswith(NOTHING)
    assert data["clusters"]["chosen"] == 0 and data["clusters"]["ready"] == 0


def test_min_clusters_cannot_ask_for_no_cluster(make_hub, run_cmd):
    make_hub(_empty_fleet())
    rc, out, err = run_cmd(status, ["status", "fed", "-n", NS, "--min-clusters", "0"])
    assert rc == 2 and "--min-clusters must be at least 1" in out + err
    rc, out, _ = run_cmd(status, ["status", "fed", "-n", NS, "--min-clusters", "1", "-o", "json"])
    assert rc == 1 and json.loads(out)["ready"] is False


def test_manual_mode_with_no_cluster_is_not_ready(make_hub, run_cmd):
    make_hub(fleetgen.FleetSpec(manual_clusters=[], apps={}))
    rc, out, _ = run_cmd(status, ["status", "fed", "-n", NS, "-o", "json"])
    assert rc == 1 and json.loads(out)["ready"] is False


def test_wait_does_not_stop_on_an_empty_federation(make_hub, run_cmd):
    make_hub(_empty_fleet())
    rc, out, err = run_cmd(status, ["status", "fed", "-n", NS, "--wait", "--timeout", "1s"])
    assert rc == 1, (out, err)
    assert NOTHING in out + err
