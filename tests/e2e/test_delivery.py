"""`helm install` on a real OCM hub, and every hand-off after it done by OCM's own controllers:
placement, addon manager, work agent, ManifestWorkReplicaSet rollout (issue 12, items 3.1 and 3.2)."""

from __future__ import annotations

import threading
import time

import pytest
from kubernetes import watch

from hubview import MWRS, WORK, conditions, wait_until
from releases import placed_on

NAMESPACE = "flower-e2e"


def stored(fleet, obj: dict) -> bool:
    """The object of a rendered manifest, read back from the hub's API server."""
    from kubernetes import dynamic

    client = dynamic.DynamicClient(fleet.api())
    resource = client.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    meta = obj["metadata"]
    found = resource.get(name=meta["name"], namespace=meta.get("namespace") if resource.namespaced else None)
    return found.metadata.uid is not None


@pytest.mark.parametrize("helm", ["4", "3"])
def test_install_stores_every_object_and_hub_deployments_become_available(helm, fleet, hub, releases, selector):
    release = releases(f"deliver{helm}", f"{NAMESPACE}-h{helm}", helm=helm)
    release.install(placed_on(selector))
    objects = release.manifest()
    assert {o["kind"] for o in objects} >= {"Deployment", "Service", "ClusterManagementAddOn", "AddOnTemplate",
                                            "AddOnDeploymentConfig", "Placement", "ManifestWorkReplicaSet"}
    missing = [f"{o['kind']}/{o['metadata']['name']}" for o in objects if not stored(fleet, o)]
    assert not missing, f"rendered but not stored on the hub: {missing}"

    deployments = {o["metadata"]["name"] for o in objects if o["kind"] == "Deployment"}
    assert len(deployments) >= 2  # SuperLink and ServerApp SuperExec at least

    def all_available() -> bool:
        live = {d.metadata.name: d for d in hub.hub_deployments(release.namespace, release.name)}
        return set(live) == deployments and all((d.status.available_replicas or 0) >= 1 for d in live.values())

    wait_until(f"every hub Deployment of {release.name} to be Available ({sorted(deployments)})", all_available, 120)


def test_ocm_delivers_supernodes_and_clientapps_to_the_placed_clusters(fleet, hub, releases, selector):
    release = releases("deliver", NAMESPACE)
    release.install(placed_on(selector))
    chosen = ["cluster1", "cluster2"]
    for cluster in chosen:
        hub.label_cluster(cluster, selector, "true")
    (supernode_placement,) = release.placements("supernode")
    addon, agent_ns = release.addon, release.agent_namespace

    assert wait_until("the SuperNode placement's decision", lambda: hub.decisions(NAMESPACE, supernode_placement) == chosen
                      and chosen) == chosen
    for cluster in chosen:
        wait_until(f"the addon manager's ManifestWork on {cluster} to be applied by the work agent",
                   lambda c=cluster: [n for n, w in hub.works(c).items()
                                      if addon in n and conditions(w).get("Applied") == "True"])
        wait_until(f"the SuperNode Deployment on {cluster} to be Available",
                   lambda c=cluster: hub.available(c, agent_ns, "supernode"))
        wait_until(f"ManagedClusterAddOn {addon} on {cluster} to be Available",
                   lambda c=cluster: conditions(hub.mca(c, addon)).get("Available") == "True")
        wait_until(f"{cluster}'s addon label to say available", lambda c=cluster: hub.addon_label(c, addon) == "available")
    assert hub.mca("cluster3", addon) is None, "cluster3 is not placed and must not get the addon"
    assert hub.deployment("cluster3", agent_ns, "supernode") is None

    (clientapp_placement,) = [p for p in release.placements("clientapp") if p.endswith("-clientapp")]
    assert wait_until("the ClientApp placement to choose exactly the SuperNode clusters",
                      lambda: hub.decisions(NAMESPACE, clientapp_placement) == chosen and chosen) == chosen
    (mwrs,) = release.mwrs_names()
    wait_until("the ManifestWorkReplicaSet to report 2 available works, rolled out",
               lambda: (hub.mwrs(NAMESPACE, mwrs).get("status") or {}).get("summary", {}).get("available") == 2
               and conditions(hub.mwrs(NAMESPACE, mwrs)).get("PlacementRolledOut") == "True")
    for cluster in chosen:
        wait_until(f"the ClientApp Deployment on {cluster} to be Available",
                   lambda c=cluster: hub.available(c, agent_ns, "clientapp-default"))
    assert hub.deployment("cluster3", agent_ns, "clientapp-default") is None


def test_progressive_rollout_reaches_one_cluster_at_a_time(fleet, hub, releases, selector):
    """maxConcurrency 1: the ManifestWorkReplicaSet creates the next cluster's ManifestWork only after
    the previous one succeeded (watched as it happens, not inferred from timestamps)."""
    clusters = list(fleet.managed)
    for cluster in clusters:
        hub.label_cluster(cluster, selector, "true")
    release = releases("progressive", NAMESPACE)
    release.install(placed_on(selector))
    wait_until("every cluster's addon to be available",
               lambda: all(hub.addon_label(c, release.addon) == "available" for c in clusters))

    label = "work.open-cluster-management.io/manifestworkreplicaset"
    seen: list[tuple[float, str, str, str, dict]] = []
    stop = threading.Event()

    def record() -> None:
        w = watch.Watch()
        for event in w.stream(fleet.custom().list_cluster_custom_object, *WORK, "manifestworks",
                              label_selector=label, timeout_seconds=170):
            obj = event["object"]
            seen.append((time.monotonic(), event["type"], obj["metadata"]["labels"][label],
                         obj["metadata"]["namespace"], conditions(obj)))
            if stop.is_set():
                w.stop()

    recorder = threading.Thread(target=record, daemon=True)
    recorder.start()
    time.sleep(1)
    release.upgrade(placed_on(selector, clientApp={"apps": [
        {"name": "default", "placements": ["default"]},
        {"name": "slow", "placements": ["default"], "rolloutStrategy": {
            "type": "Progressive", "progressive": {"maxConcurrency": 1, "minSuccessTime": "5s"}}}]}))
    rollout_mwrs = release.clientapp_mwrs("slow")
    wait_until("the progressive ManifestWorkReplicaSet to finish",
               lambda: (hub.mwrs(NAMESPACE, rollout_mwrs).get("status") or {}).get("summary", {}).get("available") == 3,
               timeout=180)
    stop.set()
    recorder.join(timeout=2)
    events = [(t, kind, ns, conds) for t, kind, owner, ns, conds in seen if owner == f"{NAMESPACE}.{rollout_mwrs}"]

    created = [(t, ns) for t, kind, ns, _ in events if kind == "ADDED"]
    assert sorted(ns for _, ns in created) == clusters, events
    available_at = {}
    for t, _kind, ns, conds in events:
        if conds.get("Available") == "True":
            available_at.setdefault(ns, t)
    # Each cluster's work appears only after the previous one became available: one at a time.
    for (t_prev, prev), (t_next, nxt) in zip(created, created[1:]):
        assert prev in available_at and available_at[prev] <= t_next, (
            f"{nxt}'s work was created before {prev}'s was available: {events}")
