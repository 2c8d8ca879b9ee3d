"""End-to-end SuperNode authentication with real Flower 1.41.0 processes on 127.0.0.1.

The chart is rendered (helm 4, nodeAuth on, Manual install of cluster-a and cluster-b) and
every process runs its rendered command line (nodeauth_federation.py). OCM is simulated where
there is no hub here: each cluster's key and CSR are made as the registration agent makes them
(EC P-256, SEC1 PEM) and signed as the addon manager signs them (with the rendered node-auth
CA); the registrar's real code registers them with the real SuperLink's Control API.

Every test starts its own federation (fixture `hub`: SuperLink and ServerApp SuperExec; `fed`:
that hub with cluster-a and cluster-b joined, registered and running their SuperNode and ClientApp
SuperExec), so the tests run in any order, alone or side by side on pytest-xdist workers:
join + a 3-round digits run, a refused unregistered key, a refused wrong SuperExec secret, key
rotation, a cluster leaving.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import ssl
import urllib.error
import urllib.request
from pathlib import Path

import pytest

import nodeauth_support as ns
import render as r
from local_federation import format_config, parse_central_metrics, run_flwr
from nodeauth_federation import ChartFederation

pytestmark = pytest.mark.e2e

RELEASE, NAMESPACE = "flower", "flower-system"
DIGITS = ns.REPO / "flower-apps" / "digits"
VALUES = """
global:
  nodeAuth:
    enabled: true
hubAddon:
  installStrategy: Manual
  clusters:
    - name: cluster-a
      nodeConfig: {partition-id: 0, num-partitions: 2}
    - name: cluster-b
      nodeConfig: {partition-id: 1, num-partitions: 2}
clientApp:
  apps:
    - name: digits
      placements: []
"""


@pytest.fixture(scope="module")
def rendered(tmp_path_factory, helm_bins) -> list[dict]:
    """The chart's render (read-only: every federation copies what it needs from it)."""
    values = tmp_path_factory.mktemp("nodeauth-e2e-values") / "values.yaml"
    values.write_text(VALUES)
    return r.render(helm_bins["4"], ns.CHART, (values,), (), RELEASE, NAMESPACE)


@pytest.fixture
def hub(tmp_path, rendered, registrar_mod):
    """A running hub (SuperLink, ServerApp SuperExec) of its own for one test."""
    work = tmp_path / "nodeauth-e2e"
    work.mkdir()
    objects = copy.deepcopy(rendered)
    old_home = os.environ.get("FLWR_HOME")
    with ns.FakeKube() as kube:
        f = ChartFederation(objects, work, kube, registrar_mod)
        try:
            # The rendered ManagedClusterAddOns are what the hub would hold.
            for mca in r.of_kind(objects, "ManagedClusterAddOn"):
                kube.add_mca(mca)
            f.start_hub()
            yield f
        finally:
            f.stop()
            if old_home is None:
                os.environ.pop("FLWR_HOME", None)
            else:
                os.environ["FLWR_HOME"] = old_home


CLUSTERS = ("cluster-a", "cluster-b")


def bring_online(fed: ChartFederation) -> None:
    """OCM installs the addon on cluster-a and cluster-b, the registrar registers their keys,
    each runs its SuperNode and ClientApp SuperExec; returns once both are online."""
    registrar = fed.registrar()
    for cluster in CLUSTERS:
        fed.join(cluster)
    actions = registrar.reconcile()
    assert sorted((a.verb, a.cluster) for a in actions) == [("register", c) for c in CLUSTERS]
    assert registrar.reconcile() == []  # idempotent against the real SuperLink

    for cluster in CLUSTERS:
        fed.start_supernode(cluster)
        fed.start_clientapp(cluster)
    for cluster in CLUSTERS:
        fed.wait(lambda c=cluster: fed.online(c), 60, f"{cluster}'s SuperNode online")


@pytest.fixture
def fed(hub: ChartFederation) -> ChartFederation:
    bring_online(hub)
    return hub


def test_clusters_join_and_train(hub: ChartFederation) -> None:
    fed = hub
    bring_online(fed)
    # The launcher converted OCM's key: the registered key is the one the SuperNode uses.
    for cluster, m in fed.clusters.items():
        (node,) = fed.online(cluster)
        assert node.fingerprint == registrar_mod_fp(fed, m.agent.key_pem)
        assert f"SuperNode key {node.fingerprint}" in m.supernode.log_path.read_text()
    # The operator's view: `flwr supernode ls` (JSON) lists both online.
    ls = run_flwr(["supernode", "ls", "hub", "--format", "json"], flwr_home=fed.cli_home)
    listed = json.loads(ls.stdout)
    assert listed["success"] and sorted(n["status"] for n in listed["nodes"]) == ["online", "online"], ls.stdout

    run = run_flwr(["run", str(DIGITS), "hub", "--stream", "--run-config", format_config({"num-server-rounds": 3})],
                   flwr_home=fed.cli_home, timeout=600)
    output = run.stdout + run.stderr
    central = parse_central_metrics(output)
    assert run.returncode == 0, output[-4000:]
    assert sorted(central) == [0, 1, 2, 3], output[-4000:]
    assert central[3]["accuracy"] >= 0.85, central
    match = re.search(r"Successfully started run (\d+)", output)
    assert match, output[-2000:]
    info = json.loads(run_flwr(["ls", "hub", "--run-id", match.group(1), "--format", "json"], flwr_home=fed.cli_home).stdout)
    assert info["runs"][0]["status"] == "finished:completed", info


