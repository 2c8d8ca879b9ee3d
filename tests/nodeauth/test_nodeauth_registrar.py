"""The hub-side registrar (charts/.../flower-superlink/files/node_auth_registrar.py) against a
fake Kubernetes API (real HTTP) and an in-memory SuperLink with Flower 1.41's rules."""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

import nodeauth_support as ns

ADDON = "flower-flower"
T0 = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


@pytest.fixture
def kube():
    with ns.FakeKube() as fake:
        yield fake


@pytest.fixture
def env(tmp_path: Path, kube: ns.FakeKube, registrar_mod, signing_ca):
    """A registrar wired to the fake hub and a fake SuperLink."""
    r = registrar_mod
    token = tmp_path / "token"
    token.write_text(kube.token + "\n")
    ca_file = tmp_path / "node-auth-ca.crt"
    ca_file.write_bytes(signing_ca[0])
    clock = Clock()
    flower = ns.FakeFlower(r, clock)
    registrar = r.Registrar(r.Cluster(r.Kube(kube.url, token_file=token), ADDON), flower, ca_file, superseded_grace=900, now=clock)

    class Env:
        pass

    e = Env()
    e.r, e.kube, e.flower, e.registrar, e.clock, e.ca, e.token, e.ca_file = r, kube, flower, registrar, clock, signing_ca, token, ca_file

    def join(cluster: str, created: dt.datetime | None = None) -> ns.Agent:
        kube.add_mca(ns.mca_object(cluster, ADDON))
        agent = ns.Agent(cluster, ADDON)
        kube.add_csr(agent.request(*signing_ca, created=created))
        return agent

    e.join = join
    return e


def verbs(actions) -> list[tuple[str, str]]:
    return [(a.verb, a.cluster) for a in actions]


def test_registers_each_clusters_key_once(env) -> None:
    a, b = env.join("cluster-a"), env.join("cluster-b")
    actions = env.registrar.reconcile()
    assert verbs(actions) == [("register", "cluster-a"), ("register", "cluster-b")]
    for agent in (a, b):
        (node,) = env.flower.by_name(f"ocm:{agent.cluster}")
        assert node.fingerprint == env.r.fingerprint(ns.public_key_of(agent.key_pem))
    assert env.registrar.reconcile() == []  # idempotent
    # A restarted registrar rebuilds its record from the SuperLink and does nothing either.
    fresh = env.r.Registrar(env.registrar.cluster, env.flower, env.ca_file, now=env.clock)
    assert fresh.reconcile() == []
    assert [c for c in env.flower.calls if c[0] == "register"] == [("register", "ocm:cluster-a"), ("register", "ocm:cluster-b")]


def test_only_reads_what_its_clusterrole_allows(env) -> None:
    env.join("cluster-a")
    env.registrar.reconcile()
    assert env.kube.requests
    for method, path, query, auth in env.kube.requests:
        assert method == "GET"
        assert path in (ns.CSR_PATH, *ns.MCA_PATHS.values()), path
        if path == ns.CSR_PATH:
            assert query["fieldSelector"] == f"spec.signerName={ns.SIGNER}"
        else:
            assert query["fieldSelector"] == f"metadata.name={ADDON}"
        assert auth == f"Bearer {env.kube.token}"


def test_rereads_a_rotated_serviceaccount_token(env) -> None:
    env.join("cluster-a")
    env.kube.token = "rotated"
    with pytest.raises(env.r.KubeError, match="401"):
        env.registrar.reconcile()
    env.token.write_text("rotated")
    assert verbs(env.registrar.reconcile()) == [("register", "cluster-a")]


