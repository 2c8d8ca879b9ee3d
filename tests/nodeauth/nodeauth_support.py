"""Test doubles for SuperNode authentication: what OCM does on the agent and on the hub (key,
CSR, signature, exactly as upstream code does it), a fake Kubernetes API server (real HTTP,
with RBAC-like refusal of anything the registrar may not do) and an in-memory SuperLink.

Upstream behaviour reproduced here (open-cluster-management-io/ocm):
- pkg/registration/register/csr/csr.go: the agent makes the key with
  keyutil.MakeEllipticPrivateKeyPEM (ECDSA P-256, PEM "EC PRIVATE KEY") and a CSR named
  addon-<cluster>-<addon>-*, labels open-cluster-management.io/cluster-name and
  open-cluster-management.io/addon-name ("only hints"), DNS name <addon>.addon.open-cluster-management.io;
- pkg/addon/templateagent/registration.go: CustomSigner CSRs are approved unconditionally and
  signed for 24 h with the CA Secret of signingCA (its key re-encoded, then parsed as PKCS#1 RSA
  by addon-framework utils.DefaultSignerWithExpiry, so the CA must be RSA);
- addon-framework utils.signCSR: subject and SANs copied from the CSR, key usages fixed to
  digital signature + key encipherment, extended usages server + client auth;
- pkg/addon/templateagent/decorator.go: the Secret <addon>-<signer, / -> ->-client-cert is
  mounted into every container at /managed/<signer, / -> -> as volume cert-<signer, / and . -> ->.
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import importlib.util
import json
import os
import secrets
import sys
import threading
import time
import urllib.parse
import warnings
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "flower-federation"
REGISTRAR_SCRIPT = CHART / "charts" / "flower-superlink" / "files" / "node_auth_registrar.py"
LAUNCHER_SCRIPT = CHART / "files" / "node-auth" / "supernode_key.py"
SIGNER = "flower.ai/supernode-auth"
CSR_PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
MCA_PATHS = {
    "v1beta1": "/apis/addon.open-cluster-management.io/v1beta1/managedclusteraddons",
    "v1alpha1": "/apis/addon.open-cluster-management.io/v1alpha1/managedclusteraddons",
}


def load_script(path: Path, name: str) -> ModuleType:
    """Import a chart-shipped script by path (once per session)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def registrar_module() -> ModuleType:
    return load_script(REGISTRAR_SCRIPT, "node_auth_registrar")


def launcher_module() -> ModuleType:
    return load_script(LAUNCHER_SCRIPT, "supernode_key")


# ----------------------------------------------------------------------------- OCM naming


def client_cert_secret_name(addon: str, signer: str = SIGNER) -> str:
    return f"{addon}-{signer.replace('/', '-')}-client-cert"  # templateagent.CustomSignedSecretName


def client_cert_mount_dir(signer: str = SIGNER) -> str:
    return "/managed/" + signer.replace("/", "-")  # templateagent.customSignedSecretMountPath


def client_cert_volume_name(signer: str = SIGNER) -> str:
    return "cert-" + signer.replace("/", "-").replace(".", "-")  # volumeDecorator


def ocm_decorate(deployment: dict, addon: str, signer: str = SIGNER) -> dict:
    """What OCM's template agent adds to a Deployment with a CustomSigner registration."""
    spec = deployment["spec"]["template"]["spec"]
    spec.setdefault("volumes", []).append(
        {"name": client_cert_volume_name(signer), "secret": {"secretName": client_cert_secret_name(addon, signer)}}
    )
    for c in spec["containers"]:  # containers only: init containers get nothing
        c.setdefault("volumeMounts", []).append({"name": client_cert_volume_name(signer), "mountPath": client_cert_mount_dir(signer)})
    return deployment


def default_user(cluster: str, addon: str) -> str:
    """agent.DefaultUser: the CSR subject when the registration sets none."""
    return f"system:open-cluster-management:cluster:{cluster}:addon:{addon}:agent:{addon}"


