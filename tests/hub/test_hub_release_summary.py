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


def summary(chosen: int, ready: int, required: int, sn: int, ca: int, apps: int = 1, skew_blocked: int = 0) -> Summary:
    mwrs = [MwrsInfo(f"m{i}", f"app{i}", [], {}, {}, {}) for i in range(apps)]
    return Summary("fed", "flower", "flower-fed", "Placements", chosen, ready, required, sn, ca, [], mwrs, [], [],
                   skew_blocked=skew_blocked)


@pytest.mark.parametrize("args, ready, verdict", [
    ((3, 3, 3, 3, 3), True, "ready: 3/3 clusters have an available SuperNode and ClientApp"),
    ((3, 3, 3, 3, 3, 2), True, "ready: 3/3 clusters have an available SuperNode and ClientApps"),
    ((3, 3, 3, 3, 3, 0), True, "ready: 3/3 clusters have an available SuperNode"),
    ((3, 2, 2, 3, 2), True, "ready: 2/3 clusters have an available SuperNode and ClientApp (at least 2 required)"),
    ((3, 1, 3, 2, 1), False, "not ready: 1/3 clusters ready; 1 without an available SuperNode, "
                             "1 with a SuperNode but no available ClientApp"),
    ((3, 1, 2, 1, 1), False, "not ready: 1/3 clusters ready, 2 required; 2 without an available SuperNode"),
    ((3, 2, 3, 3, 2, 0), False, "not ready: 2/3 clusters ready"),
    ((3, 1, 3, 3, 2, 1, 1), False, "not ready: 1/3 clusters ready; 1 with a SuperNode but no available ClientApp, "
                                   "1 blocked by a Flower version skew"),
    ((0, 0, 0, 0, 0), False, "not ready: the placements chose no cluster (check the ManagedClusterSetBindings "
                             "in namespace flower, the cluster sets and the predicates)"),
])
def test_verdict(args, ready, verdict):
    s = summary(*args)
    assert (s.ready, s.verdict) == (ready, verdict)
    data = s.to_dict()
    assert (data["ready"], data["verdict"]) == (ready, verdict)
    assert data["clusters"] == {"chosen": args[0], "ready": args[1], "required": args[2],
                                "superNodeAvailable": args[3], "clientAppsAvailable": args[4],
                                "blockedByVersionSkew": args[6] if len(args) > 6 else 0}


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
    state.apply_work("DELETED", mw("w9", "c1", "flower.fed-app.x"))  # never seen, next to seen ones: ignored
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


def test_a_work_without_the_owner_label_is_not_a_clientapp_work():
    state = ReleaseState("fed", "flower", "flower-fed")
    state.apply_work("ADDED", {"metadata": {"name": "w", "namespace": "c1", "labels": {}}})
    state.apply_work("ADDED", {"metadata": {"name": "w", "namespace": "c1"}})
    assert state.works == {}


# --- a cluster's row: its ClientApps' state and the Flower version skew -------------------------

SUPERNODE_IMAGE = "flwr/supernode:{}.0"


def placement(name: str, role: str, item: str | None, version: str = "1.42.0") -> dict:
    labels = {"flower.ai/placement-role": role, "app.kubernetes.io/version": version}
    if item is not None:
        labels["flower.ai/placement"] = item
    return {"metadata": {"name": name, "labels": labels}}


def decision(placement_name: str, *clusters: str) -> dict:
    return {"metadata": {"name": f"{placement_name}-decision-1",
                         "labels": {"cluster.open-cluster-management.io/placement": placement_name}},
            "status": {"decisions": [{"clusterName": c} for c in clusters]}}


def addon(cluster: str, config: str = "") -> dict:
    obj = {"metadata": {"name": "flower-fed", "namespace": cluster},
           "status": {"conditions": [{"type": "Available", "status": "True"}]}}
    if config:
        obj["status"]["configReferences"] = [{"resource": "addondeploymentconfigs", "desiredConfig": {
            "name": config, "specHash": "h"}, "lastAppliedConfig": {"name": config, "specHash": "h"}}]
    return obj


