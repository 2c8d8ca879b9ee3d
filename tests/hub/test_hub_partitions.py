"""`helm flower partitions`: deterministic, collision-free partition ids written atomically."""

from __future__ import annotations

import os

import fleetgen
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from helm_flower.commands import partitions as cmd
from helm_flower.hub import fileio, partitions
from helm_flower.hub.errors import HubError

NS = "flower"
DNS_LABEL = st.from_regex(r"[a-z0-9]([a-z0-9-]{0,20}[a-z0-9])?", fullmatch=True)


@given(st.lists(DNS_LABEL, max_size=60), st.randoms())
@settings(max_examples=100, deadline=None)
def test_ids_are_a_permutation_in_sorted_name_order(names, rnd):
    result = partitions.assign(names)
    distinct = sorted(set(names))
    assert [e["name"] for e in result] == distinct
    assert sorted(e["nodeConfig"]["partition-id"] for e in result) == list(range(len(distinct)))
    assert all(e["nodeConfig"]["partition-id"] == distinct.index(e["name"]) for e in result)
    assert all(e["nodeConfig"]["num-partitions"] == len(distinct) for e in result)
    shuffled = names * 2  # duplicates (a cluster chosen by two placements) and any order: same result
    rnd.shuffle(shuffled)
    assert partitions.assign(shuffled) == result
    partitions.check(result)
    assert yaml.safe_load(partitions.render(result, ["header"])) == {"hubAddon": {"clusters": result}}


def test_rendered_values_quote_names_yaml_would_misread():
    result = partitions.assign(["yes", "no", "null", "1e3", "0x1f", "on", "true", "007"])
    text = partitions.render(result, [])
    assert yaml.safe_load(text)["hubAddon"]["clusters"] == result
    assert '- name: "yes"' in text and '- name: "007"' in text


def test_merge_keeps_other_node_config_and_drops_clusters_no_longer_chosen():
    existing = [{"name": "b", "nodeConfig": {"partition-id": 7, "data-path": "/data/b"}},
                {"name": "gone", "nodeConfig": {"partition-id": 0}}, "junk"]
    merged, notes = partitions.merge(partitions.assign(["a", "b"]), existing)
    assert merged == [{"name": "a", "nodeConfig": {"partition-id": 0, "num-partitions": 2}},
                      {"name": "b", "nodeConfig": {"data-path": "/data/b", "partition-id": 1, "num-partitions": 2}}]
    assert notes and "gone" in notes[0]


