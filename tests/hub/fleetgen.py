"""Objects of a Flower release on an OCM hub, as OCM's controllers would have written them.

:class:`FleetSpec` describes a release (its SuperNode placements with their decision groups,
its ClientApps, the state of every addon and ManifestWork); :func:`objects` turns it into the
Kubernetes objects the hub would hold: what Helm rendered from the chart (Placements with the
chart's labels, ClusterManagementAddOn, ManifestWorkReplicaSets, Services, the CA bundle) and
what OCM wrote (PlacementDecisions of up to 100 decisions each with decision-group labels,
ManagedClusterAddOns with addon-manager conditions, ManifestWorks with the MWRS labels,
conditions and WellKnownStatus feedback, Placement and MWRS status). The shapes follow the
upstream CRDs installed in .tools/ocm-crds (a test validates samples against them).

Big immutable sub-objects (the ManifestWork template, condition lists) are shared between
objects to keep a 10,000-cluster fleet small in memory; nothing mutates stored objects in place.
"""

from __future__ import annotations

import copy
import hashlib
from dataclasses import dataclass, field
from typing import Any, Iterable

from helm_flower import naming

PLACEMENT_LABEL = "cluster.open-cluster-management.io/placement"
GROUP_INDEX_LABEL = "cluster.open-cluster-management.io/decision-group-index"
GROUP_NAME_LABEL = "cluster.open-cluster-management.io/decision-group-name"
MWRS_LABEL = "work.open-cluster-management.io/manifestworkreplicaset"
MW_PLACEMENT_LABEL = "work.open-cluster-management.io/placementname"
T0 = "2026-06-01T00:00:00Z"
T1 = "2026-06-01T00:05:00Z"

# States a ManagedClusterAddOn can be in (None = no ManagedClusterAddOn at all).
ADDON_STATES = ("available", "degraded", "unavailable", "unknown", "unreachable", "progressing", "missing")
# States of a ClientApp ManifestWork ("missing" = not created; "pending" = no status yet).
WORK_STATES = ("available", "notready", "degraded", "applyfailed", "pending", "missing")


@dataclass
class FleetSpec:
    release: str = "fed"
    namespace: str = "flower"
    addon: str = ""  # empty = the chart's default (flower-<release>-<namespace>, helm_flower.naming)
    # SuperNode placement name -> decision groups, each (group name, [cluster names]).
    placements: dict[str, list[tuple[str, list[str]]]] = field(default_factory=dict)
    # ClientApp name -> SuperNode placement names it ships to ([] = every SuperNode cluster).
    apps: dict[str, list[str]] = field(default_factory=dict)
    rollout: dict[str, str] = field(default_factory=dict)  # app -> All | Progressive
    addon_state: dict[str, str] = field(default_factory=dict)  # cluster -> ADDON_STATES (default available)
    work_state: dict[tuple[str, str], str] = field(default_factory=dict)  # (app, cluster) -> WORK_STATES
    exposure: str = "LoadBalancer"  # LoadBalancer | NodePort | Ingress | Route | ClusterIP
    exposure_host: str = "203.0.113.10"
    gateway: bool = False  # exposure fronted by the Fleet-API-only gateway
    tls: bool = True
    manual_clusters: list[str] | None = None  # installStrategy Manual: these clusters, no placements
    extra_labels: dict[str, str] = field(default_factory=dict)
    deployment_configs: bool = False  # render the AddOnDeploymentConfigs (default, per-cluster versions)
    flower_version: str = "1.41.0"  # global.flower.version (app.kubernetes.io/version, default SuperNode image)
    # cluster -> Flower version of its SuperNode image, through an AddOnDeploymentConfig of its own
    supernode_version: dict[str, str] = field(default_factory=dict)
    # (app, cluster) -> Flower version of the official flwr/superexec image its ManifestWork ships
    # (absent: the app's own image, whose tag tells no Flower version)
    clientapp_version: dict[tuple[str, str], str] = field(default_factory=dict)

    @property
    def addon_name(self) -> str:
        return naming.addon(self.release, self.namespace, self.addon)

    @property
    def agent_namespace(self) -> str:
        return naming.agent_namespace(self.release, self.namespace)

    def mwrs_name(self, app: str) -> str:
        return naming.clientapp_work(self.release, self.namespace, app)

    def clusters_of(self, placement: str) -> list[str]:
        return [c for _, names in self.placements[placement] for c in names]

    def all_clusters(self) -> list[str]:
        if self.manual_clusters is not None:
            return sorted(set(self.manual_clusters))
        return sorted({c for p in self.placements for c in self.clusters_of(p)})

    def addon_of(self, cluster: str) -> str:
        return self.addon_state.get(cluster, "available")

    def work_of(self, app: str, cluster: str) -> str:
        default = "available" if self.addon_of(cluster) in ("available", "degraded") else "missing"
        return self.work_state.get((app, cluster), default)


