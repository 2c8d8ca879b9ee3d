"""What happens to a running federation when clusters come and go (issue 12, item 3.3): `helm flower
status --wait`, a cluster taken out of the placement, and a cluster whose agent goes offline."""

from __future__ import annotations

import time

from hubview import conditions, wait_until
from releases import placed_on

NAMESPACE = "flower-lifecycle"


def deployment_uid(hub, cluster: str, namespace: str, name: str) -> str | None:
    deployment = hub.deployment(cluster, namespace, name)
    return deployment.metadata.uid if deployment else None


def placed_and_running(hub, release, clusters: list[str]) -> None:
    for cluster in clusters:
        wait_until(f"the SuperNode and ClientApp on {cluster} to be Available",
                   lambda c=cluster: hub.available(c, release.agent_namespace, "supernode")
                   and hub.available(c, release.agent_namespace, "clientapp-default"), 180)


def test_status_waits_for_ready_and_a_cluster_taken_out_loses_its_supernode(hub, releases, selector):
    release = releases("life", NAMESPACE)
    release.install(placed_on(selector))
    for cluster in ("cluster1", "cluster2"):
        hub.label_cluster(cluster, selector, "true")
    status = release.flower("status", release.name, "-n", NAMESPACE, "--wait", "--timeout", "180s")
    assert status.returncode == 0, status.stdout + status.stderr
    assert "ready: 2/2 clusters" in status.stdout, status.stdout
    placed_and_running(hub, release, ["cluster1", "cluster2"])

    hub.label_cluster("cluster2", selector, None)
    wait_until("cluster2's SuperNode and ClientApp to be deleted",
               lambda: hub.deployment("cluster2", release.agent_namespace, "supernode") is None
               and hub.deployment("cluster2", release.agent_namespace, "clientapp-default") is None, 180)
    assert hub.available("cluster1", release.agent_namespace, "supernode")
    status = release.flower("status", release.name, "-n", NAMESPACE, "--cluster", "cluster2")
    assert "ready: 1/1 clusters" in status.stdout, status.stdout
    assert "cluster2 is not in the federation:" in status.stdout, status.stdout
    (supernode_placement,) = release.placements("supernode")
    assert (f"placement default ({supernode_placement}): its labels and claims match none of the placement's "
            f"predicates: (label {selector}=true)") in status.stdout, status.stdout
    status = release.flower("status", release.name, "-n", NAMESPACE, "--cluster", "cluster1")
    assert "cluster1 is in the federation (SuperNode available, ClientApps available); ready" in status.stdout


def test_an_offline_cluster_keeps_its_supernode_and_clientapp(fleet, hub, releases, selector):
    """Hospitals' clusters go offline. OCM taints an unreachable cluster; the federation must not tear
    its SuperNode and ClientApp down (a reinstall means a new key and node identity) and, when the
    agent is back, nothing is recreated."""
    release = releases("outage", NAMESPACE)
    release.install(placed_on(selector))
    clusters = ["cluster1", "cluster2"]
    for cluster in clusters:
        hub.label_cluster(cluster, selector, "true")
    placed_and_running(hub, release, clusters)
    (supernode_placement,) = release.placements("supernode")
    ns = release.agent_namespace

    def own_works() -> dict[str, str]:  # this release's ManifestWorks on cluster1 (others may be leaving)
        return {n: w["metadata"]["uid"] for n, w in hub.works("cluster1").items()
                if release.addon in n or n.startswith(f"{release.name}-")}

    before = {
        "supernode": deployment_uid(hub, "cluster1", ns, "supernode"),
        "clientapp": deployment_uid(hub, "cluster1", ns, "clientapp-default"),
        "works": own_works(),
        "addon": hub.mca("cluster1", release.addon)["metadata"]["uid"],
    }
    assert len(before["works"]) == 2, before  # the SuperNode's and the ClientApp's

    fleet.pause_agent("cluster1")
    try:
        wait_until("the hub to taint cluster1 unreachable",
                   lambda: "cluster.open-cluster-management.io/unreachable" in hub.taints("cluster1"), 150)
        wait_until("cluster1's addon label to say unreachable",
                   lambda: hub.addon_label("cluster1", release.addon) == "unreachable", 60)
        deadline = time.monotonic() + 30  # give the placement and addon controllers time to (not) react
        while time.monotonic() < deadline:
            assert "cluster1" in hub.decisions(NAMESPACE, supernode_placement), "the SuperNode placement dropped cluster1"
            assert hub.mca("cluster1", release.addon) is not None, "the addon was uninstalled from cluster1"
            assert own_works() == before["works"]
            time.sleep(2)
        status = release.flower("status", release.name, "-n", NAMESPACE)
        assert "unreachable" in status.stdout, status.stdout
    finally:
        fleet.resume_agent("cluster1")

    wait_until("cluster1 to be available again",
               lambda: conditions(hub.cluster("cluster1")).get("ManagedClusterConditionAvailable") == "True", 120)
    wait_until("cluster1's addon to be available again",
               lambda: hub.addon_label("cluster1", release.addon) == "available", 120)
    after = {
        "supernode": deployment_uid(hub, "cluster1", ns, "supernode"),
        "clientapp": deployment_uid(hub, "cluster1", ns, "clientapp-default"),
        "works": own_works(),
        "addon": hub.mca("cluster1", release.addon)["metadata"]["uid"],
    }
    assert after == before, "objects were recreated after the outage"
