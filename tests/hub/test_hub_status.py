"""`helm flower status` against the test hub: small fleets, the 10,000-cluster fleet, Manual
mode, addon names, the output formats and the request pattern (paged lists, no per-cluster GETs)."""

from __future__ import annotations

import json
import math
from collections import Counter

import fleetgen
import pytest
import yaml

from helm_flower.commands import status

NS = "flower"


def expected_ready(spec: fleetgen.FleetSpec) -> int:
    """Independent of the plugin: ready = addon available (or degraded, still running) and every
    ClientApp that targets the cluster has an available work."""
    ok = 0
    members = {p: set(spec.clusters_of(p)) for p in spec.placements}
    for c in spec.all_clusters():
        if spec.addon_of(c) not in ("available", "degraded"):
            continue
        apps = [a for a, items in spec.apps.items()
                if not items or any(c in members[i] for i in items)]
        ok += all(spec.work_of(a, c) == "available" for a in apps)
    return ok


def test_small_fleet_ready(make_hub, run_cmd):
    make_hub(fleetgen.small_fleet())
    rc, out, err = run_cmd(status, ["status", "fed", "-n", NS])
    assert rc == 0, err
    assert out.rstrip().endswith("ready: 3/3 clusters have an available SuperNode and ClientApp")
    assert "Placement default (fed-default): 3/3 clusters ready" in out
    for line in ("alpha", "bravo", "charlie"):
        assert any(l.split()[:4] == [line, "0", "available", "available"] for l in out.splitlines()), out
    assert "Traceback" not in err


def test_small_fleet_not_ready_names_the_reason(make_hub, run_cmd):
    make_hub(fleetgen.small_fleet(ready=False))
    rc, out, _ = run_cmd(status, ["status", "fed", "-n", NS])
    assert rc == 1
    row = next(l for l in out.splitlines() if l.strip().startswith("charlie"))
    assert "progressing" in row and "waiting" in row and "work is not ready" in row
    assert "not ready: 2/3 clusters ready; 1 without an available SuperNode" in out
    # --min-clusters: two ready clusters are enough
    rc, out, _ = run_cmd(status, ["status", "fed", "-n", NS, "--min-clusters", "2"])
    assert rc == 0 and "ready: 2/3 clusters have an available SuperNode and ClientApp (at least 2 required)" in out


def test_json_and_yaml_outputs_agree(make_hub, run_cmd):
    make_hub(fleetgen.small_fleet(ready=False))
    rc, out, _ = run_cmd(status, ["status", "fed", "-n", NS, "-o", "json"])
    data = json.loads(out)
    rc2, out2, _ = run_cmd(status, ["status", "fed", "-n", NS, "-o", "yaml"])
    assert rc == rc2 == 1
    assert yaml.safe_load(out2) == data
    assert data["ready"] is False and data["clusters"] == {
        "chosen": 3, "ready": 2, "required": 3, "superNodeAvailable": 2, "clientAppsAvailable": 2,
        "blockedByVersionSkew": 0}
    rows = {r["cluster"]: r for r in data["placements"][0]["rows"]}
    assert rows["charlie"]["superNode"]["state"] == "progressing"
    assert rows["charlie"]["clientApps"] == [{"app": "digits", "state": "waiting", "reason": "waits for the SuperNode"}]
    assert data["clientApps"][0]["conditions"]["PlacementVerified"]["status"] == "True"


def test_addon_name_from_the_cluster_management_addon(make_hub, run_cmd):
    spec = fleetgen.small_fleet()
    spec.addon = "flower-custom"  # global.addon.name
    hub = make_hub(spec)
    # Another release with the same name in another namespace: its CMA must not be picked.
    other = fleetgen.FleetSpec(namespace="elsewhere", addon="flower-other",
                               placements={"x": [("", ["zulu"])]}, apps={})
    hub.create(fleetgen.cluster_management_addon(other))
    rc, out, err = run_cmd(status, ["status", "fed", "-n", NS, "-o", "json"])
    assert rc == 0, err
    assert json.loads(out)["addon"] == "flower-custom"


def test_manual_install_strategy(make_hub, run_cmd):
    spec = fleetgen.FleetSpec(manual_clusters=["m1", "m2"], apps={"digits": []})
    spec.addon_state["m2"] = "unavailable"
    make_hub(spec)
    rc, out, _ = run_cmd(status, ["status", "fed", "-n", NS])
    assert rc == 1
    assert "Clusters of hubAddon.clusters (Manual): 1/2 clusters ready" in out
    assert "ProbeUnavailable" in out


