"""SuperNode key registrar: registers the keys OCM issues to managed clusters with the SuperLink.

Runs on the hub (Deployment <release>-node-auth-registrar, rendered with global.nodeAuth.enabled),
in the ServerApp SuperExec image (it has Python, `cryptography` and the `flwr` package).

How a SuperNode gets its key: OCM's registration agent on the managed cluster makes an EC P-256
key, sends a CSR with signer flower.ai/supernode-auth to the hub, the hub's addon manager
approves and signs it (AddOnTemplate registration type CustomSigner), and the agent stores
key and certificate in a Secret that the SuperNode mounts. The private key never leaves the
managed cluster; the hub only ever sees the public key, in the CSR and in the issued certificate.

What this program does, level-triggered and idempotent (every resync and on every watch event):
  1. lists this addon's ManagedClusterAddOns (a cluster has the addon = it may have a SuperNode);
  2. lists the CSRs of the signer; an issued one counts only if its requester really is that
     cluster's agent (spec.username, not the labels: labels are hints anyone can set), its
     certificate is signed by this release's node-auth CA and holds the CSR's own public key;
  3. registers the newest such key of every cluster with the SuperLink's Control API
     (the RegisterNode call `flwr supernode register` makes; node name "ocm:<cluster>");
  4. unregisters the SuperNodes of clusters that no longer have the addon, and keys superseded
     by a certificate rotation once the new key's SuperNode is online (or after a grace period).
Its record of cluster -> keys is the SuperLink itself (ListNodes returns each node's name and
public key), so a restart loses nothing; CSRs are garbage-collected by Kubernetes after an hour.
Only nodes whose name starts with "ocm:" are ever unregistered: keys an operator registers by
hand are left alone. One bad object is logged and skipped, never fatal.

The Kubernetes API is spoken with the standard library only (ServiceAccount token, in-cluster CA).
The Control API is spoken through the flwr package of the image (the code `flwr supernode
register/unregister/list` runs): the CLI's JSON output lacks the node names and public keys
needed to rebuild the record, exits 0 on failure, and costs ~2 s of start-up per call.
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import json
import logging
import os
import signal
import ssl
import sys
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

LOG = logging.getLogger("node-auth-registrar")

SIGNER_NAME = "flower.ai/supernode-auth"
NODE_NAME_PREFIX = "ocm:"
CLUSTER_LABEL = "open-cluster-management.io/cluster-name"
ADDON_LABEL = "open-cluster-management.io/addon-name"
# The OCM hub's gRPC server creates CSRs on behalf of agents in gRPC registration mode and
# records the agent in this annotation (addon-framework DefaultCSRApprover does the same).
GRPC_SERVER_USER = "system:serviceaccount:open-cluster-management-hub:grpc-server-sa"
CSR_USER_ANNOTATION = "open-cluster-management.io/csr-user"
AGENT_USER_PREFIX = "system:open-cluster-management:"
NIST_CURVES = (ec.SECP192R1, ec.SECP224R1, ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
# Flower API error codes (flwr.common.constant / FlowerError JSON "code").
FLOWER_PUBLIC_KEY_IN_USE = 23
FLOWER_NODE_NOT_FOUND = 24


# ------------------------------------------------------------------------------- keys


def fingerprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """OpenSSH-style fingerprint (the launcher on the managed cluster logs the same)."""
    line = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def verify_issued_by(cert: x509.Certificate, ca: x509.Certificate) -> None:
    """Raise InvalidSignature/ValueError unless `ca` signed `cert` (RSA or EC CA)."""
    if cert.issuer != ca.subject:
        raise ValueError("issuer does not match the node-auth CA")
    ca_key = ca.public_key()
    if isinstance(ca_key, rsa.RSAPublicKey):
        ca_key.verify(cert.signature, cert.tbs_certificate_bytes, padding.PKCS1v15(), cert.signature_hash_algorithm)
    elif isinstance(ca_key, ec.EllipticCurvePublicKey):
        ca_key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(cert.signature_hash_algorithm))
    else:
        raise ValueError(f"unsupported CA key type {type(ca_key).__name__}")


# ------------------------------------------------------------------------------- CSRs


class Rejected(ValueError):
    """An issued CSR of the signer that must not be trusted (logged once, skipped)."""


@dataclass(frozen=True)
class IssuedKey:
    cluster: str
    csr: str
    created: str  # RFC 3339 creationTimestamp (sorts chronologically)
    public_key: ec.EllipticCurvePublicKey = field(compare=False, repr=False)
    fingerprint: str


def requester(csr: dict) -> str:
    spec = csr.get("spec") or {}
    user = spec.get("username") or ""
    if user == GRPC_SERVER_USER:
        user = ((csr.get("metadata") or {}).get("annotations") or {}).get(CSR_USER_ANNOTATION, "")
    return user


def _condition(csr: dict, kind: str) -> bool:
    return any(c.get("type") == kind and c.get("status", "True") == "True" for c in (csr.get("status") or {}).get("conditions") or [])


def parse_issued_csr(csr: dict, addon: str, ca: x509.Certificate | None, signer: str = SIGNER_NAME) -> IssuedKey | None:
    """The key an issued CSR certifies, None if not (yet) issued, Rejected if untrustworthy."""
    meta = csr.get("metadata") or {}
    spec = csr.get("spec") or {}
    if spec.get("signerName") != signer:
        return None
    labels = meta.get("labels") or {}
    if labels.get(ADDON_LABEL) != addon:
        return None  # another addon (another Flower release) using the same signer
    if _condition(csr, "Denied") or _condition(csr, "Failed") or not _condition(csr, "Approved"):
        return None
    cert_b64 = (csr.get("status") or {}).get("certificate")
    if not cert_b64:
        return None
    cluster = labels.get(CLUSTER_LABEL) or ""
    if not cluster:
        raise Rejected("no cluster-name label")
    user = requester(csr)
    if not user.startswith(f"{AGENT_USER_PREFIX}{cluster}:"):
        raise Rejected(f"requested by {user!r}, not by an agent of cluster {cluster!r}")
    if ca is None:
        raise Rejected("the node-auth CA certificate is not available to check the signature")
    try:
        cert = x509.load_pem_x509_certificate(base64.b64decode(cert_b64))
        verify_issued_by(cert, ca)
    except (ValueError, TypeError, InvalidSignature) as err:
        raise Rejected(f"certificate not issued by this release's node-auth CA: {err or type(err).__name__}") from None
    try:
        request = x509.load_pem_x509_csr(base64.b64decode(spec.get("request") or ""))
    except (ValueError, TypeError) as err:
        raise Rejected(f"unreadable spec.request: {err}") from None
    public_key = cert.public_key()
    if public_key != request.public_key():
        raise Rejected("the certificate's key is not the CSR's key")
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or not isinstance(public_key.curve, NIST_CURVES):
        raise Rejected(f"not a NIST EC key ({type(public_key).__name__}); Flower rejects it")
    return IssuedKey(cluster, meta.get("name", ""), meta.get("creationTimestamp", ""), public_key, fingerprint(public_key))


# ------------------------------------------------------------------------------- Flower


@dataclass
class Node:
    node_id: int
    name: str
    status: str  # registered, online, offline, unregistered
    fingerprint: str | None
    registered_at: dt.datetime

    @property
    def cluster(self) -> str | None:
        return self.name[len(NODE_NAME_PREFIX):] if self.name.startswith(NODE_NAME_PREFIX) else None


class FlowerError(RuntimeError):
    def __init__(self, message: str, code: int | None = None):
        super().__init__(message)
        self.code = code


class Flower(Protocol):
    def list_nodes(self) -> list[Node]: ...
    def register(self, public_key: ec.EllipticCurvePublicKey, name: str) -> int: ...
    def unregister(self, node_id: int) -> None: ...


def _parse_time(value: str) -> dt.datetime:
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return dt.datetime.min.replace(tzinfo=dt.UTC)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


class ControlApi:
    """The SuperLink's Control API through the flwr package (what the `flwr` CLI runs).

    The connection is read from $FLWR_HOME/config.toml like `flwr ... <connection>` does.
    """

    def __init__(self, connection: str):
        self.connection = connection
        self._client: Any = None

    def _stub(self) -> Any:
        if self._client is None:
            # pylint: disable=import-outside-toplevel
            from flwr.cli.flower_config import read_superlink_connection
            from flwr.cli.utils import init_http_client_from_connection

            self._client = init_http_client_from_connection(read_superlink_connection(self.connection))
        return self._client

    def _call(self, method: str, request: Any) -> Any:
        try:
            return getattr(self._stub(), method)(request)
        except Exception as err:  # httpx errors, transport errors
            response = getattr(err, "response", None)
            code, message = None, str(err)
            if response is not None:
                try:
                    body = json.loads(response.text)
                    code = body.get("code") if isinstance(body, dict) else None
                    message = (body.get("message") or body.get("detail") or message) if isinstance(body, dict) else message
                except ValueError:
                    pass
            else:
                self.close()  # transport error: reconnect next time
            raise FlowerError(f"{method}: {message}", code if isinstance(code, int) else None) from None

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            finally:
                self._client = None

    def list_nodes(self) -> list[Node]:
        from flwr.proto.control_pb2 import ListNodesRequest  # pylint: disable=import-outside-toplevel,no-name-in-module

        nodes = []
        for info in self._call("ListNodes", ListNodesRequest()).nodes_info:
            fp = None
            if info.public_key:
                try:
                    key = serialization.load_pem_public_key(info.public_key)
                    if isinstance(key, ec.EllipticCurvePublicKey):
                        fp = fingerprint(key)
                except ValueError:
                    pass
            nodes.append(Node(int(info.node_id), info.name, info.status, fp, _parse_time(info.registered_at)))
        return nodes

    def register(self, public_key: ec.EllipticCurvePublicKey, name: str) -> int:
        # pylint: disable=import-outside-toplevel,no-name-in-module
        from flwr.proto.control_pb2 import RegisterNodeRequest
        from flwr.supercore.primitives.asymmetric import public_key_to_bytes

        response = self._call("RegisterNode", RegisterNodeRequest(public_key=public_key_to_bytes(public_key), name=name))
        if not response.node_id:
            raise FlowerError("RegisterNode returned no node id")
        return int(response.node_id)

    def unregister(self, node_id: int) -> None:
        from flwr.proto.control_pb2 import UnregisterNodeRequest  # pylint: disable=import-outside-toplevel,no-name-in-module

        self._call("UnregisterNode", UnregisterNodeRequest(node_id=node_id))


def write_flwr_config(flwr_home: Path, connection: str, address: str, root_certificates: str | None) -> Path:
    """$FLWR_HOME/config.toml with one connection (also what `kubectl exec ... flwr supernode ls hub` uses)."""
    lines = ["[superlink]", f'default = "{connection}"', "", f"[superlink.{connection}]", f'address = "{address}"']
    lines.append(f'root-certificates = "{root_certificates}"' if root_certificates else "insecure = true")
    flwr_home.mkdir(parents=True, exist_ok=True)
    path = flwr_home / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


# ------------------------------------------------------------------------------- Kubernetes


class KubeError(RuntimeError):
    def __init__(self, message: str, status: int | None = None):
        super().__init__(message)
        self.status = status


class Kube:
    """A minimal Kubernetes API client (standard library; in-cluster ServiceAccount credentials)."""

    SA_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")

    def __init__(self, server: str | None = None, token_file: Path | None = None, ca_file: Path | None = None, timeout: float = 30.0):
        if server is None:
            host, port = os.environ["KUBERNETES_SERVICE_HOST"], os.environ.get("KUBERNETES_SERVICE_PORT", "443")
            server = f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
        self.server = server.rstrip("/")
        self.token_file = token_file if token_file is not None else self.SA_DIR / "token"
        ca_file = ca_file if ca_file is not None else self.SA_DIR / "ca.crt"
        self.timeout = timeout
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
        if self.server.startswith("https://"):
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(ca_file))))
        self._opener = urllib.request.build_opener(*handlers)

    def _request(self, path: str, params: dict[str, str], timeout: float) -> Any:
        url = f"{self.server}{path}?{urllib.parse.urlencode(params)}" if params else f"{self.server}{path}"
        req = urllib.request.Request(url, headers={"Accept": "application/json"})
        try:
            token = self.token_file.read_text().strip()  # re-read: projected tokens rotate
        except OSError:
            token = ""
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        try:
            return self._opener.open(req, timeout=timeout)
        except urllib.error.HTTPError as err:
            body = err.read(2000).decode(errors="replace")
            raise KubeError(f"GET {path}: HTTP {err.code}: {body}", err.code) from None
        except (urllib.error.URLError, OSError) as err:
            raise KubeError(f"GET {path}: {err}") from None

    def list(self, path: str, params: dict[str, str] | None = None) -> tuple[list[dict], str]:
        """All items (follows `continue`) and the list's resourceVersion."""
        items: list[dict] = []
        query = dict(params or {}, limit="500")
        while True:
            with self._request(path, query, self.timeout) as resp:
                body = json.load(resp)
            items += body.get("items") or []
            meta = body.get("metadata") or {}
            if not meta.get("continue"):
                return items, meta.get("resourceVersion", "")
            query["continue"] = meta["continue"]

    def watch(self, path: str, params: dict[str, str], resource_version: str, timeout_seconds: int = 300) -> Iterator[dict]:
        query = dict(params, watch="1", allowWatchBookmarks="true", timeoutSeconds=str(timeout_seconds))
        if resource_version:
            query["resourceVersion"] = resource_version
        with self._request(path, query, timeout_seconds + 30) as resp:
            for line in resp:
                if line.strip():
                    yield json.loads(line)


