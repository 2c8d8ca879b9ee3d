"""What the fleet does through the Kubernetes API (official client) once the processes run: the fake
node of each cluster, OCM's CRDs, the klusterlet's bootstrap identity, and accepting each cluster the
way `clusteradm accept` does (approve its CSR, set hubAcceptsClient)."""

from __future__ import annotations

import base64
import os
import re
import subprocess
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from .layout import (
    ADDON_NAMESPACE,
    AGENT_NAMESPACE,
    BIN,
    BOOTSTRAP_NAMESPACE,
    CLUSTER_SET,
    HUB,
    HUB_NAMESPACE,
    KWOK_NODE_ANNOTATION,
    NODE_NAME,
    OCM_CRDS,
    OCM_MANIFESTS,
    Layout,
)

CLUSTER_SET_LABEL = "cluster.open-cluster-management.io/clusterset"
CLUSTER_NAME_LABEL = "open-cluster-management.io/cluster-name"
# The CRDs OCM's cluster-manager installs with the addon conversion webhook (v1alpha1 <-> v1beta1).
CONVERTED_CRDS = ("clustermanagementaddons.addon.open-cluster-management.io",
                  "managedclusteraddons.addon.open-cluster-management.io")
# CRDs a managed cluster needs for the klusterlet agent (the rest are the hub's).
MANAGED_CRDS = ("appliedmanifestworks.work.open-cluster-management.io",
                "clusterclaims.cluster.open-cluster-management.io")
BOOTSTRAP_SA = "agent-registration-bootstrap"  # the name `clusteradm init` gives it (and `clusteradm accept` expects)
# How often each klusterlet renews its lease; the hub marks a cluster unavailable (and taints it
# unreachable) after 5 missed renewals. OCM's default is 60 s (5 min to notice an outage); 10 s lets
# the e2e suite see an outage in under a minute. Set on the ManagedCluster at accept time.
LEASE_DURATION_SECONDS = 10
BOOTSTRAP_TOKEN_SECONDS = 7 * 24 * 3600


class FleetError(RuntimeError):
    pass


def api_client(kubeconfig: Path, context: str | None = None) -> client.ApiClient:
    return config.new_client_from_config(config_file=str(kubeconfig), context=context)


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    """Poll ``check`` until it returns something truthy; FleetError naming ``what`` on timeout."""
    deadline = time.monotonic() + timeout
    last = "no answer yet"
    while True:
        try:
            result = check()
            if result:
                return result
        except ApiException as exc:
            last = f"HTTP {exc.status} {exc.reason}"
        except OSError as exc:
            last = str(exc)
        except Exception as exc:  # urllib3's connection errors do not derive from OSError
            last = f"{type(exc).__name__}: {exc}"
        if time.monotonic() > deadline:
            raise FleetError(f"timed out after {timeout:.0f}s waiting for {what} (last: {last})")
        time.sleep(interval)


def create_or_keep(create: Callable[[], Any]) -> None:
    try:
        create()
    except ApiException as exc:
        if exc.status != 409:
            raise


def apiserver_ready(api: client.ApiClient) -> bool:
    response = api.call_api("GET", f"{api.configuration.host}/readyz", _request_timeout=2)
    return response.status == 200 and response.read() == b"ok"


# ----------------------------------------------------------------------------- nodes


def create_fake_node(api: client.ApiClient) -> None:
    key, value = KWOK_NODE_ANNOTATION
    capacity = {"cpu": "32", "memory": "256Gi", "pods": "250"}
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": NODE_NAME, "annotations": {key: value},
                         "labels": {"type": "kwok", "kubernetes.io/hostname": NODE_NAME,
                                    "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64"}},
            "spec": {}, "status": {"capacity": capacity, "allocatable": capacity}}
    create_or_keep(lambda: client.CoreV1Api(api).create_node(node))


def node_ready(api: client.ApiClient) -> bool:
    node = client.CoreV1Api(api).read_node(NODE_NAME)
    return any(c.type == "Ready" and c.status == "True" for c in node.status.conditions or [])


def default_service_account(api: client.ApiClient) -> bool:
    return bool(client.CoreV1Api(api).read_namespaced_service_account("default", "default"))


def create_namespaces(api: client.ApiClient, *names: str) -> None:
    core = client.CoreV1Api(api)
    for name in names:
        create_or_keep(lambda n=name: core.create_namespace({"metadata": {"name": n}}))


# ----------------------------------------------------------------------------- CRDs