def test_invalid_owner_label_and_unknown_placement_are_warnings(make_hub, run_cmd):
    hub = make_hub(fleetgen.small_fleet())
    mwrs = hub.get("work.open-cluster-management.io/v1alpha1", "ManifestWorkReplicaSet", "fed-clientapp-digits-flower", NS)
    mwrs["spec"]["placementRefs"].append({"name": "not-ours", "rolloutStrategy": {"type": "All"}})
    mwrs["status"]["conditions"].append(fleetgen.cond(
        "ManifestworkApplied", "False", "InvalidManifestWorkName",
        'ManifestWork owner reference "a-very-long-namespace.fed-clientapp-digits-flower" (namespace.name) is not a '
        "valid label value"))
    mwrs["status"]["conditions"] = [c for c in mwrs["status"]["conditions"]
                                    if not (c["type"] == "ManifestworkApplied" and c["status"] == "True")]
    hub.replace(mwrs)
    rc, out, _ = run_cmd(status, ["status", "fed", "-n", NS])
    assert rc == 0
    assert "Warnings:" in out and "is not a valid label value" in out
    assert "refers to placement not-ours, which is not a placement of release fed" in out


def test_manifestworks_not_readable_is_a_warning_not_a_failure(make_hub, run_cmd):
    hub = make_hub(fleetgen.small_fleet())
    hub.deny("list", "manifestworks", "work.open-cluster-management.io")
    rc, out, err = run_cmd(status, ["status", "fed", "-n", NS])
    assert rc == 1, err
    assert "forbidden: cannot list manifestworks.work.open-cluster-management.io at the cluster scope" in out
    assert "ManifestWorks could not be read" in out


# --- the 10,000-cluster fleet ------------------------------------------------------------------


@pytest.fixture(scope="module")
def big_status(big_hub, big_fleet):
    """One `status -o json` run over the 10,000 clusters (module-scoped: it takes a few seconds)."""
    import argparse
    import contextlib
    import io
    import os

    from hubtest import parse

    os.environ["KUBECONFIG"] = big_hub.kubeconfig_path
    big_hub.requests.clear()
    out = io.StringIO()
    args = parse(status, ["status", "fed", "-n", NS, "-o", "json"])
    with contextlib.redirect_stdout(out):
        rc = status.run(args)
    requests = list(big_hub.requests)
    del os.environ["KUBECONFIG"]
    assert isinstance(args, argparse.Namespace)
    return rc, json.loads(out.getvalue()), requests


def test_big_fleet_counts(big_status, big_fleet, big_hub):
    rc, data, _ = big_status
    assert rc == 1
    # 3 placements, decisions over >= 100 PlacementDecisions of <= 100 decisions each.
    pds = [e.obj for e in big_hub.stores[("cluster.open-cluster-management.io", "placementdecisions")].items.values()
           if e.obj["metadata"]["labels"]["cluster.open-cluster-management.io/placement"] in ("fed-east", "fed-west", "fed-gpu")]
    assert len(pds) >= 100 and max(len(p["status"]["decisions"]) for p in pds) == 100
    assert data["clusters"]["chosen"] == 10_000  # the 1,000 clusters in west and gpu count once
    assert data["clusters"]["ready"] == expected_ready(big_fleet)
    sizes = {p["name"]: p["clusters"] for p in data["placements"]}
    assert sizes == {"east": 4000, "west": 4000, "gpu": 3000}
    east = next(p for p in data["placements"] if p["name"] == "east")
    assert [(g["name"], g["clusters"]) for g in east["decisionGroups"]] == [("canary", 400), ("rest", 3600)]


def test_big_fleet_mixed_addon_conditions(big_status):
    _, data, _ = big_status
    rows = {r["cluster"]: r for p in data["placements"] for r in p["rows"]}
    assert rows["cluster-00007"]["superNode"]["state"] == "degraded"
    assert "SuperNodeRestarting" in rows["cluster-00007"]["superNode"]["reason"]
    assert rows["cluster-00003"]["superNode"]["state"] == "unavailable"
    assert "ProbeUnavailable" in rows["cluster-00003"]["reason"]
    assert rows["cluster-00005"]["superNode"]["state"] == "unknown"
    assert rows["cluster-00013"]["superNode"]["state"] == "unreachable"
    assert "offline; OCM keeps its SuperNode" in rows["cluster-00013"]["superNode"]["reason"]
    assert rows["cluster-00011"]["superNode"]["state"] == "missing"
    assert rows["cluster-00001"]["clientApps"][0]["state"] == "not ready"
    assert rows["cluster-00002"]["clientApps"][0]["state"] == "failed"
    assert "namespaces \"flower-fed-flower\" not found" in rows["cluster-00002"]["reason"]
    states = Counter(r["superNode"]["state"] for r in rows.values())
    assert set(states) == {"available", "degraded", "unavailable", "unknown", "unreachable", "missing"}