class Cluster:
    """What the registrar reads from the hub."""

    CSR_PATH = "/apis/certificates.k8s.io/v1/certificatesigningrequests"
    MCA_PATHS = (
        "/apis/addon.open-cluster-management.io/v1beta1/managedclusteraddons",
        "/apis/addon.open-cluster-management.io/v1alpha1/managedclusteraddons",
    )

    def __init__(self, kube: Kube, addon: str, signer: str = SIGNER_NAME):
        self.kube = kube
        self.addon = addon
        self.signer = signer
        self._mca_path: str | None = None

    @property
    def csr_query(self) -> tuple[str, dict[str, str]]:
        return self.CSR_PATH, {"fieldSelector": f"spec.signerName={self.signer}"}

    @property
    def mca_query(self) -> tuple[str, dict[str, str]]:
        if self._mca_path is None:
            for path in self.MCA_PATHS:  # v1beta1 where served, else v1alpha1 (older hubs)
                try:
                    self.kube.list(path, {"fieldSelector": f"metadata.name={self.addon}", "limit": "1"})
                except KubeError as err:
                    if err.status == 404:
                        continue
                    raise
                self._mca_path = path
                break
            else:
                raise KubeError("ManagedClusterAddOn API not served (is this an OCM hub?)", 404)
        return self._mca_path, {"fieldSelector": f"metadata.name={self.addon}"}

    def addon_clusters(self) -> set[str]:
        """Clusters that have this addon (and are not removing it)."""
        path, params = self.mca_query
        items, _ = self.kube.list(path, params)
        return {
            (i.get("metadata") or {}).get("namespace", "")
            for i in items
            if (i.get("metadata") or {}).get("name") == self.addon and not (i.get("metadata") or {}).get("deletionTimestamp")
        } - {""}

    def csrs(self) -> list[dict]:
        path, params = self.csr_query
        return self.kube.list(path, params)[0]


