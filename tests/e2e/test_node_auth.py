"""SuperNode keys issued by OCM on the real hub (issue 12, item 3.7): OCM's addon manager, running as
its own ServiceAccount, signs each SuperNode's CSR with the chart's CustomSigner CA (which the chart's
Role lets it read); the klusterlet writes the key Secret on the managed cluster; and the chart's
registrar, run as a process with its rendered arguments and its own ServiceAccount's token against
the hub, registers that key with a real SuperLink started from the same render."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from kubernetes import client

from hubview import wait_until
from ocmfleet.layout import HUB, REPO_ROOT
from releases import placed_on

for folder in ("charts", "apps", "nodeauth"):  # the chart-driven local federation of tests/nodeauth
    sys.path.insert(0, str(REPO_ROOT / "tests" / folder))

import nodeauth_federation as nf  # noqa: E402
import nodeauth_support as ns  # noqa: E402

NAMESPACE = "flower-nodeauth"
SIGNER = ns.SIGNER


def issued_csr(fleet, cluster: str, addon: str) -> dict | None:
    certs = client.CertificatesV1Api(fleet.api())
    for csr in certs.list_certificate_signing_request(
            label_selector=f"open-cluster-management.io/cluster-name={cluster},"
                           f"open-cluster-management.io/addon-name={addon}").items:
        if csr.spec.signer_name == SIGNER and csr.status.certificate:
            return {"name": csr.metadata.name, "certificate": base64.b64decode(csr.status.certificate),
                    "approved": [c.type for c in csr.status.conditions or []]}
    return None


def test_ocm_signs_supernode_keys_and_the_registrar_registers_them(fleet, hub, releases, selector, tmp_path,
                                                                  monkeypatch):
    release = releases("auth", NAMESPACE)
    release.install(placed_on(selector, **{"global": {"nodeAuth": {"enabled": True}}}))
    hub.label_cluster("cluster1", selector, "true")
    addon, ns_name = release.addon, release.agent_namespace

    csr = wait_until("cluster1's SuperNode CSR to be approved and signed by the addon manager",
                     lambda: issued_csr(fleet, "cluster1", addon), 180)
    assert "Approved" in csr["approved"]
    objects = release.manifest()
    ca_secret = next(o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"].endswith("node-auth-ca"))
    ca = x509.load_pem_x509_certificate(base64.b64decode(ca_secret["data"]["tls.crt"]))
    cert = x509.load_pem_x509_certificate(csr["certificate"])
    cert.verify_directly_issued_by(ca)  # signed with the chart's CustomSigner CA, not the hub's

    secret_name = ns.client_cert_secret_name(addon)
    data = wait_until(f"the klusterlet to write {secret_name} on cluster1",
                      lambda: fleet.core("cluster1").read_namespaced_secret(secret_name, ns_name).data, 120)
    assert base64.b64decode(data["tls.crt"]) == csr["certificate"]
    key = load_pem_private_key(base64.b64decode(data["tls.key"]), password=None)
    assert key.public_key().public_numbers() == cert.public_key().public_numbers()

    # A real SuperLink from the release's render, and the registrar as the chart runs it.
    federation = nf.ChartFederation(objects, tmp_path, None, ns.registrar_module(),
                                    release=release.name, namespace=NAMESPACE)
    try:
        federation.start_hub()
        registrar_deployment = next(o for o in objects if o["kind"] == "Deployment"
                                    and o["metadata"]["name"].endswith("node-auth-registrar"))
        pod = registrar_deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        mounts = nf.materialize(pod, container, objects, tmp_path / "registrar")
        args = nf.localize(container["args"], mounts, {})
        args = nf._replace_flag(args, "--superlink", federation.address)
        token = fleet.core().create_namespaced_service_account_token(
            pod["serviceAccountName"], NAMESPACE, {"spec": {"expirationSeconds": 600}}).status.token
        (tmp_path / "token").write_text(token)
        hub_ca = fleet.layout.pki(HUB) / "ca.crt"
        server = fleet.api().configuration.host
        script = ns.REGISTRAR_SCRIPT
        proc = subprocess.run([sys.executable, str(script), *args, "--once", "--kube-server", server,
                               "--kube-token-file", str(tmp_path / "token"), "--kube-ca-file", str(hub_ca)],
                              env={**nf.flower_env(tmp_path / "registrar-home", federation.bin_dir)},
                              capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        actions = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
        assert [(a["verb"], a["cluster"]) for a in actions] == [("register", "cluster1")], proc.stdout + proc.stderr
        fingerprint = federation.registrar_mod.fingerprint(key.public_key())
        monkeypatch.setenv("FLWR_HOME", str(federation.cli_home))  # the operator's view of the SuperLink
        nodes = federation.nodes()
        assert [(n.name, n.fingerprint) for n in nodes if n.name == "ocm:cluster1"] == [("ocm:cluster1", fingerprint)]
    finally:
        nf.stop_all(federation.processes)


def test_the_registrar_may_read_only_what_it_needs(fleet, releases, selector):
    """Least privilege, checked by the real API server: the registrar's ServiceAccount reads CSRs and
    ManagedClusterAddOns, and nothing else (no Secrets, no writes)."""
    release = releases("authrbac", NAMESPACE)
    release.install(placed_on(selector, **{"global": {"nodeAuth": {"enabled": True}}}))
    account = next(o for o in release.manifest() if o["kind"] == "Deployment"
                   and o["metadata"]["name"].endswith("node-auth-registrar"))["spec"]["template"]["spec"]["serviceAccountName"]
    user = f"system:serviceaccount:{NAMESPACE}:{account}"
    authz = client.AuthorizationV1Api(fleet.api())

    def allowed(verb: str, resource: str, group: str, namespace: str | None = None) -> bool:
        review = {"spec": {"user": user, "groups": ["system:serviceaccounts", f"system:serviceaccounts:{NAMESPACE}"],
                           "resourceAttributes": {"verb": verb, "resource": resource, "group": group,
                                                  **({"namespace": namespace} if namespace else {})}}}
        return authz.create_subject_access_review(review).status.allowed

    for verb in ("get", "list", "watch"):
        assert allowed(verb, "certificatesigningrequests", "certificates.k8s.io")
        assert allowed(verb, "managedclusteraddons", "addon.open-cluster-management.io", "cluster1")
    for verb, resource, group, namespace in [("get", "secrets", "", NAMESPACE), ("list", "secrets", "", None),
                                             ("update", "certificatesigningrequests/approval", "certificates.k8s.io", None),
                                             ("create", "managedclusteraddons", "addon.open-cluster-management.io", "cluster1"),
                                             ("delete", "managedclusteraddons", "addon.open-cluster-management.io", "cluster1")]:
        assert not allowed(verb, resource, group, namespace), f"{user} may {verb} {resource}"