def test_big_fleet_progressive_rollout_midway(big_status):
    _, data, _ = big_status
    gpu = next(p for p in data["placements"] if p["name"] == "gpu")
    eval_app = next(a for a in gpu["clientApps"] if a["app"] == "eval")
    assert eval_app["rolloutStrategy"] == "Progressive"
    assert eval_app["conditions"]["PlacementRolledOut"] == {"status": "False", "reason": "Progressing", "message": ""}
    states = Counter(next(a["state"] for a in r["clientApps"] if a["app"] == "eval") for r in gpu["rows"])
    assert states["rolling out"] > 1000 and states["available"] > 1000
    rolling = next(r for r in gpu["rows"] if any(a["state"] == "rolling out" for a in r["clientApps"]))
    assert "Progressive rollout of fed-clientapp-eval-flower via placement fed-gpu-clientapp" in rolling["reason"]
    # clusters in two placements of one MWRS carry two ManifestWorks (OCM generateName)
    overlap = next(r for r in gpu["rows"] if r["cluster"] == "cluster-07120")
    assert "2 ManifestWorks of fed-clientapp-digits-flower" in overlap["reason"]


def test_big_fleet_is_read_with_paged_lists_not_per_cluster_gets(big_status, big_fleet):
    _, _, requests = big_status
    mca = [q for m, p, q in requests if p == "/apis/addon.open-cluster-management.io/v1alpha1/managedclusteraddons"]
    n_addons = sum(1 for c in big_fleet.all_clusters() if big_fleet.addon_of(c) != "missing")
    assert len(mca) == math.ceil(n_addons / 500)
    assert all(q.get("fieldSelector") == "metadata.name=flower-fed-flower" and q.get("limit") == "500" for q in mca)
    assert all("continue" in q for q in mca[1:])
    works = [q for m, p, q in requests if p == "/apis/work.open-cluster-management.io/v1/manifestworks"]
    assert len(works) > 20 and all("work.open-cluster-management.io/manifestworkreplicaset in (" in q["labelSelector"]
                                   for q in works)
    pds = [q for m, p, q in requests if p.endswith("/placementdecisions")]
    assert len(pds) == 1 and pds[0]["labelSelector"].startswith("cluster.open-cluster-management.io/placement in (")
    per_object = [p for m, p, q in requests if "/namespaces/cluster-" in p]
    assert per_object == []
    assert len(requests) < 60


def test_big_fleet_table(big_hub, monkeypatch, run_cmd):
    monkeypatch.setenv("KUBECONFIG", big_hub.kubeconfig_path)
    rc, out, _ = run_cmd(status, ["status", "fed", "-n", NS, "--max-rows", "5"])
    assert rc == 1
    assert "Placement east (fed-east): " in out and "decision groups: canary " in out
    assert "PlacementRolledOut=False (Progressing)" in out
    assert "clusters not shown (--max-rows 0 shows all)" in out
    assert out.rstrip().splitlines()[-1].startswith("not ready: ")
    assert out.count("\n  cluster-") == 15  # 5 rows x 3 placements, not-ready ones first


# --- --cluster: why a cluster is (not) in the federation -------------------------------------------


def _cluster(name: str, labels: dict, taints=()) -> dict:
    return {"apiVersion": "cluster.open-cluster-management.io/v1", "kind": "ManagedCluster",
            "metadata": {"name": name, "labels": labels}, "spec": {"taints": list(taints)}}