# --- names and labels of the chart ----------------------------------------------------------


def chart_labels(spec: FleetSpec, component: str) -> dict[str, str]:
    return {
        "app.kubernetes.io/name": "flower",
        "app.kubernetes.io/instance": spec.release,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/version": spec.flower_version,
        "app.kubernetes.io/managed-by": "Helm",
        "app.kubernetes.io/part-of": "flower-federation",
        "helm.sh/chart": "flower-federation-0.1.0",
        **spec.extra_labels,
    }


def cond(ctype: str, status: str, reason: str, message: str = "", t: str = T0) -> dict[str, Any]:
    return {"type": ctype, "status": status, "reason": reason, "message": message,
            "lastTransitionTime": t, "observedGeneration": 1}


# --- placements and decisions ---------------------------------------------------------------


def placement(spec: FleetSpec, name: str, role: str, item: str | None,
              groups: list[tuple[str, list[str]]], decision_names: list[list[str]]) -> dict[str, Any]:
    labels = chart_labels(spec, "supernode" if role == "supernode" else "clientapp")
    if item is not None:
        labels["flower.ai/placement"] = item
    labels["flower.ai/placement-role"] = role
    total = sum(len(c) for _, c in groups)
    return {
        "apiVersion": "cluster.open-cluster-management.io/v1beta1", "kind": "Placement",
        "metadata": {"name": name, "namespace": spec.namespace, "labels": labels},
        "spec": {"clusterSets": ["default"], "predicates": [{"requiredClusterSelector": {"labelSelector": {
            "matchLabels": {"flower.ai/enabled": "true"}}}}]},
        "status": {
            "numberOfSelectedClusters": total,
            "decisionGroups": [{"decisionGroupIndex": i, "decisionGroupName": g, "decisions": decision_names[i],
                                "clusterCount": len(c)} for i, (g, c) in enumerate(groups)],
            "conditions": [cond("PlacementSatisfied", "True" if total else "False",
                                "AllDecisionsScheduled" if total else "NoManagedClusterMatched",
                                "All cluster decisions scheduled" if total else "No valid ManagedClusterSetBindings found in placement namespace")],
        },
    }


def decisions(spec: FleetSpec, placement_name: str, groups: list[tuple[str, list[str]]],
              per_object: int = 100) -> tuple[list[dict[str, Any]], list[list[str]]]:
    """PlacementDecisions of a placement: up to ``per_object`` decisions each, per group."""
    objs, names_per_group, n = [], [], 1
    for gi, (gname, clusters) in enumerate(groups):
        names = []
        chunks = [clusters[i:i + per_object] for i in range(0, len(clusters), per_object)] or [[]]
        for chunk in chunks:
            name = f"{placement_name}-decision-{n}"
            n += 1
            names.append(name)
            labels = {PLACEMENT_LABEL: placement_name, GROUP_INDEX_LABEL: str(gi)}
            if gname:
                labels[GROUP_NAME_LABEL] = gname
            objs.append({
                "apiVersion": "cluster.open-cluster-management.io/v1beta1", "kind": "PlacementDecision",
                "metadata": {"name": name, "namespace": spec.namespace, "labels": labels,
                             "ownerReferences": [{"apiVersion": "cluster.open-cluster-management.io/v1beta1",
                                                  "kind": "Placement", "name": placement_name,
                                                  "uid": f"uid-{placement_name}", "controller": True,
                                                  "blockOwnerDeletion": True}]},
                "status": {"decisions": [{"clusterName": c, "reason": ""} for c in chunk]},
            })
        names_per_group.append(names)
    return objs, names_per_group


# --- addons ---------------------------------------------------------------------------------

_ADDON_STATUS_CACHE: dict[tuple[str, str, str], dict[str, Any]] = {}


def deployment_config_of(spec: FleetSpec, cluster: str) -> str:
    if cluster in spec.supernode_version:
        return naming.cluster_deployment_config(spec.release, spec.namespace, cluster)
    return naming.default_deployment_config(spec.release, spec.namespace)


def deployment_config(spec: FleetSpec, name: str, version: str) -> dict[str, Any]:
    return {"apiVersion": "addon.open-cluster-management.io/v1alpha1", "kind": "AddOnDeploymentConfig",
            "metadata": {"name": name, "namespace": spec.namespace, "labels": chart_labels(spec, "supernode")},
            "spec": {"agentInstallNamespace": spec.agent_namespace, "customizedVariables": [
                {"name": "SUPERLINK_ADDRESS", "value": f"{spec.exposure_host}:443"},
                {"name": "SUPERNODE_IMAGE", "value": f"docker.io/flwr/supernode:{version}"},
                {"name": "NODE_CONFIG", "value": ""}]}}