def registrar_mod_fp(fed: ChartFederation, key_pem: bytes) -> str:
    return fed.registrar_mod.fingerprint(ns.public_key_of(key_pem))


def test_an_unregistered_key_is_refused(hub: ChartFederation) -> None:
    """cluster-c has a key signed by the right CA, but not the addon (no ManagedClusterAddOn):
    the registrar does not register it and the SuperLink refuses the SuperNode."""
    fed = hub
    registrar = fed.registrar()
    intruder = fed.join("cluster-c", node_config=format_config({"partition-id": 0, "num-partitions": 2}))
    assert registrar.reconcile() == []
    proc = fed.start_supernode("cluster-c")
    fed.wait(lambda: not proc.alive(), 60, "the unregistered SuperNode to exit")
    assert proc.returncode == 1, proc.log_tail()  # Flower's exit code 305 -> process status 1
    log = proc.log_path.read_text()
    assert "Failed to activate SuperNode" in log and "305" in log, log[-2000:]
    fp = registrar_mod_fp(fed, intruder.agent.key_pem)
    assert fp not in {n.fingerprint for n in fed.nodes()}


def test_a_wrong_superexec_secret_is_rejected(fed: ChartFederation) -> None:
    """The managed-side shared secret (Secret flower-superexec-auth from the AddOnTemplate)
    is checked: a ClientApp SuperExec with another secret is refused (HTTP 401) and exits."""
    m = fed.clusters["cluster-a"]
    before = m.supernode.log_path.read_text().count("SuperExec authentication failed")
    bad = fed.start_clientapp("cluster-a", secret=b"not-the-rendered-secret", name="superexec-wrong-secret")
    fed.wait(lambda: not bad.alive(), 90, "the SuperExec with the wrong secret to exit")
    log = m.supernode.log_path.read_text()
    assert log.count("SuperExec authentication failed") > before, log[-2000:]
    assert m.superexec.alive(), "the SuperExec with the rendered secret keeps working"
    # The Runtime API itself answers an unauthenticated SuperExec call with HTTP 401.
    ctx = ssl.create_default_context(cafile=str(fed.workdir / "cluster-a" / "supernode" / "ca" / "ca.crt"))
    req = urllib.request.Request(f"https://127.0.0.1:{m.runtime_port}/v1/runtime/acquire-task", data=b"",
                                 headers={"content-type": "application/protobuf"}, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))
    with pytest.raises(urllib.error.HTTPError) as err:
        opener.open(req, timeout=10)
    assert err.value.code == 401


def test_rotation_registers_the_new_key_and_retires_the_old(fed: ChartFederation) -> None:
    registrar = fed.registrar()
    m = fed.clusters["cluster-a"]
    (old,) = fed.online("cluster-a")
    # OCM rotates the certificate (~80 % of its 24 h): new key, new CSR, signed.
    created = dt.datetime.now(dt.UTC) + dt.timedelta(hours=19)
    fed.kube.add_csr(m.agent.rotate(*fed.signing_ca(), created=created))
    actions = registrar.reconcile()
    assert [(a.verb, a.cluster) for a in actions] == [("register", "cluster-a")]
    new_fp = registrar_mod_fp(fed, m.agent.key_pem)
    # The agent writes the new Secret; kubelet updates the mount; the launcher restarts the SuperNode.
    m.agent.write_secret(m.client_cert_dir)
    new = fed.wait(lambda: [n for n in fed.online("cluster-a") if n.fingerprint == new_fp], 90, "the new key online")[0]
    assert m.supernode.alive(), "the container keeps running: the launcher restarted flower-supernode itself"
    actions = registrar.reconcile()
    assert [(a.verb, a.node_id) for a in actions] == [("unregister", old.node_id)]
    status = {n.node_id: n.status for n in fed.nodes()}
    assert status[old.node_id] == "unregistered" and status[new.node_id] == "online"
    assert "client key changed" in m.supernode.log_path.read_text()


def test_a_cluster_that_leaves_is_unregistered_and_its_supernode_stops(fed: ChartFederation) -> None:
    registrar = fed.registrar()
    m = fed.clusters["cluster-b"]
    (node,) = fed.online("cluster-b")
    fed.kube.delete_mca("cluster-b", fed.addon)  # the cluster left the placement / Manual list
    actions = registrar.reconcile()
    assert [(a.verb, a.cluster, a.node_id) for a in actions] == [("unregister", "cluster-b", node.node_id)]
    fed.wait(lambda: not m.supernode.alive(), 60, "cluster-b's SuperNode to exit")
    assert {n.node_id: n.status for n in fed.nodes()}[node.node_id] == "unregistered"
    assert fed.online("cluster-a"), "the other cluster is unaffected"
