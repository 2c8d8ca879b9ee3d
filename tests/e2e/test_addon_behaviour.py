"""How OCM's addon framework treats what the chart gives it, proven on the real hub (issue 12, item 4):
rollouts of a changed AddOnTemplate, node placement of the SuperNode pods, template markers in values."""

from __future__ import annotations

import time

from hubview import wait_until
from releases import placed_on

NAMESPACE = "flower-addon"


def supernode(hub, cluster: str, namespace: str):
    deployment = hub.deployment(cluster, namespace, "supernode")
    return deployment.spec.template.spec if deployment else None


def test_a_changed_addon_template_rolls_out_one_cluster_at_a_time(fleet, hub, releases, selector):
    """The AddOnTemplate keeps its name across upgrades; OCM still treats a changed template as a new
    config and honours the placement's Progressive rollout (maxConcurrency 1, minSuccessTime 10s)."""
    clusters = list(fleet.managed)
    for cluster in clusters:
        hub.label_cluster(cluster, selector, "true")
    values = placed_on(selector)
    values["hubAddon"]["placements"][0]["rolloutStrategy"] = {
        "type": "Progressive", "progressive": {"maxConcurrency": 1, "minSuccessTime": "10s"}}
    release = releases("rollout", NAMESPACE)
    release.install(values)
    ns = release.agent_namespace
    for cluster in clusters:
        wait_until(f"the SuperNode on {cluster}", lambda c=cluster: hub.available(c, ns, "supernode"), 180)
    time.sleep(12)  # past minSuccessTime of the initial rollout: the next change starts from a settled state
    uids = {c: hub.deployment(c, ns, "supernode").metadata.uid for c in clusters}
    (old_template,) = [t["metadata"]["name"] for t in release.of_kind("AddOnTemplate")]

    values["hubAddon"]["supernode"] = {"extraArgs": ["--max-retries", "7"]}
    release.upgrade(values)
    changed_at: dict[str, float] = {}
    deadline = time.monotonic() + 180
    while len(changed_at) < len(clusters) and time.monotonic() < deadline:
        for cluster in clusters:
            spec = supernode(hub, cluster, ns)
            if cluster not in changed_at and spec and "7" in (spec.containers[0].args or []):
                changed_at[cluster] = time.monotonic()
        time.sleep(0.5)
    assert len(changed_at) == len(clusters), f"the new template reached only {sorted(changed_at)}"
    times = sorted(changed_at.values())
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(gap >= 8 for gap in gaps), f"clusters updated {gaps} s apart: not one at a time"
    (new_template,) = [t["metadata"]["name"] for t in release.of_kind("AddOnTemplate")]
    assert new_template != old_template  # named after its content
    for cluster in clusters:  # updated in place, never removed
        wait_until(f"{cluster}'s updated SuperNode", lambda c=cluster: hub.available(c, ns, "supernode"))
        assert hub.deployment(cluster, ns, "supernode").metadata.uid == uids[cluster]


def test_node_placement_tolerations_reach_the_supernode_with_or_without_a_node_selector(hub, releases, selector):
    toleration = {"key": "dedicated", "operator": "Equal", "value": "flower", "effect": "NoSchedule"}
    hub.label_cluster("cluster2", selector, "true")
    release = releases("placing", NAMESPACE)
    values = placed_on(selector, hubAddon={"supernode": {"nodePlacement": {"tolerations": [toleration]}}})
    values["hubAddon"]["placements"] = placed_on(selector)["hubAddon"]["placements"]
    release.install(values)
    ns = release.agent_namespace

    def tolerated() -> bool:
        spec = supernode(hub, "cluster2", ns)
        return bool(spec) and any(t.key == "dedicated" and t.value == "flower" for t in spec.tolerations or [])

    wait_until("the toleration (no nodeSelector) on cluster2's SuperNode pods", tolerated, 120)
    values["hubAddon"]["supernode"]["nodePlacement"]["nodeSelector"] = {"kubernetes.io/os": "linux"}
    release.upgrade(values)
    wait_until("the nodeSelector on cluster2's SuperNode pods",
               lambda: (supernode(hub, "cluster2", ns).node_selector or {}).get("kubernetes.io/os") == "linux", 120)
    assert tolerated()


def test_template_markers_in_a_value_stay_literal(hub, releases, selector):
    """OCM substitutes {{VARIABLES}} once: a value that itself contains {{...}} reaches the SuperNode
    as written (node-config is opaque text to OCM), and nothing else breaks."""
    hub.label_cluster("cluster3", selector, "true")
    release = releases("markers", NAMESPACE)
    values = placed_on(selector, hubAddon={"supernode": {"nodeConfig": {"note": "{{CLUSTER_NAME}} {{nope}}"}}})
    values["hubAddon"]["placements"] = placed_on(selector)["hubAddon"]["placements"]
    release.install(values)
    ns = release.agent_namespace
    wait_until("cluster3's SuperNode", lambda: hub.available("cluster3", ns, "supernode"), 180)
    args = supernode(hub, "cluster3", ns).containers[0].args
    node_config = args[args.index("--node-config") + 1]
    assert 'note="{{CLUSTER_NAME}} {{nope}}"' in node_config, node_config
    assert 'cluster-name="cluster3"' in node_config, node_config