def _fleet_objects(hub) -> None:
    hub.create({"apiVersion": "cluster.open-cluster-management.io/v1beta2", "kind": "ManagedClusterSet",
                "metadata": {"name": "default"}, "spec": {"clusterSelector": {"selectorType": "ExclusiveClusterSetLabel"}}})
    hub.create({"apiVersion": "cluster.open-cluster-management.io/v1beta2", "kind": "ManagedClusterSet",
                "metadata": {"name": "research"},
                "spec": {"clusterSelector": {"selectorType": "LabelSelector",
                                             "labelSelector": {"matchLabels": {"team": "research"}}}}})
    hub.create({"apiVersion": "cluster.open-cluster-management.io/v1beta2", "kind": "ManagedClusterSetBinding",
                "metadata": {"name": "default", "namespace": NS}, "spec": {"clusterSet": "default"}})
    in_set = {"cluster.open-cluster-management.io/clusterset": "default"}
    hub.create(_cluster("alpha", {**in_set, "flower.ai/enabled": "true"}))
    hub.create(_cluster("delta", dict(in_set)))
    hub.create(_cluster("echo", {"team": "research", "flower.ai/enabled": "true"}))
    hub.create(_cluster("foxtrot", {**in_set, "flower.ai/enabled": "true"},
                        [{"key": "gpu-maintenance", "effect": "NoSelect"}]))
    hub.create(_cluster("golf", {**in_set, "flower.ai/enabled": "true"}))  # eligible, not (yet) decided


@pytest.mark.parametrize("cluster,expected", [
    ("delta", "placement default (fed-default): its labels and claims match none of the placement's predicates: "
              "(label flower.ai/enabled=true)"),
    ("echo", "placement default (fed-default): it is in cluster set(s) research, not in one the placement uses "
             "(default)"),
    ("foxtrot", "placement default (fed-default): its taint gpu-maintenance (NoSelect) is not tolerated by the "
                "placement"),
    ("nope", "placement default (fed-default): there is no ManagedCluster nope"),
])
def test_cluster_explains_why_it_is_not_in_the_federation(make_hub, run_cmd, cluster, expected):
    hub = make_hub(fleetgen.small_fleet())
    _fleet_objects(hub)
    rc, out, err = run_cmd(status, ["status", "fed", "-n", NS, "--cluster", cluster])
    assert rc == 0, err
    assert f"{cluster} is not in the federation:\n  {expected}\n" in out, out


def test_cluster_of_the_federation_shows_its_state(make_hub, run_cmd):
    hub = make_hub(fleetgen.small_fleet(ready=False))
    _fleet_objects(hub)
    rc, out, _ = run_cmd(status, ["status", "fed", "-n", NS, "--cluster", "charlie", "-o", "json"])
    assert rc == 1
    data = json.loads(out)["cluster"]
    assert data["member"] is True and data["row"]["superNode"]["state"] == "progressing"
    rc, out, _ = run_cmd(status, ["status", "fed", "-n", NS, "--cluster", "alpha"])
    assert "alpha is in the federation (SuperNode available, ClientApps available); ready" in out


def test_eligible_but_not_chosen_says_so(make_hub, run_cmd):
    hub = make_hub(fleetgen.small_fleet())
    _fleet_objects(hub)
    rc, out, _ = run_cmd(status, ["status", "fed", "-n", NS, "--cluster", "golf"])
    assert ("golf is not in the federation:\n  placement default (fed-default): it passes the placement's "
            "cluster sets, predicates and tolerations, but it was not chosen") in out, out


# --- reading the release: what it may not read, and the errors it does not swallow --------------

ADDON_GROUP = "addon.open-cluster-management.io"


def _read(**kw):
    from helm_flower.hub.kube import ConnectionSettings, Hub
    from helm_flower.hub.release import read_release

    with Hub(ConnectionSettings()) as client:
        return read_release(client, kw.pop("release", "fed"), NS, **kw)


def _configs_fleet() -> fleetgen.FleetSpec:
    spec = fleetgen.small_fleet()
    spec.deployment_configs = True
    return spec


def test_read_release_warns_about_what_it_may_not_list(make_hub):
    from helm_flower.hub import model

    hub = make_hub(_configs_fleet())
    assert _read().config_flower and not _read().warnings
    hub.deny("list", "addondeploymentconfigs", ADDON_GROUP, NS)
    hub.deny("list", "manifestworks", "work.open-cluster-management.io")
    hub.deny("list", "clustermanagementaddons", ADDON_GROUP)
    state = _read()
    assert state.warnings == [
        "could not list ClusterManagementAddOns (forbidden: cannot list clustermanagementaddons.addon.open-cluster-"
        "management.io at the cluster scope (all namespaces)); assuming the addon is named flower-fed-flower (use "
        "--addon-name if global.addon.name is set)",
        "forbidden: cannot list addondeploymentconfigs.addon.open-cluster-management.io in namespace flower: the "
        "SuperNodes' Flower versions are unknown",
        "forbidden: cannot list manifestworks.work.open-cluster-management.io at the cluster scope (all namespaces): "
        "the per-cluster ClientApp state is unknown",
    ]
    assert (state.addon, state.config_flower, state.works, state.works_visible) == ("flower-fed-flower", {}, {}, False)
    rows = state.summarise().tables[0]["rows"]
    assert {r.apps[0][1] for r in rows} == {model.UNKNOWN}


