"""``status --cluster NAME``: why a managed cluster is (not) part of a release's federation, told by
the placement preview engine (:mod:`helm_flower.placement_preview`, the scheduler's rules) applied to
the live ManagedCluster, ManagedClusterSets and ManagedClusterSetBindings of the hub."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..fleet import Cluster, Fleet, Taint
from ..placement_preview import Binding, binding_from_object, explain_cluster, label_selector_matches
from .kube import Hub
from .resources import (
    CLUSTER_GROUP,
    PLACEMENT_ROLE_LABEL,
    PLACEMENTS,
    PLACEMENT_ITEM_LABEL,
    Resource,
    release_selector,
)

MANAGED_CLUSTERS = Resource(CLUSTER_GROUP, "v1", "managedclusters", False)
MANAGED_CLUSTER_SETS = Resource(CLUSTER_GROUP, "v1beta2", "managedclustersets", False)
CLUSTER_SET_BINDINGS = Resource(CLUSTER_GROUP, "v1beta2", "managedclustersetbindings", True)
CLUSTER_SET_LABEL = "cluster.open-cluster-management.io/clusterset"


@dataclass(frozen=True)
class Verdict:
    placement: str  # the placements item (values name)
    object_name: str  # the Placement object
    eligible: bool
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {"placement": self.placement, "object": self.object_name, "eligible": self.eligible,
                "reason": self.reason}


def _members(cluster_set: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a ManagedClusterSet selects a cluster with these labels (OCM's two selector types)."""
    selector = (cluster_set.get("spec") or {}).get("clusterSelector") or {}
    if selector.get("selectorType", "ExclusiveClusterSetLabel") == "ExclusiveClusterSetLabel":
        return labels.get(CLUSTER_SET_LABEL) == cluster_set["metadata"]["name"]
    return label_selector_matches(selector.get("labelSelector") or {}, labels)


def live_cluster(hub: Hub, name: str, sets: list[dict[str, Any]]) -> Cluster | None:
    obj = hub.get(MANAGED_CLUSTERS, name)
    if obj is None:
        return None
    labels = (obj.get("metadata") or {}).get("labels") or {}
    claims = {c.get("name", ""): c.get("value", "") for c in (obj.get("status") or {}).get("clusterClaims") or []}
    taints = tuple(Taint(t.get("key", ""), t.get("effect", ""), t.get("value", "") or "", t.get("timeAdded"))
                   for t in (obj.get("spec") or {}).get("taints") or [])
    member_of = tuple(s["metadata"]["name"] for s in sets if _members(s, labels))
    return Cluster(name, labels, claims, member_of, taints)


def explain(hub: Hub, release: str, namespace: str, cluster_name: str) -> list[Verdict]:
    """One verdict per SuperNode placement of the release (none in Manual mode)."""
    sets = [s for items, _ in hub.list_pages(MANAGED_CLUSTER_SETS) for s in items]
    cluster = live_cluster(hub, cluster_name, sets)
    fleet = Fleet((cluster,) if cluster else (), tuple(s["metadata"]["name"] for s in sets))
    bindings: list[Binding] = [binding_from_object(b, namespace) for items, _ in
                               hub.list_pages(CLUSTER_SET_BINDINGS, namespace=namespace) for b in items]
    verdicts = []
    for items, _ in hub.list_pages(PLACEMENTS, namespace=namespace, label_selector=release_selector(release)):
        for placement in items:
            labels = placement["metadata"].get("labels") or {}
            if labels.get(PLACEMENT_ROLE_LABEL) != "supernode":
                continue
            eligible, reason = explain_cluster(placement, cluster_name, fleet, bindings, namespace=namespace)
            verdicts.append(Verdict(labels.get(PLACEMENT_ITEM_LABEL, placement["metadata"]["name"]),
                                    placement["metadata"]["name"], eligible, reason))
    return sorted(verdicts, key=lambda v: v.placement)
