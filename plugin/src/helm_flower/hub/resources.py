"""The resources read on the hub, and the labels and names the chart and OCM put on them."""

from __future__ import annotations

from dataclasses import dataclass

from .. import naming


@dataclass(frozen=True)
class Resource:
    group: str  # "" = core
    version: str
    plural: str
    namespaced: bool

    @property
    def gr(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str | None = None, name: str | None = None) -> str:
        base = f"/apis/{self.group}/{self.version}" if self.group else f"/api/{self.version}"
        if self.namespaced and namespace:
            base += f"/namespaces/{namespace}"
        base += f"/{self.plural}"
        if name:
            base += f"/{name}"
        return base


CLUSTER_GROUP = "cluster.open-cluster-management.io"
ADDON_GROUP = "addon.open-cluster-management.io"
WORK_GROUP = "work.open-cluster-management.io"

PLACEMENTS = Resource(CLUSTER_GROUP, "v1beta1", "placements", True)
PLACEMENT_DECISIONS = Resource(CLUSTER_GROUP, "v1beta1", "placementdecisions", True)
# v1alpha1 is the storage version and what the chart writes; v1beta1 is served too.
MANAGED_CLUSTER_ADDONS = Resource(ADDON_GROUP, "v1alpha1", "managedclusteraddons", True)
CLUSTER_MANAGEMENT_ADDONS = Resource(ADDON_GROUP, "v1alpha1", "clustermanagementaddons", False)
ADDON_DEPLOYMENT_CONFIGS = Resource(ADDON_GROUP, "v1alpha1", "addondeploymentconfigs", True)
MANIFEST_WORKS = Resource(WORK_GROUP, "v1", "manifestworks", True)
MANIFEST_WORK_REPLICA_SETS = Resource(WORK_GROUP, "v1alpha1", "manifestworkreplicasets", True)
SERVICES = Resource("", "v1", "services", True)
CONFIG_MAPS = Resource("", "v1", "configmaps", True)
NODES = Resource("", "v1", "nodes", False)
INGRESSES = Resource("networking.k8s.io", "v1", "ingresses", True)
ROUTES = Resource("route.openshift.io", "v1", "routes", True)

# Labels written by OCM.
PLACEMENT_LABEL = "cluster.open-cluster-management.io/placement"
DECISION_GROUP_INDEX_LABEL = "cluster.open-cluster-management.io/decision-group-index"
DECISION_GROUP_NAME_LABEL = "cluster.open-cluster-management.io/decision-group-name"
MWRS_LABEL = "work.open-cluster-management.io/manifestworkreplicaset"  # value <namespace>.<name>
MW_PLACEMENT_LABEL = "work.open-cluster-management.io/placementname"

# Labels written by the chart (charts/flower-federation, flower-common _labels.tpl and templates).
INSTANCE_LABEL = "app.kubernetes.io/instance"
NAME_LABEL = "app.kubernetes.io/name"
COMPONENT_LABEL = "app.kubernetes.io/component"
PLACEMENT_ITEM_LABEL = "flower.ai/placement"
PLACEMENT_ROLE_LABEL = "flower.ai/placement-role"  # supernode | clientapp
CLIENTAPP_LABEL = "flower.ai/clientapp"


def release_selector(release: str) -> str:
    return f"{NAME_LABEL}=flower,{INSTANCE_LABEL}={release}"


RELEASE_NAMESPACE_LABEL = "flower.ai/release-namespace"  # on the cluster-scoped ClusterManagementAddOn


def addon_selector(release: str, namespace: str) -> str:
    """The release's ClusterManagementAddOn (cluster-scoped: the label says which namespace owns it)."""
    return f"{release_selector(release)},{RELEASE_NAMESPACE_LABEL}={namespace}"


# Names the chart gives (flower-common _names.tpl; helm_flower.naming computes them the same way).


def default_addon_name(release: str, namespace: str) -> str:
    return naming.addon(release, namespace)


def superlink_service(release: str, namespace: str) -> str:
    return naming.superlink_service(release, namespace)


def fleet_service(release: str, namespace: str) -> str:
    return naming.fleet_service(release, namespace)


def ca_bundle_configmap(release: str, namespace: str) -> str:
    return naming.ca_bundle(release, namespace)


def default_deployment_config(release: str, namespace: str) -> str:
    return naming.default_deployment_config(release, namespace)


def placement_deployment_config(release: str, namespace: str, placement: str) -> str:
    return naming.placement_deployment_config(release, namespace, placement)


def all_supernodes_placement(release: str, namespace: str) -> str:
    return naming.all_supernodes_placement(release, namespace)


def in_selector(key: str, values: list[str] | set[str]) -> str:
    """``key in (a,b,c)``; values sorted so requests are reproducible."""
    return f"{key} in ({','.join(sorted(values))})"