def _crds_by_name() -> dict[str, dict]:
    """The installed upstream CRDs, one per name: the file that serves the most versions."""
    found: dict[str, dict] = {}
    files = sorted(OCM_CRDS.glob("*.crd.yaml"))
    if not files:
        raise FleetError(f"no OCM CRDs in {OCM_CRDS}: run hack/install-go-tools.sh ocm-crds")
    for path in files:
        crd = yaml.safe_load(path.read_text())
        name = crd["metadata"]["name"]
        if name not in found or len(crd["spec"]["versions"]) > len(found[name]["spec"]["versions"]):
            found[name] = crd
    return found


def _apply_crds(api: client.ApiClient, crds: list[dict]) -> None:
    ext = client.ApiextensionsV1Api(api)
    for crd in crds:
        name = crd["metadata"]["name"]
        try:
            current = ext.read_custom_resource_definition(name)
            crd["metadata"]["resourceVersion"] = current.metadata.resource_version
            ext.replace_custom_resource_definition(name, crd)
        except ApiException as exc:
            if exc.status != 404:
                raise
            ext.create_custom_resource_definition(crd)
    for crd in crds:
        name = crd["metadata"]["name"]
        wait_for(f"CRD {name} to be established", lambda n=name: any(
            c.type == "Established" and c.status == "True"
            for c in ext.read_custom_resource_definition(n).status.conditions or []), 60)


def apply_hub_crds(api: client.ApiClient, ca_bundle: bytes, webhook_port: int) -> None:
    crds = _crds_by_name()
    for name in CONVERTED_CRDS:
        crds[name]["spec"]["conversion"] = {"strategy": "Webhook", "webhook": {
            "clientConfig": {"url": f"https://127.0.0.1:{webhook_port}/convert",
                             "caBundle": base64.b64encode(ca_bundle).decode()},
            "conversionReviewVersions": ["v1", "v1beta1"]}}
    _apply_crds(api, [crd for name, crd in sorted(crds.items()) if name not in MANAGED_CRDS])


def serving(port: int, ca_bundle: bytes) -> bool:
    """The webhook server answers TLS with a certificate of the hub CA (any HTTP status will do)."""
    context = ssl.create_default_context(cadata=ca_bundle.decode())
    try:
        urllib.request.urlopen(f"https://127.0.0.1:{port}/", context=context, timeout=2)  # noqa: S310
    except urllib.error.HTTPError:
        pass  # 404: it serves
    return True


WEBHOOK_CONFIGURATIONS = ("webhook-mutatingconfiguration.yaml", "webhook-validatingconfiguration.yaml",
                          "webhook-clustersetbinding-validatingconfiguration.yaml",
                          "work-webhook-validatingconfiguration.yaml")


def cluster_manager_manifest(name: str) -> dict:
    """One of OCM cluster-manager's hub manifests (Go templates the operator renders), rendered for
    this fleet: its labels block dropped, its few variables filled; any other template is an error."""
    text = (OCM_MANIFESTS / name).read_text()
    lines = [line for line in text.splitlines()
             if not re.match(r"\s*\{\{\s*(if gt \(len \.Labels\)|range \$key|end\s*\}\})", line)
             and '"{{ $key }}"' not in line]
    text = "\n".join(lines)
    for variable, value in CLUSTER_MANAGER_VALUES.items():
        text = re.sub(r"\{\{\s*\." + re.escape(variable) + r"\s*\}\}", value, text)
    if "{{" in text:
        raise FleetError(f"{name}: template left unrendered: {re.search(r'.*{{.*', text).group(0).strip()}")
    doc = yaml.safe_load(text)
    if not (doc["metadata"].get("labels") or {}):
        doc["metadata"].pop("labels", None)
    return doc


CLUSTER_MANAGER_VALUES = {"ClusterManagerName": "cluster-manager", "ClusterManagerNamespace": HUB_NAMESPACE,
                          "RegistrationWebhook.Port": "443", "RegistrationAPIServiceCABundle": "''"}