def mwrs(name: str, app: str, *refs: tuple[str, str]) -> dict:
    return {"metadata": {"name": name, "labels": {"flower.ai/clientapp": app}},
            "spec": {"placementRefs": [{"name": r, "rolloutStrategy": {"type": t}} for r, t in refs]}}


def work(name: str, cluster: str, owner: str, minor: str = "1.42", available: bool = True) -> dict:
    status = "True" if available else "False"
    return {"metadata": {"name": name, "namespace": cluster, "labels": {MWRS_LABEL: f"flower.{owner}"}},
            "spec": {"workload": {"manifests": [{"kind": "Deployment", "spec": {"template": {"spec": {"containers": [
                {"name": "superexec", "image": f"flwr/superexec:{minor}.0"}]}}}}]}},
            "status": {"conditions": [{"type": "Available", "status": status, "reason": "R", "message": "0/1 ready"}]}}


def release(*clusters: str, clientapp_chose=(), superlink: str = "1.42.0", configs=None) -> ReleaseState:
    """Release fed: placement default (SuperNodes on ``clusters``), its ClientApp twin (which chose
    ``clientapp_chose``) and ClientApp digits (MWRS fed-digits, Progressive) on that twin."""
    state = ReleaseState("fed", "flower", "flower-fed")
    state.apply_placement(placement("fed-default", "supernode", "default", superlink))
    state.apply_placement(placement("fed-default-clientapp", "clientapp", "default", superlink))
    state.apply_decision("ADDED", decision("fed-default", *clusters))
    state.apply_decision("ADDED", decision("fed-default-clientapp", *clientapp_chose))
    state.apply_mwrs("ADDED", mwrs("fed-digits", "digits", ("fed-default-clientapp", "Progressive")))
    for name, minor in (configs or {}).items():
        state.apply_deployment_config("ADDED", {"metadata": {"name": name}, "spec": {"customizedVariables": [
            {"name": "SUPERNODE_IMAGE", "value": SUPERNODE_IMAGE.format(minor)}]}})
    return state


def rows_of(state: ReleaseState) -> dict[str, Row]:
    return {r.cluster: r for t in state.summarise().tables for r in t["rows"]}


def test_clientapp_state_before_its_work_exists():
    state = release("chosen", "not-chosen", "no-addon", clientapp_chose=["chosen"])
    for cluster in ("chosen", "not-chosen"):
        state.apply_addon("ADDED", addon(cluster))
    by = rows_of(state)
    assert by["chosen"].apps == [("digits", model.ROLLING_OUT,
                                  "not rolled out here yet (Progressive rollout of fed-digits via placement "
                                  "fed-default-clientapp)")]
    assert by["not-chosen"].apps == [("digits", model.WAITING,
                                      "placement fed-default-clientapp has not chosen this cluster yet (it waits for "
                                      "the ManagedCluster label feature.open-cluster-management.io/addon-flower-fed="
                                      "available)")]
    missing = by["no-addon"]
    assert (missing.supernode, missing.supernode_reason, missing.apps) == (
        model.MISSING, "no ManagedClusterAddOn flower-fed in namespace no-addon yet",
        [("digits", model.WAITING, "waits for the SuperNode")])
    assert not any(r.ready for r in by.values())
    state.works_visible = False
    assert rows_of(state)["chosen"].apps == [("digits", model.UNKNOWN, "ManifestWorks could not be read")]


def c1_in_placements_a_and_b() -> ReleaseState:
    """A release with placements a and b (each a SuperNode and a ClientApp placement); both SuperNode
    placements chose cluster c1."""
    state = ReleaseState("fed", "flower", "flower-fed")
    for item in ("a", "b"):
        state.apply_placement(placement(f"fed-{item}", "supernode", item))
        state.apply_placement(placement(f"fed-{item}-clientapp", "clientapp", item))
        state.apply_decision("ADDED", decision(f"fed-{item}", "c1"))
    return state