def addon_status(spec: FleetSpec, state: str, adc: str = "") -> dict[str, Any]:
    adc = adc or naming.default_deployment_config(spec.release, spec.namespace)
    key = (spec.addon_name, spec.namespace, spec.release, state, adc)
    if key in _ADDON_STATUS_CACHE:
        return _ADDON_STATUS_CACHE[key]
    a = spec.addon_name
    base = [
        cond("RegistrationApplied", "True", "SetPermissionApplied", "Registration of the addon agent is configured"),
        cond("ManifestApplied", "True", "AddonManifestApplied", "manifests of addon are applied successfully"),
        cond("Configured", "True", "ConfigurationsConfigured", "Configurations configured"),
    ]
    if state == "available":
        extra = [cond("Progressing", "False", "Completed", "completed with no errors."),
                 cond("Available", "True", "ProbeAvailable", f"{a} add-on is available.")]
    elif state == "degraded":
        extra = [cond("Progressing", "False", "Completed", "completed with no errors."),
                 cond("Available", "True", "ProbeAvailable", f"{a} add-on is available."),
                 cond("Degraded", "True", "SuperNodeRestarting",
                      "supernode restarted 7 times in 10m: connection to SuperLink refused")]
    elif state == "unavailable":
        extra = [cond("Progressing", "False", "Completed", "completed with no errors."),
                 cond("Available", "False", "ProbeUnavailable",
                      "Probe addon unavailable with err: readyReplicas is 0 for deployments supernode")]
    elif state == "unknown":
        extra = [cond("Progressing", "False", "Completed", "completed with no errors."),
                 cond("Available", "Unknown", "WorkNotApplied", "Addon manifestWork is not applied yet")]
    elif state == "unreachable":  # what OCM's addon manager wrote on a real hub when the agent stopped
        extra = [cond("Progressing", "False", "Completed", "completed with no errors."),
                 cond("Available", "Unknown", "ManagedClusterLeaseUpdateStopped",
                      "Registration agent stopped updating its lease.")]
    elif state == "progressing":
        base = base[:1] + [cond("ManifestApplied", "False", "ManifestWorkApplyFailed", "work is being applied")]
        extra = [cond("Progressing", "True", "Progressing", "progressing... work is not ready"),
                 cond("Available", "Unknown", "WorkNotApplied", "Addon manifestWork is not applied yet")]
    else:
        raise ValueError(state)
    status = {
        "namespace": spec.agent_namespace,
        "addOnMeta": {"displayName": "Flower SuperNode",
                      "description": f"Flower 1.41.0 SuperNode of the federation {spec.namespace}/{spec.release}"},
        "healthCheck": {"mode": "Customized"},
        "supportedConfigs": [{"group": "addon.open-cluster-management.io", "resource": "addontemplates"},
                             {"group": "addon.open-cluster-management.io", "resource": "addondeploymentconfigs"}],
        "configReferences": [
            {"group": "addon.open-cluster-management.io", "resource": "addontemplates", "name": a,
             "desiredConfig": {"name": a, "specHash": "7d0c1b6f0a"}, "lastAppliedConfig": {"name": a, "specHash": "7d0c1b6f0a"},
             "lastObservedGeneration": 1},
            {"group": "addon.open-cluster-management.io", "resource": "addondeploymentconfigs",
             "name": adc, "namespace": spec.namespace,
             "desiredConfig": {"name": adc, "namespace": spec.namespace, "specHash": "c0ffee12"},
             "lastAppliedConfig": {"name": adc, "namespace": spec.namespace, "specHash": "c0ffee12"},
             "lastObservedGeneration": 1}],
        "relatedObjects": [{"group": "addon.open-cluster-management.io", "resource": "clustermanagementaddons",
                            "name": a}],
        "registrations": [{"signerName": "open-cluster-management.io/flower-supernode",
                           "subject": {"user": f"system:open-cluster-management:addon:{a}",
                                       "groups": [f"system:open-cluster-management:addon:{a}"]}}],
        "conditions": base + extra,
    }
    _ADDON_STATUS_CACHE[key] = status
    return status


def managed_cluster_addon(spec: FleetSpec, cluster: str, state: str) -> dict[str, Any]:
    return {
        "apiVersion": "addon.open-cluster-management.io/v1alpha1", "kind": "ManagedClusterAddOn",
        "metadata": {"name": spec.addon_name, "namespace": cluster,
                     "ownerReferences": [{"apiVersion": "addon.open-cluster-management.io/v1alpha1",
                                          "kind": "ClusterManagementAddOn", "name": spec.addon_name,
                                          "uid": "uid-cma", "controller": True, "blockOwnerDeletion": True}]},
        "spec": {"installNamespace": "open-cluster-management-agent-addon"},
        "status": addon_status(spec, state, deployment_config_of(spec, cluster)),
    }


