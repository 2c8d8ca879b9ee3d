"""The argument lists the chart renders are accepted by the real parsers of every supported Flower
release (schemas/flower-versions.yaml; each release's own venv .tools/flwr/<release>, the `flwr`
fixture: tests run once per release, ids flwr<release>) - flower-superlink, flower-supernode after
OCM's variable substitution, flower-superexec for the ServerApp and the ClientApps -, are consistent
with each other, and name files that are mounted. The chart renders the same arguments whatever
global.flower.version says (test_arguments_do_not_depend_on_the_flower_version), so the default
render stands for every release."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import kube as k
import render as r
from cases import CASE, CASES, NAMESPACE, RELEASE, TEST_VALUES, Case, render_case, variant
from flwr_cli import ArgsRejected, default_release, supported_releases

pytestmark = pytest.mark.helm

_ADDRESS = re.compile(r"^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$")


def _check(program: str, ns, c: dict, pod: k.Pod, flwr) -> list[str]:
    where = f"{pod.owner} container {c['name']}"
    errs = []
    if program == "flower-superlink":
        tls = [ns.ssl_certfile, ns.ssl_keyfile, ns.ssl_ca_certfile]
        if ns.insecure == any(tls) or (any(tls) and not all(tls)):
            errs.append(f"{where}: needs --insecure or all of --ssl-certfile/--ssl-keyfile/--ssl-ca-certfile")
        if ns.enable_supernode_auth and ns.insecure:
            errs.append(f"{where}: --enable-supernode-auth needs TLS")
        if ns.isolation != "process":
            errs.append(f"{where}: the ServerApp SuperExec runs in its own pod: --isolation process")
        if ns.host != "0.0.0.0":
            errs.append(f"{where}: --host {ns.host} is unreachable from other pods")
        if k.container_port(pod, int(ns.port)) is None:
            errs.append(f"{where}: --port {ns.port} is not a container port")
    elif program == "flower-supernode":
        if ns.insecure == bool(ns.root_certificates):
            errs.append(f"{where}: needs exactly one of --insecure and --root-certificates")
        if not _ADDRESS.match(ns.superlink or ""):
            errs.append(f"{where}: --superlink {ns.superlink!r} is not host:port")
        tls = [ns.ssl_certfile, ns.ssl_keyfile, ns.ssl_ca_certfile]
        if any(tls) and not all(tls):
            errs.append(f"{where}: Runtime API TLS needs all three --ssl-* flags")
        if ns.isolation != "process" or ns.host != "0.0.0.0" or k.container_port(pod, int(ns.port)) is None:
            errs.append(f"{where}: ClientApp SuperExecs run in other pods: --isolation process --host 0.0.0.0 on a container port")
        try:
            flwr.parse_node_config(ns.node_config or "")
        except Exception as exc:  # click.ClickException
            errs.append(f"{where}: --node-config {ns.node_config!r} is rejected by flwr: {exc}")
    elif program == "flower-superexec":
        if ns.insecure == bool(ns.root_certificates):
            errs.append(f"{where}: needs exactly one of --insecure and --root-certificates")
        if not _ADDRESS.match(ns.runtime_api_address or ""):
            errs.append(f"{where}: --runtime-api-address {ns.runtime_api_address!r} is not host:port")
    return errs


def test_flower_arguments_parse(objects: list[r.Obj], flwr) -> None:
    errors = []
    containers = list(k.flower_containers(objects))
    # One exchange with the release's parser process for every container of the render.
    flwr.batch([["parse", program, [str(a) for a in c.get("args") or []]] for _pod, c, program in containers])
    for pod, c, program in containers:
        try:
            ns = flwr.parse(program, c.get("args") or [])
        except ArgsRejected as exc:
            errors.append(f"{pod.owner} container {c['name']}: {exc}")
            continue
        errors += _check(program, ns, c, pod, flwr)
    assert not errors, "\n".join(errors)


@pytest.mark.parametrize("release", [v for v in supported_releases() if v != default_release()])
@pytest.mark.parametrize("values", CASES, ids=lambda c: c.id)
def test_arguments_do_not_depend_on_the_flower_version(helm_bins: dict[str, Path], values: Case, release: str) -> None:
    """With global.flower.version=<another supported release> every Flower container gets the same
    arguments as with the default (only images differ): the parsers above check what each release
    would really be given. (Helm 4 only: the question is the templates', not Helm's.)"""
    helm = helm_bins["4"]
    other = Case(f"{values.id}-flower{release}", values.values_files, (*values.set_values, f"global.flower.version={release}"))

    def args(case: Case) -> list:
        return sorted((c["name"], program, [str(a) for a in c.get("args") or []], pod.owner.embedded)
                      for pod, c, program in k.flower_containers(r.all_objects(render_case(helm, case))))

    assert args(other) == args(values)


def test_flower_processes_that_must_run_are_rendered(objects: list[r.Obj], case: Case) -> None:
    programs = {(pod.owner.embedded, program) for pod, _c, program in k.flower_containers(objects)}
    if case.get("superlink.enabled"):
        assert (False, "flower-superlink") in programs
        assert ((False, "flower-superexec") in programs) == bool(case.get("superlink.serverApp.enabled"))
    if case.get("hubAddon.enabled"):
        assert (True, "flower-supernode") in programs
    if case.get("clientApp.enabled") and case.get("clientApp.apps"):
        assert (True, "flower-superexec") in programs


def test_clients_dial_what_servers_serve(objects: list[r.Obj]) -> None:
    """TLS and shared-secret flags agree between each server and its clients: SuperLink <-
    ServerApp SuperExec, SuperNode <- ClientApp SuperExecs (same managed cluster)."""
    errors = []
    for scope, objs in k.scopes(objects).items():
        procs = [(pod, c, p, c.get("args") or []) for pod, c, p in k.flower_containers(objs)]
        servers = [(pod, c, p, a) for pod, c, p, a in procs if p in ("flower-superlink", "flower-supernode")]
        for pod, c, p, args in procs:
            if p != "flower-superexec":
                continue
            for server_pod, _sc, _sp, server_args in servers:
                server_tls = bool(k.flag_values(server_args, "--ssl-certfile"))
                client_tls = bool(k.flag_values(args, "--root-certificates"))
                if server_tls != client_tls:
                    errors.append(f"{scope}: {pod.owner} speaks {'TLS' if client_tls else 'plain text'} to {server_pod.owner}, which serves {'TLS' if server_tls else 'plain text'}")
                if bool(k.flag_values(server_args, "--superexec-auth-secret-file")) != bool(k.flag_values(args, "--superexec-auth-secret-file")):
                    errors.append(f"{scope}: {pod.owner} and {server_pod.owner} disagree on --superexec-auth-secret-file")
    assert not errors, "\n".join(errors)


# Flags whose value is a file the process reads (or, for --database, writes).
FILE_FLAGS = ("--ssl-certfile", "--ssl-keyfile", "--ssl-ca-certfile", "--root-certificates",
              "--superexec-auth-secret-file", "--executor-config", "--auth-supernode-private-key")


def test_files_named_in_arguments_are_mounted(objects: list[r.Obj], case: Case) -> None:
    """Each file flag names a file on a volume that provides it: a ConfigMap/Secret rendered in
    the same place (hub, or the same managed cluster) with that key, or a Secret someone else
    writes (global.tls.existingSecret, a cert-manager Certificate's secretName)."""
    errors = []
    for scope, objs in k.scopes(objects).items():
        in_scope = {(o.kind, o.namespace, o.name): o.obj for o in objs}
        external = {(o.namespace, o.obj["spec"]["secretName"]) for o in objs if o.kind == "Certificate"}
        if case.get("global.tls.mode") == "existingSecret":
            external.add((NAMESPACE, case.get("global.tls.existingSecret")))
        for pod, c, _program in k.flower_containers(objs):
            args = c.get("args") or []
            where = f"{scope}: {pod.owner} container {c['name']}"
            for flag in FILE_FLAGS:
                for path in k.flag_values(args, flag):
                    src = k.file_source(pod, c, path)
                    if src is None:
                        errors.append(f"{where}: {flag} {path} is on no volume (read-only root filesystem)")
                        continue
                    kind = {"secret": "Secret", "configMap": "ConfigMap"}.get(src.kind)
                    if kind is None:
                        continue
                    if src.key is None:
                        errors.append(f"{where}: {flag} {path}: the {kind} volume {src.volume['name']} does not project that file")
                        continue
                    obj = in_scope.get((kind, pod.namespace, src.object_name))
                    if obj is None:
                        if kind != "Secret" or (pod.namespace, src.object_name) not in external:
                            errors.append(f"{where}: {flag} {path}: {kind} {src.object_name} is not rendered next to it")
                    elif src.key not in {**(obj.get("data") or {}), **(obj.get("stringData") or {})}:
                        errors.append(f"{where}: {flag} {path}: {kind} {src.object_name} has no key {src.key}")
            for path in k.flag_values(args, "--database"):
                src = k.file_source(pod, c, path)
                if src is None or src.mount.get("readOnly") or src.kind not in ("persistentVolumeClaim", "emptyDir"):
                    errors.append(f"{where}: --database {path} must be on a writable volume")
    assert not errors, "\n".join(errors)


def test_persistence_follows_the_values(rendered: list[dict], case: Case) -> None:
    if not case.get("superlink.enabled"):
        return
    objs = r.all_objects(rendered)
    ((pod, c, _),) = [(p, c_, prog) for p, c_, prog in k.flower_containers(objs) if prog == "flower-superlink"]
    databases = k.flag_values(c.get("args") or [], "--database")
    pvcs = [o["metadata"]["name"] for o in r.of_kind(rendered, "PersistentVolumeClaim")]
    if not case.get("superlink.persistence.enabled"):
        assert not databases and not pvcs, "persistence off: in-memory state, no PVC"
        return
    (db,) = databases
    src = k.file_source(pod, c, db)
    claim = case.get("superlink.persistence.existingClaim")
    if claim:
        assert src.object_name == claim and not pvcs
    else:
        assert src.object_name in pvcs


# ----------------------------------------------------------------------------- unknown flags


UNKNOWN_FLAG = [
    pytest.param(variant("flag-superlink", "superlink.extraArgs={--fleet-api-port=1}"), "flower-superlink", False, id="superlink"),
    pytest.param(variant("flag-serverapp", "superlink.serverApp.extraArgs={--no-such-flag}"), "flower-superexec", False, id="serverapp-superexec"),
    pytest.param(variant("flag-supernode", "hubAddon.supernode.extraArgs={--no-such-flag}"), "flower-supernode", True, id="supernode"),
    pytest.param(variant("flag-clientapp", "clientApp.defaults.extraArgs={--no-such-flag}"), "flower-superexec", True, id="clientapp-superexec"),
]


@pytest.mark.parametrize(("variant_case", "program", "embedded"), UNKNOWN_FLAG)
def test_unknown_flags_are_rejected(helm: Path, flwr, variant_case: Case, program: str, embedded: bool) -> None:
    """The parser check can fail: an extra argument flwr does not know is refused."""
    objects = r.all_objects(render_case(helm, variant_case))
    targets = [(pod, c) for pod, c, p in k.flower_containers(objects) if p == program and pod.owner.embedded == embedded]
    assert targets
    for pod, c in targets:
        with pytest.raises(ArgsRejected, match="unrecognized arguments"):
            flwr.parse(program, c.get("args") or [])


# ----------------------------------------------------------------------------- node-config


def _supernode_node_configs(objects: list[r.Obj], flwr) -> dict[str, tuple[str, dict]]:
    """ADC name -> (cluster, node-config as the SuperNode reads it)."""
    out = {}
    for pod, c, program in k.flower_containers(objects):
        if program == "flower-supernode":
            ns = flwr.parse(program, c.get("args") or [])
            out[pod.owner.adc] = (pod.owner.cluster, flwr.parse_node_config(ns.node_config))
    return out


def _expected_node_configs(case: Case) -> dict[str, dict]:
    base = case.get("hubAddon.supernode.nodeConfig") or {}
    out = {f"{RELEASE}-supernode": dict(base)}
    if case.get("hubAddon.installStrategy") == "Placements":
        for p in case.get("hubAddon.placements") or []:
            out[f"{RELEASE}-supernode-{p['name']}"] = {**base, **((p.get("supernode") or {}).get("nodeConfig") or {})}
    placements = {p["name"]: p for p in case.get("hubAddon.placements") or []}
    for cl in case.get("hubAddon.clusters") or []:
        if cl.get("nodeConfig"):
            # A cluster's own config replaces its placement's (cl.placement), so it starts from that.
            start = out.get(f"{RELEASE}-supernode-{cl['placement']}", base) if cl.get("placement") in placements else base
            out[f"{RELEASE}-supernode-cluster-{cl['name']}"] = {**start, **cl["nodeConfig"]}
    return out


def test_node_config_keeps_values_and_types(objects: list[r.Obj], case: Case, flwr) -> None:
    """Every AddOnDeploymentConfig's node-config reaches the SuperNode with its TOML types
    (ints, floats, bools, strings with spaces), after OCM substitutes the variables."""
    got = _supernode_node_configs(objects, flwr)
    if not case.get("hubAddon.enabled"):
        assert not got
        return
    expected = _expected_node_configs(case)
    assert set(got) == set(expected), f"ADCs: {sorted(got)} vs expected {sorted(expected)}"
    for adc, (_cluster, config) in got.items():
        config = dict(config)
        assert "cluster-name" in config
        config.pop("cluster-name")
        assert config == expected[adc], adc
        for key, value in expected[adc].items():
            assert type(config[key]) is type(value), f"{adc}: {key} became {type(config[key]).__name__}"


NODE_CONFIG = variant("nodeconfig", values=(TEST_VALUES / "nodeconfig.yaml",))


def test_node_config_of_one_cluster(helm: Path, flwr) -> None:
    rendered = render_case(helm, NODE_CONFIG)
    configs = _supernode_node_configs(r.all_objects(rendered), flwr)
    cluster, config = configs[f"{RELEASE}-supernode-cluster-site-1"]
    assert cluster == "site-1"
    config = {key: v for key, v in config.items() if key != "cluster-name"}
    assert config == {"partition-id": 0, "num-partitions": 2, "name": "x y"}


def test_node_config_cluster_name_is_the_cluster(helm: Path, flwr) -> None:
    """cluster-name is the managed cluster's name. OCM substitutes variables in ONE pass, so
    {{CLUSTER_NAME}} must sit in the manifest itself, not inside another variable's value."""
    rendered = render_case(helm, NODE_CONFIG)
    _cluster, config = _supernode_node_configs(r.all_objects(rendered), flwr)[f"{RELEASE}-supernode-cluster-site-1"]
    assert config == {"partition-id": 0, "num-partitions": 2, "name": "x y", "cluster-name": "site-1"}


# ----------------------------------------------------------------------------- features that need both sides


def test_node_auth_gives_supernodes_their_ocm_key(helm: Path, flwr) -> None:
    """With global.nodeAuth the SuperLink requires keys and each SuperNode gets one derived from
    the client key OCM's CustomSigner registration puts at /managed/<signer, / as ->/tls.key."""
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    rendered = render_case(helm, CASE["node-auth"])
    objects = r.all_objects(rendered)
    procs = {p: (pod, c, flwr.parse(p, c["args"])) for pod, c, p in k.flower_containers(objects) if p != "flower-superexec"}
    link = procs["flower-superlink"][2]
    assert link.enable_supernode_auth and not link.insecure
    pod, c, node = procs["flower-supernode"]
    assert node.auth_supernode_private_key, "the SuperNode has no --auth-supernode-private-key"
    key_src = k.file_source(pod, c, node.auth_supernode_private_key)
    assert key_src is not None and key_src.kind == "emptyDir" and not key_src.mount.get("readOnly")
    (tmpl,) = r.of_kind(rendered, "AddOnTemplate")
    (signer,) = [reg["customSigner"] for reg in tmpl["spec"].get("registration") or [] if reg["type"] == "CustomSigner"]
    client_key = f"/managed/{signer['signerName'].replace('/', '-')}/tls.key"
    original = next(x for x in pod.spec["containers"] if x["name"] == c["name"])
    assert client_key in (original.get("command") or []) + (original.get("args") or []), f"nothing reads OCM's client key {client_key}"
    ca = k.find(r.all_objects(rendered), "Secret", signer["signingCA"]["name"], signer["signingCA"]["namespace"])
    assert ca is not None and ca.obj["type"] == "kubernetes.io/tls"
    key = load_pem_private_key(k.b64(ca.obj["data"], "tls.key"), None, unsafe_skip_rsa_key_validation=True)
    assert isinstance(key, rsa.RSAPrivateKey), "OCM's CustomSigner signs with RSA keys only"


RUNTIME_DEPS = variant("runtime-deps", "superlink.runtimeDependencyInstallation=true")
ZERO_LIMITS = variant("zero-limits", "hubAddon.supernode.maxRetries=0", "hubAddon.supernode.maxWaitTime=0")


def test_runtime_dependency_installation_reaches_the_serverapp(helm: Path, flwr) -> None:
    objects = r.all_objects(render_case(helm, RUNTIME_DEPS))
    (serverapp,) = [c for pod, c, p in k.flower_containers(objects) if p == "flower-superexec" and not pod.owner.embedded]
    assert flwr.parse("flower-superexec", serverapp.get("args") or []).runtime_dependency_install



def test_zero_reconnection_limits_reach_the_supernode(helm: Path, flwr) -> None:
    objects = r.all_objects(render_case(helm, ZERO_LIMITS))
    for _pod, c, p in k.flower_containers(objects):
        if p == "flower-supernode":
            ns = flwr.parse(p, c.get("args") or [])
            assert (ns.max_retries, ns.max_wait_time) == (0, 0)