def test_the_rollout_named_is_the_one_of_the_placement_that_chose_the_cluster():
    state = c1_in_placements_a_and_b()
    state.apply_decision("ADDED", decision("fed-b-clientapp", "c1"))
    state.apply_mwrs("ADDED", mwrs("fed-digits", "digits", ("fed-a-clientapp", "All"), ("fed-b-clientapp", "Progressive")))
    state.apply_addon("ADDED", addon("c1"))
    assert rows_of(state)["c1"].apps == [("digits", model.ROLLING_OUT, "not rolled out here yet (Progressive rollout "
                                                                       "of fed-digits via placement fed-b-clientapp)")]


def test_one_work_or_overlapping_works_on_a_cluster():
    state = release("one", "two", "two-ok")
    for cluster in ("one", "two", "two-ok"):
        state.apply_addon("ADDED", addon(cluster))
    state.apply_work("ADDED", work("w1", "one", "fed-digits"))
    state.apply_work("ADDED", work("w1", "two", "fed-digits", available=False))
    state.apply_work("ADDED", work("w2", "two", "fed-digits"))
    state.apply_work("ADDED", work("w1", "two-ok", "fed-digits"))
    state.apply_work("ADDED", work("w2", "two-ok", "fed-digits"))
    by = rows_of(state)
    assert by["one"].apps == [("digits", model.AVAILABLE, "")] and by["one"].ready
    overlap = "2 ManifestWorks of fed-digits on this cluster (overlapping placements)"
    assert by["two"].apps == [("digits", model.NOT_READY, f"R: 0/1 ready; {overlap}")]
    assert by["two-ok"].apps == [("digits", model.AVAILABLE, overlap)]


def skew_of(config_minor: str | None, app_minor: str, superlink: str = "1.42.0", config: str = "cfg"):
    """The skew finding of cluster c1: its SuperNode runs with ``config`` (of SuperNode image minor
    ``config_minor``; None: config not known to the release), its ClientApp ships ``app_minor``."""
    state = release("c1", superlink=superlink, configs={} if config_minor is None else {"cfg": config_minor})
    state.apply_addon("ADDED", addon("c1", config))
    state.apply_work("ADDED", work("w1", "c1", "fed-digits", app_minor))
    return rows_of(state)["c1"].skew


BLOCKING_FIX = ("the SuperNode refuses the ClientApp SuperExec (exit 606): finish the upgrade to {0} on this cluster "
                "(helm upgrade --set global.flower.version={0}.x, no per-image tag overrides; the SuperNode (addon) "
                "and ClientApp (ManifestWorkReplicaSet) rollouts both have to reach it: helm flower status --wait)")


def test_skew_with_an_unknown_superlink_names_it_and_blocks():
    skew = skew_of("1.42", "1.41", superlink="")
    assert skew == {"superNode": "1.42", "superLink": "", "clientApps": {"digits": "1.41"}, "blocking": True,
                    "finding": "Flower version skew: SuperNode 1.42, ClientApp digits 1.41, SuperLink ?; "
                               + BLOCKING_FIX.format("1.42")}


@pytest.mark.parametrize("config_minor, config", [(None, "cfg"), ("1.42", "")])
def test_skew_of_a_clientapp_off_the_superlink_when_the_supernode_minor_is_unknown(config_minor, config):
    """No applied config (rolling out), or one the release does not know: only the SuperLink to compare."""
    skew = skew_of(config_minor, "1.41", config=config)
    assert skew["superNode"] == "" and not skew["blocking"]
    assert skew["finding"].startswith("Flower version skew: SuperNode ?, ClientApp digits 1.41, SuperLink 1.42; ")
    assert skew_of(config_minor, "1.42", config=config) is None