def test_untrustworthy_csrs_are_skipped_not_fatal(env, caplog) -> None:
    caplog.set_level(logging.WARNING)
    env.join("cluster-a")
    env.kube.add_mca(ns.mca_object("cluster-b", ADDON))
    ca = env.ca
    other_ca = ns.make_ca("someone else")
    bad: dict[str, dict] = {}
    # The agent of cluster-b asks for a certificate labelled as cluster-a (labels are hints).
    bad["forged"] = ns.Agent("cluster-a", ADDON).request(*ca, username=ns.agent_username("cluster-b"))
    # A prefix of another cluster's name is not that cluster.
    bad["prefix"] = ns.Agent("cluster-b", ADDON).request(*ca, username="system:open-cluster-management:cluster-b2:agent")
    bad["other-ca"] = ns.Agent("cluster-b", ADDON).request(*other_ca)
    swapped = ns.Agent("cluster-b", ADDON).request(*ca)
    swapped["spec"]["request"] = ns.Agent("cluster-b", ADDON).request(*ca)["spec"]["request"]
    bad["key-mismatch"] = swapped
    bad["no-label"] = ns.Agent("cluster-b", ADDON).request(*ca)
    del bad["no-label"]["metadata"]["labels"]["open-cluster-management.io/cluster-name"]
    bad["garbage"] = ns.Agent("cluster-b", ADDON).request(*ca)
    bad["garbage"]["status"]["certificate"] = "bm90IGEgY2VydA=="
    bad["malformed"] = {"kind": "CertificateSigningRequest", "metadata": {"name": "addon-x", "labels": {
        "open-cluster-management.io/addon-name": ADDON}}, "spec": {"signerName": ns.SIGNER}, "status": {"certificate": 5, "conditions": [{"type": "Approved"}]}}
    for name, obj in bad.items():
        obj["metadata"]["name"] = f"bad-{name}"
        env.kube.add_csr(obj)
    # Not issued yet / denied / another addon / a cluster without the addon: silently not used.
    pending = ns.Agent("cluster-b", ADDON)
    env.kube.add_csr(ns.csr_object("cluster-b", ADDON, ns.ocm_csr(pending.key_pem, "cluster-b", ADDON), None, approved=False))
    env.kube.add_csr(ns.Agent("cluster-b", ADDON).request(*ca, denied=True))
    env.kube.add_csr(ns.Agent("cluster-b", "flower-other").request(*ca))
    env.kube.add_csr(ns.Agent("cluster-z", ADDON).request(*ca))

    actions = env.registrar.reconcile()
    assert verbs(actions) == [("register", "cluster-a")]
    assert not env.flower.by_name("ocm:cluster-b")
    warned = caplog.text
    for name in bad:
        assert f"bad-{name}" in warned, name
    assert "not by an agent of cluster 'cluster-a'" in warned
    assert "node-auth CA" in warned
    assert "not the CSR's key" in warned
    # Logged once, not on every pass.
    caplog.clear()
    env.registrar.reconcile()
    assert "bad-forged" not in caplog.text


def test_grpc_registration_requester_comes_from_the_annotation(env) -> None:
    env.kube.add_mca(ns.mca_object("cluster-g", ADDON))
    agent = ns.Agent("cluster-g", ADDON)
    env.kube.add_csr(agent.request(*env.ca, username=env.r.GRPC_SERVER_USER,
                                   annotations={env.r.CSR_USER_ANNOTATION: ns.agent_username("cluster-g")}))
    forged = ns.Agent("cluster-g", ADDON)
    env.kube.add_csr(forged.request(*env.ca, username=env.r.GRPC_SERVER_USER,
                                    annotations={env.r.CSR_USER_ANNOTATION: ns.agent_username("cluster-x")},
                                    created=dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)))
    assert verbs(env.registrar.reconcile()) == [("register", "cluster-g")]
    (node,) = env.flower.by_name("ocm:cluster-g")
    assert node.fingerprint == env.r.fingerprint(ns.public_key_of(agent.key_pem))