def cluster_management_addon(spec: FleetSpec) -> dict[str, Any]:
    install: dict[str, Any] = {"type": "Manual"}
    if spec.manual_clusters is None:
        install = {"type": "Placements", "placements": [
            {"name": naming.placement(spec.release, spec.namespace, p), "namespace": spec.namespace,
             "configs": [{"group": "addon.open-cluster-management.io", "resource": "addondeploymentconfigs",
                          "name": naming.placement_deployment_config(spec.release, spec.namespace, p),
                          "namespace": spec.namespace}],
             "rolloutStrategy": {"type": "All"}} for p in spec.placements]}
    return {
        "apiVersion": "addon.open-cluster-management.io/v1alpha1", "kind": "ClusterManagementAddOn",
        "metadata": {"name": spec.addon_name,
                     "labels": dict(chart_labels(spec, "supernode"), **{"flower.ai/release-namespace": spec.namespace}),
                     "annotations": {"addon.open-cluster-management.io/lifecycle": "addon-manager"}},
        "spec": {"addOnMeta": {"displayName": "Flower SuperNode",
                               "description": f"Flower 1.41.0 SuperNode of the federation {spec.namespace}/{spec.release}"},
                 "supportedConfigs": [], "installStrategy": install},
    }


# --- client apps ----------------------------------------------------------------------------


def workload(spec: FleetSpec, app: str) -> dict[str, Any]:
    """The manifestWorkTemplate of the chart's ClientApp MWRS (abridged but the same shape and size)."""
    ns = spec.agent_namespace
    name = f"clientapp-{app}"
    labels = {"app.kubernetes.io/name": "flower", "app.kubernetes.io/instance": spec.release,
              "app.kubernetes.io/component": "clientapp", "app.kubernetes.io/version": "1.41.0",
              "app.kubernetes.io/part-of": "flower-federation", "flower.ai/clientapp": app}
    sel = {"app.kubernetes.io/name": "flower", "app.kubernetes.io/instance": spec.release,
           "app.kubernetes.io/component": "clientapp", "flower.ai/clientapp": app}
    secctx = {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": True, "runAsNonRoot": True,
              "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}
    return {
        "deleteOption": {"propagationPolicy": "Foreground"},
        "manifestConfigs": [{"resourceIdentifier": {"group": "apps", "resource": "deployments", "name": name,
                                                    "namespace": ns},
                             "feedbackRules": [{"type": "WellKnownStatus"}]}],
        "workload": {"manifests": [
            {"apiVersion": "v1", "kind": "ServiceAccount",
             "metadata": {"name": name, "namespace": ns, "labels": labels}, "automountServiceAccountToken": False},
            {"apiVersion": "apps/v1", "kind": "Deployment",
             "metadata": {"name": name, "namespace": ns, "labels": labels},
             "spec": {"replicas": 1, "selector": {"matchLabels": sel}, "template": {
                 "metadata": {"labels": labels},
                 "spec": {"serviceAccountName": name, "automountServiceAccountToken": False,
                          "enableServiceLinks": False,
                          "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                          "containers": [{
                              "name": "superexec", "image": f"registry.example.com/flower/{app}:1.41.0",
                              "imagePullPolicy": "IfNotPresent", "command": ["flower-superexec"],
                              "args": ["--runtime-api-address", "supernode:9094", "--insecure"],
                              "env": [{"name": "FLWR_TELEMETRY_ENABLED", "value": "0"},
                                      {"name": "FLWR_DISABLE_UPDATE_CHECK", "value": "1"},
                                      {"name": "HOME", "value": "/tmp"}],
                              "resources": {"requests": {"cpu": "500m", "memory": "1Gi"},
                                            "limits": {"memory": "4Gi"}},
                              "securityContext": secctx,
                              "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"},
                                               {"name": "data", "mountPath": "/data", "readOnly": True}]}],
                          "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "1Gi"}},
                                      {"name": "data", "persistentVolumeClaim": {"claimName": "flower-data"}}]}}}},
            {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
             "metadata": {"name": name, "namespace": ns, "labels": labels},
             "spec": {"podSelector": {"matchLabels": sel}, "policyTypes": ["Ingress", "Egress"], "ingress": [],
                      "egress": [{"to": [{"podSelector": {"matchLabels": {
                          "app.kubernetes.io/name": "flower", "app.kubernetes.io/instance": spec.release,
                          "app.kubernetes.io/component": "supernode"}}}],
                          "ports": [{"port": 9094, "protocol": "TCP"}]},
                          {"ports": [{"port": 53, "protocol": "UDP"}, {"port": 53, "protocol": "TCP"}]}]}},
        ]},
    }


