"""status, partitions and connect against what the REAL chart renders (helm template), plus the
objects OCM's controllers would add (decisions, addons, ManifestWorks with the labels OCM copies
from the ManifestWorkReplicaSet): the names and labels the plugin relies on come from the chart,
not from the test's own fleet generator. Also with the longest release name in a long namespace
(the chart shortens names: the plugin finds them), and with two releases of one name in two
namespaces of one hub (each command finds its own release's objects only)."""

from __future__ import annotations

import json
import subprocess

import fakehub
import fleetgen
import pytest
import yaml

from helm_flower.commands import connect, partitions, status

NS = "flower"
CLUSTERS = {"hospitals": ["h1", "h2", "h3"], "labs": ["l1", "l2"]}
LONG = ("federated-learning-federated-learning-federated-learn", "team-research-team-research-team-researc")
assert (len(LONG[0]), len(LONG[1])) == (53, 40)

pytestmark = pytest.mark.helm


def render(helm_bins, chart_dir, release: str, namespace: str) -> list[dict]:
    proc = subprocess.run([str(helm_bins["4"]), "template", release, str(chart_dir), "-n", namespace,
                           "-f", str(chart_dir / "ci" / "clientapps-values.yaml")],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


@pytest.fixture(scope="module", params=[("fed", NS), LONG], ids=["short-names", "shortened-names"])
def release(request) -> tuple[str, str]:
    return request.param


@pytest.fixture(scope="module")
def rendered(helm_bins, chart_dir, release) -> list[dict]:
    return render(helm_bins, chart_dir, *release)


def _named(docs: list[dict], kind: str, component: str) -> dict:
    return next(d for d in docs if d["kind"] == kind and d["metadata"]["labels"]["app.kubernetes.io/component"] == component)


def _exists(hub: fakehub.FakeHub, d: dict) -> bool:
    try:
        hub.get(d["apiVersion"], d["kind"], d["metadata"]["name"], d["metadata"].get("namespace"))
    except KeyError:
        return False
    return True


def load_rendered(hub: fakehub.FakeHub, docs: list[dict], release: str = "fed", namespace: str = NS) -> dict[str, list[str]]:
    """Helm's objects, then OCM's; returns placement name -> clusters."""
    known = {(t.group, t.kind) for t in hub.types.values()}
    spec = fleetgen.FleetSpec(release=release, namespace=namespace)
    for d in docs:
        if (d["apiVersion"].rpartition("/")[0], d["kind"]) in known:
            if d["kind"] == "ManagedClusterSetBinding" and _exists(hub, d):
                continue  # shared by the releases of a namespace (binding name == set name)
            d = dict(d, metadata=dict(d["metadata"], namespace=d["metadata"].get("namespace", namespace)))
            if d["kind"] == "Service" and d["spec"].get("type") == "LoadBalancer":
                d["status"] = {"loadBalancer": {"ingress": [{"ip": "198.51.100.20"}]}}
            hub.create(d)
    cma = next(d for d in docs if d["kind"] == "ClusterManagementAddOn")
    spec.addon = cma["metadata"]["name"]
    chosen: dict[str, list[str]] = {}
    everything = sorted(c for cs in CLUSTERS.values() for c in cs)
    for p in (d for d in docs if d["kind"] == "Placement"):
        labels = p["metadata"]["labels"]
        item = labels.get("flower.ai/placement")
        clusters = CLUSTERS[item] if item else everything
        chosen[p["metadata"]["name"]] = clusters
        pds, _ = fleetgen.decisions(spec, p["metadata"]["name"], [("", clusters)])
        for pd in pds:
            hub.create(pd)
    for c in everything:
        hub.create(fleetgen.managed_cluster_addon(spec, c, "available"))
    for mwrs in (d for d in docs if d["kind"] == "ManifestWorkReplicaSet"):
        app = mwrs["metadata"]["labels"]["flower.ai/clientapp"]
        seen: set[str] = set()
        for ref in mwrs["spec"]["placementRefs"]:
            for c in chosen[ref["name"]]:
                labels = dict(mwrs["metadata"]["labels"])  # OCM copies the MWRS labels ...
                labels["work.open-cluster-management.io/manifestworkreplicaset"] = f"{namespace}.{mwrs['metadata']['name']}"
                labels["work.open-cluster-management.io/placementname"] = ref["name"]  # ... and adds these
                name = mwrs["metadata"]["name"] + (fleetgen.generated_suffix(c + ref["name"]) if c in seen else "")
                seen.add(c)
                hub.create({"apiVersion": "work.open-cluster-management.io/v1", "kind": "ManifestWork",
                            "metadata": {"name": name, "namespace": c, "labels": labels},
                            "spec": mwrs["spec"]["manifestWorkTemplate"],
                            "status": fleetgen.work_status(spec, app, "available")})
    return chosen


def test_status_finds_the_charts_objects(rendered, release, make_hub, run_cmd):
    hub = make_hub()
    load_rendered(hub, rendered, *release)
    rc, out, err = run_cmd(status, ["status", release[0], "-n", release[1], "-o", "json"])
    assert rc == 0, err + out
    data = json.loads(out)
    assert data["clusters"]["chosen"] == 5 and data["clusters"]["ready"] == 5
    placements = {p["metadata"]["labels"].get("flower.ai/placement"): p["metadata"]["name"]
                  for p in rendered if p["kind"] == "Placement"
                  and p["metadata"]["labels"]["flower.ai/placement-role"] == "supernode"}
    assert {p["name"]: p["placement"] for p in data["placements"]} == placements
    assert data["addon"] == next(d for d in rendered if d["kind"] == "ClusterManagementAddOn")["metadata"]["name"]
    mwrs = [d for d in rendered if d["kind"] == "ManifestWorkReplicaSet"]
    assert {a["manifestWorkReplicaSet"] for a in data["clientApps"]} == {m["metadata"]["name"] for m in mwrs}
    twins = {p["metadata"]["labels"].get("flower.ai/placement"): p["metadata"]["name"]
             for p in rendered if p["kind"] == "Placement" and p["metadata"]["labels"]["flower.ai/placement-role"] == "clientapp"}
    for p in data["placements"]:
        twin, everywhere = twins[p["name"]], twins[None]
        expected = sorted(m["metadata"]["labels"]["flower.ai/clientapp"] for m in mwrs
                          if any(r["name"] in (twin, everywhere) for r in m["spec"]["placementRefs"]))
        for row in p["rows"]:
            assert sorted(a["app"] for a in row["clientApps"]) == expected
            assert all(a["state"] == "available" for a in row["clientApps"])


def test_partitions_and_connect_on_the_charts_objects(rendered, release, make_hub, run_cmd, tmp_path, monkeypatch):
    hub = make_hub()
    load_rendered(hub, rendered, *release)
    rc, out, err = run_cmd(partitions, ["partitions", release[0], "-n", release[1]])
    assert rc == 0, err
    assert [c["name"] for c in yaml.safe_load(out)["hubAddon"]["clusters"]] == ["h1", "h2", "h3", "l1", "l2"]
    monkeypatch.setenv("FLWR_HOME", str(tmp_path / "flwr"))
    rc, out, err = run_cmd(connect, ["connect", release[0], "-n", release[1], "-o", "json"])
    assert rc == 0, err
    data = json.loads(out)
    services = [d for d in rendered if d["kind"] == "Service" and d["spec"].get("type", "ClusterIP") == "ClusterIP"]
    superlink = _named(services, "Service", "superlink")
    port = superlink["spec"]["ports"][0]["port"]
    # LoadBalancer exposure without allApis goes through the Fleet-API-only gateway: flwr port-forwards.
    assert data["address"] == f"127.0.0.1:{port}" and data["via"] == "port-forward"
    assert f"svc/{superlink['metadata']['name']} " in data["portForward"]
    ca = _named(rendered, "ConfigMap", "tls")
    assert (tmp_path / "flwr" / "certificates" / f"{release[0]}-ca.crt").read_text().strip() == ca["data"]["ca.crt"].strip()


def test_two_releases_of_one_name_on_one_hub(helm_bins, chart_dir, make_hub, run_cmd, tmp_path, monkeypatch):
    """Release fed in team-a and fed in team-b, on the same clusters of one hub: each command reads
    its own release (addon, ClientApps, SuperLink, partitions of its own placements)."""
    hub = make_hub()
    docs = {ns: render(helm_bins, chart_dir, "fed", ns) for ns in ("team-a", "team-b")}
    for ns, rendered in docs.items():
        load_rendered(hub, rendered, "fed", ns)
    # team-b's SuperNodes are down everywhere: team-a's status must not see that.
    for cluster in [c for cs in CLUSTERS.values() for c in cs]:
        spec = fleetgen.FleetSpec(release="fed", namespace="team-b",
                                  addon=next(d for d in docs["team-b"] if d["kind"] == "ClusterManagementAddOn")["metadata"]["name"])
        hub.replace(fleetgen.managed_cluster_addon(spec, cluster, "unavailable"))
    for ns, ready in (("team-a", 5), ("team-b", 0)):
        rc, out, err = run_cmd(status, ["status", "fed", "-n", ns, "-o", "json"])
        data = json.loads(out)
        cma = next(d for d in docs[ns] if d["kind"] == "ClusterManagementAddOn")
        assert data["addon"] == cma["metadata"]["name"] and data["namespace"] == ns, data
        assert data["clusters"]["chosen"] == 5 and data["clusters"]["ready"] == ready, data["clusters"]
        assert {a["manifestWorkReplicaSet"] for a in data["clientApps"]} == {
            d["metadata"]["name"] for d in docs[ns] if d["kind"] == "ManifestWorkReplicaSet"}
        assert not data["warnings"], data["warnings"]
        assert rc == (0 if ready else 1), err
    assert docs["team-a"][0] is not docs["team-b"][0]
    monkeypatch.setenv("FLWR_HOME", str(tmp_path / "flwr"))
    rc, out, err = run_cmd(connect, ["connect", "fed", "-n", "team-b", "-o", "json", "--name", "b"])
    assert rc == 0, err
    ca_b = _named(docs["team-b"], "ConfigMap", "tls")["data"]["ca.crt"].strip()
    ca_a = _named(docs["team-a"], "ConfigMap", "tls")["data"]["ca.crt"].strip()
    assert ca_a != ca_b and (tmp_path / "flwr" / "certificates" / "b-ca.crt").read_text().strip() == ca_b


def _cma(name: str, owner: tuple[str, str] | None, agent_namespace: str) -> dict:
    annotations = {"flower.ai/agent-namespace": agent_namespace}
    if owner:
        annotations |= {"meta.helm.sh/release-name": owner[0], "meta.helm.sh/release-namespace": owner[1]}
    return {"apiVersion": "addon.open-cluster-management.io/v1alpha1", "kind": "ClusterManagementAddOn",
            "metadata": {"name": name, "annotations": annotations}, "spec": {}}


@pytest.mark.parametrize("helm_version", ["4", "3"], ids=lambda v: f"helm{v}")
def test_chart_refuses_the_addon_or_agent_namespace_of_another_release(helm_bins, chart_dir, make_hub, tmp_path,
                                                                       helm_version):
    """On install and upgrade (lookup reads the hub) the chart refuses an addon name or an agent
    namespace that another release (or anything else) already has; its own are fine (upgrade)."""
    hub = make_hub()
    hub.create(_cma("shared", ("other", "team-b"), "agents-b"))
    hub.create(_cma("hand-made", None, "agents-x"))
    hub.create(_cma("flower-fed-team-a", ("fed", "team-a"), "flower-fed-team-a"))  # this release, installed before
    kubeconfig = hub.kubeconfig(tmp_path / "kubeconfig")

    def install(*sets: str) -> subprocess.CompletedProcess:
        args = [str(helm_bins[helm_version]), "template", "fed", str(chart_dir), "-n", "team-a", "--kubeconfig",
                kubeconfig, "--dry-run=server", "--set", "superlink.exposure.host=fl.example.com"]
        args += ["--disable-openapi-validation"] if helm_version == "4" else []
        for s in sets:
            args += ["--set", s]
        return subprocess.run(args, capture_output=True, text=True, timeout=180)

    proc = install()  # the default names are this release's own: rendered (Helm 4 then maps the objects
    # to the hub's API resources, which the fake hub does not all serve: that error comes after the render)
    assert proc.returncode == 0 or ("unable to build kubernetes objects" in proc.stderr
                                    and "execution error" not in proc.stderr), proc.stderr
    proc = install("global.addon.name=shared")
    assert proc.returncode != 0
    assert ('global.addon.name: the hub already has ClusterManagementAddOn "shared", installed by release other in '
            "namespace team-b: set global.addon.name to a name of this release's own (at most 57 characters)") in proc.stderr
    proc = install("global.addon.name=hand-made")
    assert 'ClusterManagementAddOn "hand-made", installed by something other than this chart' in proc.stderr
    proc = install("global.managedCluster.namespace=agents-b")
    assert proc.returncode != 0
    assert ('global.managedCluster.namespace: "agents-b" already holds the SuperNodes of addon shared (release other '
            "in namespace team-b) on the managed clusters: set global.managedCluster.namespace to a namespace of this "
            "release's own") in proc.stderr
    assert any(r[:2] == ("GET", "/apis/addon.open-cluster-management.io/v1alpha1/clustermanagementaddons")
               for r in hub.requests), "the chart looked the addons up"