def test_no_skew_without_anything_to_compare():
    assert skew_of(None, "1.41", superlink="", config="") is None


GROUP_LABELS = ("cluster.open-cluster-management.io/decision-group-index",
                "cluster.open-cluster-management.io/decision-group-name")


def test_tables_by_decision_group_with_the_rollout_of_each_clientapp():
    state = release("c1", clientapp_chose=["c1", "c2"])
    canary = decision("fed-default", "c2", "c3")
    canary["metadata"]["name"] = "fed-default-decision-2"
    canary["metadata"]["labels"].update(zip(GROUP_LABELS, ("1", "canary")))
    canary["status"]["decisions"].append({"reason": "no clusterName"})
    state.apply_decision("ADDED", canary)
    digits = mwrs("fed-digits", "digits", ("fed-default-clientapp", "Progressive"))
    rolled = {"type": "PlacementRolledOut", "status": "False", "reason": "Progressing", "message": "1 of 2"}
    digits["status"] = {"summary": {"total": 2}, "conditions": [rolled], "placementsSummary": [  # the Go field name
        {"name": "fed-default-clientapp", "availableDecisionGroups": "1 (1 / 2 clusters applied)",
         "summary": {"applied": 1}}]}
    state.apply_mwrs("ADDED", digits)
    everywhere = mwrs("fed-monitor", "monitor", ("fed-supernodes", ""))
    everywhere["spec"]["placementRefs"][0]["rolloutStrategy"] = {"rolloutType": "Progressive"}  # the old field
    state.apply_mwrs("ADDED", everywhere)
    state.apply_placement(placement("fed-supernodes", "clientapp", None))
    for cluster in ("c1", "c2", "c3"):
        state.apply_addon("ADDED", addon(cluster))
    state.apply_work("ADDED", work("w1", "c1", "fed-digits"))
    state.apply_work("ADDED", work("w2", "c1", "fed-monitor"))
    summary = state.summarise(min_clusters=1)
    (table,) = summary.tables
    assert [(r.cluster, r.group_index, r.group_name, r.ready) for r in table["rows"]] == [
        ("c1", 0, "", True), ("c2", 1, "canary", False), ("c3", 1, "canary", False)]
    assert (table["name"], table["placement"]) == ("default", "fed-default")
    assert table["groups"] == [{"index": 0, "name": "", "clusters": 1, "ready": 1},
                               {"index": 1, "name": "canary", "clusters": 2, "ready": 0}]
    assert table["apps"] == [
        {"app": "digits", "manifestWorkReplicaSet": "fed-digits", "placement": "fed-default-clientapp",
         "rolloutStrategy": "Progressive", "summary": {"applied": 1},
         "availableDecisionGroups": "1 (1 / 2 clusters applied)",
         "conditions": {"PlacementRolledOut": {"status": "False", "reason": "Progressing", "message": "1 of 2"}}},
        {"app": "monitor", "manifestWorkReplicaSet": "fed-monitor", "placement": "fed-supernodes",
         "rolloutStrategy": "Progressive", "summary": {}, "availableDecisionGroups": "", "conditions": {}}]
    assert [a for a, _, _ in table["rows"][1].apps] == ["digits", "monitor"]
    assert (summary.chosen, summary.ready_count, summary.required, summary.mode) == (3, 1, 1, "Placements")
    assert summary.to_dict()["placements"][0]["ready"] == 1
    assert summary.to_dict()["clientApps"][0]["summary"] == {"total": 2}
    assert [r.cluster for r in summary.not_ready] == ["c2", "c3"]
    state.apply_decision("DELETED", canary)
    state.apply_decision("DELETED", decision("fed-never-seen"))
    assert [r.cluster for r in state.summarise().tables[0]["rows"]] == ["c1"]


