"""A Flower federation on 127.0.0.1 built from the chart's RENDERED objects, node auth on.

Every process gets the command line of its rendered container, with the files its pod would
mount (Secrets and ConfigMaps of the render or of the AddOnTemplate, emptyDirs) written to a
work directory and the paths, host and ports rewritten:

  hub:      flower-superlink (Deployment <release>-superlink),
            flower-superexec (Deployment <release>-serverapp),
            the registrar's Registrar class (Deployment <release>-node-auth-registrar's
            arguments), against a FakeKube and the real SuperLink's Control API;
  clusters: the SuperNode Deployment of the AddOnTemplate, substituted with the cluster's
            AddOnDeploymentConfig, decorated the way OCM does, i.e. the shipped launcher
            script from the ConfigMap running flower-supernode on the OCM-made key;
            the ClientApp SuperExec Deployment of the ManifestWorkReplicaSet.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import re
import ssl
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import render as r
from local_federation import (
    ManagedProcess,
    flower_bin_dir,
    flower_env,
    free_port,
    stop_all,
    wait_for_health,
    write_cli_config,
)

import nodeauth_support as ns

HOST = "127.0.0.1"


def _find(pool: list[dict], kind: str, name: str) -> dict:
    found = [o for o in pool if o.get("kind") == kind and o["metadata"]["name"] == name]
    if len(found) != 1:
        raise AssertionError(f"{kind} {name}: {len(found)} in the render")
    return found[0]


def materialize(pod: dict, container: dict, pool: list[dict], root: Path, provided: dict[str, Path] | None = None) -> dict[str, Path]:
    """Write the container's mounted volumes under root; return mountPath -> local dir."""
    provided = provided or {}
    volumes = {v["name"]: v for v in pod.get("volumes", [])}
    out: dict[str, Path] = {}
    for m in container.get("volumeMounts", []):
        vol = volumes[m["name"]]
        if m["mountPath"] in provided:
            out[m["mountPath"]] = provided[m["mountPath"]]
            continue
        d = root / m["name"]
        d.mkdir(parents=True, exist_ok=True)
        if "secret" in vol or "configMap" in vol:
            src = vol.get("secret") or vol["configMap"]
            obj = _find(pool, "Secret" if "secret" in vol else "ConfigMap", src.get("secretName") or src.get("name"))
            data = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()} if "secret" in vol else {
                k: v.encode() for k, v in (obj.get("data") or {}).items()}
            items = src.get("items") or [{"key": k, "path": k} for k in data]
            for item in items:
                (d / item["path"]).write_bytes(data[item["key"]])
        out[m["mountPath"]] = d
    return out


def localize(args: list[str], mounts: dict[str, Path], replace: dict[str, str]) -> list[str]:
    """Mount paths -> local paths; `replace` exact values; every 0.0.0.0:PORT listener (e.g. a
    --health-server-address) -> a free port on 127.0.0.1 (all processes share one host here)."""
    result = []
    for a in args:
        if a in replace:  # an exact local value (e.g. this interpreter): never a mount path
            result.append(replace[a])
            continue
        if re.fullmatch(r"0\.0\.0\.0:\d+", a):
            a = f"{HOST}:{free_port()}"
        for mount, local in sorted(mounts.items(), key=lambda kv: -len(kv[0])):
            if a == mount or a.startswith(mount + "/"):
                a = str(local) + a[len(mount):]
                break
        result.append(a)
    return result


def _replace_flag(args: list[str], flag: str, value: str) -> list[str]:
    args = list(args)
    args[args.index(flag) + 1] = value
    return args


@dataclass
class Managed:
    """One managed cluster: its agent (key), its SuperNode and ClientApp SuperExec processes."""

    cluster: str
    agent: ns.Agent
    client_cert_dir: Path
    runtime_port: int
    node_config: str | None = None
    supernode: ManagedProcess | None = None
    superexec: ManagedProcess | None = None