def _manifest_status(ns: str, name: str, available: str, ready: int | None) -> list[dict[str, Any]]:
    out = []
    for group, version, kind, resource in (("", "v1", "ServiceAccount", "serviceaccounts"),
                                           ("apps", "v1", "Deployment", "deployments"),
                                           ("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies")):
        item: dict[str, Any] = {
            "resourceMeta": {"ordinal": len(out), "group": group, "version": version, "kind": kind,
                             "resource": resource, "name": name, "namespace": ns},
            "conditions": [cond("Applied", "True", "AppliedManifestComplete", "Apply manifest complete"),
                           cond("Available", available, "ResourceAvailable" if available == "True" else "ResourceNotAvailable",
                                "Resource is available" if available == "True" else "Resource is not available")],
        }
        if kind == "Deployment" and ready is not None:
            item["conditions"].append(cond("StatusFeedbackSynced", "True", "StatusFeedbackSynced", ""))
            item["statusFeedback"] = {"values": [
                {"name": "ReadyReplicas", "fieldValue": {"type": "Integer", "integer": ready}},
                {"name": "Replicas", "fieldValue": {"type": "Integer", "integer": 1}},
                {"name": "AvailableReplicas", "fieldValue": {"type": "Integer", "integer": ready}}]}
        out.append(item)
    return out


_WORK_STATUS_CACHE: dict[tuple[str, str, str], dict[str, Any] | None] = {}


def work_status(spec: FleetSpec, app: str, state: str) -> dict[str, Any] | None:
    key = (spec.release, app, state)
    if key in _WORK_STATUS_CACHE:
        return _WORK_STATUS_CACHE[key]
    ns, name = spec.agent_namespace, f"clientapp-{app}"
    applied = cond("Applied", "True", "AppliedManifestWorkComplete", "Apply manifest work complete")
    if state == "available":
        st = {"conditions": [applied,
                             cond("Progressing", "False", "Completed", "All resources are applied and available"),
                             cond("Available", "True", "ResourcesAvailable", "All resources are available")],
              "resourceStatus": {"manifests": _manifest_status(ns, name, "True", 1)}}
    elif state == "notready":
        st = {"conditions": [applied,
                             cond("Progressing", "True", "Applying", "Resources are being applied"),
                             cond("Available", "True", "ResourcesAvailable", "All resources are available")],
              "resourceStatus": {"manifests": _manifest_status(ns, name, "True", 0)}}
    elif state == "degraded":
        st = {"conditions": [applied,
                             cond("Progressing", "False", "Completed", ""),
                             cond("Available", "True", "ResourcesAvailable", "All resources are available"),
                             cond("Degraded", "True", "ClientAppCrashLoop",
                                  "superexec: back-off restarting failed container")],
              "resourceStatus": {"manifests": _manifest_status(ns, name, "True", 0)}}
    elif state == "applyfailed":
        st = {"conditions": [cond("Applied", "False", "AppliedManifestWorkFailed",
                                  f'Failed to apply manifest: namespaces "{ns}" not found'),
                             cond("Available", "False", "ResourcesNotAvailable", "1 of 3 resources are not available")],
              "resourceStatus": {"manifests": []}}
    elif state == "pending":
        st = None
    else:
        raise ValueError(state)
    _WORK_STATUS_CACHE[key] = st
    return st


def generated_suffix(seed: str) -> str:
    """A stable stand-in for the 5 random characters of metadata.generateName."""
    alphabet = "bcdfghjklmnpqrstvwxz2456789"
    h = int(hashlib.sha256(seed.encode()).hexdigest(), 16)
    return "".join(alphabet[(h >> (5 * i)) % len(alphabet)] for i in range(5))


def manifest_work(spec: FleetSpec, app: str, cluster: str, placement_ref: str, template: dict[str, Any],
                  state: str, *, generated: bool = False) -> dict[str, Any]:
    """A ClientApp ManifestWork. Older OCM names it after the MWRS; OCM >= 1.1 uses generateName
    (``generated``), and creates one more work per extra placement that chooses the cluster."""
    mwrs = spec.mwrs_name(app)
    name = mwrs + generated_suffix(f"{cluster}/{placement_ref}") if generated else mwrs
    labels = dict(chart_labels(spec, "clientapp"))
    labels["flower.ai/clientapp"] = app
    labels[MWRS_LABEL] = f"{spec.namespace}.{mwrs}"
    labels[MW_PLACEMENT_LABEL] = placement_ref
    obj = {"apiVersion": "work.open-cluster-management.io/v1", "kind": "ManifestWork",
           "metadata": {"name": name, "namespace": cluster, "labels": labels}, "spec": template}
    version = spec.clientapp_version.get((app, cluster))
    if version:
        obj["spec"] = template = copy.deepcopy(template)
        template["workload"]["manifests"][1]["spec"]["template"]["spec"]["containers"][0]["image"] = (
            f"docker.io/flwr/superexec:{version}")
    st = work_status(spec, app, state)
    if st is not None:
        obj["status"] = st
    return obj