def test_an_addon_api_not_served_means_the_default_addon_name(make_hub):
    hub = make_hub(fleetgen.small_fleet())
    del hub.types[next(k for k in hub.types if k[2] == "clustermanagementaddons")]
    warnings = _read(release="fed").warnings
    assert warnings == [f"could not list ClusterManagementAddOns (the hub at {hub.url} does not serve "
                        "clustermanagementaddons.addon.open-cluster-management.io/v1alpha1: the Open Cluster Management "
                        "CRDs are missing); assuming the addon is named flower-fed-flower (use --addon-name if "
                        "global.addon.name is set)"]


@pytest.mark.parametrize("plural", ["addondeploymentconfigs", "manifestworks"])
def test_read_release_fails_when_a_resource_is_not_served(make_hub, plural):
    from helm_flower.hub.errors import HubError

    hub = make_hub(_configs_fleet())
    del hub.types[next(k for k in hub.types if k[2] == plural)]
    with pytest.raises(HubError, match=f"does not serve {plural}"):
        _read()


def test_read_release_of_a_release_not_there(make_hub):
    from helm_flower.hub.errors import HubError

    make_hub(fleetgen.small_fleet())
    with pytest.raises(HubError) as caught:
        _read(release="nope")
    assert caught.value.message == (
        "release 'nope' not found in namespace flower: no Placements labelled app.kubernetes.io/name=flower,"
        "app.kubernetes.io/instance=nope there. Check the release name and -n (helm list -A), and that the release "
        "has hubAddon.enabled=true.")


def test_several_addons_labelled_with_the_release_take_the_first_name(make_hub):
    spec = fleetgen.small_fleet()
    hub = make_hub(spec)
    twin = fleetgen.cluster_management_addon(spec)
    twin["metadata"]["name"] = "flower-a-twin"
    hub.create(twin)
    state = _read()
    assert state.addon == "flower-a-twin"
    assert state.warnings == ["several ClusterManagementAddOns are labelled with release fed of namespace flower: "
                              "flower-a-twin, flower-fed-flower; using flower-a-twin (use --addon-name to choose)"]
    assert _read(addon_name="flower-fed-flower").warnings == []


def test_read_release_lists_each_kind_once_in_pages_with_its_selector(make_hub):
    """The request pattern of the big-fleet test, on the small fleet with a page size of 1 (every list
    takes several pages); and the resourceVersion of each list, where `--wait` starts its watches."""
    hub = make_hub(_configs_fleet())
    state = _read(page_size=1)
    lists = [(p.rsplit("/", 1)[-1], q) for m, p, q in hub.requests if m == "GET" and "watch" not in q]
    by_kind = Counter(kind for kind, _ in lists)
    assert by_kind["placements"] > 1 and by_kind["managedclusteraddons"] == 3 and by_kind["manifestworks"] == 3
    assert all(q.get("limit") == "1" for kind, q in lists if kind != "clustermanagementaddons")
    selectors = {kind: (q.get("labelSelector"), q.get("fieldSelector")) for kind, q in lists}
    assert selectors["managedclusteraddons"] == (None, "metadata.name=flower-fed-flower")
    assert selectors["addondeploymentconfigs"] == ("app.kubernetes.io/name=flower,app.kubernetes.io/instance=fed", None)
    assert selectors["placementdecisions"][0] == (
        "cluster.open-cluster-management.io/placement in (fed-default,fed-default-clientapp,fed-supernodes)")
    release = "app.kubernetes.io/name=flower,app.kubernetes.io/instance=fed"
    assert selectors["clustermanagementaddons"][0] == f"{release},flower.ai/release-namespace=flower"
    assert selectors["manifestworkreplicasets"][0] == f"{release},flower.ai/clientapp"
    assert selectors["manifestworks"][0] == "work.open-cluster-management.io/manifestworkreplicaset=flower.fed-clientapp-digits-flower"
    namespaced = {p.rsplit("/", 1)[-1] for m, p, q in hub.requests if f"/namespaces/{NS}/" in p}
    assert {"placements", "placementdecisions", "addondeploymentconfigs", "manifestworkreplicasets"} <= namespaced
    assert set(state.rv) == {"placements", "decisions", "addons", "configs", "mwrs", "works"}
    assert all(state.rv.values())
