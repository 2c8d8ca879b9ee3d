"""A kubelet of processes: the test fleet's process nodes run the pods bound to them as local processes.

Every cluster of the fleet has, beside its kwok node, a node `process-node-0` that this module keeps
Ready (status and Lease heartbeats). It is tainted, so only pods that tolerate
`ocmfleet.local/processes` (and select it) land there; kwok keeps serving every other pod.

A pod bound to a process node runs as one process per container, mapped by the same code as
`helm flower rehearse` (helm_flower.rehearse.mapping.container_process): its command and args, env,
Secrets, ConfigMaps, projected volumes (ServiceAccount tokens included) and emptyDirs materialised at
their mount paths, hosts and container ports moved to free ports on 127.0.0.1, and `host:port` values
that name a Service (cluster DNS forms, or a LoadBalancer's external-dns hostname) pointed at the
local port of a running pod behind it. Readiness and liveness come from the pod's own probes
(httpGet, grpc, tcpSocket, exec); phase, readiness and restarts are written back to the API server,
so Deployment availability, addon health and ManifestWorkReplicaSet status come from real processes.
A deleted pod's processes are stopped before the pod object goes.
"""

from __future__ import annotations

import datetime
import os
import re
import shutil
import socket
import ssl
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubernetes import client
from kubernetes.client.rest import ApiException

from helm_flower.rehearse.mapping import (
    LOCAL_HOST,
    ArgRules,
    ProcessSpec,
    container_process,
    executable_for,
    split_host_port,
)
from helm_flower.rehearse.plan import ENTRYPOINTS
from helm_flower.rehearse.processes import Proc, Supervisor, flower_env

from .layout import free_port
from .pki import KeyPair, issue

NODE_NAME = "process-node-0"
NODE_LABEL = ("ocmfleet.local/node", "processes")
TAINT = {"key": "ocmfleet.local/processes", "value": "true", "effect": "NoSchedule"}
EXTERNAL_DNS = "external-dns.alpha.kubernetes.io/hostname"
HEARTBEAT_SECONDS = 10
BACKOFF = (1, 2, 5, 10, 20)
VENV_BIN = Path(sys.executable).parent
SERVICEACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"
# Programs that read the kubelet's fixed-path ServiceAccount mount by themselves. A process has no
# container filesystem, so that path does not exist: they are given its local copy through their own
# out-of-cluster flags (token file, CA file). Everything else of theirs runs as rendered.
SERVICEACCOUNT_FLAGS = {"node_auth_registrar.py": ("--kube-token-file", "--kube-ca-file")}


def scheduling(cluster_label: bool = True) -> dict[str, Any]:
    """Pod scheduling values that put a workload on the process nodes (for the tests' values)."""
    return {"nodeSelector": {NODE_LABEL[0]: NODE_LABEL[1]},
            "tolerations": [{"key": TAINT["key"], "operator": "Equal", "value": TAINT["value"],
                             "effect": TAINT["effect"]}]}


def now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def program_path(program: str) -> str | None:
    """Where a container's program is on this machine: Flower's and Python from the venv, nginx from Debian."""
    if program.startswith(("flower-", "flwr")):
        return str(VENV_BIN / program) if (VENV_BIN / program).exists() else None
    if program in ("python", "python3"):
        return sys.executable
    if program == "nginx":
        return shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    return None


# ----------------------------------------------------------------------------- the node


