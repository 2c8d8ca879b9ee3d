"""The chart with global.nodeAuth.enabled, rendered by both Helm versions: OCM objects valid
against the real CRDs, least-privilege RBAC, restricted pods, the pieces fitting together the
way OCM's template agent will assemble them."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

import kube_schemas as ks
import nodeauth_support as ns
import render as r

from helm_flower import naming

pytestmark = pytest.mark.helm

RELEASE, NAMESPACE = "flower", "flower-system"
ON = ("global.nodeAuth.enabled=true",)
REGISTRAR = f"{RELEASE}-node-auth-registrar"
ADDON = naming.addon(RELEASE, NAMESPACE)  # flower-flower-flower-system
CLUSTER_RBAC = naming.cluster_rbac(RELEASE, NAMESPACE, "node-auth-registrar")  # <addon>-node-auth-registrar


@pytest.fixture(scope="module", params=["4", "3"], ids=lambda v: f"helm{v}")
def helm(request, helm_bins) -> Path:
    return helm_bins[request.param]


def render(helm: Path, *sets: str, files: tuple[Path, ...] = ()) -> list[dict]:
    return r.render(helm, ns.CHART, files, sets, RELEASE, NAMESPACE)


@pytest.fixture(scope="module")
def on(helm: Path) -> list[dict]:
    return render(helm, *ON)


def one(objs: list[dict], kind: str, name: str | None = None) -> dict:
    found = [o for o in objs if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"{kind} {name}: {len(found)} found"
    return found[0]


def template_manifest(objs: list[dict], kind: str, name: str) -> dict:
    tmpl = one(objs, "AddOnTemplate")
    found = [m for m in tmpl["spec"]["agentSpec"]["workload"]["manifests"] if m["kind"] == kind and m["metadata"]["name"] == name]
    assert len(found) == 1, f"AddOnTemplate manifest {kind} {name}"
    return found[0]


def lint(helm: Path, *sets: str) -> subprocess.CompletedProcess:
    args = [str(helm), "lint", "--strict", str(ns.CHART)]
    for s in sets:
        args += ["--set", s]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


# ----------------------------------------------------------------------------- lint, schemas


@pytest.mark.parametrize("sets", [(), ON, (*ON, "global.tls.mode=existingSecret", "global.tls.existingSecret=sl-tls",
                                           "global.tls.caBundle=-----BEGIN CERTIFICATE-----x"),
                                  (*ON, "global.nodeAuth.signingCASecret=my-signing-ca")],
                         ids=["defaults", "nodeAuth", "nodeAuth-existingSecret-tls", "nodeAuth-own-signing-ca"])
def test_lint_strict(helm: Path, sets: tuple[str, ...]) -> None:
    proc = lint(helm, *sets)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "[WARNING]" not in proc.stdout and "[ERROR]" not in proc.stdout, proc.stdout


@pytest.mark.parametrize("sets,message", [
    ((*ON, "global.tls.mode=disabled"), "needs TLS"),
    ((*ON, "superlink.enabled=false"), "set superlink.enabled=true"),
    ((*ON, "global.nodeAuth.typo=1"), "typo"),
    ((*ON, "global.nodeAuth.addonManager.namespace=Bad_NS"), "namespace"),
])
def test_bad_settings_fail_the_render(helm: Path, sets: tuple[str, ...], message: str) -> None:
    with pytest.raises(r.HelmError, match=message):
        render(helm, *sets)


def test_addon_template_validates_against_the_upstream_crd(on: list[dict], ocm_crds_dir: Path) -> None:
    crd = yaml.safe_load((ocm_crds_dir / "addon_v1alpha1__0000_03_addon.open-cluster-management.io_addontemplates.crd.yaml").read_text())
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1"]
    tmpl = one(on, "AddOnTemplate")
    jsonschema.validate(tmpl, version["schema"]["openAPIV3Schema"])
    # Strict (unknown fields, ObjectMeta) check of the repository's schema validator too.
    how, errors = ks.schema_errors(tmpl, ocm_crds_dir)
    assert how == "ocm-crd" and not errors, errors
    # The validator is not vacuous: a registration the CRD forbids is caught.
    broken = json.loads(json.dumps(tmpl))
    broken["spec"]["registration"][0]["customSigner"]["signerName"] = "Flower/Bad Name"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, version["schema"]["openAPIV3Schema"])


def test_every_object_matches_its_schema(on: list[dict], ocm_crds_dir: Path) -> None:
    failures = []
    for o in r.all_objects(on):
        how, errors = ks.schema_errors(o.obj, ocm_crds_dir)
        failures += [f"{o} [{how}] {e}" for e in errors]
    assert not failures, "\n".join(failures)


# ----------------------------------------------------------------------------- the registration


def test_registration_is_a_custom_signer_with_a_dedicated_ca(on: list[dict]) -> None:
    tmpl = one(on, "AddOnTemplate")
    (reg,) = tmpl["spec"]["registration"]
    assert reg["type"] == "CustomSigner"
    signer = reg["customSigner"]
    assert signer["signerName"] == ns.SIGNER
    assert "subject" not in signer, "OCM's default subject names the cluster; a fixed one would not"
    assert signer["signingCA"] == {"name": f"{RELEASE}-node-auth-ca", "namespace": NAMESPACE}

    secret = one(on, "Secret", f"{RELEASE}-node-auth-ca")
    assert secret["type"] == "kubernetes.io/tls"
    cert_pem = base64.b64decode(secret["data"]["tls.crt"])
    key_pem = base64.b64decode(secret["data"]["tls.key"])
    # OCM (addon-framework DefaultSignerWithExpiry) parses the CA key as PKCS#1 RSA.
    assert key_pem.startswith(b"-----BEGIN RSA PRIVATE KEY-----")
    assert isinstance(serialization.load_pem_private_key(key_pem, None), rsa.RSAPrivateKey)
    cert = x509.load_pem_x509_certificate(cert_pem)
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    # It signs like OCM's CustomSigner does, and the registrar accepts what it signs.
    reg_mod = ns.registrar_module()
    agent = ns.Agent("cluster-a", ADDON)
    key = reg_mod.parse_issued_csr(agent.request(cert_pem, key_pem), ADDON, cert)
    assert key is not None and key.cluster == "cluster-a"

    # Nothing trusts it: it is not the TLS CA, and not in any CA bundle of hub or clusters.
    tls_ca = base64.b64decode(one(on, "Secret", f"{RELEASE}-tls-ca")["data"]["tls.crt"])
    assert tls_ca != cert_pem
    bundles = [one(on, "ConfigMap", f"{RELEASE}-ca-bundle")["data"]["ca.crt"],
               template_manifest(on, "ConfigMap", "flower-ca")["data"]["ca.crt"]]
    assert all(cert_pem.decode().strip() not in b for b in bundles)


def test_addon_manager_may_read_only_the_signing_ca(on: list[dict]) -> None:
    role = one(on, "Role", f"{RELEASE}-node-auth-ca-signer")
    assert role["rules"] == [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": [f"{RELEASE}-node-auth-ca"], "verbs": ["get"]}]
    binding = one(on, "RoleBinding", f"{RELEASE}-node-auth-ca-signer")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": role["metadata"]["name"]}
    # Upstream: manifests/cluster-manager/hub/addon-manager/serviceaccount.yaml (ClusterManager namespace).
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": "addon-manager-controller-sa", "namespace": "open-cluster-management-hub"}]


def test_own_signing_ca_secret(helm: Path) -> None:
    objs = render(helm, *ON, "global.nodeAuth.signingCASecret=my-signing-ca")
    assert not [o for o in objs if o["kind"] == "Secret" and "node-auth-ca" in o["metadata"]["name"]]
    assert one(objs, "AddOnTemplate")["spec"]["registration"][0]["customSigner"]["signingCA"]["name"] == "my-signing-ca"
    assert one(objs, "Role")["rules"][0]["resourceNames"] == ["my-signing-ca"]
    vol = next(v for v in one(objs, "Deployment", REGISTRAR)["spec"]["template"]["spec"]["volumes"] if v["name"] == "node-auth-ca")
    assert vol["secret"] == {"secretName": "my-signing-ca", "items": [{"key": "tls.crt", "path": "ca.crt"}]}


# ----------------------------------------------------------------------------- registrar RBAC, pods, network


def test_registrar_rbac_is_exactly_read_csrs_and_addons(on: list[dict]) -> None:
    roles = [o for o in on if o["kind"] in ("ClusterRole", "Role")]
    assert CLUSTER_RBAC == f"{ADDON}-node-auth-registrar"
    assert {o["metadata"]["name"] for o in roles} == {CLUSTER_RBAC, f"{RELEASE}-node-auth-ca-signer"}
    cr = one(on, "ClusterRole", CLUSTER_RBAC)
    assert cr["rules"] == [
        {"apiGroups": ["certificates.k8s.io"], "resources": ["certificatesigningrequests"], "verbs": ["get", "list", "watch"]},
        {"apiGroups": ["addon.open-cluster-management.io"], "resources": ["managedclusteraddons"], "verbs": ["get", "list", "watch"]},
    ]
    crb = one(on, "ClusterRoleBinding")
    assert crb["roleRef"]["name"] == cr["metadata"]["name"] and crb["roleRef"]["kind"] == "ClusterRole"
    assert crb["subjects"] == [{"kind": "ServiceAccount", "name": REGISTRAR, "namespace": NAMESPACE}]
    sa = one(on, "ServiceAccount", REGISTRAR)
    assert sa["automountServiceAccountToken"] is False


def test_only_the_registrar_pod_gets_a_token_and_every_pod_is_restricted(on: list[dict]) -> None:
    problems = []
    objs = r.all_objects(on)
    for o in objs:
        if o.embedded and o.kind == "Deployment":
            ns.ocm_decorate(o.obj, ADDON)  # what OCM adds on the cluster
    specs = list(r.pod_specs(objs))
    names = {o.name for o, _ in specs}
    assert {REGISTRAR, "supernode"} <= names
    for o, pod in specs:
        want_token = o.name == REGISTRAR and not o.embedded
        if pod.get("automountServiceAccountToken") is not want_token:
            problems.append(f"{o}: automountServiceAccountToken should be {want_token}")
        psc = pod.get("securityContext") or {}
        if psc.get("runAsNonRoot") is not True or (psc.get("seccompProfile") or {}).get("type") != "RuntimeDefault":
            problems.append(f"{o}: pod securityContext not restricted")
        for c in pod.get("initContainers", []) + pod["containers"]:
            csc = c.get("securityContext") or {}
            if (csc.get("allowPrivilegeEscalation") is not False or csc.get("readOnlyRootFilesystem") is not True
                    or csc.get("capabilities", {}).get("drop") != ["ALL"] or csc.get("privileged")):
                problems.append(f"{o} {c['name']}: container securityContext not restricted")
            res = c.get("resources") or {}
            if not (res.get("requests", {}).get("cpu") and res.get("requests", {}).get("memory") and res.get("limits", {}).get("memory")):
                problems.append(f"{o} {c['name']}: resources")
        vols = [v["name"] for v in pod.get("volumes", [])]
        if len(vols) != len(set(vols)) or any(len(v) > 63 for v in vols):
            problems.append(f"{o}: volume names {vols}")
        for c in pod["containers"]:
            paths = [m["mountPath"] for m in c.get("volumeMounts", [])]
            if len(paths) != len(set(paths)):
                problems.append(f"{o} {c['name']}: duplicate mount paths {paths}")
    assert not problems, "\n".join(problems)


def test_registrar_deployment(on: list[dict], helm: Path) -> None:
    dep = one(on, "Deployment", REGISTRAR)
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    serverapp = one(on, "Deployment", f"{RELEASE}-serverapp")["spec"]["template"]["spec"]["containers"][0]
    assert c["image"] == serverapp["image"], "the registrar runs in the ServerApp SuperExec image (flwr inside)"
    assert c["command"] == ["python", "/var/run/flower/registrar/node_auth_registrar.py"]
    # Its arguments parse with its own parser and point at the right objects.
    args = ns.registrar_module().build_parser().parse_args(c["args"])
    assert args.addon_name == one(on, "AddOnTemplate")["spec"]["addonName"] == ADDON
    assert args.signer_name == one(on, "AddOnTemplate")["spec"]["registration"][0]["customSigner"]["signerName"]
    svc = one(on, "Service", f"{RELEASE}-superlink")
    assert args.superlink == f"{svc['metadata']['name']}:{svc['spec']['ports'][0]['port']}"
    assert args.superlink == serverapp["args"][serverapp["args"].index("--runtime-api-address") + 1]
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    vols = {v["name"]: v for v in pod["volumes"]}
    assert vols[mounts[str(Path(args.root_certificates).parent)]]["configMap"]["name"] == f"{RELEASE}-ca-bundle"
    # Only the signing CA's certificate is mounted, never its key.
    assert vols[mounts[str(args.node_auth_ca.parent)]]["secret"] == {
        "secretName": f"{RELEASE}-node-auth-ca", "items": [{"key": "tls.crt", "path": "ca.crt"}]}
    script = one(on, "ConfigMap", REGISTRAR)["data"]["node_auth_registrar.py"]
    assert script == ns.REGISTRAR_SCRIPT.read_text()
    assert vols[mounts["/var/run/flower/registrar"]]["configMap"]["name"] == REGISTRAR
    assert {e["name"]: e["value"] for e in c["env"]}["FLWR_TELEMETRY_ENABLED"] == "0"
    assert "exec" in c["livenessProbe"]


def test_registrar_network_policies(on: list[dict]) -> None:
    nps = {o["metadata"]["name"]: o["spec"] for o in on if o["kind"] == "NetworkPolicy"}
    reg = nps[REGISTRAR]
    assert reg["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "node-auth-registrar"
    assert reg["policyTypes"] == ["Ingress", "Egress"] and reg["ingress"] == []
    assert reg["egress"][0] == {"ports": [{"port": 443, "protocol": "TCP"}, {"port": 6443, "protocol": "TCP"}]}
    assert reg["egress"][1]["to"] == [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/name": "flower", "app.kubernetes.io/instance": RELEASE, "app.kubernetes.io/component": "superlink"}}}]
    assert reg["egress"][1]["ports"] == [{"port": 9092, "protocol": "TCP"}]
    assert {p["port"] for p in reg["egress"][2]["ports"]} == {53} and len(reg["egress"]) == 3
    into = nps[f"{RELEASE}-superlink-from-node-auth-registrar"]
    assert into["podSelector"]["matchLabels"]["app.kubernetes.io/component"] == "superlink"
    assert into["policyTypes"] == ["Ingress"]
    assert into["ingress"] == [{"from": [{"podSelector": {"matchLabels": {
        "app.kubernetes.io/name": "flower", "app.kubernetes.io/instance": RELEASE, "app.kubernetes.io/component": "node-auth-registrar"}}}],
        "ports": [{"port": "api", "protocol": "TCP"}]}]


def test_superlink_requires_node_auth(on: list[dict]) -> None:
    args = one(on, "Deployment", f"{RELEASE}-superlink")["spec"]["template"]["spec"]["containers"][0]["args"]
    assert "--enable-supernode-auth" in args


# ----------------------------------------------------------------------------- the SuperNode side


def test_supernode_runs_the_launcher_on_ocms_client_key(on: list[dict], flwr) -> None:
    dep = ns.ocm_decorate(json.loads(json.dumps(template_manifest(on, "Deployment", "supernode"))), ADDON)
    pod = dep["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    cmd = c["command"]
    assert cmd[:3] == ["python", "/var/run/flower/node-auth/supernode_key.py", "run"]
    launcher = ns.launcher_module()
    sep = cmd.index("--")
    import argparse
    parser = argparse.ArgumentParser()
    parser.add_argument("--client-key")
    parser.add_argument("--ssh-key")
    opts = parser.parse_args(cmd[3:sep])
    assert cmd[sep + 1:] == ["flower-supernode"], "the image's entrypoint, run by the launcher"
    # The client key is where OCM mounts the client certificate Secret.
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    assert opts.client_key == f"{ns.client_cert_mount_dir()}/tls.key"
    cert_vol = next(v for v in pod["volumes"] if v["name"] == mounts[ns.client_cert_mount_dir()])
    assert cert_vol["secret"]["secretName"] == f"{ADDON}-flower.ai-supernode-auth-client-cert"
    # Flower gets the converted key, which lives in a memory-backed emptyDir of this pod only.
    sn_args = flwr.parse("flower-supernode", c["args"])
    assert sn_args.auth_supernode_private_key == opts.ssh_key
    key_dir = str(Path(opts.ssh_key).parent)
    key_vol = next(v for v in pod["volumes"] if v["name"] == mounts[key_dir])
    assert key_vol["emptyDir"]["medium"] == "Memory"
    script_vol = next(v for v in pod["volumes"] if v["name"] == mounts["/var/run/flower/node-auth"])
    cm = template_manifest(on, "ConfigMap", script_vol["configMap"]["name"])
    assert cm["data"]["supernode_key.py"] == ns.LAUNCHER_SCRIPT.read_text()
    assert callable(launcher.main)


def test_shipped_scripts_survive_ocm_templating(on: list[dict]) -> None:
    """OCM substitutes {{VARS}} in the manifests' raw JSON and blanks unknown ones."""
    for script in (ns.LAUNCHER_SCRIPT, ns.REGISTRAR_SCRIPT):
        assert "{{" not in script.read_text(), script
    cm = template_manifest(on, "ConfigMap", "flower-node-auth")
    substituted = json.loads(r.ocm_substitute(r.manifest_json(cm), {"CLUSTER_NAME": "c", "INSTALL_NAMESPACE": "n"}))
    assert substituted["data"] == cm["data"]


