"""A model trained through the real control plane (issue 17): the processes that run are exactly what
OCM delivered. The SuperLink, ServerApp SuperExec and fleet gateway run from the hub's Deployments,
each SuperNode and ClientApp SuperExec from what OCM's work agent applied on its cluster, all on the
fleet's process nodes (tests/ocmfleet/runner.py); SuperNodes dial the exposure address OCM
substituted into their arguments, through the Fleet-only gateway."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import yaml
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from hubview import wait_until
from helm_flower import naming
from helm_flower.rehearse.processes import flower_env
from ocmfleet.layout import REPO_ROOT, free_port
from ocmfleet.demo import EXPOSURE_HOST, federation_values
from releases import placed_on

sys.path.insert(0, str(REPO_ROOT / "tests" / "apps"))
from local_federation import format_config, parse_central_metrics, run_flwr, write_cli_config  # noqa: E402

NAMESPACE = "flower-train"
HOST = EXPOSURE_HOST
DIGITS = REPO_ROOT / "flower-apps" / "digits"


def training_values(selector: str) -> dict:
    return federation_values(placed_on(selector)["hubAddon"]["placements"])


def test_digits_trains_through_ocm_to_085_with_every_placed_supernode(fleet, hub, releases, selector, tmp_path):
    started = time.monotonic()
    clusters = list(fleet.managed)
    for cluster in clusters:
        hub.label_cluster(cluster, selector, "true")
    release = releases("train", NAMESPACE)
    values = training_values(selector)
    release.install(values)
    ns = release.agent_namespace
    for cluster in clusters:
        wait_until(f"{cluster}'s SuperNode and ClientApp processes to be ready",
                   lambda c=cluster: hub.available(c, ns, "supernode") and hub.available(c, ns, "clientapp-default"), 300)
    # Each SuperNode gets its data partition, the way an operator does it: `helm flower partitions`,
    # then `helm upgrade` with the file it wrote (per-cluster configs, rolled out by OCM).
    parts = tmp_path / "partitions.yaml"
    proc = release.flower("partitions", release.name, "-n", NAMESPACE, "-o", str(parts))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    values["hubAddon"]["clusters"] = yaml.safe_load(parts.read_text())["hubAddon"]["clusters"]
    release.upgrade(values)
    for i, cluster in enumerate(sorted(clusters)):
        wait_until(f"{cluster}'s SuperNode to run with partition-id={i}",
                   lambda c=cluster, i=i: f"partition-id={i}" in _node_config(hub, c, ns)
                   and hub.available(c, ns, "supernode"), 300)
    delivered = time.monotonic() - started
    # The pods that are Ready run on the process node: their readiness came from real probes.
    for cluster in clusters:
        pods = fleet.core(cluster).list_namespaced_pod(ns).items
        assert {p.spec.node_name for p in pods} == {"process-node-0"}, [(p.metadata.name, p.spec.node_name) for p in pods]
    # The SuperNodes dial the address OCM substituted: the exposure host, not an in-hub name.
    args = hub.deployment("cluster1", ns, "supernode").spec.template.spec.containers[0].args
    assert args[args.index("--superlink") + 1] == f"{HOST}:443"

    home = _cli_home(fleet, release, tmp_path)
    run = run_flwr(["run", str(DIGITS), "hub", "--stream", "--run-config",
                    format_config({"num-server-rounds": 3, "min-nodes": len(clusters), "fraction-train": 1.0,
                                   "fraction-evaluate": 1.0})], flwr_home=home, timeout=900)
    output = run.stdout + run.stderr
    trained = time.monotonic() - started - delivered
    assert run.returncode == 0, output[-4000:]
    central = parse_central_metrics(output)
    assert sorted(central) == [0, 1, 2, 3], output[-4000:]
    assert central[3]["accuracy"] >= 0.85, central
    nodes = json.loads(run_flwr(["supernode", "ls", "hub", "--format", "json"], flwr_home=home).stdout)
    # One SuperNode online per placed cluster (the SuperLink's database, on its kept PVC, also lists
    # the nodes replaced by the partitions upgrade and those of earlier installs: not online).
    assert [n["status"] for n in nodes["nodes"]].count("online") == len(clusters), nodes
    print(f"\ntraining test: OCM delivery {delivered:.0f} s, Flower (3 rounds) {trained:.0f} s")

    # A cluster taken out of the placement: OCM deletes its work, the agent its Deployment, the runner
    # its processes.
    hub.label_cluster("cluster3", selector, None)
    wait_until("cluster3's SuperNode and ClientApp to be gone",
               lambda: hub.deployment("cluster3", ns, "supernode") is None
               and not fleet.core("cluster3").list_namespaced_pod(ns).items, 180)
    wait_until("no process of cluster3's pods to be left",
               lambda: not [p for p in _marked_commands(fleet) if f"/cluster3/{ns}/" in p], 60)


def _node_config(hub, cluster: str, namespace: str) -> str:
    deployment = hub.deployment(cluster, namespace, "supernode")
    if deployment is None or (deployment.status.updated_replicas or 0) < 1 or deployment.status.unavailable_replicas:
        return ""
    args = deployment.spec.template.spec.containers[0].args
    return args[args.index("--node-config") + 1]


def _marked_commands(fleet) -> list[str]:
    """Command lines of the fleet's processes (they carry its marker)."""
    from helm_flower.rehearse.processes import describe_pids, marked_pids

    return describe_pids(marked_pids(fleet.layout.marker))