class LogServer:
    """The one kubelet endpoint a process node serves: `/containerLogs/<namespace>/<pod>/<container>`
    (what `kubectl logs` asks the API server for, and ct prints after each install) from the
    processes' log files, over TLS with a certificate of the cluster's CA, on 127.0.0.1."""

    def __init__(self, logs: Path, serving: KeyPair) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                url = urllib.parse.urlsplit(self.path)
                parts = url.path.strip("/").split("/")
                if len(parts) != 4 or parts[0] != "containerLogs" or any(p in ("", ".", "..") for p in parts):
                    self.send_error(404, "this node serves containerLogs only")
                    return
                path = logs / parts[1] / f"{parts[2]}-{parts[3]}.log"
                if not path.is_file():
                    self.send_error(404, f"no log of {parts[1]}/{parts[2]}/{parts[3]} on this node")
                    return
                lines = path.read_bytes().splitlines(keepends=True)
                tail = urllib.parse.parse_qs(url.query).get("tailLines", [""])[0]
                body = b"".join(lines[-int(tail):] if tail.isdigit() and int(tail) > 0 else lines)
                self.send_response(200)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer((LOCAL_HOST, 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(serving.cert, serving.key)
        self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, name="kubelet-logs", daemon=True).start()



class ProcessNode:
    """The Node object of one cluster's process node, kept Ready like a kubelet keeps its node."""

    def __init__(self, api: client.ApiClient, log_server: LogServer | None = None) -> None:
        self.core = client.CoreV1Api(api)
        self.leases = client.CoordinationV1Api(api)
        self.log_server = log_server
        self.last = 0.0

    def register(self) -> None:
        capacity = {"cpu": "32", "memory": "256Gi", "pods": "110"}
        node = {"metadata": {"name": NODE_NAME, "labels": {
                    "kubernetes.io/hostname": NODE_NAME, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
                    NODE_LABEL[0]: NODE_LABEL[1]}},
                "spec": {"taints": [TAINT]}}
        try:
            self.core.create_node(node)
        except ApiException as exc:
            if exc.status != 409:
                raise
        self.core.patch_node_status(NODE_NAME, {"status": {
            "capacity": capacity, "allocatable": capacity,
            "daemonEndpoints": {"kubeletEndpoint": {"Port": self.log_server.port if self.log_server else 0}}}})
        self.heartbeat(force=True)

    def heartbeat(self, force: bool = False) -> None:
        if not force and time.monotonic() - self.last < HEARTBEAT_SECONDS:
            return
        stamp = now()
        conditions = [{"type": "Ready", "status": "True", "reason": "ProcessRunnerReady",
                       "message": "ocmfleet runs this node's pods as local processes",
                       "lastHeartbeatTime": stamp, "lastTransitionTime": stamp}]
        for kind in ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"):
            conditions.append({"type": kind, "status": "False", "reason": "ProcessRunnerReady",
                               "lastHeartbeatTime": stamp, "lastTransitionTime": stamp})
        self.core.patch_node_status(NODE_NAME, {"status": {
            "conditions": conditions, "addresses": [{"type": "InternalIP", "address": LOCAL_HOST},
                                                    {"type": "Hostname", "address": NODE_NAME}],
            "nodeInfo": {"kubeletVersion": "ocmfleet-process-runner", "operatingSystem": "linux",
                         "architecture": "amd64", "containerRuntimeVersion": "process://",
                         "kernelVersion": "", "osImage": "", "kubeProxyVersion": "", "machineID": "",
                         "systemUUID": "", "bootID": ""}}})
        body = {"metadata": {"name": NODE_NAME, "namespace": "kube-node-lease"},
                "spec": {"holderIdentity": NODE_NAME, "leaseDurationSeconds": 40,
                         "renewTime": datetime.datetime.now(datetime.timezone.utc).isoformat()}}
        try:
            self.leases.patch_namespaced_lease(NODE_NAME, "kube-node-lease", {"spec": body["spec"]})
        except ApiException as exc:
            if exc.status != 404:
                raise
            self.leases.create_namespaced_lease("kube-node-lease", body)
        self.last = time.monotonic()


# ----------------------------------------------------------------------------- addresses


class ServiceProxy:
    """One Service port on this machine, as kube-proxy makes it: a stable local port that forwards
    each connection to a ready endpoint (a running pod's local port) chosen when it arrives, so a
    replaced pod (new process, new port) is reached through the same address."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.backends: list[int] = []
        self.turn = 0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((LOCAL_HOST, 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, name=f"svc-{name}", daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        backends = list(self.backends)
        if not backends:
            conn.close()  # no ready endpoint: refused, as a Service without endpoints
            return
        self.turn += 1
        try:
            upstream = socket.create_connection((LOCAL_HOST, backends[self.turn % len(backends)]), timeout=5)
        except OSError:
            conn.close()
            return
        upstream.settimeout(None)
        for a, b in ((conn, upstream), (upstream, conn)):
            threading.Thread(target=_pump, args=(a, b), daemon=True).start()

    def close(self) -> None:
        self.sock.close()


def _pump(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
    except OSError:
        pass
    finally:
        for s in (source, sink):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


@dataclass
class Addresses:
    """The fleet's Services, for processes: cluster DNS names (and LoadBalancer hostnames) of every
    Service with a pod on a process node -> a ServiceProxy's stable local port."""

    internal: dict[tuple[str, str, int], ServiceProxy] = field(default_factory=dict)  # (cluster, fqdn, port)
    external: dict[tuple[str, int], ServiceProxy] = field(default_factory=dict)  # (hostname, port)

    def resolve(self, cluster: str, namespace: str, host: str, port: int) -> int | None:
        if (host, port) in self.external:
            return self.external[(host, port)].port
        for name in _fqdn_candidates(host, namespace):
            if (cluster, name, port) in self.internal:
                return self.internal[(cluster, name, port)].port
        return None


def _fqdn_candidates(host: str, namespace: str) -> list[str]:
    host = host.rstrip(".")
    parts = host.split(".")
    if len(parts) == 1:
        return [f"{host}.{namespace}.svc.cluster.local"]
    if len(parts) == 2:
        return [f"{host}.svc.cluster.local"]
    if host.endswith(".svc"):
        return [f"{host}.cluster.local"]
    return [host]


def _labels_match(selector: dict[str, str] | None, labels: dict[str, str]) -> bool:
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


# ----------------------------------------------------------------------------- pods


@dataclass
class Container:
    name: str
    spec: dict[str, Any]
    ports: dict[int, int]  # container port -> local port
    program: str = ""
    proc: Proc | None = None
    process: ProcessSpec | None = None
    restarts: int = 0
    started_at: str = ""
    ready: bool = False
    waiting: tuple[str, str] | None = None  # (reason, message) while not started
    last_exit: int | None = None
    finished: bool = False  # exited for good: the pod's restartPolicy does not restart it
    next_start: float = 0.0
    probe_due: dict[str, float] = field(default_factory=dict)
    failures: dict[str, int] = field(default_factory=dict)


@dataclass
class RunningPod:
    cluster: str
    namespace: str
    name: str
    uid: str
    pod: dict[str, Any]
    containers: list[Container]
    root: Path
    status_sent: dict[str, Any] | None = None


class ProcessRunner:
    """Runs the pods bound to every cluster's process node; call sync() every second."""

    def __init__(self, apis: dict[str, client.ApiClient], supervisor: Supervisor, root: Path, logs: Path,
                 pki: Callable[[str], Path] | None = None) -> None:
        self.apis = apis
        self.supervisor = supervisor
        self.root = root
        self.logs = logs
        self.nodes = {cluster: ProcessNode(api, self.log_server(cluster, pki(cluster)) if pki else None)
                      for cluster, api in apis.items()}
        self.pods: dict[tuple[str, str], RunningPod] = {}
        self.addresses = Addresses()
        self.apiserver_ports = {c: int(a.configuration.host.rsplit(":", 1)[1]) for c, a in apis.items()}

    def log_server(self, cluster: str, pki: Path) -> LogServer:
        """A serving certificate of the cluster's CA for 127.0.0.1 (the API server verifies it)."""
        serving = issue(KeyPair(pki / "ca.crt", pki / "ca.key"), pki, "process-node-serving",
                        common_name=f"system:node:{NODE_NAME}", server=True, hosts=(LOCAL_HOST,))
        return LogServer(self.logs / "pods" / cluster, serving)

    def register(self) -> None:
        for node in self.nodes.values():
            node.register()

    # -- the round ---------------------------------------------------------------------------

    def sync(self) -> None:
        for cluster, node in self.nodes.items():
            node.heartbeat()
        listed: dict[tuple[str, str], dict[str, Any]] = {}
        services: dict[str, list[Any]] = {}
        for cluster, api in self.apis.items():
            core = client.CoreV1Api(api)
            for pod in core.list_pod_for_all_namespaces(field_selector=f"spec.nodeName={NODE_NAME}").items:
                listed[(cluster, pod.metadata.uid)] = api.sanitize_for_serialization(pod)
            services[cluster] = core.list_service_for_all_namespaces().items
        for key in [k for k in self.pods if k not in listed]:
            self.stop(self.pods.pop(key))
        for key, pod in listed.items():
            if pod["metadata"].get("deletionTimestamp"):
                self.delete(key, pod)
            elif key not in self.pods:
                self.pods[key] = self.admit(key[0], pod)
            else:
                self.pods[key].pod = pod
        self.addresses = self.build_addresses(services)
        self.publish_load_balancers(services)
        for running in self.pods.values():
            self.tend(running)
            self.report(running)

    def build_addresses(self, services: dict[str, list[Any]]) -> Addresses:
        """Every Service port with a pod on a process node gets (keeps) its proxy; its backends are
        the ready pods' local ports (only ready endpoints receive traffic)."""
        wanted: dict[Any, tuple[str, list[int]]] = {}
        existing: set[Any] = set()  # a proxy lives as long as its Service, across pod replacements
        for cluster, items in services.items():
            for svc in items:
                meta, spec = svc.metadata, svc.spec
                hostname = (meta.annotations or {}).get(EXTERNAL_DNS)
                for sp in spec.ports or []:
                    existing.add((cluster, f"{meta.name}.{meta.namespace}.svc.cluster.local", sp.port))
                    if hostname and spec.type in ("LoadBalancer", "NodePort"):
                        existing.update((name.strip(), sp.port) for name in hostname.split(","))
                for running in self.pods.values():
                    if running.cluster != cluster or running.namespace != meta.namespace:
                        continue
                    if not _labels_match(spec.selector, running.pod["metadata"].get("labels") or {}):
                        continue
                    for sp in spec.ports or []:
                        local = self.target_port(running, sp.target_port if sp.target_port is not None else sp.port)
                        if local is None:
                            continue
                        ready = all(c.ready for c in running.containers)
                        keys = [(cluster, f"{meta.name}.{meta.namespace}.svc.cluster.local", sp.port)]
                        hostname = (meta.annotations or {}).get(EXTERNAL_DNS)
                        if hostname and spec.type in ("LoadBalancer", "NodePort"):
                            keys += [(name.strip(), sp.port) for name in hostname.split(",")]
                        for key in keys:
                            label, backends = wanted.setdefault(key, (str(key), []))
                            if ready:
                                backends.append(local)
        for key, (label, backends) in wanted.items():
            table = self.addresses.internal if len(key) == 3 else self.addresses.external
            if key not in table:
                table[key] = ServiceProxy(label)
            table[key].backends = sorted(backends)
        for table in (self.addresses.internal, self.addresses.external):
            for key in [k for k in table if k not in wanted]:
                if key in existing:
                    table[key].backends = []
                else:
                    table.pop(key).close()
        return self.addresses

    def publish_load_balancers(self, services: dict[str, list[Any]]) -> None:
        """What a cloud's load-balancer controller does: a LoadBalancer Service gets an ingress address
        (its external-dns hostname, which the fleet serves, else 127.0.0.1), so `helm install --wait`
        (Helm 3 waits for one) and `helm flower status` see it provisioned."""
        for cluster, items in services.items():
            for svc in items:
                if svc.spec.type != "LoadBalancer" or (svc.status.load_balancer and svc.status.load_balancer.ingress):
                    continue
                hostname = (svc.metadata.annotations or {}).get(EXTERNAL_DNS)
                ingress = [{"hostname": name.strip()} for name in hostname.split(",")] if hostname else [{"ip": LOCAL_HOST}]
                try:
                    client.CoreV1Api(self.apis[cluster]).patch_namespaced_service_status(
                        svc.metadata.name, svc.metadata.namespace, {"status": {"loadBalancer": {"ingress": ingress}}})
                except ApiException as exc:
                    if exc.status != 404:
                        raise

    @staticmethod
    def target_port(running: RunningPod, target: Any) -> int | None:
        for container in running.containers:
            for port in container.spec.get("ports") or []:
                if target == port.get("containerPort") or target == port.get("name"):
                    return container.ports[port["containerPort"]]
        return None

    # -- admission and start -----------------------------------------------------------------

    def admit(self, cluster: str, pod: dict[str, Any]) -> RunningPod:
        meta = pod["metadata"]
        root = self.root / cluster / meta["namespace"] / f"{meta['name']}-{meta['uid'][:8]}"
        containers = [Container(c["name"], c, {p["containerPort"]: free_port() for p in c.get("ports") or []})
                      for c in pod["spec"].get("containers") or []]
        return RunningPod(cluster, meta["namespace"], meta["name"], meta["uid"], pod, containers, root)

    def lookup(self, running: RunningPod):
        core = client.CoreV1Api(self.apis[running.cluster])

        def find(kind: str, name: str) -> dict[str, Any] | None:
            try:
                if kind == "Secret":
                    return self.apis[running.cluster].sanitize_for_serialization(
                        core.read_namespaced_secret(name, running.namespace))
                if kind == "ConfigMap":
                    return self.apis[running.cluster].sanitize_for_serialization(
                        core.read_namespaced_config_map(name, running.namespace))
                if kind == "ServiceAccountToken":
                    audience, expiration = name.split("|")
                    spec: dict[str, Any] = {"expirationSeconds": int(expiration),
                                            "boundObjectRef": {"kind": "Pod", "apiVersion": "v1",
                                                               "name": running.name, "uid": running.uid}}
                    if audience:
                        spec["audiences"] = [audience]
                    account = running.pod["spec"].get("serviceAccountName") or "default"
                    token = core.create_namespaced_service_account_token(account, running.namespace, {"spec": spec})
                    return {"token": token.status.token}
                if kind == "PersistentVolumeClaim":  # the hostPath of the PersistentVolume bound to it
                    claim = core.read_namespaced_persistent_volume_claim(name, running.namespace)
                    if not claim.spec.volume_name:
                        return None
                    volume = core.read_persistent_volume(claim.spec.volume_name)
                    return {"path": volume.spec.host_path.path} if volume.spec.host_path else None
                if kind == "FieldRef":
                    return {"value": {"metadata.namespace": running.namespace, "metadata.name": running.name}.get(name, "")}
            except ApiException as exc:
                if exc.status == 404:
                    return None
                raise
            return None

        return find

    def address_rule(self, running: RunningPod, container: Container):
        """host:port values: own ports of 0.0.0.0/localhost, Services and external hostnames -> local."""

        def rewrite(value: str) -> str | None:
            host, port = split_host_port(value)
            if port is None or "/" in host or not host:
                return None
            if host in ("0.0.0.0", "::", "localhost", LOCAL_HOST) and port in container.ports:
                return f"{LOCAL_HOST}:{container.ports[port]}"
            if host in ("kubernetes.default.svc", "kubernetes.default", "kubernetes"):
                return f"{LOCAL_HOST}:{self.apiserver_ports[running.cluster]}"
            local = self.addresses.resolve(running.cluster, running.namespace, host, port)
            return f"{LOCAL_HOST}:{local}" if local is not None else None

        return rewrite

    def start(self, running: RunningPod, container: Container) -> None:
        try:
            program, args = executable_for(container.spec, ENTRYPOINTS)
        except Exception as exc:  # an image the runner cannot run
            container.waiting = ("ProcessRunnerUnsupported", str(exc))
            return
        path = program_path(program)
        if path is None:
            container.waiting = ("ProcessRunnerUnsupported", f"no local program for {program!r}")
            return
        rewrite = self.address_rule(running, container)
        unresolved = [a for a in args if _looks_like_address(a) and rewrite(a) is None]
        if unresolved:
            container.waiting = ("WaitingForEndpoints", f"no running endpoint yet for {', '.join(unresolved)}")
            return
        ports = {"--port": container.ports[int(_flag(args, "--port"))]} if _flag(args, "--port") and \
            int(_flag(args, "--port")) in container.ports else {}
        rules = ArgRules(ports=ports, paths=rewrite)
        spec = container_process(running.pod["spec"], container.spec, args, self.lookup(running),
                                 running.root / container.name, rules, component=f"{running.name}/{container.name}",
                                 namespace=running.namespace, pod_name=running.name)
        argv, env = [path, *spec.args, *self.serviceaccount_args(args, spec)], dict(spec.env)
        env.update({"KUBERNETES_SERVICE_HOST": LOCAL_HOST,
                    "KUBERNETES_SERVICE_PORT": str(self.apiserver_ports[running.cluster])})
        if program == "nginx":
            argv = self.nginx(running, container, spec, argv)
        else:
            env = flower_env(os.environ, flwr_home=spec.root / "flwr-home", bin_dir=VENV_BIN, extra=env)
        key = f"pod:{running.cluster}/{running.namespace}/{running.name}/{container.name}"
        proc = Proc(key, key, argv, env, self.logs / "pods" / running.cluster / running.namespace /
                    f"{running.name}-{container.name}.log", cwd=spec.root)
        container.proc, container.process, container.program = self.supervisor.start(proc), spec, program
        container.started_at, container.waiting, container.ready = now(), None, False
        container.probe_due, container.failures = {}, {}

    @staticmethod
    def serviceaccount_args(args: list[str], spec: ProcessSpec) -> list[str]:
        flags = SERVICEACCOUNT_FLAGS.get(os.path.basename(args[0])) if args else None
        local = spec.paths(SERVICEACCOUNT_DIR)
        if not flags or local is None or flags[0] in args:
            return []
        return [flags[0], f"{local}/token", flags[1], f"{local}/ca.crt"]

    def nginx(self, running: RunningPod, container: Container, spec: ProcessSpec, argv: list[str]) -> list[str]:
        """nginx reads its config file: map its listen ports, upstream servers and paths in the file."""
        config = Path(argv[argv.index("-c") + 1]) if "-c" in argv else None
        if config is None or not config.exists():
            return argv
        scratch = spec.root / "scratch"
        scratch.mkdir(parents=True, exist_ok=True)
        text = spec.paths.in_text(config.read_text(), unmounted={"/tmp": scratch})
        text = re.sub(r"listen\s+(\d+)", lambda m: f"listen {LOCAL_HOST}:{container.ports.get(int(m.group(1)), int(m.group(1)))}", text)
        rewrite = self.address_rule(running, container)
        text = re.sub(r"(server\s+)(\S+:\d+)", lambda m: m.group(1) + (rewrite(m.group(2)) or m.group(2)), text)
        local = spec.root / "nginx.conf"
        local.write_text(text)
        argv[argv.index("-c") + 1] = str(local)
        return [argv[0], "-e", str(spec.root / "error.log"), *argv[1:]]

    # -- running -----------------------------------------------------------------------------

    def tend(self, running: RunningPod) -> None:
        policy = running.pod["spec"].get("restartPolicy", "Always")
        for container in running.containers:
            if container.finished:
                continue
            if container.proc is None or not container.proc.alive():
                if container.proc is not None and container.proc.returncode is not None:
                    container.last_exit = container.proc.returncode
                    container.proc = None
                    container.ready = False
                    if policy == "Never" or (policy == "OnFailure" and container.last_exit == 0):
                        container.finished = True
                        continue
                    container.restarts += 1
                    container.next_start = time.monotonic() + BACKOFF[min(container.restarts, len(BACKOFF)) - 1]
                if time.monotonic() >= container.next_start:
                    self.start(running, container)
                continue
            self.probe(running, container)

    def probe(self, running: RunningPod, container: Container) -> None:
        """The kubelet's probe rules: nothing but the startup probe runs until it has succeeded; then
        readiness (no probe: ready) and liveness (failureThreshold failures restart the container),
        each first after initialDelaySeconds, then every periodSeconds."""
        started = container.failures.get("started") == 1 or not container.spec.get("startupProbe")
        kinds = ("readinessProbe", "livenessProbe") if started else ("startupProbe",)
        for kind in kinds:
            probe = container.spec.get(kind)
            if kind == "readinessProbe" and not probe:
                container.ready = True
                continue
            if not probe:
                continue
            due = container.probe_due.setdefault(kind, time.monotonic() + probe.get("initialDelaySeconds", 0))
            if time.monotonic() < due:
                continue
            container.probe_due[kind] = time.monotonic() + probe.get("periodSeconds", 10)
            ok = self.check(running, container, probe)
            container.failures[kind] = 0 if ok else container.failures.get(kind, 0) + 1
            if kind == "startupProbe" and ok:
                container.failures["started"] = 1
            elif kind == "readinessProbe":
                container.ready = ok
            elif not ok and container.failures[kind] >= probe.get("failureThreshold", 3):
                self.supervisor_stop(container)

    def check(self, running: RunningPod, container: Container, probe: dict[str, Any]) -> bool:
        timeout = probe.get("timeoutSeconds", 1) + 1
        try:
            if "httpGet" in probe:
                get = probe["httpGet"]
                port = self._port(container, get.get("port"))
                scheme = (get.get("scheme") or "HTTP").lower()
                context = ssl._create_unverified_context() if scheme == "https" else None  # noqa: S323 (as a kubelet)
                opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                                     *( [urllib.request.HTTPSHandler(context=context)] if context else []))
                with opener.open(f"{scheme}://{LOCAL_HOST}:{port}{get.get('path', '/')}", timeout=timeout) as resp:
                    return 200 <= resp.status < 400
            if "tcpSocket" in probe:
                with socket.create_connection((LOCAL_HOST, self._port(container, probe["tcpSocket"].get("port"))), timeout):
                    return True
            if "grpc" in probe:
                import grpc
                from grpc_health.v1 import health_pb2, health_pb2_grpc

                port = self._port(container, probe["grpc"].get("port"))
                with grpc.insecure_channel(f"{LOCAL_HOST}:{port}") as channel:
                    reply = health_pb2_grpc.HealthStub(channel).Check(
                        health_pb2.HealthCheckRequest(service=probe["grpc"].get("service", "")), timeout=timeout)
                    return reply.status == health_pb2.HealthCheckResponse.SERVING
            if "exec" in probe:
                import subprocess

                command = [str(c) for c in probe["exec"].get("command") or []]
                path = program_path(os.path.basename(command[0])) if command else None
                if path is None or container.process is None:
                    return False
                mapped = [path, *(container.process.paths.in_text(c) for c in command[1:])]
                return subprocess.run(mapped, capture_output=True, timeout=timeout, env=container.proc.env).returncode == 0
        except Exception:  # a probe that errors is a failed probe
            return False
        return False

    @staticmethod
    def _port(container: Container, port: Any) -> int:
        for declared in container.spec.get("ports") or []:
            if port in (declared.get("containerPort"), declared.get("name")):
                return container.ports[declared["containerPort"]]
        return container.ports.get(int(port), int(port))

    @staticmethod
    def phase(running: RunningPod, started: bool) -> str:
        """The kubelet's pod phase: Succeeded/Failed once every container has exited for good."""
        if running.containers and all(c.finished for c in running.containers):
            return "Succeeded" if all(c.last_exit == 0 for c in running.containers) else "Failed"
        return "Running" if started or any(c.finished for c in running.containers) else "Pending"

    def supervisor_stop(self, container: Container) -> None:
        if container.proc is not None and container.proc.alive():
            os.killpg(container.proc.pid, 15)

    # -- status ------------------------------------------------------------------------------

    def report(self, running: RunningPod) -> None:
        statuses = []
        for c in running.containers:
            if c.proc is not None and c.proc.alive():
                state: dict[str, Any] = {"running": {"startedAt": c.started_at}}
            elif c.finished:
                state = {"terminated": {"exitCode": c.last_exit, "reason": "Error" if c.last_exit else "Completed",
                                        "startedAt": c.started_at, "finishedAt": c.started_at}}
            else:
                reason, message = c.waiting or ("CrashLoopBackOff" if c.restarts else "ContainerCreating", "")
                state = {"waiting": {"reason": reason, "message": message}}
            status = {"name": c.name, "image": c.spec.get("image", ""), "imageID": "", "ready": c.ready,
                      "started": c.proc is not None and c.proc.alive(), "restartCount": c.restarts, "state": state,
                      "containerID": f"process://{c.proc.pid}" if c.proc is not None else ""}
            if c.last_exit is not None and not c.finished:
                status["lastState"] = {"terminated": {"exitCode": c.last_exit, "reason": "Error" if c.last_exit else "Completed",
                                                      "startedAt": c.started_at, "finishedAt": c.started_at}}
            statuses.append(status)
        ready = all(s["ready"] for s in statuses)
        started = any(s["started"] for s in statuses)
        body = {"phase": self.phase(running, started), "hostIP": LOCAL_HOST, "podIP": LOCAL_HOST,
                "podIPs": [{"ip": LOCAL_HOST}], "containerStatuses": statuses,
                "conditions": [{"type": t, "status": "True" if ok else "False"} for t, ok in
                               (("PodScheduled", True), ("Initialized", True), ("ContainersReady", ready), ("Ready", ready))]}
        compare = {k: v for k, v in body.items()}
        if compare == running.status_sent:
            return
        stamp = now()
        body["startTime"] = running.pod.get("status", {}).get("startTime") or stamp
        for condition in body["conditions"]:
            condition["lastTransitionTime"] = stamp
        try:
            client.CoreV1Api(self.apis[running.cluster]).patch_namespaced_pod_status(
                running.name, running.namespace, {"status": body})
            running.status_sent = compare
        except ApiException as exc:
            if exc.status != 404:
                raise

    # -- stop --------------------------------------------------------------------------------

    def stop(self, running: RunningPod) -> None:
        for container in running.containers:
            if container.proc is not None and container.proc.alive():
                try:
                    os.killpg(container.proc.pid, 15)
                except ProcessLookupError:
                    pass
        deadline = time.monotonic() + 10
        for container in running.containers:
            while container.proc is not None and container.proc.alive() and time.monotonic() < deadline:
                time.sleep(0.1)
            if container.proc is not None and container.proc.alive():
                os.killpg(container.proc.pid, 9)

    def delete(self, key: tuple[str, str], pod: dict[str, Any]) -> None:
        """A pod being deleted: stop its processes, then remove the object (the kubelet's last step)."""
        running = self.pods.pop(key, None)
        if running is not None:
            self.stop(running)
        meta = pod["metadata"]
        try:
            client.CoreV1Api(self.apis[key[0]]).delete_namespaced_pod(
                meta["name"], meta["namespace"], grace_period_seconds=0,
                body={"preconditions": {"uid": meta["uid"]}, "gracePeriodSeconds": 0})
        except ApiException as exc:
            if exc.status not in (404, 409):
                raise


def _flag(args: list[str], flag: str) -> str | None:
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(flag + "="):
            return arg.split("=", 1)[1]
    return None


_ADDRESS = re.compile(r"^[A-Za-z0-9.-]+:\d+$")


def _looks_like_address(value: str) -> bool:
    host = value.rsplit(":", 1)[0]
    return bool(_ADDRESS.match(value)) and host not in ("0.0.0.0", "localhost", LOCAL_HOST) and not host[0].isdigit()
