"""Both install strategies on the real hub, with per-cluster node-config from `helm flower partitions`
(issue 12, item 3.5), and `helm flower validate` against the hub's own CRDs."""

from __future__ import annotations

import yaml

from hubview import wait_until
from releases import CHART, placed_on

NAMESPACE = "flower-strategies"


def node_config(hub, cluster: str, namespace: str) -> str:
    deployment = hub.deployment(cluster, namespace, "supernode")
    if deployment is None:
        return ""
    args = deployment.spec.template.spec.containers[0].args or []
    return args[args.index("--node-config") + 1] if "--node-config" in args else ""


def partitions(release, tmp_path) -> dict:
    out = tmp_path / f"{release.name}-partitions.yaml"
    proc = release.flower("partitions", release.name, "-n", release.namespace, "-o", str(out))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return yaml.safe_load(out.read_text())


def expect_partitions(hub, namespace: str, clusters: list[str]) -> None:
    for i, cluster in enumerate(clusters):
        wanted = f"partition-id={i}"
        wait_until(f"{cluster}'s SuperNode to get {wanted} num-partitions={len(clusters)}",
                   lambda c=cluster, w=wanted: w in node_config(hub, c, namespace)
                   and f"num-partitions={len(clusters)}" in node_config(hub, c, namespace), 120)
        wait_until(f"{cluster}'s SuperNode to be Available", lambda c=cluster: hub.available(c, namespace, "supernode"))


def test_placements_strategy_with_partitions(hub, releases, selector, tmp_path):
    release = releases("parts", NAMESPACE)
    values = placed_on(selector)
    release.install(values)
    chosen = ["cluster1", "cluster3"]
    for cluster in chosen:
        hub.label_cluster(cluster, selector, "true")
    ns = release.agent_namespace
    for cluster in chosen:
        wait_until(f"the SuperNode on {cluster}", lambda c=cluster: hub.available(c, ns, "supernode"), 180)
    written = partitions(release, tmp_path)
    assert written["hubAddon"]["clusters"] == [
        {"name": "cluster1", "nodeConfig": {"partition-id": 0, "num-partitions": 2}},
        {"name": "cluster3", "nodeConfig": {"partition-id": 1, "num-partitions": 2}}]
    values["hubAddon"]["clusters"] = written["hubAddon"]["clusters"]
    release.upgrade(values)
    expect_partitions(hub, ns, chosen)
    release.upgrade(values)  # a second upgrade finds the same objects (no ownership conflict)
    assert hub.deployment("cluster2", ns, "supernode") is None


def test_manual_strategy_with_partitions(hub, releases, tmp_path):
    release = releases("manual", NAMESPACE)
    values = {"hubAddon": {"installStrategy": "Manual", "clusters": [{"name": "cluster2"}, {"name": "cluster3"}]}}
    release.install(values)
    ns = release.agent_namespace
    for cluster in ("cluster2", "cluster3"):
        wait_until(f"the SuperNode on {cluster}", lambda c=cluster: hub.available(c, ns, "supernode"), 180)
        wait_until(f"the ClientApp on {cluster}", lambda c=cluster: hub.available(c, ns, "clientapp-default"), 180)
    assert hub.deployment("cluster1", ns, "supernode") is None
    written = partitions(release, tmp_path)
    values["hubAddon"]["clusters"] = written["hubAddon"]["clusters"]
    release.upgrade(values)
    expect_partitions(hub, ns, ["cluster2", "cluster3"])


def test_validate_rendered_against_the_hubs_crds(releases, selector, tmp_path):
    release = releases("validate", NAMESPACE)  # not installed: only its helm home and kubeconfig are used
    values = tmp_path / "values.yaml"
    values.write_text(yaml.safe_dump(placed_on(selector)))
    proc = release.flower("validate", str(CHART), "-f", str(values), "--rendered", "--crds-from-cluster",
                          "-n", NAMESPACE, "-o", "json")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    report = yaml.safe_load(proc.stdout)
    assert any("from the cluster" in note or "crds-from-cluster" in note or "hub" in note for note in report["notes"]), report
