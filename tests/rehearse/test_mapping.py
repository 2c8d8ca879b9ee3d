"""Arg mapping of the rehearsal: only hosts, ports, peer addresses and mounted paths change."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest

from helm_flower.rehearse.errors import Refusal
from helm_flower.rehearse.mapping import (
    ArgRules,
    Mount,
    PathMapper,
    container_env,
    executable_for,
    flag_value,
    map_args,
    materialize_mounts,
)
from helm_flower.rehearse.plan import ENTRYPOINTS, set_flag_value

SUPERLINK_ARGS = [
    "--host", "0.0.0.0", "--port", "9092", "--isolation", "process",
    "--database", "/var/lib/flower/state/state.db", "--disable-runtime-dependency-installation",
    "--ssl-certfile", "/var/run/flower/tls/tls.crt", "--ssl-keyfile", "/var/run/flower/tls/tls.key",
    "--ssl-ca-certfile", "/var/run/flower/ca/ca.crt",
]


def _mapper(tmp_path: Path) -> PathMapper:
    return PathMapper([
        Mount("/var/lib/flower/state", tmp_path / "state", "state", "persistentVolumeClaim"),
        Mount("/var/run/flower/tls", tmp_path / "tls", "tls", "Secret x"),
        Mount("/var/run/flower/ca", tmp_path / "ca", "ca", "ConfigMap y"),
        Mount("/var/run/flower", tmp_path / "outer", "outer", "emptyDir"),
    ])


def test_superlink_args_map_only_host_port_and_mounted_paths(tmp_path: Path) -> None:
    mapped = map_args(SUPERLINK_ARGS, ArgRules(ports={"--port": 41000}, paths=_mapper(tmp_path)))
    assert mapped.args == [
        "--host", "127.0.0.1", "--port", "41000", "--isolation", "process",
        "--database", str(tmp_path / "state" / "state.db"), "--disable-runtime-dependency-installation",
        "--ssl-certfile", str(tmp_path / "tls" / "tls.crt"), "--ssl-keyfile", str(tmp_path / "tls" / "tls.key"),
        "--ssl-ca-certfile", str(tmp_path / "ca" / "ca.crt"),
    ]
    changed = {c.flag for c in mapped.changes}
    assert changed == {"--host", "--port", "--database", "--ssl-certfile", "--ssl-keyfile", "--ssl-ca-certfile"}


def test_extra_args_and_unknown_flags_are_kept_verbatim(tmp_path: Path) -> None:
    args = ["--port", "1", "--no-such-flag", "--isolation", "process", "--log-file", "/elsewhere/x.log"]
    mapped = map_args(args, ArgRules(ports={"--port": 2}, paths=_mapper(tmp_path)))
    # An unmounted absolute path is left alone (it is not a mounted file).
    assert mapped.args == ["--port", "2", "--no-such-flag", "--isolation", "process", "--log-file", "/elsewhere/x.log"]


def test_equals_form_is_mapped(tmp_path: Path) -> None:
    args = ["--host=0.0.0.0", "--port=9094", "--root-certificates=/var/run/flower/ca/ca.crt", "--insecure"]
    mapped = map_args(args, ArgRules(ports={"--port": 5}, paths=_mapper(tmp_path)))
    assert mapped.args == ["--host=127.0.0.1", "--port=5", f"--root-certificates={tmp_path / 'ca' / 'ca.crt'}", "--insecure"]


def test_peer_addresses_are_mapped() -> None:
    rules = ArgRules(hosts=frozenset(), addresses={"--runtime-api-address": "127.0.0.1:7"})
    mapped = map_args(["--runtime-api-address", "supernode:9094", "--insecure"], rules)
    assert mapped.args == ["--runtime-api-address", "127.0.0.1:7", "--insecure"]
    assert [(c.flag, c.before, c.after) for c in mapped.changes] == [("--runtime-api-address", "supernode:9094", "127.0.0.1:7")]


def test_supernode_node_config_value_is_not_touched() -> None:
    args = ["--superlink", "sl.example:443", "--node-config", 'cluster-name="x" partition-id=0', "--insecure"]
    mapped = map_args(args, ArgRules(addresses={"--superlink": "127.0.0.1:1"}))
    assert mapped.args[3] == 'cluster-name="x" partition-id=0'
    assert mapped.args[1] == "127.0.0.1:1"


def test_longest_mount_path_wins(tmp_path: Path) -> None:
    mapper = _mapper(tmp_path)
    assert mapper("/var/run/flower/ca/ca.crt") == str(tmp_path / "ca" / "ca.crt")
    assert mapper("/var/run/flower/other/f") == str(tmp_path / "outer" / "other" / "f")
    assert mapper("/var/run/flowerX/f") is None
    assert mapper("relative/path") is None


def test_materialize_secret_items_configmap_and_empty_dirs(tmp_path: Path) -> None:
    objects = {
        ("Secret", "tls"): {"data": {"tls.crt": base64.b64encode(b"CRT").decode(), "tls.key": base64.b64encode(b"KEY").decode(),
                                     "ca.crt": base64.b64encode(b"CA").decode()}},
        ("ConfigMap", "bundle"): {"data": {"ca.crt": "PEM"}},
    }
    pod = {"volumes": [
        {"name": "tls", "secret": {"secretName": "tls", "items": [{"key": "tls.crt", "path": "tls.crt"}, {"key": "tls.key", "path": "tls.key"}]}},
        {"name": "ca", "configMap": {"name": "bundle"}},
        {"name": "state", "persistentVolumeClaim": {"claimName": "pvc"}},
    ]}
    container = {"volumeMounts": [
        {"name": "tls", "mountPath": "/var/run/flower/tls"},
        {"name": "ca", "mountPath": "/var/run/flower/ca"},
        {"name": "state", "mountPath": "/var/lib/flower/state"},
    ]}
    mounts = materialize_mounts(pod, container, lambda k, n: objects.get((k, n)), tmp_path, component="X")
    by_path = {m.container_path: m for m in mounts}
    tls_dir = by_path["/var/run/flower/tls"].local_path
    assert sorted(p.name for p in tls_dir.iterdir()) == ["tls.crt", "tls.key"]  # items honoured: no ca.crt
    assert (tls_dir / "tls.key").read_bytes() == b"KEY"
    assert (tls_dir / "tls.key").stat().st_mode & 0o777 == 0o600
    assert (by_path["/var/run/flower/ca"].local_path / "ca.crt").read_text() == "PEM"
    state = by_path["/var/lib/flower/state"].local_path
    assert state.is_dir() and not any(state.iterdir())


def test_a_secret_the_chart_does_not_render_refuses(tmp_path: Path) -> None:
    pod = {"volumes": [{"name": "tls", "secret": {"secretName": "byo-tls"}}]}
    container = {"volumeMounts": [{"name": "tls", "mountPath": "/t"}]}
    with pytest.raises(Refusal, match="byo-tls"):
        materialize_mounts(pod, container, lambda k, n: None, tmp_path, component="SuperLink")
    pod["volumes"][0]["secret"]["optional"] = True
    assert materialize_mounts(pod, container, lambda k, n: None, tmp_path / "o", component="SuperLink")


def test_container_env_maps_mounted_paths_and_resolves_refs(tmp_path: Path) -> None:
    container = {"env": [
        {"name": "FLWR_HOME", "value": "/var/lib/flower/state/home"},
        {"name": "PLAIN", "value": "x"},
        {"name": "NS", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "S", "valueFrom": {"secretKeyRef": {"name": "s", "key": "k"}}},
        {"name": "GONE", "valueFrom": {"secretKeyRef": {"name": "missing", "key": "k"}}},
    ]}
    objects = {("Secret", "s"): {"data": {"k": base64.b64encode(b"v").decode()}}}
    env, notes = container_env(container, lambda k, n: objects.get((k, n)), _mapper(tmp_path), namespace="ns1", pod_name="p")
    assert env == {"FLWR_HOME": str(tmp_path / "state" / "home"), "PLAIN": "x", "NS": "ns1", "S": "v"}
    assert any("GONE" in n for n in notes)


def test_executable_from_command_or_image_entrypoint() -> None:
    assert executable_for({"command": ["flower-superexec"], "args": ["--insecure"]}, ENTRYPOINTS) == ("flower-superexec", ["--insecure"])
    assert executable_for({"image": "docker.io/flwr/superlink:1.41.0", "args": ["--insecure"]}, ENTRYPOINTS) == ("flower-superlink", ["--insecure"])
    assert executable_for({"image": "reg/flwr/supernode@sha256:ab"}, ENTRYPOINTS) == ("flower-supernode", [])
    with pytest.raises(Refusal):
        executable_for({"name": "x", "image": "nginx:1"}, ENTRYPOINTS)


def test_flag_value_and_set_flag_value_use_the_last_occurrence() -> None:
    args = ["--node-config", "a=1", "--x", "--node-config=b=2"]
    assert flag_value(args, "--node-config") == "b=2"
    assert set_flag_value(args, "--node-config", "c=3") == ["--node-config", "a=1", "--x", "--node-config=c=3"]
    assert set_flag_value(["--x"], "--node-config", "c=3") == ["--x", "--node-config", "c=3"]


def test_paths_in_text_are_mapped_once_even_when_local_paths_contain_a_mount(tmp_path: Path) -> None:
    """A checkout under /tmp puts local paths under /tmp; a /tmp mount (or nginx's /tmp scratch) must
    not map them a second time (seen: the fleet gateway's nginx config in a clone under /tmp)."""
    local = Path("/tmp/clone/pods/gw")
    paths = PathMapper([
        Mount("/var/run/flower/ca", local / "ca", "ca", "ConfigMap y"),
        Mount("/var/run/flower/tls", local / "tls", "tls", "Secret x"),
    ])
    config = "ssl_certificate /var/run/flower/tls/tls.crt;\nssl_trusted_certificate '/var/run/flower/ca/ca.crt';\n" \
             "client_body_temp_path /tmp/body;\nlocation /health { }\n"
    assert paths.in_text(config, unmounted={"/tmp": local / "scratch"}) == (
        "ssl_certificate /tmp/clone/pods/gw/tls/tls.crt;\nssl_trusted_certificate '/tmp/clone/pods/gw/ca/ca.crt';\n"
        "client_body_temp_path /tmp/clone/pods/gw/scratch/body;\nlocation /health { }\n")
    with_tmp = PathMapper([Mount("/tmp", local / "tmp", "tmp", "emptyDir"),
                           Mount("/var/run/flower/ca", local / "ca", "ca", "ConfigMap y")])
    probe = "import os; os.path.exists('/tmp/heartbeat') and open('/var/run/flower/ca/ca.crt')"
    assert with_tmp.in_text(probe, unmounted={"/tmp": local / "scratch"}) == (
        "import os; os.path.exists('/tmp/clone/pods/gw/tmp/heartbeat') and open('/tmp/clone/pods/gw/ca/ca.crt')")
    assert with_tmp.in_text("/tmpfile /var/run/flower/cab") == "/tmpfile /var/run/flower/cab"
