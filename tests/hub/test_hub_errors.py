"""Errors a human can act on: exit code 2, one message, no traceback."""

from __future__ import annotations

import json
import os
import socket
import time

import fleetgen
import pytest

from helm_flower.commands import connect, partitions, status

NS = "flower"


def assert_clean(rc: int, err: str, *needles: str) -> None:
    assert rc == 2, err
    assert "Traceback" not in err and "internal error" not in err
    assert err.startswith("helm flower: ") and err.count("\n") == 1, err
    for needle in needles:
        assert needle in err, err


def kubeconfig(path, server: str, token: str = "t", contexts: tuple[str, ...] = ("hub",)) -> str:
    doc = {"apiVersion": "v1", "kind": "Config", "current-context": contexts[0],
           "clusters": [{"name": c, "cluster": {"server": server}} for c in contexts],
           "users": [{"name": "u", "user": {"token": token}}],
           "contexts": [{"name": c, "context": {"cluster": c, "user": "u", "namespace": NS}} for c in contexts]}
    path.write_text(json.dumps(doc))
    return str(path)


def test_no_kubeconfig(tmp_path, monkeypatch, run_cmd):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "missing"))
    rc, _, err = run_cmd(status, ["status", "fed"])
    assert_clean(rc, err, "no kubeconfig:", str(tmp_path / "missing"), "KUBECONFIG")


def test_unknown_kube_context(tmp_path, monkeypatch, run_cmd, make_hub):
    hub = make_hub(fleetgen.small_fleet())
    monkeypatch.setenv("KUBECONFIG", kubeconfig(tmp_path / "kc", hub.url))
    rc, _, err = run_cmd(status, ["status", "fed", "--kube-context", "nope"])
    assert_clean(rc, err, "kube context 'nope' not found")


@pytest.mark.parametrize("command", [status, partitions, connect])
def test_connection_refused(tmp_path, monkeypatch, run_cmd, command):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    monkeypatch.setenv("KUBECONFIG", kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{port}"))
    start = time.monotonic()
    rc, _, err = run_cmd(command, [command.__name__.rsplit(".", 1)[1], "fed", "-n", NS])
    assert_clean(rc, err, f"cannot reach the hub API server at http://127.0.0.1:{port}: connection refused")
    assert time.monotonic() - start < 10


def test_hub_that_does_not_answer_times_out(tmp_path, monkeypatch, run_cmd):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen(8)  # accepts connections in the kernel, never answers
    try:
        port = s.getsockname()[1]
        monkeypatch.setenv("KUBECONFIG", kubeconfig(tmp_path / "kc", f"http://127.0.0.1:{port}"))
        start = time.monotonic()
        rc, _, err = run_cmd(status, ["status", "fed", "-n", NS, "--request-timeout", "1"])
        assert_clean(rc, err, "no answer within 1s (timed out)")
        assert time.monotonic() - start < 8
    finally:
        s.close()


def test_unauthorized(tmp_path, monkeypatch, run_cmd, make_hub):
    hub = make_hub(fleetgen.small_fleet(), token="right")
    monkeypatch.setenv("KUBECONFIG", kubeconfig(tmp_path / "kc", hub.url, token="wrong"))
    rc, _, err = run_cmd(status, ["status", "fed", "-n", NS])
    assert_clean(rc, err, "unauthorized: the hub API server at", "rejected the credentials")


def test_forbidden_names_verb_resource_and_namespace(make_hub, run_cmd):
    hub = make_hub(fleetgen.small_fleet())
    hub.deny("list", "placementdecisions", "cluster.open-cluster-management.io", NS)
    rc, _, err = run_cmd(status, ["status", "fed", "-n", NS])
    assert_clean(rc, err, "forbidden: cannot list placementdecisions.cluster.open-cluster-management.io in namespace "
                          "flower", 'User "system:serviceaccount:flower:tester"')


def test_forbidden_cluster_wide_addon_list(make_hub, run_cmd):
    hub = make_hub(fleetgen.small_fleet())
    hub.deny("list", "managedclusteraddons", "addon.open-cluster-management.io")
    rc, _, err = run_cmd(status, ["status", "fed", "-n", NS])
    assert_clean(rc, err, "forbidden: cannot list managedclusteraddons.addon.open-cluster-management.io at the "
                          "cluster scope (all namespaces)", "cluster-wide")


def test_forbidden_watch(make_hub, run_cmd):
    hub = make_hub(fleetgen.small_fleet(ready=False))
    hub.deny("watch", "managedclusteraddons", "addon.open-cluster-management.io")
    rc, _, err = run_cmd(status, ["status", "fed", "-n", NS, "--wait", "--timeout", "20s"])
    assert rc == 2 and "forbidden: cannot watch managedclusteraddons.addon.open-cluster-management.io" in err
    assert "Traceback" not in err


def test_ocm_crds_missing(make_hub, run_cmd):
    hub = make_hub(fleetgen.small_fleet())
    hub.remove_group("cluster.open-cluster-management.io")
    rc, _, err = run_cmd(status, ["status", "fed", "-n", NS])
    assert_clean(rc, err, "does not serve placements.cluster.open-cluster-management.io/v1beta1",
                 "Open Cluster Management CRDs are missing", "clusteradm init")


def test_manifestworkreplicaset_crd_missing(make_hub, run_cmd):
    hub = make_hub(fleetgen.small_fleet())
    del hub.types[("work.open-cluster-management.io", "v1alpha1", "manifestworkreplicasets")]
    rc, _, err = run_cmd(status, ["status", "fed", "-n", NS])
    assert_clean(rc, err, "manifestworkreplicasets.work.open-cluster-management.io/v1alpha1",
                 "ManifestWorkReplicaSet feature gate")


def test_release_not_found(make_hub, run_cmd):
    make_hub(fleetgen.small_fleet())
    rc, _, err = run_cmd(status, ["status", "nope", "-n", NS])
    assert_clean(rc, err, "release 'nope' not found in namespace flower",
                 "app.kubernetes.io/instance=nope", "helm list -A")
    rc, _, err = run_cmd(status, ["status", "fed", "-n", "wrong-ns"])
    assert_clean(rc, err, "release 'fed' not found in namespace wrong-ns")


def test_helm_kube_variables_without_kubeconfig(tmp_path, monkeypatch, make_hub, run_cmd):
    hub = make_hub(fleetgen.small_fleet(), token="helm-token")
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "none"))
    monkeypatch.setenv("HELM_KUBEAPISERVER", hub.url)
    monkeypatch.setenv("HELM_KUBETOKEN", "helm-token")
    monkeypatch.setenv("HELM_NAMESPACE", NS)
    rc, out, err = run_cmd(status, ["status", "fed"])
    assert rc == 0, err
    assert "ready: 3/3" in out