# ------------------------------------------------------------------------------- reconcile


@dataclass(frozen=True)
class Action:
    verb: str  # register, unregister
    cluster: str
    node_id: int
    fingerprint: str | None
    reason: str


class Registrar:
    def __init__(
        self,
        cluster: Cluster,
        flower: Flower,
        ca_file: Path | None,
        superseded_grace: float = 900.0,
        now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ):
        self.cluster = cluster
        self.flower = flower
        self.ca_file = ca_file
        self.superseded_grace = dt.timedelta(seconds=superseded_grace)
        self.now = now
        self._warned: set[tuple[str, str]] = set()

    def _warn_once(self, key: tuple[str, str], message: str, *args: object) -> None:
        if key not in self._warned:
            self._warned.add(key)
            LOG.warning(message, *args)

    def load_ca(self) -> x509.Certificate | None:
        if self.ca_file is None:
            return None
        try:
            return x509.load_pem_x509_certificate(self.ca_file.read_bytes())  # re-read: the Secret may change
        except (OSError, ValueError) as err:
            self._warn_once(("ca", str(err)), "cannot read the node-auth CA %s: %s", self.ca_file, err)
            return None

    def desired_keys(self, clusters: set[str], csrs: list[dict]) -> dict[str, IssuedKey]:
        """The newest trustworthy issued key of every cluster that has the addon."""
        ca = self.load_ca()
        newest: dict[str, IssuedKey] = {}
        for obj in csrs:
            name = (obj.get("metadata") or {}).get("name", "?")
            try:
                key = parse_issued_csr(obj, self.cluster.addon, ca, self.cluster.signer)
            except Rejected as err:
                self._warn_once(("csr", name), "ignoring CSR %s: %s", name, err)
                continue
            except Exception as err:  # pylint: disable=broad-except
                self._warn_once(("csr", name), "ignoring CSR %s: unexpected %s: %s", name, type(err).__name__, err)
                continue
            if key is None:
                continue
            if key.cluster not in clusters:
                self._warn_once(("csr", name), "ignoring CSR %s: cluster %s does not have the addon", name, key.cluster)
                continue
            cur = newest.get(key.cluster)
            if cur is None or (key.created, key.csr) > (cur.created, cur.csr):
                newest[key.cluster] = key
        return newest

    def reconcile(self) -> list[Action]:
        """One pass. Raises (and changes nothing) when the hub or the SuperLink cannot be read."""
        clusters = self.cluster.addon_clusters()
        csrs = self.cluster.csrs()
        nodes = self.flower.list_nodes()
        desired = self.desired_keys(clusters, csrs)
        actions: list[Action] = []
        by_fp = {n.fingerprint: n for n in nodes if n.fingerprint}

        # 1. Register every cluster's newest key.
        current: dict[str, int] = {}
        for cluster, key in sorted(desired.items()):
            node = by_fp.get(key.fingerprint)
            if node is None:
                try:
                    node_id = self.flower.register(key.public_key, NODE_NAME_PREFIX + cluster)
                except FlowerError as err:
                    LOG.error("cluster %s: registering key %s (CSR %s) failed: %s", cluster, key.fingerprint, key.csr, err)
                    continue
                LOG.info("cluster %s: registered key %s (CSR %s) as SuperNode %d", cluster, key.fingerprint, key.csr, node_id)
                node = Node(node_id, NODE_NAME_PREFIX + cluster, "registered", key.fingerprint, self.now())
                nodes.append(node)
                by_fp[key.fingerprint] = node
                actions.append(Action("register", cluster, node_id, key.fingerprint, f"CSR {key.csr}"))
            elif node.status == "unregistered":
                self._warn_once(
                    ("unregistered", key.fingerprint),
                    "cluster %s: key %s (CSR %s) was unregistered before and Flower never accepts it again; "
                    "the SuperNode waits for OCM's next certificate rotation (or delete the client certificate "
                    "Secret on the cluster to get a new key now)", cluster, key.fingerprint, key.csr,
                )
                continue
            elif node.cluster != cluster:
                self._warn_once(
                    ("foreign", key.fingerprint),
                    "cluster %s: key %s (CSR %s) is already registered as SuperNode %d named %r; left alone",
                    cluster, key.fingerprint, key.csr, node.node_id, node.name,
                )
                continue
            current[cluster] = node.node_id

        # 2. Unregister departed clusters and superseded keys (only nodes this program names).
        owned: dict[str, list[Node]] = defaultdict(list)
        for node in nodes:
            if node.cluster is not None and node.status != "unregistered":
                owned[node.cluster].append(node)
        now = self.now()
        for cluster, group in sorted(owned.items()):
            if cluster not in clusters:
                for node in group:
                    self._unregister(node, cluster, "the cluster no longer has the addon", actions)
                continue
            group.sort(key=lambda n: (n.registered_at, n.node_id))
            keep = next((n for n in group if n.node_id == current.get(cluster)), group[-1])
            for node in group:
                if node is keep:
                    continue
                if keep.status == "online":
                    self._unregister(node, cluster, f"superseded by SuperNode {keep.node_id}, which is online", actions)
                elif now - keep.registered_at >= self.superseded_grace:
                    self._unregister(node, cluster, f"superseded by SuperNode {keep.node_id} {self.superseded_grace} ago", actions)
        return actions

    def _unregister(self, node: Node, cluster: str, reason: str, actions: list[Action]) -> None:
        try:
            self.flower.unregister(node.node_id)
        except FlowerError as err:
            if err.code != FLOWER_NODE_NOT_FOUND:
                LOG.error("cluster %s: unregistering SuperNode %d failed: %s", cluster, node.node_id, err)
                return
        LOG.info("cluster %s: unregistered SuperNode %d (key %s): %s", cluster, node.node_id, node.fingerprint, reason)
        node.status = "unregistered"
        actions.append(Action("unregister", cluster, node.node_id, node.fingerprint, reason))


