"""status, partitions and connect against what the REAL chart renders (helm template), plus the
objects OCM's controllers would add (decisions, addons, ManifestWorks with the labels OCM copies
from the ManifestWorkReplicaSet): the names and labels the plugin relies on come from the chart,
not from the test's own fleet generator."""

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

pytestmark = pytest.mark.helm


@pytest.fixture(scope="module")
def rendered(helm_bins, chart_dir) -> list[dict]:
    proc = subprocess.run([str(helm_bins["4"]), "template", "fed", str(chart_dir), "-n", NS,
                           "-f", str(chart_dir / "ci" / "clientapps-values.yaml")],
                          capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    return [d for d in yaml.safe_load_all(proc.stdout) if d]


def load_rendered(hub: fakehub.FakeHub, docs: list[dict]) -> dict[str, list[str]]:
    """Helm's objects, then OCM's; returns placement name -> clusters."""
    known = {(t.group, t.kind) for t in hub.types.values()}
    spec = fleetgen.FleetSpec(release="fed", namespace=NS)
    for d in docs:
        if (d["apiVersion"].rpartition("/")[0], d["kind"]) in known:
            d = dict(d, metadata=dict(d["metadata"], namespace=d["metadata"].get("namespace", NS)))
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
                labels["work.open-cluster-management.io/manifestworkreplicaset"] = f"{NS}.{mwrs['metadata']['name']}"
                labels["work.open-cluster-management.io/placementname"] = ref["name"]  # ... and adds these
                name = mwrs["metadata"]["name"] + (fleetgen.generated_suffix(c + ref["name"]) if c in seen else "")
                seen.add(c)
                hub.create({"apiVersion": "work.open-cluster-management.io/v1", "kind": "ManifestWork",
                            "metadata": {"name": name, "namespace": c, "labels": labels},
                            "spec": mwrs["spec"]["manifestWorkTemplate"],
                            "status": fleetgen.work_status(spec, app, "available")})
    return chosen


def test_status_finds_the_charts_objects(rendered, make_hub, run_cmd):
    hub = make_hub()
    load_rendered(hub, rendered)
    rc, out, err = run_cmd(status, ["status", "fed", "-n", NS, "-o", "json"])
    assert rc == 0, err + out
    data = json.loads(out)
    assert data["clusters"]["chosen"] == 5 and data["clusters"]["ready"] == 5
    assert {p["name"]: p["placement"] for p in data["placements"]} == {"hospitals": "fed-hospitals",
                                                                        "labs": "fed-labs"}
    mwrs = [d for d in rendered if d["kind"] == "ManifestWorkReplicaSet"]
    assert {a["manifestWorkReplicaSet"] for a in data["clientApps"]} == {m["metadata"]["name"] for m in mwrs}
    for p in data["placements"]:
        twin, everywhere = f"fed-{p['name']}-clientapp", "fed-supernodes"
        expected = sorted(m["metadata"]["labels"]["flower.ai/clientapp"] for m in mwrs
                          if any(r["name"] in (twin, everywhere) for r in m["spec"]["placementRefs"]))
        for row in p["rows"]:
            assert sorted(a["app"] for a in row["clientApps"]) == expected
            assert all(a["state"] == "available" for a in row["clientApps"])


def test_partitions_and_connect_on_the_charts_objects(rendered, make_hub, run_cmd, tmp_path, monkeypatch):
    hub = make_hub()
    load_rendered(hub, rendered)
    rc, out, err = run_cmd(partitions, ["partitions", "fed", "-n", NS])
    assert rc == 0, err
    assert [c["name"] for c in yaml.safe_load(out)["hubAddon"]["clusters"]] == ["h1", "h2", "h3", "l1", "l2"]
    monkeypatch.setenv("FLWR_HOME", str(tmp_path / "flwr"))
    rc, out, err = run_cmd(connect, ["connect", "fed", "-n", NS, "-o", "json"])
    assert rc == 0, err
    data = json.loads(out)
    superlink = next(d for d in rendered if d["kind"] == "Service" and d["metadata"]["name"] == "fed-superlink")
    port = superlink["spec"]["ports"][0]["port"]
    # LoadBalancer exposure without allApis goes through the Fleet-API-only gateway: flwr port-forwards.
    assert data["address"] == f"127.0.0.1:{port}" and data["via"] == "port-forward"
    ca = next(d for d in rendered if d["kind"] == "ConfigMap" and d["metadata"]["name"] == "fed-ca-bundle")
    assert (tmp_path / "flwr" / "certificates" / "fed-ca.crt").read_text().strip() == ca["data"]["ca.crt"].strip()
