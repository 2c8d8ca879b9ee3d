"""The chart lints and renders with both Helm versions, for the defaults and every ci/ example,
and every object it renders (also those OCM creates on managed clusters from the AddOnTemplate
and the ManifestWorkReplicaSets) is accepted by the real schema of its kind."""

from __future__ import annotations

from pathlib import Path

import pytest

import kube_schemas as ks
import render as r
from cases import CASES, NAMESPACE, OTHER_RELEASE, RELEASE, Case, lint_args, render_case

pytestmark = pytest.mark.helm


def test_helm_lint(helm: Path, case: Case) -> None:
    result = r.run_helm(lint_args(helm, case)).result()  # raises HelmError with helm's output
    assert "[ERROR]" not in result.stdout and "[WARNING]" not in result.stdout, result.stdout


CLUSTER_SCOPED = {"ClusterManagementAddOn", "AddOnTemplate", "ClusterRole", "ClusterRoleBinding", "Namespace"}


def test_helm_template(rendered: list[dict], case: Case) -> None:
    kinds = {o["kind"] for o in rendered}
    assert {"Deployment", "Service"} <= kinds, kinds
    clusters = {c["name"] for c in case.get("hubAddon.clusters") or []}
    for o in rendered:
        meta = o["metadata"]
        assert meta.get("name"), o
        where = f"{o['kind']}/{meta['name']}"
        if o["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in meta, f"{where} is cluster-scoped"
        elif o["kind"] == "ManagedClusterAddOn":
            assert meta.get("namespace") in clusters, f"{where} must live in a listed cluster's namespace"
        else:
            assert meta.get("namespace") == NAMESPACE, where


def test_every_object_matches_its_schema(objects: list[r.Obj], ocm_crds_dir: Path) -> None:
    failures = []
    for o in objects:
        try:
            how, errors = ks.schema_errors(o.obj, ocm_crds_dir)
        except ks.NoSchemaError as exc:
            failures.append(f"{o}: {exc}")
            continue
        failures += [f"{o} [{how}] {e}" for e in errors]
    assert not failures, "\n".join(failures)


def test_addon_template_variables_are_defined(rendered: list[dict]) -> None:
    """OCM substitutes an unknown {{VAR}} with "" silently: every variable the AddOnTemplate uses
    must be a built-in or set by every AddOnDeploymentConfig of the release."""
    adcs = r.of_kind(rendered, "AddOnDeploymentConfig")
    for tmpl in r.of_kind(rendered, "AddOnTemplate"):
        used = set().union(*(r.ocm_tags(r.manifest_json(m)) for m in tmpl["spec"]["agentSpec"]["workload"]["manifests"]))
        assert adcs, "an AddOnTemplate without AddOnDeploymentConfigs gets no SUPERLINK_ADDRESS"
        for adc in adcs:
            known = set(r.adc_variables(adc, "c"))
            assert used <= known, f"ADC {adc['metadata']['name']} does not set {sorted(used - known)}"


# ----------------------------------------------------------------------------- pod security


def _effective(container: dict, pod: dict, key: str):
    csc, psc = container.get("securityContext") or {}, pod.get("securityContext") or {}
    return csc.get(key, psc.get(key))


def _rbac_subjects(objects: list[r.Obj]) -> set[tuple[str, str]]:
    """(namespace, ServiceAccount) that a RoleBinding/ClusterRoleBinding of the render grants."""
    return {(s.get("namespace", o.namespace), s["name"]) for o in objects
            if o.kind in ("RoleBinding", "ClusterRoleBinding")
            for s in o.obj.get("subjects") or [] if s.get("kind") == "ServiceAccount"}


def test_pods_are_restricted_and_bounded(objects: list[r.Obj]) -> None:
    """Restricted pod security for every pod (top-level and embedded). No ServiceAccount token,
    except for a pod whose ServiceAccount the release itself grants RBAC (it talks to the API)."""
    problems = []
    specs = list(r.pod_specs(objects))
    assert specs, "no pods rendered"
    granted = _rbac_subjects(objects)
    for o, pod in specs:
        needs_api = (o.namespace, pod.get("serviceAccountName", "default")) in granted
        if pod.get("automountServiceAccountToken") is not False and not needs_api:
            problems.append(f"{o}: automountServiceAccountToken must be false")
        for c in pod.get("initContainers", []) + pod["containers"]:
            where = f"{o} container {c['name']}"
            csc = c.get("securityContext") or {}
            if _effective(c, pod, "runAsNonRoot") is not True:
                problems.append(f"{where}: runAsNonRoot")
            if csc.get("allowPrivilegeEscalation") is not False:
                problems.append(f"{where}: allowPrivilegeEscalation must be false")
            if "ALL" not in ((csc.get("capabilities") or {}).get("drop") or []):
                problems.append(f"{where}: capabilities.drop must hold ALL")
            if csc.get("privileged"):
                problems.append(f"{where}: privileged")
            if (_effective(c, pod, "seccompProfile") or {}).get("type") != "RuntimeDefault":
                problems.append(f"{where}: seccompProfile RuntimeDefault")
            if csc.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{where}: readOnlyRootFilesystem must be true")
            res = c.get("resources") or {}
            for need in ("cpu", "memory"):
                if not (res.get("requests") or {}).get(need):
                    problems.append(f"{where}: resources.requests.{need}")
            if not (res.get("limits") or {}).get("memory"):
                problems.append(f"{where}: resources.limits.memory")
        for v in pod.get("volumes", []):
            if "hostPath" in v:
                problems.append(f"{o}: hostPath volume {v['name']}")
    assert not problems, "\n".join(problems)


# ----------------------------------------------------------------------------- two releases


def _keys(objs: list[r.Obj]) -> set[tuple[str, str, str, str]]:
    """(where, kind, namespace, name): hub objects, and objects on a managed cluster."""
    return {("managed" if o.embedded else "hub", o.kind, o.namespace, o.name) for o in objs}


def test_two_releases_in_one_namespace_do_not_collide(helm: Path, case: Case) -> None:
    a = r.all_objects(render_case(helm, case, release=RELEASE), cluster="cluster-1")
    b = r.all_objects(render_case(helm, case, release=OTHER_RELEASE), cluster="cluster-1")
    shared = {k for k in _keys(a) & _keys(b) if k[1] != "ManagedClusterSetBinding"}  # shared by design
    assert not shared, f"releases a and b both render: {sorted(shared)}"
    for kind in ("ClusterManagementAddOn", "AddOnTemplate"):
        names_a = {o.name for o in a if o.kind == kind and not o.embedded}
        names_b = {o.name for o in b if o.kind == kind and not o.embedded}
        assert not names_a & names_b, f"cluster-scoped {kind} names collide: {names_a & names_b}"
    bindings = [o.obj for o in a + b if o.kind == "ManagedClusterSetBinding"]
    for binding in bindings:  # OCM requires binding name == set name, which is why they are shared
        assert binding["metadata"]["name"] == binding["spec"]["clusterSet"]
        assert binding["metadata"].get("annotations", {}).get("helm.sh/resource-policy") == "keep"


def test_one_release_has_no_duplicate_objects(rendered: list[dict]) -> None:
    seen: dict[tuple, int] = {}
    for o in rendered:
        key = (o["apiVersion"].split("/")[0] if "/" in o["apiVersion"] else "", o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"])
        seen[key] = seen.get(key, 0) + 1
    assert not [k for k, n in seen.items() if n > 1]



def test_examples_cover_every_mode_and_kind(helm: Path) -> None:
    """The ci/ examples keep exercising every TLS mode, exposure type and rendered kind."""
    modes = {c.get("global.tls.mode") for c in CASES}
    exposures = {c.get("superlink.exposure.type") for c in CASES}
    strategies = {c.get("hubAddon.installStrategy") for c in CASES}
    assert modes == {"generate", "certManager", "existingSecret", "disabled"}
    assert exposures == {"ClusterIP", "NodePort", "LoadBalancer", "Ingress", "Route"}
    assert strategies == {"Placements", "Manual"}
    kinds = {o["kind"] for c in CASES for o in render_case(helm, c)}
    expected = {"Deployment", "Service", "ConfigMap", "Secret", "ServiceAccount", "NetworkPolicy",
                "PersistentVolumeClaim", "Ingress", "Route", "Certificate", "Issuer",
                "ClusterManagementAddOn", "AddOnTemplate", "AddOnDeploymentConfig", "ManagedClusterAddOn",
                "Placement", "ManagedClusterSetBinding", "ManifestWorkReplicaSet"}
    assert expected <= kinds, f"no example renders {sorted(expected - kinds)}"