# ------------------------------------------------------------------------------- main loop


class Loop:
    """Reconcile on start, on every watch event (debounced) and every resync period."""

    def __init__(self, registrar: Registrar, resync: float, heartbeat: Path | None = None, debounce: float = 1.0):
        self.registrar = registrar
        self.resync = resync
        self.heartbeat = heartbeat
        self.debounce = debounce
        self.wake = threading.Event()
        self.stop = threading.Event()

    def _watch(self, query: Callable[[], tuple[str, dict[str, str]]], what: str) -> None:
        kube = self.registrar.cluster.kube
        backoff = 1.0
        while not self.stop.is_set():
            try:
                path, params = query()
                _, rv = kube.list(path, dict(params, limit="1"))
                for event in kube.watch(path, params, rv):
                    if self.stop.is_set():
                        return
                    backoff = 1.0
                    if event.get("type") == "ERROR":
                        break  # e.g. 410 Gone: list again
                    if event.get("type") != "BOOKMARK":
                        self.wake.set()
            except Exception as err:  # pylint: disable=broad-except
                LOG.warning("watching %s: %s (retrying in %.0fs)", what, err, backoff)
                self.stop.wait(backoff)
                backoff = min(backoff * 2, 60.0)

    def run(self, watch: bool = True) -> None:
        if watch:
            for query, what in ((lambda: self.registrar.cluster.csr_query, "CSRs"), (lambda: self.registrar.cluster.mca_query, "ManagedClusterAddOns")):
                threading.Thread(target=self._watch, args=(query, what), daemon=True, name=f"watch-{what}").start()
        while not self.stop.is_set():
            try:
                actions = self.registrar.reconcile()
                LOG.debug("reconciled: %d action(s)", len(actions))
            except Exception as err:  # pylint: disable=broad-except
                LOG.error("reconcile failed (nothing changed, retrying): %s", err)
            if self.heartbeat is not None:  # the loop is alive (liveness probe), whatever the hub's state
                self.heartbeat.touch()
            self.wake.wait(self.resync)
            if self.wake.is_set():
                self.stop.wait(self.debounce)
                self.wake.clear()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--addon-name", required=True)
    parser.add_argument("--signer-name", default=SIGNER_NAME)
    parser.add_argument("--superlink", required=True, help="host:port of the SuperLink's API")
    parser.add_argument("--root-certificates", help="CA bundle of the SuperLink's TLS certificate")
    parser.add_argument("--node-auth-ca", type=Path, required=True, help="certificate of the CA that signs the SuperNodes' CSRs")
    parser.add_argument("--superseded-grace-seconds", type=float, default=900.0)
    parser.add_argument("--resync-seconds", type=float, default=60.0)
    parser.add_argument("--heartbeat-file", type=Path)
    parser.add_argument("--kube-server", help="API server URL (default: in-cluster)")
    parser.add_argument("--kube-token-file", type=Path, help="bearer token file (default: the in-cluster ServiceAccount's)")
    parser.add_argument("--kube-ca-file", type=Path, help="API server CA bundle (default: the in-cluster ServiceAccount's)")
    parser.add_argument("--no-watch", action="store_true")
    parser.add_argument("--once", action="store_true", help="reconcile once and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=os.environ.get("REGISTRAR_LOG_LEVEL", "INFO"), format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)

    flwr_home = Path(os.environ.get("FLWR_HOME", Path.home() / ".flwr"))
    write_flwr_config(flwr_home, "hub", args.superlink, args.root_certificates)
    registrar = Registrar(
        Cluster(Kube(args.kube_server, args.kube_token_file, args.kube_ca_file), args.addon_name, args.signer_name),
        ControlApi("hub"),
        args.node_auth_ca,
        args.superseded_grace_seconds,
    )
    if args.once:
        for action in registrar.reconcile():
            print(json.dumps(action.__dict__))
        return 0
    loop = Loop(registrar, args.resync_seconds, args.heartbeat_file)
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: (loop.stop.set(), loop.wake.set()))
    LOG.info("registering SuperNode keys of addon %s (signer %s) with the SuperLink at %s", args.addon_name, args.signer_name, args.superlink)
    loop.run(watch=not args.no_watch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
