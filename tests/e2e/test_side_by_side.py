"""Two releases on one hub and the same managed clusters; `helm uninstall` of one removes what it put
on the hub and on the managed clusters and leaves the other untouched (issue 12, item 3.6)."""

from __future__ import annotations

from kubernetes import dynamic
from kubernetes.client.rest import ApiException

from hubview import conditions, wait_until
from releases import placed_on

KEEP = "helm.sh/resource-policy"


def exists(fleet, obj: dict) -> bool:
    client = dynamic.DynamicClient(fleet.api())
    resource = client.resources.get(api_version=obj["apiVersion"], kind=obj["kind"])
    meta = obj["metadata"]
    try:
        resource.get(name=meta["name"], namespace=meta.get("namespace") if resource.namespaced else None)
        return True
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise


def managed_state(fleet, hub, release, clusters) -> dict:
    """UIDs of the release's namespace and workloads on each managed cluster."""
    out = {}
    for cluster in clusters:
        ns = fleet.core(cluster).read_namespace(release.agent_namespace)
        deployments = fleet.apps(cluster).list_namespaced_deployment(release.agent_namespace).items
        out[cluster] = (ns.metadata.uid, sorted((d.metadata.name, d.metadata.uid) for d in deployments))
    return out


def test_uninstall_removes_one_release_and_leaves_the_other(fleet, hub, releases, selector):
    clusters = ["cluster1", "cluster2"]
    for cluster in clusters:
        hub.label_cluster(cluster, selector, "true")
    a = releases("side-a", "flower-side-a")
    b = releases("side-b", "flower-side-b")
    a.install(placed_on(selector))
    b.install(placed_on(selector))
    assert a.addon != b.addon and a.agent_namespace != b.agent_namespace
    for release in (a, b):
        for cluster in clusters:
            wait_until(f"{release.name}'s SuperNode and ClientApp on {cluster}",
                       lambda r=release, c=cluster: hub.available(c, r.agent_namespace, "supernode")
                       and hub.available(c, r.agent_namespace, "clientapp-default"), 180)
    a_objects, a_addon, a_ns = a.manifest(), a.addon, a.agent_namespace
    b_objects = b.manifest()
    b_managed = managed_state(fleet, hub, b, clusters)
    b_works = {c: {n: w["metadata"]["uid"] for n, w in hub.works(c).items() if b.addon in n or b.name in n}
               for c in clusters}

    a.uninstall()

    kept = [o for o in a_objects if (o["metadata"].get("annotations") or {}).get(KEEP) == "keep"]
    left = wait_until("every object of side-a without resource-policy keep to be gone from the hub",
                      lambda: [f"{o['kind']}/{o['metadata']['name']}" for o in a_objects
                               if o not in kept and exists(fleet, o)] or ["none"], 120)
    assert left == ["none"], left
    # Kept on purpose: the CA (a reinstall keeps the SuperNodes' trust), the SuperLink's database and
    # the cluster-set bindings other releases of the namespace may use.
    assert sorted((o["kind"], o["metadata"]["name"]) for o in kept) == sorted([
        ("Secret", f"{a.name}-tls-ca"), ("PersistentVolumeClaim", f"{a.name}-superlink-state"),
        ("ManagedClusterSetBinding", "default")]), kept
    for cluster in clusters:
        wait_until(f"side-a's addon, works and namespace to leave {cluster}",
                   lambda c=cluster: hub.mca(c, a_addon) is None
                   and not [n for n in hub.works(c) if a_addon in n or n.startswith(f"{a.name}-")]
                   and a_ns not in {n.metadata.name for n in fleet.core(c).list_namespace().items},
                   180)
        assert hub.addon_label(cluster, a_addon) is None
    # side-b: the same objects, still available.
    assert all(exists(fleet, o) for o in b_objects)
    assert managed_state(fleet, hub, b, clusters) == b_managed
    assert {c: {n: w["metadata"]["uid"] for n, w in hub.works(c).items() if b.addon in n or b.name in n}
            for c in clusters} == b_works
    for cluster in clusters:
        assert conditions(hub.mca(cluster, b.addon)).get("Available") == "True"