def test_big_fleet_partitions_file(big_hub, big_fleet, monkeypatch, tmp_path, run_cmd):
    monkeypatch.setenv("KUBECONFIG", big_hub.kubeconfig_path)
    out = tmp_path / "values.yaml"
    rc, stdout, err = run_cmd(cmd, ["partitions", "fed", "-n", NS, "-o", str(out)])
    assert rc == 0, err
    assert stdout == "" and "wrote 10000 clusters (num-partitions=10000)" in err
    doc = yaml.load(out.read_text(), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    clusters = doc["hubAddon"]["clusters"]
    assert [c["name"] for c in clusters] == big_fleet.all_clusters()  # west/gpu overlap counted once
    assert [c["nodeConfig"]["partition-id"] for c in clusters] == list(range(10_000))
    assert {c["nodeConfig"]["num-partitions"] for c in clusters} == {10_000}
    assert out.read_text().startswith("# Written by `helm flower partitions fed -n flower` from fed-east, fed-gpu, "
                                      "fed-west:")
    # Deterministic: a second run writes the same bytes.
    first = out.read_bytes()
    rc, _, _ = run_cmd(cmd, ["partitions", "fed", "-n", NS, "-o", str(out)])
    assert rc == 0 and out.read_bytes() == first


def test_stdout_and_merge_with_values_file(make_hub, run_cmd, tmp_path):
    make_hub(fleetgen.small_fleet())
    values = tmp_path / "old.yaml"
    values.write_text("hubAddon:\n  clusters:\n    - name: bravo\n      nodeConfig: {data-path: /d, partition-id: 9}\n")
    rc, out, err = run_cmd(cmd, ["partitions", "fed", "-n", NS, "-f", str(values)])
    assert rc == 0, err
    assert yaml.safe_load(out) == {"hubAddon": {"clusters": [
        {"name": "alpha", "nodeConfig": {"partition-id": 0, "num-partitions": 3}},
        {"name": "bravo", "nodeConfig": {"data-path": "/d", "partition-id": 1, "num-partitions": 3}},
        {"name": "charlie", "nodeConfig": {"partition-id": 2, "num-partitions": 3}}]}}


def test_no_cluster_chosen_writes_nothing(make_hub, run_cmd, tmp_path):
    make_hub(fleetgen.FleetSpec(placements={"default": [("", [])]}, apps={}))
    out = tmp_path / "values.yaml"
    rc, _, err = run_cmd(cmd, ["partitions", "fed", "-n", NS, "-o", str(out)])
    assert rc == 1 and "nothing written" in err and not out.exists()


def test_manual_mode_uses_the_addon_clusters(make_hub, run_cmd):
    make_hub(fleetgen.FleetSpec(manual_clusters=["m2", "m1"], apps={}))
    rc, out, _ = run_cmd(cmd, ["partitions", "fed", "-n", NS])
    assert rc == 0
    assert [c["name"] for c in yaml.safe_load(out)["hubAddon"]["clusters"]] == ["m1", "m2"]
    assert "installStrategy Manual" in out


def test_warns_about_placement_overrides_per_cluster_configs_lose(make_hub, run_cmd):
    hub = make_hub(fleetgen.small_fleet())
    labels = fleetgen.chart_labels(fleetgen.small_fleet(), "supernode")
    base = {"agentInstallNamespace": "flower-fed-flower", "customizedVariables": [
        {"name": "SUPERLINK_ADDRESS", "value": "203.0.113.10:443"},
        {"name": "SUPERNODE_IMAGE", "value": "docker.io/flwr/supernode:1.41.0"},
        {"name": "NODE_CONFIG", "value": "cluster-name=\"{{CLUSTER_NAME}}\""}]}
    special = {**base, "customizedVariables": base["customizedVariables"][:1] + [
        {"name": "SUPERNODE_IMAGE", "value": "registry.example.com/flwr/supernode:1.41.0"},
        {"name": "NODE_CONFIG", "value": "cluster-name=\"{{CLUSTER_NAME}}\" tier=\"gpu\""}],
        "resourceRequirements": [{"containerID": "deployments:supernode:supernode",
                                  "resources": {"requests": {"cpu": "2"}}}]}
    for name, spec in (("fed-supernode", base), ("fed-supernode-default", special)):
        hub.create({"apiVersion": "addon.open-cluster-management.io/v1alpha1", "kind": "AddOnDeploymentConfig",
                    "metadata": {"name": name, "namespace": NS, "labels": labels}, "spec": spec})
    rc, _, err = run_cmd(cmd, ["partitions", "fed", "-n", NS])
    assert rc == 0
    assert "warning: placement default has its own SuperNode settings (resourceRequirements, NODE_CONFIG, " \
           "SUPERNODE_IMAGE)" in err


def test_atomic_write_leaves_the_old_file_on_error(tmp_path, monkeypatch):
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    target = tmp_path / "values.yaml"
    target.write_text("old: true\n")
    os.chmod(target, 0o640)

    def boom(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(HubError, match="No space left on device"):
        fileio.atomic_write(target, "new: true\n")
    assert target.read_text() == "old: true\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["values.yaml"]  # no temp file left behind
    monkeypatch.undo()
    fileio.atomic_write(target, "new: true\n")
    assert target.read_text() == "new: true\n" and (target.stat().st_mode & 0o777) == 0o640  # mode kept


def test_atomic_write_follows_symlinks_and_rejects_missing_directories(tmp_path):
    real = tmp_path / "real.yaml"
    real.write_text("a\n")
    link = tmp_path / "link.yaml"
    link.symlink_to(real)
    fileio.atomic_write(link, "b\n")
    assert link.is_symlink() and real.read_text() == "b\n"
    with pytest.raises(HubError, match="does not exist"):
        fileio.atomic_write(tmp_path / "nope" / "x.yaml", "c\n")


def test_command_error_writing_leaves_no_file(make_hub, run_cmd, tmp_path):
    make_hub(fleetgen.small_fleet())
    rc, _, err = run_cmd(cmd, ["partitions", "fed", "-n", NS, "-o", str(tmp_path / "missing-dir" / "v.yaml")])
    assert rc == 2 and "directory" in err and not (tmp_path / "missing-dir").exists()


@pytest.mark.helm
def test_values_render_per_cluster_node_config_with_the_chart(make_hub, run_cmd, tmp_path, helm_bins, chart_dir):
    """The written values are what the chart expects: helm template renders one AddOnDeploymentConfig
    per cluster with partition-id / num-partitions in NODE_CONFIG, and an addon config reference."""
    import subprocess

    make_hub(fleetgen.small_fleet())
    values = tmp_path / "partitions.yaml"
    rc, _, err = run_cmd(cmd, ["partitions", "fed", "-n", NS, "-o", str(values)])
    assert rc == 0, err
    proc = subprocess.run([str(helm_bins["4"]), "template", "fed", str(chart_dir), "-n", NS,
                           "--set", "superlink.exposure.host=flower.example.com", "-f", str(values)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
    adcs = {d["metadata"]["name"]: d for d in docs if d["kind"] == "AddOnDeploymentConfig"}
    for i, cluster in enumerate(["alpha", "bravo", "charlie"]):
        adc = adcs[f"fed-supernode-cluster-{cluster}"]
        node_config = next(v["value"] for v in adc["spec"]["customizedVariables"] if v["name"] == "NODE_CONFIG")
        assert f"partition-id={i}" in node_config and "num-partitions=3" in node_config
    # Placements mode: a per-cluster Placement, last in the ClusterManagementAddOn's install strategy,
    # carries the cluster's config (no ManagedClusterAddOn: OCM creates those).
    assert not [d for d in docs if d["kind"] == "ManagedClusterAddOn"]
    (cma,) = [d for d in docs if d["kind"] == "ClusterManagementAddOn"]
    entries = {e["name"]: e for e in cma["spec"]["installStrategy"]["placements"]}
    assert entries["fed-cluster-bravo"]["configs"][0]["name"] == "fed-supernode-cluster-bravo"
    assert list(entries)[-3:] == ["fed-cluster-alpha", "fed-cluster-bravo", "fed-cluster-charlie"]


def test_read_chosen_in_manual_mode_reads_the_named_addon_in_pages(make_hub):
    """--addon-name picks the ManagedClusterAddOns (not the release's ClusterManagementAddOn), listed
    by name with the page size asked for; their list's resourceVersion is kept for the watch."""
    from helm_flower.hub.kube import ConnectionSettings, Hub
    from helm_flower.hub.release import MANUAL, read_chosen

    hub = make_hub(fleetgen.FleetSpec(manual_clusters=["m1"], apps={}))
    other = fleetgen.FleetSpec(manual_clusters=["x", "y"], apps={}, addon="flower-other")
    for cluster in ("x", "y"):
        hub.create(fleetgen.managed_cluster_addon(other, cluster, "available"))
    with Hub(ConnectionSettings()) as client:
        state = read_chosen(client, "fed", NS, addon_name="flower-other", page_size=1)
    assert state.addon == "flower-other"
    assert list(state.chosen()) == [MANUAL] and sorted(state.chosen()[MANUAL]) == ["x", "y"]
    assert {"placements", "decisions", "addons"} <= set(state.rv) and state.rv["addons"]
    lists = [(p, q) for m, p, q in hub.requests if m == "GET" and "watch" not in q]
    addon_lists = [q for p, q in lists if p.endswith("/managedclusteraddons")]
    assert len(addon_lists) == 2  # two addons, one a page
    assert all(q.get("fieldSelector") == "metadata.name=flower-other" and q.get("limit") == "1" for q in addon_lists)
    assert all(q.get("limit") == "1" for p, q in lists if p.endswith("/placements"))