def default_groups(cluster: str, addon: str) -> list[str]:
    return [f"system:open-cluster-management:cluster:{cluster}:addon:{addon}", f"system:open-cluster-management:addon:{addon}"]


def agent_username(cluster: str) -> str:
    """Who creates addon CSRs on the hub: the cluster's klusterlet registration agent."""
    return f"system:open-cluster-management:{cluster}:agent-{cluster[:5]}"


# ----------------------------------------------------------------------------- OCM crypto


def ocm_agent_key(curve: ec.EllipticCurve | None = None) -> bytes:
    """keyutil.MakeEllipticPrivateKeyPEM: ECDSA P-256, SEC1 DER in PEM 'EC PRIVATE KEY'."""
    key = ec.generate_private_key(curve or ec.SECP256R1())
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption())


def ocm_csr(key_pem: bytes, cluster: str, addon: str) -> bytes:
    """certutil.MakeCSR with the registration's subject and the addon DNS name."""
    key = serialization.load_pem_private_key(key_pem, None)
    warnings.filterwarnings("ignore", message="Attribute's length must be", category=UserWarning)
    name = x509.Name(
        [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in default_groups(cluster, addon)]
        + [x509.NameAttribute(NameOID.COMMON_NAME, default_user(cluster, addon), _validate=False)]  # Go allows > 64 chars
    )
    builder = x509.CertificateSigningRequestBuilder().subject_name(name).add_extension(
        x509.SubjectAlternativeName([x509.DNSName(f"{addon}.addon.open-cluster-management.io")]), critical=False
    )
    algorithm = hashes.SHA256() if isinstance(key, (ec.EllipticCurvePrivateKey, rsa.RSAPrivateKey)) else None  # ed25519: none
    return builder.sign(key, algorithm).public_bytes(serialization.Encoding.PEM)