def clientapp_placement_name(spec: FleetSpec, item: str | None) -> str:
    if item:
        return naming.clientapp_placement(spec.release, spec.namespace, item)
    return naming.all_supernodes_placement(spec.release, spec.namespace)


# --- the SuperLink side ----------------------------------------------------------------------

CA_PEM = """-----BEGIN CERTIFICATE-----
MIIBkTCCATegAwIBAgIUFakeFakeFakeFakeFakeFakeFakeFakEwCgYIKoZIzj0EAwIw
HjEcMBoGA1UEAwwTZmVkIEZsb3dlciBmZWRlcmF0aW9uIENBMB4XDTI2MDYwMTAwMDAw
-----END CERTIFICATE-----
"""


def superlink_objects(spec: FleetSpec) -> list[dict[str, Any]]:
    ns, r = spec.namespace, spec.release
    service, fleet, bundle = naming.superlink_service(r, ns), naming.fleet_service(r, ns), naming.ca_bundle(r, ns)
    sel_sl = {"app.kubernetes.io/name": "flower", "app.kubernetes.io/instance": r,
              "app.kubernetes.io/component": "superlink"}
    objs: list[dict[str, Any]] = [{
        "apiVersion": "v1", "kind": "Service",
        "metadata": {"name": service, "namespace": ns, "labels": chart_labels(spec, "superlink")},
        "spec": {"type": "ClusterIP", "clusterIP": "10.96.0.20", "selector": sel_sl,
                 "ports": [{"name": "api", "port": 9092, "targetPort": "api", "protocol": "TCP"}]},
    }]
    if spec.tls:
        objs.append({"apiVersion": "v1", "kind": "ConfigMap",
                     "metadata": {"name": bundle, "namespace": ns, "labels": chart_labels(spec, "tls")},
                     "data": {"ca.crt": CA_PEM}})
    sel_fleet = dict(sel_sl, **({"app.kubernetes.io/component": "fleet-gateway"} if spec.gateway else {}))
    target = "fleet" if spec.gateway else "api"
    if spec.exposure in ("LoadBalancer", "NodePort", "Route") and (spec.exposure != "Route" or spec.gateway):
        port: dict[str, Any] = {"name": "api", "port": 443 if spec.exposure == "LoadBalancer" else 9092,
                                "targetPort": target, "protocol": "TCP"}
        svc: dict[str, Any] = {
            "apiVersion": "v1", "kind": "Service",
            "metadata": {"name": fleet, "namespace": ns, "labels": chart_labels(spec, "superlink")},
            "spec": {"type": "ClusterIP" if spec.exposure == "Route" else spec.exposure, "selector": sel_fleet,
                     "ports": [port]}}
        if spec.exposure == "NodePort":
            port["nodePort"] = 31092
        if spec.exposure == "LoadBalancer":
            svc["status"] = {"loadBalancer": {"ingress": [{"ip": spec.exposure_host}]}}
        objs.append(svc)
    if spec.exposure == "Ingress":
        paths = ["/v1/fleet/", "/health"] if spec.gateway else ["/"]
        objs.append({"apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
                     "metadata": {"name": service, "namespace": ns, "labels": chart_labels(spec, "superlink")},
                     "spec": {"tls": [{"hosts": [spec.exposure_host], "secretName": naming.name(r, ns, "superlink-tls")}] if spec.tls else [],
                              "rules": [{"host": spec.exposure_host, "http": {"paths": [
                                  {"path": p, "pathType": "Prefix", "backend": {"service": {
                                      "name": service, "port": {"name": "api"}}}} for p in paths]}}]}})
    if spec.exposure == "Route":
        objs.append({"apiVersion": "route.openshift.io/v1", "kind": "Route",
                     "metadata": {"name": service, "namespace": ns, "labels": chart_labels(spec, "superlink")},
                     "spec": {"host": spec.exposure_host,
                              "to": {"kind": "Service", "name": fleet if spec.gateway else service,
                                     "weight": 100},
                              "port": {"targetPort": "api"}, "tls": {"termination": "passthrough"}}})
    objs.append({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "hub-node-1"},
                 "status": {"addresses": [{"type": "InternalIP", "address": "192.0.2.11"},
                                          {"type": "ExternalIP", "address": "198.51.100.11"},
                                          {"type": "Hostname", "address": "hub-node-1"}]}})
    return objs