def test_with_node_auth_registered_supernodes_train_and_an_unregistered_key_is_refused(
        fleet, hub, releases, selector, tmp_path):
    """Node authentication through the real control plane: OCM signs each SuperNode's key, the
    registrar (a hub Deployment, run by the fleet's runner with its ServiceAccount) registers the keys
    of the clusters that have the addon, those SuperNodes train; a SuperNode with a key nobody
    registered, dialing the same exposure address, is refused by the SuperLink."""
    placed = ["cluster1", "cluster2"]
    for cluster in placed:
        hub.label_cluster(cluster, selector, "true")
    release = releases("trainauth", "flower-train-auth")
    values = training_values(selector)
    values["global"] = {"nodeAuth": {"enabled": True}}
    values["hubAddon"]["clusters"] = [{"name": c, "nodeConfig": {"partition-id": i, "num-partitions": len(placed)}}
                                      for i, c in enumerate(placed)]
    release.install(values)
    ns = release.agent_namespace
    for cluster in placed:
        wait_until(f"{cluster}'s SuperNode (key signed by OCM, registered) and ClientApp to be ready",
                   lambda c=cluster: hub.available(c, ns, "supernode") and hub.available(c, ns, "clientapp-default"), 300)

    superlink = _superlink_address(fleet, release)
    home = _cli_home(fleet, release, tmp_path)
    run = run_flwr(["run", str(DIGITS), "hub", "--stream", "--run-config",
                    format_config({"num-server-rounds": 3, "min-nodes": len(placed), "fraction-train": 1.0,
                                   "fraction-evaluate": 1.0})], flwr_home=home, timeout=900)
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-4000:]
    assert parse_central_metrics(output)[3]["accuracy"] >= 0.85, output[-4000:]
    nodes = json.loads(run_flwr(["supernode", "ls", "hub", "--format", "json"], flwr_home=home).stdout)["nodes"]
    assert [n["status"] for n in nodes].count("online") == len(placed), nodes

    # An intruder: the command line of cluster1's SuperNode (same exposure address, same CA), but
    # with a key of its own that no ManagedClusterAddOn's CSR carries.
    argv = _supernode_argv(fleet, "cluster1", ns)
    key = tmp_path / "intruder" / "key"
    key.parent.mkdir()
    key.write_bytes(ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()))
    key.chmod(0o600)
    program = Path(sys.executable).parent / "flower-supernode"
    intruder = [str(program), "--superlink", _flag_value(argv, "--superlink"),
                "--root-certificates", _flag_value(argv, "--root-certificates"),
                "--auth-supernode-private-key", str(key), "--isolation", "process",
                "--host", "127.0.0.1", "--port", str(free_port()),
                "--node-config", "partition-id=0 num-partitions=2", "--max-retries", "0"]
    proc = subprocess.run(intruder, capture_output=True, text=True, timeout=120,
                          env=flower_env(os.environ, flwr_home=tmp_path / "intruder" / "home", bin_dir=program.parent))
    log = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "Failed to activate SuperNode" in log, log[-3000:]
    nodes = json.loads(run_flwr(["supernode", "ls", "hub", "--format", "json"], flwr_home=home).stdout)["nodes"]
    assert len([n for n in nodes if n["status"] == "online"]) == len(placed), nodes


def _superlink_address(fleet, release) -> str:
    (address,) = wait_until("the SuperLink's Service to have a running endpoint",
                            lambda: [a] if (a := fleet.local_address("hub", naming.superlink_service(release.name, release.namespace),
                                                                     release.namespace, 9092)) else None, 120)
    return address


def _cli_home(fleet, release, tmp_path):
    ca = fleet.core().read_namespaced_config_map(naming.ca_bundle(release.name, release.namespace), release.namespace).data["ca.crt"]
    (tmp_path / "ca.crt").write_text(ca)
    home = tmp_path / "flwr-home"
    write_cli_config(home, _superlink_address(fleet, release), name="hub", ca_cert=tmp_path / "ca.crt")
    return home


def _supernode_argv(fleet, cluster: str, namespace: str) -> list[str]:
    """The flower-supernode arguments of `cluster`'s SuperNode pod (its process or its key launcher's)."""
    from helm_flower.rehearse.processes import marked_pids

    for pid in marked_pids(fleet.layout.marker):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")[:-1]
        except OSError:
            continue
        programs = [i for i, a in enumerate(argv) if Path(a).name == "flower-supernode"]
        if programs and f"/{cluster}/{namespace}/" in " ".join(argv):
            return argv[programs[0]:]
    raise AssertionError(f"no flower-supernode process of {cluster}/{namespace}")


def _flag_value(argv: list[str], flag: str) -> str:
    return argv[argv.index(flag) + 1]