def test_helm_kube_context_and_token_override_the_kubeconfig(tmp_path, monkeypatch, make_hub, run_cmd):
    hub = make_hub(fleetgen.small_fleet(), token="helm-token")
    path = tmp_path / "kc"
    doc = json.loads(open(kubeconfig(path, "http://127.0.0.1:9", contexts=("dead", "hub"))).read())
    doc["clusters"][1]["cluster"]["server"] = hub.url
    path.write_text(json.dumps(doc))
    monkeypatch.setenv("KUBECONFIG", str(path))
    monkeypatch.setenv("HELM_KUBECONTEXT", "hub")  # the current context "dead" is not used
    monkeypatch.setenv("HELM_KUBETOKEN", "helm-token")  # the kubeconfig's token "t" is wrong
    rc, out, err = run_cmd(status, ["status", "fed"])  # namespace from the context
    assert rc == 0, err


def test_cli_main_with_helm_environment(monkeypatch, make_hub, capsys):
    """Through the real entry point, with the commands registered and helm's variables."""
    from helm_flower import cli, commands

    make_hub(fleetgen.small_fleet(ready=False))
    monkeypatch.setattr(commands, "COMMANDS", tuple(dict.fromkeys(commands.COMMANDS + ("status", "partitions",
                                                                                       "connect"))))
    monkeypatch.setenv("HELM_NAMESPACE", NS)
    assert cli.main(["status", "fed", "-o", "json"]) == 1
    assert json.loads(capsys.readouterr().out)["clusters"]["ready"] == 2
    assert cli.main(["status", "nope"]) == 2
    assert "release 'nope' not found" in capsys.readouterr().err


def test_command_modules_do_not_import_kubernetes():
    """`helm flower --help` and every other command must not pay for `import kubernetes` (~270 ms)."""
    import subprocess
    import sys

    code = ("import sys, argparse\n"
            "from helm_flower.commands import status, partitions, connect\n"
            "p = argparse.ArgumentParser(); s = p.add_subparsers()\n"
            "[m.add_parser(s) for m in (status, partitions, connect)]\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('kubernetes', 'yaml', 'urllib3', 'jsonschema')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}).stdout
    assert out.strip() == "[]"