def apply_webhook_configurations(api: client.ApiClient, ca_bundle: bytes, port: int) -> None:
    """OCM cluster-manager's admission webhook configurations, pointed at the local webhook server
    (a URL instead of a Service: no Service routes to a process here)."""
    admission = client.AdmissionregistrationV1Api(api)
    for name in WEBHOOK_CONFIGURATIONS:
        doc = cluster_manager_manifest(name)
        for hook in doc["webhooks"]:
            path = hook["clientConfig"]["service"]["path"]
            hook["clientConfig"] = {"url": f"https://127.0.0.1:{port}{path}",
                                    "caBundle": base64.b64encode(ca_bundle).decode()}
        if doc["kind"] == "MutatingWebhookConfiguration":
            create_or_keep(lambda d=doc: admission.create_mutating_webhook_configuration(d))
        else:
            create_or_keep(lambda d=doc: admission.create_validating_webhook_configuration(d))


# The hub controllers that run as their own ServiceAccount with cluster-manager's ClusterRole, as on
# a real hub, so that RBAC the chart grants them (node auth: the addon manager reads the signing CA)
# is exercised. The registration controller and the webhooks keep the admin identity (their
# manifests hold conditionals only the operator renders).
CONTROLLER_IDENTITIES = {
    "addon-manager": ("addon-manager-serviceaccount.yaml", "addon-manager-clusterrole.yaml",
                      "addon-manager-clusterrolebinding.yaml", "work-executor-admin-clusterrole.yaml",
                      "addon-manager-work-executor-admin-clusterrolebinding.yaml"),
    "placement": ("placement-serviceaccount.yaml", "placement-clusterrole.yaml", "placement-clusterrolebinding.yaml"),
    "work": ("work-serviceaccount.yaml", "work-clusterrole.yaml", "work-clusterrolebinding.yaml"),
}
CONTROLLER_TOKEN_SECONDS = 7 * 24 * 3600


def controller_token(api: client.ApiClient, component: str) -> str:
    core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    account = None
    for name in CONTROLLER_IDENTITIES[component]:
        doc = cluster_manager_manifest(name)
        if doc["kind"] == "ServiceAccount":
            account = doc["metadata"]["name"]
            create_or_keep(lambda d=doc: core.create_namespaced_service_account(HUB_NAMESPACE, d))
        elif doc["kind"] == "ClusterRole":
            create_or_keep(lambda d=doc: rbac.create_cluster_role(d))
        elif doc["kind"] == "ClusterRoleBinding":
            create_or_keep(lambda d=doc: rbac.create_cluster_role_binding(d))
    request = core.create_namespaced_service_account_token(
        account, HUB_NAMESPACE, {"spec": {"expirationSeconds": CONTROLLER_TOKEN_SECONDS}})
    return request.status.token


def apply_managed_crds(api: client.ApiClient) -> None:
    crds = _crds_by_name()
    _apply_crds(api, [crds[name] for name in MANAGED_CRDS])


# ----------------------------------------------------------------------------- bootstrap identity


def bootstrap_token(api: client.ApiClient) -> str:
    """A token of the ServiceAccount klusterlets bootstrap with, bound to OCM's bootstrap ClusterRole
    (what `clusteradm init` sets up)."""
    create_namespaces(api, BOOTSTRAP_NAMESPACE, HUB_NAMESPACE)
    core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    role = yaml.safe_load("\n".join(line for line in (OCM_MANIFESTS / "bootstrap_cluster_role.yaml")
                                    .read_text().splitlines() if "{{" not in line))
    create_or_keep(lambda: rbac.create_cluster_role(role))
    create_or_keep(lambda: core.create_namespaced_service_account(
        BOOTSTRAP_NAMESPACE, {"metadata": {"name": BOOTSTRAP_SA}}))
    create_or_keep(lambda: rbac.create_cluster_role_binding({
        "metadata": {"name": "open-cluster-management:bootstrap"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                    "name": role["metadata"]["name"]},
        "subjects": [{"kind": "ServiceAccount", "name": BOOTSTRAP_SA, "namespace": BOOTSTRAP_NAMESPACE}]}))
    request = core.create_namespaced_service_account_token(
        BOOTSTRAP_SA, BOOTSTRAP_NAMESPACE, {"spec": {"expirationSeconds": BOOTSTRAP_TOKEN_SECONDS}})
    return request.status.token


def prepare_managed(api: client.ApiClient) -> None:
    create_namespaces(api, AGENT_NAMESPACE, ADDON_NAMESPACE)
    apply_managed_crds(api)


# ----------------------------------------------------------------------------- accept


def _custom(api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)


def managed_cluster(api: client.ApiClient, name: str) -> dict:
    return _custom(api).get_cluster_custom_object("cluster.open-cluster-management.io", "v1", "managedclusters", name)