def test_non_nist_keys_are_rejected(env, registrar_mod) -> None:
    """OCM makes P-256 keys; anything Flower would refuse (RSA, ed25519) is never registered."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ed25519, rsa

    env.kube.add_mca(ns.mca_object("cluster-r", ADDON))
    for key in (rsa.generate_private_key(65537, 2048), ed25519.Ed25519PrivateKey.generate()):
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        csr_pem = ns.ocm_csr(pem, "cluster-r", ADDON)
        env.kube.add_csr(ns.csr_object("cluster-r", ADDON, csr_pem, ns.ocm_sign(csr_pem, *env.ca)))
    assert env.registrar.reconcile() == []
    # P-384 (also a NIST curve Flower accepts) is fine.
    env.kube.add_csr(ns.Agent("cluster-r", ADDON, key_pem=ns.ocm_agent_key(ec.SECP384R1())).request(*env.ca))
    assert verbs(env.registrar.reconcile()) == [("register", "cluster-r")]


def test_only_the_newest_key_of_a_cluster_is_registered(env) -> None:
    env.kube.add_mca(ns.mca_object("cluster-a", ADDON))
    old, new = ns.Agent("cluster-a", ADDON), ns.Agent("cluster-a", ADDON)
    env.kube.add_csr(old.request(*env.ca, created=T0))
    env.kube.add_csr(new.request(*env.ca, created=T0 + dt.timedelta(hours=19)))
    env.registrar.reconcile()
    (node,) = env.flower.by_name("ocm:cluster-a")
    assert node.fingerprint == env.r.fingerprint(ns.public_key_of(new.key_pem))


def test_rotation_unregisters_the_old_key_once_the_new_one_is_online(env) -> None:
    agent = env.join("cluster-a", created=T0)
    env.registrar.reconcile()
    (old,) = env.flower.by_name("ocm:cluster-a")
    env.flower.set_status(old.node_id, "online")

    env.clock.advance(19 * 3600)
    env.kube.add_csr(agent.rotate(*env.ca, created=T0 + dt.timedelta(hours=19)))
    assert verbs(env.registrar.reconcile()) == [("register", "cluster-a")]
    new = next(n for n in env.flower.by_name("ocm:cluster-a") if n.node_id != old.node_id)
    # The SuperNode has not switched yet: the old key stays registered.
    assert env.registrar.reconcile() == []
    assert old.status == "online"
    env.flower.set_status(old.node_id, "offline")
    env.flower.set_status(new.node_id, "online")
    actions = env.registrar.reconcile()
    assert [(a.verb, a.node_id) for a in actions] == [("unregister", old.node_id)]
    assert "online" in actions[0].reason
    assert env.registrar.reconcile() == []
    # The old CSR is garbage-collected by Kubernetes after an hour: nothing changes.
    for name in list(env.kube.csrs):
        if env.kube.csrs[name]["metadata"]["creationTimestamp"].startswith("2026-06-01T12"):
            env.kube.delete_csr(name)
    assert env.registrar.reconcile() == []


def test_rotation_grace_period_when_the_new_key_never_comes_online(env) -> None:
    agent = env.join("cluster-a", created=T0)
    env.registrar.reconcile()
    (old,) = env.flower.by_name("ocm:cluster-a")
    env.kube.add_csr(agent.rotate(*env.ca, created=T0 + dt.timedelta(hours=19)))
    env.registrar.reconcile()
    env.clock.advance(899)
    assert env.registrar.reconcile() == []
    env.clock.advance(2)
    assert [(a.verb, a.node_id) for a in env.registrar.reconcile()] == [("unregister", old.node_id)]


def test_a_cluster_that_leaves_is_unregistered(env) -> None:
    env.join("cluster-a")
    env.join("cluster-b")
    env.join("cluster-c")
    env.registrar.reconcile()
    env.kube.delete_mca("cluster-b", ADDON)  # the placement dropped it
    mca = env.kube.mcas[("cluster-c", ADDON)]
    mca["metadata"]["deletionTimestamp"] = "2026-06-01T13:00:00Z"  # being uninstalled
    actions = env.registrar.reconcile()
    assert sorted(verbs(actions)) == [("unregister", "cluster-b"), ("unregister", "cluster-c")]
    assert all(n.status == "unregistered" for c in ("b", "c") for n in env.flower.by_name(f"ocm:cluster-{c}"))
    assert env.flower.by_name("ocm:cluster-a")[0].status == "registered"
    assert env.registrar.reconcile() == []


def test_an_unregistered_key_is_never_retried(env, caplog) -> None:
    caplog.set_level(logging.WARNING)
    env.join("cluster-a")
    env.registrar.reconcile()
    (node,) = env.flower.by_name("ocm:cluster-a")
    env.flower.unregister(node.node_id)  # e.g. the cluster left and came back within the CSR's hour
    assert env.registrar.reconcile() == []
    assert "never accepts it again" in caplog.text
    assert [c for c in env.flower.calls if c[0] == "register"] == [("register", "ocm:cluster-a")]


def test_nodes_registered_by_hand_are_left_alone(env) -> None:
    agent = env.join("cluster-a")
    manual = env.flower.add_manual(ns.public_key_of(ns.ocm_agent_key()), name="lab-node")
    unnamed = env.flower.add_manual(ns.public_key_of(agent.key_pem))  # an operator registered the same key
    assert env.registrar.reconcile() == []
    env.kube.delete_mca("cluster-a", ADDON)
    assert env.registrar.reconcile() == []
    assert {n.node_id: n.status for n in env.flower.nodes} == {manual: "online", unnamed: "online"}


def test_flower_errors_on_one_cluster_do_not_stop_the_others(env) -> None:
    env.join("cluster-a")
    env.join("cluster-b")
    env.flower.fail_register["ocm:cluster-a"] = 3
    assert verbs(env.registrar.reconcile()) == [("register", "cluster-b")]
    del env.flower.fail_register["ocm:cluster-a"]
    assert verbs(env.registrar.reconcile()) == [("register", "cluster-a")]


def test_unregistering_an_already_gone_node_counts_as_done(env) -> None:
    env.join("cluster-a")
    env.registrar.reconcile()
    (node,) = env.flower.by_name("ocm:cluster-a")
    env.kube.delete_mca("cluster-a", ADDON)
    real_unregister = env.flower.unregister

    def gone(node_id: int) -> None:
        real_unregister(node_id)
        raise env.r.FlowerError("not found", env.r.FLOWER_NODE_NOT_FOUND)

    env.flower.unregister = gone
    assert verbs(env.registrar.reconcile()) == [("unregister", "cluster-a")]


@pytest.mark.parametrize("broken", ["kube", "superlink"])
def test_nothing_changes_when_a_source_cannot_be_read(env, broken: str) -> None:
    env.join("cluster-a")
    env.registrar.reconcile()
    env.kube.delete_mca("cluster-a", ADDON)
    if broken == "kube":
        env.kube.fail_with = 500
        with pytest.raises(env.r.KubeError):
            env.registrar.reconcile()
    else:
        env.flower.fail_list = True
        with pytest.raises(env.r.FlowerError):
            env.registrar.reconcile()
    assert [c[0] for c in env.flower.calls].count("unregister") == 0
    assert env.flower.by_name("ocm:cluster-a")[0].status == "registered"


def test_missing_node_auth_ca_registers_nothing(env, tmp_path: Path) -> None:
    env.join("cluster-a")
    env.registrar.ca_file = tmp_path / "absent.crt"
    assert env.registrar.reconcile() == []
    env.registrar.ca_file = env.ca_file
    assert verbs(env.registrar.reconcile()) == [("register", "cluster-a")]


def test_mca_api_falls_back_to_v1alpha1_and_lists_are_paged(tmp_path: Path, registrar_mod, signing_ca) -> None:
    r = registrar_mod
    with ns.FakeKube(mca_versions=("v1alpha1",), page_size=2) as kube:
        for i in range(5):
            kube.add_mca(ns.mca_object(f"c{i}", ADDON))
            kube.add_csr(ns.Agent(f"c{i}", ADDON).request(*signing_ca))
        token = tmp_path / "token"
        token.write_text(kube.token)
        cluster = r.Cluster(r.Kube(kube.url, token_file=token), ADDON)
        assert cluster.addon_clusters() == {f"c{i}" for i in range(5)}
        assert cluster.mca_query[0] == ns.MCA_PATHS["v1alpha1"]
        assert len(cluster.csrs()) == 5
        assert any(q.get("continue") for _, _, q, _ in kube.requests)


def _watching(kube: ns.FakeKube) -> set[str]:
    """Paths with an open (or opened) watch request."""
    return {path for _, path, q, _ in kube.requests if q.get("watch")}


def test_loop_reacts_to_watch_events(env, tmp_path: Path) -> None:
    """The main loop registers a key seconds after its CSR is issued (watch), not at the next resync."""
    heartbeat = tmp_path / "heartbeat"  # touched after every reconcile
    loop = env.r.Loop(env.registrar, resync=300, debounce=0.1, heartbeat=heartbeat)
    thread = threading.Thread(target=loop.run, daemon=True)
    thread.start()
    try:
        # The CSR is issued once the first reconcile is over and both watches are open: only a
        # watch event can make the loop register it before the resync in 300 s.
        deadline = time.monotonic() + 10
        while not (heartbeat.exists() and len(_watching(env.kube)) == 2) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert heartbeat.exists() and len(_watching(env.kube)) == 2, env.kube.requests
        env.join("cluster-w")
        deadline = time.monotonic() + 10
        while not env.flower.by_name("ocm:cluster-w") and time.monotonic() < deadline:
            time.sleep(0.1)
        assert env.flower.by_name("ocm:cluster-w"), "the registrar did not react to the watch event"
        env.kube.delete_mca("cluster-w", ADDON)
        deadline = time.monotonic() + 10
        while env.flower.by_name("ocm:cluster-w")[0].status != "unregistered" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert env.flower.by_name("ocm:cluster-w")[0].status == "unregistered"
    finally:
        loop.stop.set()
        loop.wake.set()
        thread.join(10)
    assert not thread.is_alive()
    watches = [q for _, _, q, _ in env.kube.requests if q.get("watch")]
    assert {q["fieldSelector"] for q in watches} >= {f"spec.signerName={ns.SIGNER}", f"metadata.name={ADDON}"}


def test_fingerprints_match_between_launcher_and_registrar(registrar_mod, launcher_mod) -> None:
    key = ns.public_key_of(ns.ocm_agent_key())
    assert registrar_mod.fingerprint(key) == launcher_mod.fingerprint(key)
    assert registrar_mod.fingerprint(key).startswith("SHA256:")
