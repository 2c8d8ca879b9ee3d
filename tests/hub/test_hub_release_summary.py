"""helm_flower.hub.release's Row and Summary on their own: the one-line reason a cluster is not ready,
its ClientApp column, and the verdict `status` prints (ready only when clusters were chosen and
enough of them are ready); and ReleaseState applying the watch events of `status --wait`. The fleet tests reach these through a hub; these pin the wording and the
arithmetic of each case."""

from __future__ import annotations

import pytest

from helm_flower.hub import model
from helm_flower.hub.release import MwrsInfo, ReleaseState, Row, Summary
from helm_flower.hub.resources import MWRS_LABEL

A, D = model.AVAILABLE, model.DEGRADED


def row(supernode: str = A, supernode_reason: str = "", apps=(), skew=None, group_index=None,
        group_name: str = "") -> Row:
    return Row("c1", group_index, group_name, supernode, supernode_reason, list(apps), True, skew)


@pytest.mark.parametrize("apps, column", [
    ([], model.NONE), ([("a", model.PENDING, "")], model.PENDING),
    ([("a", A, ""), ("b", model.FAILED, "x"), ("c", A, "")], "2/3 available"),
])
def test_clientapp_column(apps, column):
    assert row(apps=apps).clientapp == column


@pytest.mark.parametrize("kw, reason", [
    ({"skew": {"blocking": True, "finding": "FLW210 skew"}, "supernode": model.UNAVAILABLE,
      "supernode_reason": "down"}, "FLW210 skew"),
    ({"skew": {"blocking": False, "finding": "minor"}, "apps": [("a", A, "")]}, ""),
    ({"supernode": model.UNAVAILABLE, "supernode_reason": "Crash: loop"}, "SuperNode: Crash: loop"),
    ({"supernode": D, "supernode_reason": "Slow", "apps": [("a", model.FAILED, "bad")]}, "SuperNode: Slow"),
    ({"supernode": model.PENDING}, "SuperNode pending"),
    ({"supernode": D, "apps": [("a", model.NOT_READY, "0/1")]}, "ClientApp: 0/1"),
    ({"apps": [("a", model.WAITING, "")]}, "ClientApp waiting"),
    ({"apps": [("a", A, ""), ("b", model.FAILED, "bad")]}, "ClientApp b: bad"),
    ({"apps": [("a", A, ""), ("b", model.PENDING, "")]}, "ClientApp b pending"),
    ({"apps": [("a", A, "")]}, ""),
])
def test_the_reason_a_cluster_shows(kw, reason):
    assert row(**kw).reason == reason


def test_group_is_the_name_else_the_index():
    assert row(group_index=2, group_name="canary").group == "canary"
    assert row(group_index=0).group == "0"
    assert row().group == ""


def test_row_as_json():
    r = row(model.DEGRADED, "Slow", [("a", A, "")], group_index=1)
    assert r.to_dict() == {"cluster": "c1", "decisionGroup": {"index": 1, "name": ""},
                           "superNode": {"state": D, "reason": "Slow"},
                           "clientApps": [{"app": "a", "state": A, "reason": ""}], "ready": True,
                           "reason": "SuperNode: Slow", "versionSkew": None}


def summary(chosen: int, ready: int, required: int, sn: int, ca: int, apps: int = 1) -> Summary:
    mwrs = [MwrsInfo(f"m{i}", f"app{i}", [], {}, {}, {}) for i in range(apps)]
    return Summary("fed", "flower", "flower-fed", "Placements", chosen, ready, required, sn, ca, [], mwrs, [], [])


@pytest.mark.parametrize("args, ready, verdict", [
    ((3, 3, 3, 3, 3), True, "ready: 3/3 clusters have an available SuperNode and ClientApp"),
    ((3, 3, 3, 3, 3, 2), True, "ready: 3/3 clusters have an available SuperNode and ClientApps"),
    ((3, 3, 3, 3, 3, 0), True, "ready: 3/3 clusters have an available SuperNode"),
    ((3, 2, 2, 3, 2), True, "ready: 2/3 clusters have an available SuperNode and ClientApp (at least 2 required)"),
    ((3, 1, 3, 2, 1), False, "not ready: 1/3 clusters ready; 1 without an available SuperNode, "
                             "1 with a SuperNode but no available ClientApp"),
    ((3, 1, 2, 1, 1), False, "not ready: 1/3 clusters ready, 2 required; 2 without an available SuperNode"),
    ((3, 2, 3, 3, 2, 0), False, "not ready: 2/3 clusters ready"),
    ((0, 0, 0, 0, 0), False, "not ready: the placements chose no cluster (check the ManagedClusterSetBindings "
                             "in namespace flower, the cluster sets and the predicates)"),
])
def test_verdict(args, ready, verdict):
    s = summary(*args)
    assert (s.ready, s.verdict) == (ready, verdict)
    data = s.to_dict()
    assert (data["ready"], data["verdict"]) == (ready, verdict)
    assert data["clusters"] == {"chosen": args[0], "ready": args[1], "required": args[2],
                                "superNodeAvailable": args[3], "clientAppsAvailable": args[4]}


# --- ReleaseState applying watch events (status --wait) ------------------------------------------


def test_works_are_added_and_deleted_per_mwrs_and_cluster():
    def mw(name: str, cluster: str, owner: str) -> dict:
        return {"metadata": {"name": name, "namespace": cluster, "labels": {MWRS_LABEL: owner}},
                "status": {"conditions": [{"type": "Available", "status": "True"}]}}

    state = ReleaseState("fed", "flower", "flower-fed")
    state.apply_work("ADDED", mw("w1", "c1", "flower.fed-app.x"))
    state.apply_work("ADDED", mw("w2", "c1", "flower.fed-app.x"))
    state.apply_work("ADDED", mw("w3", "c1", "other.fed-app"))  # another namespace's MWRS
    state.apply_work("ADDED", mw("w4", "c1", "flower."))  # no MWRS name
    assert list(state.works) == [("fed-app.x", "c1")]
    assert sorted(state.works[("fed-app.x", "c1")]) == ["w1", "w2"]
    assert state.works[("fed-app.x", "c1")]["w1"].mwrs == "fed-app.x"
    state.apply_work("DELETED", mw("w1", "c1", "flower.fed-app.x"))
    state.apply_work("DELETED", mw("w9", "c2", "flower.fed-app.x"))  # never seen: ignored
    assert sorted(state.works[("fed-app.x", "c1")]) == ["w2"]
    state.apply_work("DELETED", mw("w2", "c1", "flower.fed-app.x"))
    assert state.works == {}


def test_deployment_configs_map_to_their_supernode_minor_until_deleted():
    state = ReleaseState("fed", "flower", "flower-fed")
    adc = {"metadata": {"name": "cfg"}, "spec": {"customizedVariables": [
        {"name": "OTHER", "value": "flwr/superexec:1.41.0"}, {"name": "SUPERNODE_IMAGE", "value": "flwr/supernode:1.42.0"}]}}
    state.apply_deployment_config("ADDED", adc)
    state.apply_deployment_config("ADDED", {"metadata": {"name": "keep"}, "spec": {"customizedVariables": [
        {"name": "SUPERNODE_IMAGE", "value": "flwr/supernode:1.41.2"}]}})
    assert state.config_flower == {"cfg": "1.42", "keep": "1.41"}
    state.apply_deployment_config("DELETED", adc)
    state.apply_deployment_config("DELETED", {"metadata": {"name": "never-seen"}})
    assert state.config_flower == {"keep": "1.41"}