def pending_csr(api: client.ApiClient, cluster: str) -> bool:
    certs = client.CertificatesV1Api(api)
    return any(not c.status.conditions and not c.status.certificate
               for c in certs.list_certificate_signing_request(label_selector=f"{CLUSTER_NAME_LABEL}={cluster}").items)


def clusteradm(kubeconfig: Path, *args: str, timeout: float = 60, check: bool = True) -> str:
    """clusteradm (pinned, hack/install-go-tools.sh) against the hub context of ``kubeconfig``."""
    proc = subprocess.run([str(BIN / "clusteradm"), *args, "--context", HUB],
                          env={**os.environ, "KUBECONFIG": str(kubeconfig)},
                          capture_output=True, text=True, timeout=timeout)
    if not check:
        return proc.stdout + proc.stderr
    if proc.returncode != 0:
        raise FleetError(f"clusteradm {' '.join(args)} failed ({proc.returncode}): {proc.stderr.strip() or proc.stdout.strip()}")
    return proc.stdout


def accept(api: client.ApiClient, kubeconfig: Path, name: str, timeout: float = 120) -> None:
    """`clusteradm accept --clusters <name>` until the cluster's CSR is approved and hubAcceptsClient
    set (OCM's mutating webhook has already put it in the default cluster set); then the short lease
    this fleet uses (LEASE_DURATION_SECONDS). clusteradm's output says why when it does not approve."""
    said = ""

    def accepted() -> bool:
        nonlocal said
        said = clusteradm(kubeconfig, "accept", "--clusters", name, check=False)
        return not pending_csr(api, name) and managed_cluster(api, name)["spec"].get("hubAcceptsClient") is True

    try:
        wait_for(f"clusteradm accept --clusters {name}", accepted, timeout, interval=2)
    except FleetError as exc:
        raise FleetError(f"{exc}; clusteradm said: {said.strip()}") from None
    _custom(api).patch_cluster_custom_object(
        "cluster.open-cluster-management.io", "v1", "managedclusters", name,
        {"spec": {"leaseDurationSeconds": LEASE_DURATION_SECONDS}})


def joined_clusters(kubeconfig: Path) -> dict[str, tuple[str, str, str]]:
    """`clusteradm get clusters -o table`: name -> (accepted, available, cluster set)."""
    rows = clusteradm(kubeconfig, "get", "clusters", "-o", "table").splitlines()[1:]
    return {cols[0]: (cols[1], cols[2], cols[3]) for cols in (row.split() for row in rows) if len(cols) >= 4}


# ----------------------------------------------------------------------------- storage
# kwok nodes have no disks and the fleet runs no CSI driver: a default StorageClass whose claims the
# supervisor binds to fresh hostPath PersistentVolumes (never mounted: no container runs), the way a
# dynamic provisioner would, and whose released volumes it deletes.

STORAGE_CLASS = "fleet-standard"
PROVISIONER = "ocmfleet.local/hostpath"


def ensure_storage_class(api: client.ApiClient) -> None:
    create_or_keep(lambda: client.StorageV1Api(api).create_storage_class({
        "metadata": {"name": STORAGE_CLASS,
                     "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": PROVISIONER, "reclaimPolicy": "Delete", "volumeBindingMode": "Immediate"}))


def provision_volumes(api: client.ApiClient, root: Path) -> None:
    core = client.CoreV1Api(api)
    for claim in core.list_persistent_volume_claim_for_all_namespaces().items:
        if claim.status.phase != "Pending" or claim.spec.storage_class_name != STORAGE_CLASS:
            continue
        name = f"pv-{claim.metadata.uid}"
        create_or_keep(lambda c=claim, n=name: core.create_persistent_volume({
            "metadata": {"name": n, "annotations": {"pv.kubernetes.io/provisioned-by": PROVISIONER}},
            "spec": {"capacity": {"storage": c.spec.resources.requests["storage"]},
                     "accessModes": c.spec.access_modes, "storageClassName": STORAGE_CLASS,
                     "persistentVolumeReclaimPolicy": "Delete",
                     "hostPath": {"path": str(root / n)},
                     "claimRef": {"namespace": c.metadata.namespace, "name": c.metadata.name,
                                  "uid": c.metadata.uid}}}))
    for volume in core.list_persistent_volume().items:
        if volume.status.phase == "Released" and volume.spec.storage_class_name == STORAGE_CLASS:
            try:
                core.delete_persistent_volume(volume.metadata.name)
            except ApiException as exc:
                if exc.status != 404:
                    raise