# --- everything --------------------------------------------------------------------------------


def objects(spec: FleetSpec, *, per_object: int = 100) -> list[dict[str, Any]]:
    """All objects of the release on the hub."""
    out: list[dict[str, Any]] = []
    r, ns = spec.release, spec.namespace
    out.append(cluster_management_addon(spec))
    # SuperNode placements and their ClientApp twins.
    clientapp_decisions: dict[str | None, list[str]] = {}
    for item, groups in spec.placements.items():
        pname = naming.placement(r, ns, item)
        pds, names = decisions(spec, pname, groups, per_object)
        out.append(placement(spec, pname, "supernode", item, groups, names))
        out.extend(pds)
        # OCM narrows the twin to the clusters where the addon is available.
        agroups = [(g, [c for c in cs if spec.addon_of(c) in ("available", "degraded")]) for g, cs in groups]
        cname = clientapp_placement_name(spec, item)
        cpds, cnames = decisions(spec, cname, agroups, per_object)
        out.append(placement(spec, cname, "clientapp", item, agroups, cnames))
        out.extend(cpds)
        clientapp_decisions[item] = [c for _, cs in agroups for c in cs]
    everywhere = [c for c in spec.all_clusters() if spec.addon_of(c) in ("available", "degraded")]
    spds, snames = decisions(spec, naming.all_supernodes_placement(r, ns), [("", everywhere)], per_object)
    out.append(placement(spec, naming.all_supernodes_placement(r, ns), "clientapp", None, [("", everywhere)], snames))
    out.extend(spds)
    clientapp_decisions[None] = everywhere
    # AddOnDeploymentConfigs: the default, and one per cluster with its own SuperNode version.
    if spec.deployment_configs:
        out.append(deployment_config(spec, naming.default_deployment_config(r, ns), spec.flower_version))
        for c, version in sorted(spec.supernode_version.items()):
            out.append(deployment_config(spec, naming.cluster_deployment_config(r, ns, c), version))
    # Addons.
    for c in spec.all_clusters():
        state = spec.addon_of(c)
        if state != "missing":
            out.append(managed_cluster_addon(spec, c, state))
    # ClientApps: MWRS + ManifestWorks + MWRS status.
    for app, items in spec.apps.items():
        template = workload(spec, app)
        mwrs = spec.mwrs_name(app)
        refs = [clientapp_placement_name(spec, i) for i in (items or [None])]
        summaries, totals = [], dict(total=0, applied=0, available=0, degraded=0, progressing=0, desiredTotal=0)
        has_work: set[str] = set()
        for item in (items or [None]):
            ref = clientapp_placement_name(spec, item)
            s = dict(total=0, applied=0, available=0, degraded=0, progressing=0,
                     desiredTotal=len(clientapp_decisions[item]))
            for c in clientapp_decisions[item]:
                state = spec.work_of(app, c)
                if state == "missing":
                    continue
                # A cluster chosen by two placements of one MWRS gets a second, generateName'd work.
                out.append(manifest_work(spec, app, c, ref, template, state, generated=c in has_work))
                has_work.add(c)
                s["total"] += 1
                s["applied"] += state in ("available", "notready", "degraded")
                s["available"] += state in ("available", "notready", "degraded")
                s["degraded"] += state == "degraded"
                s["progressing"] += state == "notready"
            groups = spec.placements[item] if item else [("", everywhere)]
            summaries.append({"name": ref, "availableDecisionGroups":
                              f"{len(groups)} ({s['total']} / {len(clientapp_decisions[item])} clusters applied)",
                              "summary": s})
            for k in totals:
                totals[k] += s[k]
        complete = all(x["summary"]["total"] == x["summary"]["desiredTotal"] for x in summaries)
        ok = totals["available"] == totals["total"] and not totals["progressing"] and not totals["degraded"]
        labels = dict(chart_labels(spec, "clientapp"), **{"flower.ai/clientapp": app})
        rollout = spec.rollout.get(app, "All")
        strategy: dict[str, Any] = {"type": rollout}
        if rollout == "Progressive":
            strategy["progressive"] = {"maxConcurrency": "25%"}
        out.append({
            "apiVersion": "work.open-cluster-management.io/v1alpha1", "kind": "ManifestWorkReplicaSet",
            "metadata": {"name": mwrs, "namespace": ns, "labels": labels},
            # cascadeDeletionPolicy: the CRD default, filled in by the API server
            "spec": {"placementRefs": [{"name": ref, "rolloutStrategy": strategy} for ref in refs],
                     "cascadeDeletionPolicy": "Background", "manifestWorkTemplate": template},
            "status": {
                "summary": totals, "placementSummary": summaries,
                "conditions": [
                    cond("PlacementVerified", "True", "AsExpected", ""),
                    cond("PlacementRolledOut", "True" if complete else "False",
                         "Complete" if complete else "Progressing", ""),
                    cond("ManifestworkApplied", "True" if ok else "False",
                         "AsExpected" if ok else ("Processing" if totals["progressing"] and not totals["degraded"]
                                                  else "NotAsExpected"), ""),
                ]},
        })
    out.extend(superlink_objects(spec))
    return out