def test_nodeauth_off_renders_none_of_it(helm: Path) -> None:
    objs = render(helm)
    names = {o["metadata"]["name"] for o in objs}
    assert not {n for n in names if "node-auth" in n}
    assert not [o for o in objs if o["kind"] in ("ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")]
    tmpl = one(objs, "AddOnTemplate")
    assert "registration" not in tmpl["spec"]
    c = template_manifest(objs, "Deployment", "supernode")["spec"]["template"]["spec"]["containers"][0]
    assert "command" not in c and "--auth-supernode-private-key" not in c["args"]
    assert "--enable-supernode-auth" not in one(objs, "Deployment", f"{RELEASE}-superlink")["spec"]["template"]["spec"]["containers"][0]["args"]


def test_two_releases_do_not_collide(helm: Path) -> None:
    a = r.render(helm, ns.CHART, (), ON, "a", NAMESPACE)
    b = r.render(helm, ns.CHART, (), ON, "b", NAMESPACE)
    keys = lambda objs: {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]) for o in objs}  # noqa: E731
    shared = {k for k in keys(a) & keys(b) if k[0] != "ManagedClusterSetBinding"}
    assert not shared, shared
    ca = lambda objs, rel: x509.load_pem_x509_certificate(base64.b64decode(one(objs, "Secret", f"{rel}-node-auth-ca")["data"]["tls.crt"]))  # noqa: E731
    assert ca(a, "a") != ca(b, "b"), "each release signs with its own CA, so its registrar accepts only its own CSRs"