def test_a_decision_with_an_unreadable_group_index_is_group_0():
    state = release()
    odd = decision("fed-default", "c1")
    odd["metadata"]["labels"][GROUP_LABELS[0]] = "first"
    state.apply_decision("ADDED", odd)
    state.apply_addon("ADDED", addon("c1"))
    assert [(r.group_index, r.group_name) for r in rows_of(state).values()] == [(0, "")]


def test_mwrs_defaults_all_rollout_and_its_name_as_app():
    state = release()
    bare = {"metadata": {"name": "fed-x"}, "spec": {"placementRefs": [{"name": "fed-default-clientapp"}]},
            "status": {"placementSummary": [{"name": "fed-default-clientapp", "summary": {"applied": 3}}]}}
    state.apply_mwrs("ADDED", bare)
    assert (state.mwrs["fed-x"].app, state.mwrs["fed-x"].refs) == ("fed-x", [("fed-default-clientapp", "All")])
    assert state.mwrs["fed-x"].placement_summary["fed-default-clientapp"]["summary"] == {"applied": 3}
    state.apply_mwrs("DELETED", bare)
    assert "fed-x" not in state.mwrs


def test_warnings_about_clientapp_rollouts_and_placements():
    state = release("c1")
    state.apply_addon("ADDED", addon("c1"))
    broken = mwrs("fed-digits", "digits", ("fed-default-clientapp", "All"), ("fed-gone-clientapp", "All"))
    broken["status"] = {"conditions": [
        {"type": "PlacementVerified", "status": "False", "reason": "PlacementDecisionNotFound", "message": "not yet"},
        {"type": "ManifestworkApplied", "status": "False", "reason": "InvalidManifestWorkName", "message": "too long"}]}
    state.apply_mwrs("ADDED", broken)
    quiet = mwrs("fed-quiet", "quiet", ("fed-default-clientapp", "All"))
    quiet["status"] = {"conditions": [{"type": "PlacementVerified", "status": "False", "reason": "Unknown"}]}
    state.apply_mwrs("ADDED", quiet)
    counted = placement("fed-default", "supernode", "default")
    counted["status"] = {"numberOfSelectedClusters": 2}
    state.apply_placement(counted)
    empty = placement("fed-empty", "supernode", "empty")
    empty["status"] = {"conditions": [{"type": "PlacementSatisfied", "status": "False",
                                       "reason": "NoManagedClusterMatched", "message": "No cluster matches"}]}
    state.apply_placement(empty)
    state.apply_placement(placement("fed-quiet", "supernode", "quiet"))
    unsure = placement("fed-unsure", "supernode", "unsure")
    unsure["status"] = {"conditions": [{"type": "PlacementSatisfied", "status": "False", "reason": "Pending"}]}
    state.apply_placement(unsure)
    assert state.summarise().warnings == [
        "ManifestWorkReplicaSet fed-digits: PlacementVerified=False (PlacementDecisionNotFound) not yet",
        "ManifestWorkReplicaSet fed-digits: too long",
        "ManifestWorkReplicaSet fed-digits refers to placement fed-gone-clientapp, which is not a placement of "
        "release fed",
        "ManifestWorkReplicaSet fed-quiet: PlacementVerified=False (Unknown)",
        "placement fed-default reports 2 selected clusters but its PlacementDecisions list 1 (the placement "
        "controller is still writing them)",
        "placement fed-empty chose no cluster: NoManagedClusterMatched: No cluster matches",
        "placement fed-unsure chose no cluster: Pending",
    ]


@pytest.mark.parametrize("mwrs_names, selector", [
    ([], None),
    (["fed-a"], f"{MWRS_LABEL}=flower.fed-a"),
    (["fed-b", "fed-a"], f"{MWRS_LABEL} in (flower.fed-a,flower.fed-b)"),
])
def test_work_selector_names_the_release_mwrs(mwrs_names, selector):
    state = ReleaseState("fed", "flower", "flower-fed")
    for name in mwrs_names:
        state.apply_mwrs("ADDED", mwrs(name, name))
    assert state.work_selector() == selector