def ocm_sign(csr_pem: bytes, ca_cert_pem: bytes, ca_key_pem: bytes, duration: dt.timedelta = dt.timedelta(hours=24)) -> bytes:
    """addon-framework signCSR via CustomSignerWithExpiry (24 h, RSA CA only)."""
    ca_key = _load_key(ca_key_pem)
    if not isinstance(ca_key, rsa.RSAPrivateKey):
        raise ValueError("OCM's CustomSigner parses the CA key as PKCS#1 RSA: failed to parse key")
    ca = x509.load_pem_x509_certificate(ca_cert_pem)
    request = x509.load_pem_x509_csr(csr_pem)
    now = dt.datetime.now(dt.UTC)
    not_after = min(now + duration, ca.not_valid_after_utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(request.subject)
        .issuer_name(ca.subject)
        .public_key(request.public_key())
        .serial_number(secrets.randbits(127))
        .not_valid_before(now)
        .not_valid_after(not_after)
        .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    )
    for ext in request.extensions:
        if isinstance(ext.value, x509.SubjectAlternativeName):
            builder = builder.add_extension(ext.value, critical=ext.critical)
    return builder.sign(ca_key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


@functools.lru_cache(maxsize=16)
def _load_key(pem: bytes) -> Any:
    return serialization.load_pem_private_key(pem, None)  # RSA loading checks the key: slow, cache it


def make_ca(cn: str = "test CA", rsa_key: bool = True) -> tuple[bytes, bytes]:
    """A CA like Helm's genCA (RSA 2048, PKCS#1 PEM) or, rsa_key=False, an EC one."""
    key = rsa.generate_private_key(65537, 2048) if rsa_key else ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(secrets.randbits(127)).not_valid_before(now - dt.timedelta(minutes=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    fmt = serialization.PrivateFormat.TraditionalOpenSSL
    return cert.public_bytes(serialization.Encoding.PEM), key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption())


def public_key_of(key_pem: bytes) -> ec.EllipticCurvePublicKey:
    return serialization.load_pem_private_key(key_pem, None).public_key()


_counter = iter(range(1, 1_000_000))


def csr_object(
    cluster: str,
    addon: str,
    request_pem: bytes,
    cert_pem: bytes | None,
    *,
    username: str | None = None,
    created: dt.datetime | None = None,
    approved: bool = True,
    denied: bool = False,
    signer: str = SIGNER,
    label_cluster: str | None = None,
    annotations: dict[str, str] | None = None,
) -> dict:
    """A CertificateSigningRequest as the Kubernetes API returns it."""
    created = created or dt.datetime.now(dt.UTC)
    conditions = []
    if approved:
        conditions.append({"type": "Approved", "status": "True", "reason": "AutoApprovedByHubCSRApprovingController"})
    if denied:
        conditions.append({"type": "Denied", "status": "True"})
    status: dict[str, Any] = {"conditions": conditions}
    if cert_pem is not None:
        status["certificate"] = base64.b64encode(cert_pem).decode()
    meta: dict[str, Any] = {
        "name": f"addon-{cluster}-{addon}-{next(_counter):05d}",
        "creationTimestamp": created.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "labels": {"open-cluster-management.io/cluster-name": label_cluster or cluster, "open-cluster-management.io/addon-name": addon},
    }
    if annotations:
        meta["annotations"] = annotations
    return {
        "apiVersion": "certificates.k8s.io/v1",
        "kind": "CertificateSigningRequest",
        "metadata": meta,
        "spec": {
            "request": base64.b64encode(request_pem).decode(),
            "signerName": signer,
            "usages": ["digital signature", "key encipherment", "client auth"],
            "username": username if username is not None else agent_username(cluster),
            "groups": ["system:open-cluster-management:managed-clusters", "system:authenticated"],
        },
        "status": status,
    }


def mca_object(cluster: str, addon: str, deleting: bool = False) -> dict:
    meta: dict[str, Any] = {"name": addon, "namespace": cluster}
    if deleting:
        meta["deletionTimestamp"] = "2026-01-01T00:00:00Z"
        meta["finalizers"] = ["addon.open-cluster-management.io/addon-pre-delete"]
    return {"apiVersion": "addon.open-cluster-management.io/v1alpha1", "kind": "ManagedClusterAddOn", "metadata": meta, "spec": {}}


@dataclass
class Agent:
    """One managed cluster's OCM registration agent for the addon: key, CSR, signed cert."""

    cluster: str
    addon: str
    key_pem: bytes = field(default_factory=ocm_agent_key)
    cert_pem: bytes | None = None
    csr: dict | None = None

    def request(self, ca_cert: bytes, ca_key: bytes, *, created: dt.datetime | None = None, **kw: Any) -> dict:
        csr_pem = ocm_csr(self.key_pem, self.cluster, self.addon)
        self.cert_pem = ocm_sign(csr_pem, ca_cert, ca_key)
        self.csr = csr_object(self.cluster, self.addon, csr_pem, self.cert_pem, created=created, **kw)
        return self.csr

    def rotate(self, ca_cert: bytes, ca_key: bytes, **kw: Any) -> dict:
        """Certificate rotation: always a NEW key (csr.go makes one for every CSR)."""
        self.key_pem = ocm_agent_key()
        return self.request(ca_cert, ca_key, **kw)

    def write_secret(self, mount_dir: Path) -> None:
        """Project tls.crt/tls.key the way kubelet does (..data symlink swapped atomically)."""
        mount_dir.mkdir(parents=True, exist_ok=True)
        stamp = f"..{time.time_ns()}"
        data = mount_dir / stamp
        data.mkdir()
        (data / "tls.key").write_bytes(self.key_pem)
        (data / "tls.crt").write_bytes(self.cert_pem or b"")
        tmp = mount_dir / "..data_tmp"
        if tmp.is_symlink():
            tmp.unlink()
        tmp.symlink_to(stamp)
        os.replace(tmp, mount_dir / "..data")
        for name in ("tls.key", "tls.crt"):
            link = mount_dir / name
            if not link.is_symlink():
                link.symlink_to(f"..data/{name}")


# ----------------------------------------------------------------------------- fake Kubernetes API


class FakeKube:
    """A Kubernetes API server on 127.0.0.1 with just what the registrar may read.

    GET list/watch of CSRs (fieldSelector spec.signerName) and ManagedClusterAddOns
    (fieldSelector metadata.name) in the served versions, with limit/continue paging.
    Anything else gets 403 (like the registrar's ClusterRole would); a wrong or missing
    bearer token gets 401. Every request is recorded.
    """

    def __init__(self, token: str = "t0ken", mca_versions: tuple[str, ...] = ("v1beta1", "v1alpha1"), page_size: int | None = None):
        self.token = token
        self.mca_versions = mca_versions
        self.page_size = page_size
        self.csrs: dict[str, dict] = {}
        self.mcas: dict[tuple[str, str], dict] = {}
        self.requests: list[tuple[str, str, dict[str, str], str | None]] = []
        self.fail_with: int | None = None
        self.rv = 1
        self.events: list[tuple[int, str, dict]] = []
        self._cond = threading.Condition()
        self._server: ThreadingHTTPServer | None = None

    # -- objects ------------------------------------------------------------------------

    def _event(self, kind: str, obj: dict) -> None:
        with self._cond:
            self.rv += 1
            obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
            self.events.append((self.rv, kind, obj))
            self._cond.notify_all()

    def add_csr(self, obj: dict) -> dict:
        self.csrs[obj["metadata"]["name"]] = obj
        self._event("ADDED", obj)
        return obj

    def delete_csr(self, name: str) -> None:
        obj = self.csrs.pop(name)
        self._event("DELETED", obj)

    def add_mca(self, obj: dict) -> dict:
        self.mcas[(obj["metadata"]["namespace"], obj["metadata"]["name"])] = obj
        self._event("ADDED", obj)
        return obj

    def delete_mca(self, cluster: str, name: str) -> None:
        obj = self.mcas.pop((cluster, name))
        self._event("DELETED", obj)

    # -- server -------------------------------------------------------------------------

    @property
    def url(self) -> str:
        assert self._server
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def __enter__(self) -> FakeKube:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def _send(self, code: int, body: dict) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _deny(self, code: int, reason: str) -> None:
                self._send(code, {"kind": "Status", "status": "Failure", "code": code, "reason": reason})

            def do_GET(self) -> None:  # noqa: N802
                fake._handle(self, "GET")

            def do_POST(self) -> None:  # noqa: N802
                fake._handle(self, "POST")

            do_PUT = do_POST
            do_PATCH = do_POST
            do_DELETE = do_POST

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server
        with self._cond:
            self._cond.notify_all()
        self._server.shutdown()
        self._server.server_close()

    def _served(self, path: str) -> bool:
        return path == CSR_PATH or any(path == MCA_PATHS[v] for v in self.mca_versions)

    @staticmethod
    def _matches(path: str, query: dict[str, str], obj: dict) -> bool:
        selector = query.get("fieldSelector", "")
        if path == CSR_PATH:
            if obj.get("kind") != "CertificateSigningRequest":
                return False
            return not selector.startswith("spec.signerName=") or obj["spec"]["signerName"] == selector.split("=", 1)[1]
        if obj.get("kind") != "ManagedClusterAddOn":
            return False
        return not selector.startswith("metadata.name=") or obj["metadata"]["name"] == selector.split("=", 1)[1]

    def _items(self, path: str, query: dict[str, str]) -> list[dict] | None:
        if not self._served(path):
            return None
        pool = self.csrs.values() if path == CSR_PATH else self.mcas.values()
        return [o for o in pool if self._matches(path, query, o)]

    def _handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        parsed = urllib.parse.urlsplit(h.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        auth = h.headers.get("Authorization")
        self.requests.append((method, parsed.path, query, auth))
        if auth != f"Bearer {self.token}":
            return h._deny(401, "Unauthorized")
        if method != "GET":
            return h._deny(403, "Forbidden")
        if self.fail_with:
            return h._deny(self.fail_with, "InternalError")
        items = self._items(parsed.path, query)
        if items is None:
            known = parsed.path == CSR_PATH or parsed.path in MCA_PATHS.values()
            return h._deny(404 if known else 403, "NotFound" if known else "Forbidden")
        if query.get("watch") in ("1", "true"):
            return self._watch(h, parsed.path, query)
        items = sorted(items, key=lambda o: (o["metadata"].get("namespace", ""), o["metadata"]["name"]))
        start = int(query.get("continue") or 0)
        limit = int(query.get("limit") or 0) or len(items) or 1
        if self.page_size:
            limit = min(limit, self.page_size)
        page = items[start : start + limit]
        meta = {"resourceVersion": str(self.rv)}
        if start + limit < len(items):
            meta["continue"] = str(start + limit)
        h._send(200, {"kind": "List", "apiVersion": "v1", "metadata": meta, "items": page})

    def _watch(self, h: BaseHTTPRequestHandler, path: str, query: dict[str, str]) -> None:
        since = int(query.get("resourceVersion") or self.rv)
        deadline = time.monotonic() + min(float(query.get("timeoutSeconds") or 5), 5.0)
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()

        def chunk(data: bytes) -> None:
            h.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
            h.wfile.flush()

        try:
            while time.monotonic() < deadline and self._server is not None:
                with self._cond:
                    pending = [(rv, k, o) for rv, k, o in self.events if rv > since]
                    if not pending:
                        self._cond.wait(0.2)
                        continue
                for rv, kind, obj in pending:
                    since = rv
                    if self._matches(path, query, obj):
                        chunk(json.dumps({"type": kind, "object": obj}).encode() + b"\n")
            chunk(b"")
        except (BrokenPipeError, ConnectionResetError):
            pass


# ----------------------------------------------------------------------------- fake SuperLink


class FakeFlower:
    """In-memory SuperLink Control API with Flower 1.41's node-auth rules (measured):
    a key is registered once, ever ("Public key already in use", code 23, also after it was
    unregistered); unregistering an unknown node fails with code 24."""

    def __init__(self, registrar: ModuleType, clock: Any = None):
        self.r = registrar
        self.nodes: list[Any] = []
        self.calls: list[tuple[str, Any]] = []
        self.fail_list = False
        self.fail_register: dict[str, int] = {}  # name -> error code
        self.clock = clock or (lambda: dt.datetime.now(dt.UTC))
        self._next = 1000

    def list_nodes(self) -> list[Any]:
        self.calls.append(("list", None))
        if self.fail_list:
            raise self.r.FlowerError("ListNodes: SuperLink unavailable")
        return [self.r.Node(n.node_id, n.name, n.status, n.fingerprint, n.registered_at) for n in self.nodes]

    def register(self, public_key: ec.EllipticCurvePublicKey, name: str) -> int:
        self.calls.append(("register", name))
        if name in self.fail_register:
            raise self.r.FlowerError("RegisterNode: failed", self.fail_register[name])
        fp = self.r.fingerprint(public_key)
        if any(n.fingerprint == fp for n in self.nodes):
            raise self.r.FlowerError("RegisterNode: Public key already in use.", 23)
        self._next += 1
        self.nodes.append(self.r.Node(self._next, name, "registered", fp, self.clock()))
        return self._next

    def unregister(self, node_id: int) -> None:
        self.calls.append(("unregister", node_id))
        for n in self.nodes:
            if n.node_id == node_id and n.status != "unregistered":
                n.status = "unregistered"
                return
        raise self.r.FlowerError(f"UnregisterNode: Node {node_id} not found", 24)

    def add_manual(self, public_key: ec.EllipticCurvePublicKey, name: str = "") -> int:
        self._next += 1
        self.nodes.append(self.r.Node(self._next, name, "online", self.r.fingerprint(public_key), self.clock()))
        return self._next

    def set_status(self, node_id: int, status: str) -> None:
        next(n for n in self.nodes if n.node_id == node_id).status = status

    def by_name(self, name: str) -> list[Any]:
        return [n for n in self.nodes if n.name == name]
