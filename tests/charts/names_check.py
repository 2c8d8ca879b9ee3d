"""Every name of a render checked as the API server and OCM check it: object names (top-level and
embedded), namespaces and labels, and the names and label values OCM derives from them on the hub
(ManifestWorks named after a ManifestWorkReplicaSet and labelled <namespace>.<name>, PlacementDecisions
labelled with their Placement, the ManagedCluster label of the addon, the addon's own ManifestWork,
the volume the template agent makes from a CustomSigner name)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from render import Obj, of_kind

from helm_flower import k8s

PLACEMENT_LABEL = "cluster.open-cluster-management.io/placement"
MWRS_LABEL = "work.open-cluster-management.io/manifestworkreplicaset"
MW_PLACEMENT_LABEL = "work.open-cluster-management.io/placementname"
ADDON_NAME_LABEL = "open-cluster-management.io/addon-name"
ADDON_FEATURE_LABEL = "feature.open-cluster-management.io/addon-{}"
TEMPLATE_NAME = re.compile(r"^(?P<addon>.+)-[0-9a-f]{10}$")


def _labels(where: str, labels: dict | None) -> list[str]:
    out = []
    for key, value in (labels or {}).items():
        error = k8s.qualified_name_error(key) or k8s.label_value_error(value)
        if error:
            out.append(f"{where}: label {key}: {error}")
    return out


def object_problems(o: Obj) -> list[str]:
    meta = o.obj.get("metadata") or {}
    name, kind = meta.get("name", ""), o.kind
    if kind == "Service":
        error = k8s.dns_1035_error(name, "Service name")
    elif kind == "AddOnTemplate":  # <addon>-<10 hex of its content>: a DNS subdomain
        error = k8s.dns_subdomain_error(name, "AddOnTemplate name")
        if not error and not TEMPLATE_NAME.match(name):
            error = f"AddOnTemplate name {name!r} is not <addon>-<10 hex digits>"
    else:  # every other name of the chart is a DNS-1123 label (<= 63)
        error = k8s.dns_label_error(name, f"{kind} name")
    out = [f"{o}: {error}"] if error else []
    if o.namespace:
        error = k8s.dns_label_error(o.namespace, "namespace")
        out += [f"{o}: {error}"] if error else []
    out += _labels(str(o), meta.get("labels"))
    for path in (("spec", "selector"), ("spec", "selector", "matchLabels"),
                 ("spec", "template", "metadata", "labels")):
        node = o.obj
        for part in path:
            node = node.get(part) if isinstance(node, dict) else None
        if isinstance(node, dict) and all(isinstance(v, str) for v in node.values()):
            out += _labels(f"{o} {'.'.join(path)}", node)
    return out


def derived(objects: list[dict], cluster: str = "cluster-1") -> list[tuple[str, str, str, dict]]:
    """(kind, namespace, name, labels) of what OCM creates on the hub for a render's objects when
    they reach `cluster`."""
    out: list[tuple[str, str, str, dict]] = []
    for p in of_kind(objects, "Placement"):
        name, ns = p["metadata"]["name"], p["metadata"]["namespace"]
        out.append(("PlacementDecision", ns, f"{name}-decision-1", {PLACEMENT_LABEL: name}))
    for cma in of_kind(objects, "ClusterManagementAddOn"):
        addon = cma["metadata"]["name"]
        out.append(("ManagedClusterAddOn", cluster, addon, {}))
        out.append(("ManifestWork", cluster, f"addon-{addon}-deploy-0", {ADDON_NAME_LABEL: addon}))
        out.append(("ManagedCluster", "", cluster, {ADDON_FEATURE_LABEL.format(addon): "available"}))
    for mwrs in of_kind(objects, "ManifestWorkReplicaSet"):
        name, ns = mwrs["metadata"]["name"], mwrs["metadata"]["namespace"]
        for ref in mwrs["spec"]["placementRefs"]:
            out.append(("ManifestWork", cluster, name, {MWRS_LABEL: f"{ns}.{name}", MW_PLACEMENT_LABEL: ref["name"]}))
    return out


def derived_problems(objects: list[dict]) -> list[str]:
    out = []
    for kind, ns, name, labels in derived(objects):
        where = f"{kind} {ns + '/' if ns else ''}{name} (made by OCM)"
        error = k8s.dns_subdomain_error(name, f"{kind} name")
        out += [f"{where}: {error}"] if error else []
        out += _labels(where, labels)
    for adc in of_kind(objects, "AddOnDeploymentConfig"):
        error = k8s.dns_label_error(adc["spec"].get("agentInstallNamespace"), "agentInstallNamespace")
        out += [f"AddOnDeploymentConfig {adc['metadata']['name']}: {error}"] if error else []
    for tmpl in of_kind(objects, "AddOnTemplate"):
        match = TEMPLATE_NAME.match(tmpl["metadata"]["name"])
        if not match or match["addon"] != tmpl["spec"]["addonName"]:
            out.append(f"AddOnTemplate {tmpl['metadata']['name']} is not named <addonName>-<hash> "
                       f"(addonName {tmpl['spec']['addonName']})")
        for reg in tmpl["spec"].get("registration") or []:
            signer = (reg.get("customSigner") or {}).get("signerName")
            if signer:  # OCM's template agent mounts cert-<signer, / and . -> -> into the Deployment
                volume = "cert-" + signer.replace("/", "-").replace(".", "-")
                error = k8s.dns_label_error(volume, "volume name OCM derives from the signer name")
                out += [f"AddOnTemplate {tmpl['metadata']['name']}: {error}"] if error else []
    return out


def problems(objs: Iterable[Obj], objects: list[dict]) -> list[str]:
    out = []
    for o in objs:
        out += object_problems(o)
    return out + derived_problems(objects)
