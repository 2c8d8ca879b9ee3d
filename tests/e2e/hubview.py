"""Reading what OCM did, through the Kubernetes API of the test fleet (official client only)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from kubernetes.client.rest import ApiException

from ocmfleet.access import Fleet

CLUSTER = ("cluster.open-cluster-management.io", "v1")
PLACEMENT = ("cluster.open-cluster-management.io", "v1beta1")
ADDON = ("addon.open-cluster-management.io", "v1alpha1")
WORK = ("work.open-cluster-management.io", "v1")
MWRS = ("work.open-cluster-management.io", "v1alpha1")
PLACEMENT_LABEL = "cluster.open-cluster-management.io/placement"
UNREACHABLE_TAINT = "cluster.open-cluster-management.io/unreachable"


def wait_until(what: str, check: Callable[[], Any], timeout: float = 120, interval: float = 1.0) -> Any:
    """Poll ``check`` until it returns something truthy; fail naming ``what`` and the last value."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while True:
        try:
            last = check()
        except ApiException as exc:
            last = f"HTTP {exc.status} {exc.reason}"
        if last and not isinstance(last, str):
            return last
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}; last: {last!r}")
        time.sleep(interval)


def conditions(obj: dict | None) -> dict[str, str]:
    return {c["type"]: c["status"] for c in ((obj or {}).get("status") or {}).get("conditions") or []}


class HubView:
    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self.co = fleet.custom()

    # -- clusters ------------------------------------------------------------------------------

    def cluster(self, name: str) -> dict:
        return self.co.get_cluster_custom_object(*CLUSTER, "managedclusters", name)

    def label_cluster(self, name: str, key: str, value: str | None) -> None:
        self.co.patch_cluster_custom_object(*CLUSTER, "managedclusters", name,
                                            {"metadata": {"labels": {key: value}}})

    def cluster_labels(self, name: str) -> dict[str, str]:
        return self.cluster(name)["metadata"].get("labels") or {}

    def taints(self, name: str) -> set[str]:
        return {t["key"] for t in self.cluster(name)["spec"].get("taints") or []}

    # -- placements ----------------------------------------------------------------------------

    def decisions(self, namespace: str, placement: str) -> list[str]:
        items = self.co.list_namespaced_custom_object(
            *PLACEMENT, namespace, "placementdecisions", label_selector=f"{PLACEMENT_LABEL}={placement}")["items"]
        return sorted(d["clusterName"] for item in items for d in (item.get("status") or {}).get("decisions") or [])

    # -- addons --------------------------------------------------------------------------------

    def addon_clusters(self, addon: str) -> dict[str, dict]:
        items = self.co.list_cluster_custom_object(*ADDON, "managedclusteraddons",
                                                   field_selector=f"metadata.name={addon}")["items"]
        return {m["metadata"]["namespace"]: m for m in items}

    def mca(self, cluster: str, addon: str) -> dict | None:
        try:
            return self.co.get_namespaced_custom_object(*ADDON, cluster, "managedclusteraddons", addon)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def addon_label(self, cluster: str, addon: str) -> str | None:
        return self.cluster_labels(cluster).get(f"feature.open-cluster-management.io/addon-{addon}")

    def works(self, cluster: str) -> dict[str, dict]:
        return {w["metadata"]["name"]: w
                for w in self.co.list_namespaced_custom_object(*WORK, cluster, "manifestworks")["items"]}

    def mwrs(self, namespace: str, name: str) -> dict:
        return self.co.get_namespaced_custom_object(*MWRS, namespace, "manifestworkreplicasets", name)

    # -- managed clusters ----------------------------------------------------------------------

    def deployment(self, cluster: str, namespace: str, name: str):
        try:
            return self.fleet.apps(cluster).read_namespaced_deployment(name, namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def available(self, cluster: str, namespace: str, name: str) -> bool:
        deployment = self.deployment(cluster, namespace, name)
        return bool(deployment and (deployment.status.available_replicas or 0) >= 1)

    def secret_data(self, cluster: str, namespace: str, name: str) -> dict[str, str]:
        return self.fleet.core(cluster).read_namespaced_secret(name, namespace).data or {}

    def hub_deployments(self, namespace: str, instance: str) -> list:
        return self.fleet.apps().list_namespaced_deployment(
            namespace, label_selector=f"app.kubernetes.io/instance={instance}").items