@dataclass
class ChartFederation:
    objects: list[dict]
    workdir: Path
    kube: ns.FakeKube
    registrar_mod: Any
    bin_dir: Path = field(default_factory=flower_bin_dir)
    release: str = "flower"
    namespace: str = "flower-system"
    processes: list[ManagedProcess] = field(default_factory=list)
    clusters: dict[str, Managed] = field(default_factory=dict)
    port: int = 0
    launcher_poll_seconds: str = "1"

    # -- hub ------------------------------------------------------------------------------

    def _deployment(self, name: str) -> tuple[dict, dict]:
        dep = _find(self.objects, "Deployment", name)
        pod = dep["spec"]["template"]["spec"]
        return pod, pod["containers"][0]

    def _spawn(self, name: str, argv: list[str]) -> ManagedProcess:
        proc = ManagedProcess(name, argv, flower_env(self.workdir / "homes" / name, self.bin_dir), self.workdir / "logs" / f"{name}.log")
        self.processes.append(proc)
        return proc.start()

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def start_hub(self) -> None:
        self.port = free_port()
        pod, c = self._deployment(f"{self.release}-superlink")
        mounts = materialize(pod, c, self.objects, self.workdir / "hub" / "superlink")
        args = localize(c["args"], mounts, {"0.0.0.0": HOST})
        args = _replace_flag(args, "--port", str(self.port))
        self.hub_ca = mounts["/var/run/flower/ca"] / "ca.crt"
        self.superlink = self._spawn("superlink", [str(self.bin_dir / "flower-superlink"), *args])
        wait_for_health(f"https://{self.address}/health", 60, ssl_context=ssl.create_default_context(cafile=str(self.hub_ca)), process=self.superlink)

        pod, c = self._deployment(f"{self.release}-serverapp")
        mounts = materialize(pod, c, self.objects, self.workdir / "hub" / "serverapp")
        args = localize(c["args"], mounts, {})
        args = _replace_flag(args, "--runtime-api-address", self.address)
        self.serverapp = self._spawn("superexec-serverapp", [str(self.bin_dir / c["command"][0]), *args])

        # The operator's CLI (and the registrar's) connection to the SuperLink.
        self.cli_home = self.workdir / "cli"
        write_cli_config(self.cli_home, self.address, name="hub", ca_cert=self.hub_ca)

    def registrar(self, clock: Callable | None = None) -> Any:
        """The registrar, configured from its rendered Deployment, talking to the real SuperLink."""
        m = self.registrar_mod
        pod, c = self._deployment(f"{self.release}-node-auth-registrar")
        mounts = materialize(pod, c, self.objects, self.workdir / "hub" / "registrar")
        args = m.build_parser().parse_args(localize(c["args"], mounts, {}))
        home = self.workdir / "registrar-home"
        m.write_flwr_config(home, "hub", self.address, args.root_certificates)
        os.environ["FLWR_HOME"] = str(home)  # read by the flwr package when the client connects
        token = self.workdir / "registrar-token"
        token.write_text(self.kube.token)
        kw = {"now": clock} if clock else {}
        return m.Registrar(m.Cluster(m.Kube(self.kube.url, token_file=token), args.addon_name, args.signer_name),
                           m.ControlApi("hub"), args.node_auth_ca, args.superseded_grace_seconds, **kw)

    def signing_ca(self) -> tuple[bytes, bytes]:
        secret = _find(self.objects, "Secret", f"{self.release}-node-auth-ca")
        return base64.b64decode(secret["data"]["tls.crt"]), base64.b64decode(secret["data"]["tls.key"])

    # -- managed clusters --------------------------------------------------------------------

    @property
    def addon(self) -> str:
        return r.of_kind(self.objects, "AddOnTemplate")[0]["spec"]["addonName"]

    def _cluster_manifests(self, cluster: str) -> list[dict]:
        """The AddOnTemplate's manifests as OCM renders them for `cluster` (its ADC, or the default)."""
        adcs = {a["metadata"]["name"]: a for a in r.of_kind(self.objects, "AddOnDeploymentConfig")}
        by_cluster = {c: adc for adc, cs in r.clusters_of_adc(self.objects).items() for c in cs}
        adc = adcs.get(by_cluster.get(cluster, ""), adcs.get(f"{self.release}-supernode"))
        variables = r.adc_variables(adc, cluster)
        tmpl = r.of_kind(self.objects, "AddOnTemplate")[0]
        manifests = [json.loads(r.ocm_substitute(r.manifest_json(m), variables)) for m in tmpl["spec"]["agentSpec"]["workload"]["manifests"]]
        for mwrs in r.of_kind(self.objects, "ManifestWorkReplicaSet"):
            manifests += copy.deepcopy(mwrs["spec"]["manifestWorkTemplate"]["workload"]["manifests"])
        return manifests

    def join(self, cluster: str, *, csr: bool = True, node_config: str | None = None) -> Managed:
        """OCM installs the addon: the agent makes a key and a CSR, the hub signs it, the agent
        writes the client certificate Secret the SuperNode mounts."""
        agent = ns.Agent(cluster, self.addon)
        managed = Managed(cluster, agent, self.workdir / cluster / "client-cert", free_port(), node_config)
        if csr:
            self.kube.add_csr(agent.request(*self.signing_ca()))
        else:
            agent.cert_pem = b""
        agent.write_secret(managed.client_cert_dir)
        self.clusters[cluster] = managed
        return managed

    def start_supernode(self, cluster: str) -> ManagedProcess:
        m = self.clusters[cluster]
        pool = self._cluster_manifests(cluster)
        dep = ns.ocm_decorate(_find(pool, "Deployment", "supernode"), self.addon)
        pod, c = dep["spec"]["template"]["spec"], dep["spec"]["template"]["spec"]["containers"][0]
        mounts = materialize(pod, c, pool, self.workdir / cluster / "supernode", {ns.client_cert_mount_dir(): m.client_cert_dir})
        superlink_arg = c["args"][c["args"].index("--superlink") + 1]
        command = localize(c["command"], mounts, {"python": sys.executable, "flower-supernode": str(self.bin_dir / "flower-supernode")})
        command[command.index("run") + 1:command.index("run") + 1] = ["--poll-seconds", self.launcher_poll_seconds]
        args = localize(c["args"], mounts, {"0.0.0.0": HOST, superlink_arg: self.address})
        args = _replace_flag(args, "--port", str(m.runtime_port))
        if m.node_config is not None:
            args = _replace_flag(args, "--node-config", m.node_config)
        m.supernode = self._spawn(f"supernode-{cluster}", [*command, *args])
        self.launcher_command = command  # for the tests' eyes
        return m.supernode

    def start_clientapp(self, cluster: str, secret: bytes | None = None, name: str | None = None) -> ManagedProcess:
        m = self.clusters[cluster]
        pool = self._cluster_manifests(cluster)
        dep = next(o for o in pool if o["kind"] == "Deployment" and o["metadata"]["name"] != "supernode")
        pod, c = dep["spec"]["template"]["spec"], dep["spec"]["template"]["spec"]["containers"][0]
        provided = {}
        if secret is not None:  # a SuperExec with the wrong shared secret
            d = self.workdir / cluster / "wrong-secret"
            d.mkdir(parents=True, exist_ok=True)
            (d / "secret").write_bytes(secret)
            provided["/var/run/flower/superexec-auth"] = d
        mounts = materialize(pod, c, pool, self.workdir / cluster / (name or "clientapp"), provided)
        args = localize(c["args"], mounts, {})
        args = _replace_flag(args, "--runtime-api-address", f"{HOST}:{m.runtime_port}")
        proc = self._spawn(name or f"superexec-clientapp-{cluster}", [str(self.bin_dir / "flower-superexec"), *args])
        if secret is None:
            m.superexec = proc
        return proc

    # -- observing ---------------------------------------------------------------------------

    def nodes(self) -> list[Any]:
        if getattr(self, "_control", None) is None:
            self._control = self.registrar_mod.ControlApi("hub")
        return self._control.list_nodes()

    def wait(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                logs = "\n".join(f"--- {p.name} (alive={p.alive()})\n{p.log_tail(15)}" for p in self.processes)
                raise AssertionError(f"timed out after {timeout}s waiting for {what}\n{logs}")
            time.sleep(0.5)

    def online(self, cluster: str) -> list[Any]:
        return [n for n in self.nodes() if n.name == f"ocm:{cluster}" and n.status == "online"]

    def stop(self) -> None:
        if getattr(self, "_control", None) is not None:
            self._control.close()
        stop_all(list(reversed(self.processes)))