def test_summary_as_json():
    state = release("c1", "c2", clientapp_chose=["c1"], configs={"cfg": "1.42"})
    for cluster in ("c1", "c2"):
        state.apply_addon("ADDED", addon(cluster, "cfg"))
    state.apply_work("ADDED", work("w1", "c1", "fed-digits", "1.41"))
    data = state.summarise().to_dict()
    skew = {"superNode": "1.42", "superLink": "1.42", "clientApps": {"digits": "1.41"}, "blocking": True,
            "finding": "Flower version skew: SuperNode 1.42, ClientApp digits 1.41, SuperLink 1.42; "
                       + BLOCKING_FIX.format("1.42")}
    rollout = {"app": "digits", "manifestWorkReplicaSet": "fed-digits", "placement": "fed-default-clientapp",
               "rolloutStrategy": "Progressive", "summary": {}, "availableDecisionGroups": "", "conditions": {}}
    (table,) = data.pop("placements")
    rows = table.pop("rows")
    assert data == {
        "release": "fed", "namespace": "flower", "addon": "flower-fed", "installStrategy": "Placements",
        "ready": False, "verdict": "not ready: 0/2 clusters ready; 1 with a SuperNode but no available ClientApp, "
                                   "1 blocked by a Flower version skew",
        "clusters": {"chosen": 2, "ready": 0, "required": 2, "superNodeAvailable": 2, "clientAppsAvailable": 1,
                     "blockedByVersionSkew": 1},
        "clientApps": [{"app": "digits", "manifestWorkReplicaSet": "fed-digits",
                        "placementRefs": [{"name": "fed-default-clientapp", "rolloutStrategy": "Progressive"}],
                        "summary": {}, "conditions": {}}],
        "versionSkew": [dict(skew, cluster="c1")],
        "warnings": [],
    }
    assert table == {"name": "default", "placement": "fed-default", "clusters": 2, "ready": 0,
                     "decisionGroups": [{"index": 0, "name": "", "clusters": 2, "ready": 0}], "clientApps": [rollout]}
    assert rows[0] == {"cluster": "c1", "decisionGroup": {"index": 0, "name": ""},
                       "superNode": {"state": A, "reason": ""},
                       "clientApps": [{"app": "digits", "state": A, "reason": ""}], "ready": False,
                       "reason": skew["finding"], "versionSkew": skew}
    assert rows[1]["cluster"] == "c2" and rows[1]["versionSkew"] is None


def test_manual_release_tables_and_selectors():
    state = ReleaseState("fed", "flower", "flower-fed")
    state.apply_placement(placement("fed-all", "clientapp", None, "1.41.3"))
    state.apply_decision("ADDED", decision("fed-all", "m1"))
    state.apply_mwrs("ADDED", mwrs("fed-digits", "digits", ("fed-all", "All")))
    for cluster in ("m2", "m1"):
        state.apply_addon("ADDED", addon(cluster))
    state.apply_addon("ADDED", {"metadata": {"name": "flower-other", "namespace": "m3"}})  # another addon
    assert state.manual and state.release_flower == "1.41"
    assert state.chosen() == {"(manual)": {"m2": (None, ""), "m1": (None, "")}}
    assert state.all_chosen() == {"m1", "m2"}
    assert state.clientapp_decisions() == {"fed-all": {"m1"}}
    summary = state.summarise()
    assert summary.mode == "Manual" and summary.tables[0]["placement"] == "fed-all"
    assert [(r.cluster, r.group, r.apps[0][1]) for r in summary.tables[0]["rows"]] == [
        ("m1", "", model.ROLLING_OUT), ("m2", "", model.WAITING)]
    assert state.decision_selector() == "cluster.open-cluster-management.io/placement in (fed-all)"
    assert state.addon_field_selector() == "metadata.name=flower-fed"
    assert state.mwrs_selector() == "app.kubernetes.io/name=flower,app.kubernetes.io/instance=fed,flower.ai/clientapp"
    state.apply_addon("DELETED", addon("m2"))
    state.apply_addon("DELETED", addon("never-seen"))
    state.apply_mwrs("DELETED", mwrs("fed-never-seen", "x"))
    assert state.all_chosen() == {"m1"}
    bare = ReleaseState("fed", "flower", "flower-fed")  # no ClientApp placement: the chart's name for it
    bare.apply_addon("ADDED", addon("m1"))
    assert bare.summarise().tables[0]["placement"] == "fed-supernodes"