def load(hub: Any, spec: FleetSpec, **kw: Any) -> FleetSpec:
    hub.create_many(objects(spec, **kw))
    return spec


def names(n: int, prefix: str = "cluster") -> list[str]:
    return [f"{prefix}-{i:05d}" for i in range(n)]


def big_fleet(n: int = 10_000) -> FleetSpec:
    """3 SuperNode placements over ``n`` clusters, mixed addon conditions, a rollout midway.

    east: clusters [0, 0.4n) in two decision groups (canary 10 %, rest); west: [0.4n, 0.8n);
    gpu: [0.7n, n) -- it overlaps west by 0.1n clusters, which are counted once.
    ClientApp digits ships everywhere (All); eval ships to gpu (Progressive, stopped midway).
    """
    cs = names(n)
    a, b, c, d = int(0.4 * n), int(0.8 * n), int(0.7 * n), int(0.04 * n)
    spec = FleetSpec(
        placements={"east": [("canary", cs[:d]), ("rest", cs[d:a])],
                    "west": [("", cs[a:b])],
                    "gpu": [("", cs[c:])]},
        apps={"digits": ["east", "west", "gpu"], "eval": ["gpu"]},
        rollout={"digits": "All", "eval": "Progressive"},
    )
    for i, name in enumerate(cs):
        if i % 50 == 7:
            spec.addon_state[name] = "degraded"
        elif i % 97 == 3:
            spec.addon_state[name] = "unavailable"
        elif i % 199 == 11:
            spec.addon_state[name] = "missing"
        elif i % 211 == 5:
            spec.addon_state[name] = "unknown"
        elif i % 223 == 13:
            spec.addon_state[name] = "unreachable"
        if i % 113 == 1:
            spec.work_state[("digits", name)] = "notready"
        elif i % 331 == 2:
            spec.work_state[("digits", name)] = "applyfailed"
    # eval: Progressive on gpu, midway: the second half of gpu has no ManifestWork yet.
    gpu = cs[c:]
    for name in gpu[len(gpu) // 2:]:
        spec.work_state[("eval", name)] = "missing"
    return spec


def small_fleet(ready: bool = True) -> FleetSpec:
    """3 clusters, one placement, one app: the everyday case."""
    spec = FleetSpec(placements={"default": [("", ["alpha", "bravo", "charlie"])]}, apps={"digits": ["default"]})
    if not ready:
        spec.addon_state["charlie"] = "progressing"
    return spec


def clone(obj: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(obj)


def flip_addon(hub: Any, spec: FleetSpec, cluster: str, state: str) -> None:
    """Change (or create) a cluster's ManagedClusterAddOn like the addon manager would."""
    spec.addon_state[cluster] = state
    new = managed_cluster_addon(spec, cluster, state)
    try:
        current = hub.get("addon.open-cluster-management.io/v1alpha1", "ManagedClusterAddOn", spec.addon_name, cluster)
    except KeyError:
        hub.create(new)
        return
    current["status"] = new["status"]
    hub.replace(current)


def flip_work(hub: Any, spec: FleetSpec, app: str, cluster: str, placement_ref: str, state: str) -> None:
    """Create or change a cluster's ClientApp ManifestWork like the MWRS controller and work agent would."""
    spec.work_state[(app, cluster)] = state
    new = manifest_work(spec, app, cluster, placement_ref, workload(spec, app), state)
    try:
        current = hub.get("work.open-cluster-management.io/v1", "ManifestWork", new["metadata"]["name"], cluster)
    except KeyError:
        hub.create(new)
        return
    if "status" in new:
        current["status"] = new["status"]
    else:
        current.pop("status", None)
    hub.replace(current)


def set_decisions(hub: Any, spec: FleetSpec, placement_name: str, clusters: Iterable[str]) -> None:
    """Rewrite a placement's (single-group) decisions, like the placement controller."""
    clusters = list(clusters)
    pds, _ = decisions(spec, placement_name, [("", clusters)])
    for pd in pds:
        try:
            current = hub.get(pd["apiVersion"], pd["kind"], pd["metadata"]["name"], spec.namespace)
        except KeyError:
            hub.create(pd)
            continue
        current["status"] = pd["status"]
        hub.replace(current)
