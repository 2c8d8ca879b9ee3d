"""The rehearsal plan from real renders of the chart (helm template) and the sample fleet."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from rehearse_helpers import SAMPLE_CLUSTERS

from helm_flower import naming
from helm_flower.rehearse import ocm
from helm_flower.rehearse.errors import Refusal
from helm_flower.rehearse.mapping import flag_value
from helm_flower.rehearse.plan import build_plan, chart_flower_version, fleet_with_label

pytestmark = pytest.mark.helm
NS = "flower"
RELEASE = "rehearsal"


def _values(tmp_path: Path, data: dict) -> str:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(data))
    return str(path)


def _plan(objects, fleet, **kwargs):
    return build_plan(objects, fleet, release=RELEASE, namespace=NS, **kwargs)


def test_default_values_place_supernodes_and_clientapps_on_the_three_enabled_clusters(render, sample_fleet) -> None:
    plan = _plan(render(), sample_fleet)
    assert sorted(plan.supernodes) == SAMPLE_CLUSTERS
    assert sorted(c.cluster for c in plan.clientapps) == SAMPLE_CLUSTERS
    assert {c.app for c in plan.clientapps} == {"default"}
    assert plan.superlink.program == "flower-superlink" and plan.superlink.args[:2] == ["--host", "0.0.0.0"]
    assert plan.serverapp is not None and plan.serverapp.program == "flower-superexec"
    assert plan.addon == naming.addon(RELEASE, NS) == f"flower-{RELEASE}-{NS}"
    for name in SAMPLE_CLUSTERS:
        info = plan.clusters[name]
        assert info.supernode_sources == [f"placement {NS}/{RELEASE}-default"]
        assert (info.adc.name, info.adc.source) == (f"{RELEASE}-supernode-default", f"placement {NS}/{RELEASE}-default")
        assert info.clientapps == ["default"]
        assert info.variables["CLUSTER_NAME"] == name
    roles = {(v.name, v.role) for v in plan.placements}
    # The default ClientApp names no placement: it goes wherever this release's SuperNode is.
    assert roles == {(f"{RELEASE}-default", "supernode"), (f"{RELEASE}-supernodes", "clientapp default")}


def test_the_longest_release_in_a_long_namespace(render, sample_fleet) -> None:
    """Helm's longest release name in a 40-character namespace: the chart shortens the addon name
    (and others); the plan finds the SuperLink and ServerApp Deployments by their labels, so a
    shortened name would not lose them either."""
    release, namespace = "r" * 53, "n" * 40
    objects = render(release=release, namespace=namespace)
    plan = build_plan(objects, sample_fleet, release=release, namespace=namespace)
    assert plan.superlink.program == "flower-superlink" and plan.serverapp is not None
    assert plan.superlink.pod_name == naming.name(release, namespace, "superlink")
    assert plan.serverapp.pod_name == naming.name(release, namespace, "serverapp")
    assert plan.addon == naming.addon(release, namespace) and len(plan.addon) == 57
    assert sorted(plan.supernodes) == SAMPLE_CLUSTERS and {c.app for c in plan.clientapps} == {"default"}
    renamed = [dict(o, metadata=dict(o["metadata"], name=o["metadata"]["name"][:40] + "-0123abcd"))
               if o["kind"] == "Deployment" else o for o in objects]
    plan = build_plan(renamed, sample_fleet, release=release, namespace=namespace)
    assert plan.superlink.pod_name.endswith("-0123abcd") and plan.superlink.program == "flower-superlink"
    assert plan.serverapp is not None and plan.serverapp.program == "flower-superexec"


def test_supernode_args_come_from_the_addon_template_with_ocm_substitution(render, sample_fleet) -> None:
    plan = _plan(render(), sample_fleet, add_partitions=False)
    node = plan.supernodes["hospital-lyon"]
    adc = next(o for o in render() if o["kind"] == "AddOnDeploymentConfig" and o["metadata"]["name"] == f"{RELEASE}-supernode-default")
    superlink_address = next(v["value"] for v in adc["spec"]["customizedVariables"] if v["name"] == "SUPERLINK_ADDRESS")
    assert flag_value(node.args, "--superlink") == superlink_address
    assert node.container["image"].startswith("docker.io/flwr/supernode:")
    assert "{{" not in " ".join(node.args)
    # The AddOnTemplate puts {{CLUSTER_NAME}} straight into --node-config (OCM substitutes once).
    assert plan.clusters["hospital-lyon"].node_config["cluster-name"] == "hospital-lyon"
    assert not any("ONE pass" in note for note in plan.notes)  # no variable left unsubstituted
    assert dict(node.extra_env)["CLUSTER_NAME"] == "hospital-lyon"


def test_partitions_are_added_by_sorted_cluster_name(render, sample_fleet) -> None:
    plan = _plan(render(), sample_fleet)
    assert plan.partitions_added
    for index, name in enumerate(SAMPLE_CLUSTERS):
        config = ocm.parse_node_config(flag_value(plan.supernodes[name].args, "--node-config"))
        assert (config["partition-id"], config["num-partitions"]) == (index, 3)
        assert plan.clusters[name].partition_added == {"partition-id": index, "num-partitions": 3}
    untouched = _plan(render(), sample_fleet, add_partitions=False)
    assert not untouched.partitions_added
    assert "partition-id" not in flag_value(untouched.supernodes["hospital-lyon"].args, "--node-config")


def test_per_cluster_node_config_wins_through_the_cluster_placement(render, sample_fleet, tmp_path) -> None:
    clusters = [{"name": n, "nodeConfig": {"partition-id": i, "num-partitions": 3}} for i, n in enumerate(reversed(SAMPLE_CLUSTERS))]
    objects = render(values_files=(_values(tmp_path, {"hubAddon": {"clusters": clusters}}),))
    plan = _plan(objects, sample_fleet)
    assert not plan.partitions_added  # every SuperNode already has one
    for i, name in enumerate(reversed(SAMPLE_CLUSTERS)):
        info = plan.clusters[name]
        own = f"placement {NS}/{RELEASE}-cluster-{name}"
        assert (info.adc.name, info.adc.source) == (f"{RELEASE}-supernode-cluster-{name}", own)
        assert info.node_config["partition-id"] == i
        assert info.supernode_sources == [f"placement {NS}/{RELEASE}-default", own]


def test_a_cluster_config_outside_the_placements_installs_nothing(render, sample_fleet, tmp_path) -> None:
    """Placements mode: a hubAddon.clusters item only configures a cluster the placements choose
    (its Placement narrows their predicates to its name); it never adds a cluster."""
    values = {"hubAddon": {"clusters": [{"name": "research-lab", "nodeConfig": {"gpu-slots": 2}}]}}
    plan = _plan(render(values_files=(_values(tmp_path, values),)), sample_fleet)
    assert sorted(plan.supernodes) == SAMPLE_CLUSTERS
    assert "research-lab" not in plan.clusters


def test_manual_strategy_installs_where_the_managed_cluster_addons_are(render, sample_fleet, tmp_path) -> None:
    values = {"hubAddon": {"installStrategy": "Manual", "clusters": [{"name": "hospital-boston"}, {"name": "bank-frankfurt"}],
                           "manualClusterSets": ["default"]},
              "clientApp": {"apps": [{"name": "default", "placements": []}]}}
    plan = _plan(render(values_files=(_values(tmp_path, values),)), sample_fleet)
    assert sorted(plan.supernodes) == ["bank-frankfurt", "hospital-boston"]
    assert all(plan.clusters[c].adc.source == "default" for c in plan.supernodes)
    assert sorted(c.cluster for c in plan.clientapps) == ["bank-frankfurt", "hospital-boston"]


def test_clientapp_placement_needs_the_addon_label(render, sample_fleet) -> None:
    objects = render()
    label = ocm.addon_available_label(naming.addon(RELEASE, NS))
    labelled = fleet_with_label(sample_fleet, {"hospital-lyon"}, label)
    assert labelled.cluster("hospital-lyon").labels[label] == "available"
    assert label not in labelled.cluster("hospital-berlin").labels
    assert label not in sample_fleet.cluster("hospital-lyon").labels  # the fleet itself is untouched
    # Without any SuperNode cluster, no ClientApp is placed.
    from helm_flower.placement_preview import preview_placements

    previews = {p.name: p for p in preview_placements(objects, sample_fleet, namespace=NS)}
    assert previews[f"{RELEASE}-default-clientapp"].chosen_names == ()


def test_chart_version_is_read_from_the_render(render) -> None:
    assert chart_flower_version(render(), RELEASE, NS) == "1.42.0"
    assert chart_flower_version(render("global.flower.version=1.41.0"), RELEASE, NS) == "1.41.0"


def test_no_superlink_refuses(render, sample_fleet) -> None:
    # The chart itself now refuses SuperNodes without this release's SuperLink; the rehearsal
    # still refuses a render that has none (hubAddon off too, so there is nothing to run).
    with pytest.raises(Refusal, match="superlink.enabled"):
        _plan(render("superlink.enabled=false", "hubAddon.enabled=false", "clientApp.enabled=false"), sample_fleet)


def test_supernodes_publish_their_minor_and_clientapps_follow_it(render, sample_fleet) -> None:
    """The addon's ClusterClaim (its SuperNode's Flower minor) is on every SuperNode cluster of the
    plan, and the ClientApp Placement selects on it: a cluster whose SuperNode claims another minor
    (mid-upgrade) gets no ClientApp."""
    from helm_flower.placement_preview import preview_placements

    objects = render()
    plan = _plan(objects, sample_fleet)
    claims = {name: plan.clusters[name].claims for name in plan.supernodes}
    (claim,) = {key for c in claims.values() for key in c}
    assert set(claims) == set(SAMPLE_CLUSTERS) and {c[claim] for c in claims.values()} == {"1.42"}
    label = ocm.addon_available_label(naming.addon(RELEASE, NS))
    lagging = {**claims, "hospital-lyon": {claim: "1.41"}}
    fleet = fleet_with_label(sample_fleet, set(SAMPLE_CLUSTERS), label, claims=lagging)
    previews = {p.name: p for p in preview_placements(objects, fleet, namespace=NS)}
    assert sorted(previews[f"{RELEASE}-default-clientapp"].chosen_names) == sorted(set(SAMPLE_CLUSTERS) - {"hospital-lyon"})