@pytest.mark.parametrize("enabled", [True, False])
def test_the_collector_is_paused_while_reading_and_left_as_it_was(enabled):
    import gc

    from helm_flower.hub.release import gc_paused

    was = gc.isenabled()
    (gc.enable if enabled else gc.disable)()
    try:
        with pytest.raises(KeyError), gc_paused():
            assert not gc.isenabled()
            raise KeyError("a failed read")
        assert gc.isenabled() is enabled
    finally:
        (gc.enable if was else gc.disable)()


def test_rows_and_groups_follow_the_decision_group_index():
    state = release()
    state.apply_mwrs("DELETED", mwrs("fed-digits", "digits"))  # SuperNodes only: an available one is ready
    for index, name, clusters in ((0, "z-group", ("z-first", "y-second")), (1, "a-group", ("a-third",))):
        group = decision("fed-default", *clusters)
        group["metadata"]["name"] = f"fed-default-decision-{index + 1}"
        group["metadata"]["labels"].update(zip(GROUP_LABELS, (str(index), name)))
        state.apply_decision("ADDED", group)
        for cluster in clusters:
            state.apply_addon("ADDED", addon(cluster))
    (table,) = state.summarise().tables
    assert [r.cluster for r in table["rows"]] == ["y-second", "z-first", "a-third"]
    assert table["groups"] == [{"index": 0, "name": "z-group", "clusters": 2, "ready": 2},
                               {"index": 1, "name": "a-group", "clusters": 1, "ready": 1}]


def test_a_cluster_in_two_placements_gets_the_clientapps_of_both():
    state = c1_in_placements_a_and_b()
    state.apply_mwrs("ADDED", mwrs("fed-digits", "digits", ("fed-a-clientapp", "All")))
    state.apply_mwrs("ADDED", mwrs("fed-stray", "stray", ("fed-elsewhere", "All")))  # targets no placement here
    state.apply_addon("ADDED", addon("c1"))
    state.apply_work("ADDED", work("w1", "c1", "fed-digits"))
    tables = state.summarise().tables
    assert [(t["name"], [r.apps for r in t["rows"]]) for t in tables] == [
        ("a", [[("digits", A, "")]]), ("b", [[("digits", A, "")]])]


def test_skew_of_a_supernode_off_the_superlink_says_how_to_bring_it_back():
    skew = skew_of("1.41", "1.41")
    assert skew == {"superNode": "1.41", "superLink": "1.42", "clientApps": {"digits": "1.41"}, "blocking": False,
                    "finding": "Flower version skew: SuperNode 1.41, ClientApp digits 1.41, SuperLink 1.42; Flower only "
                               "warns across minors between SuperNode and SuperLink, but a ServerApp and ClientApps of "
                               "different minors may not interoperate: bring this cluster to 1.42 (remove per-placement "
                               "hubAddon supernode.image.tag overrides, clientApp image tags, then wait for the addon's "
                               "rollout: helm flower status --wait)"}


def test_skewed_clusters_are_listed_by_name():
    state = release("c2", "c1", configs={"cfg": "1.42"})
    for cluster in ("c2", "c1"):
        state.apply_addon("ADDED", addon(cluster, "cfg"))
        state.apply_work("ADDED", work("w1", cluster, "fed-digits", "1.41"))
    assert [r.cluster for r in state.summarise().skewed] == ["c1", "c2"]
