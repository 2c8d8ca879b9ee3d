"""Tests for the offline Placement preview (helm_flower.placement_preview)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import tooling
from helm_flower.fleet import Cluster, Fleet, Taint, load_fleet
from helm_flower.placement_preview import (
    Binding,
    PlacementPreview,
    explain_cluster,
    label_selector_matches,
    preview_placement,
    preview_placements,
)

REPO = Path(__file__).resolve().parents[2]
NS = "flower"


# --- helpers -----------------------------------------------------------------


def cluster(name: str, labels: dict | None = None, claims: dict | None = None, sets=("default",), taints=()) -> Cluster:
    return Cluster(name, labels or {}, claims or {}, tuple(sets), tuple(taints))


def fleet(*clusters: Cluster, sets: tuple[str, ...] | None = None) -> Fleet:
    known = sets if sets is not None else tuple(sorted({s for c in clusters for s in c.cluster_sets}))
    return Fleet(tuple(clusters), known)


PLACEMENT_SCHEMA = tooling.ocm_crd_schema("cluster.open-cluster-management.io", "v1beta1", "Placement")
DECISION_SCHEMA = tooling.ocm_crd_schema("cluster.open-cluster-management.io", "v1beta1", "PlacementDecision")
PLACEMENT_VALIDATOR = jsonschema.Draft7Validator(PLACEMENT_SCHEMA)


def placement(name: str = "p", *, check: bool = True, **spec: Any) -> dict:
    """A Placement object, checked against the upstream Placement CRD schema."""
    obj = {
        "apiVersion": "cluster.open-cluster-management.io/v1beta1",
        "kind": "Placement",
        "metadata": {"name": name, "namespace": NS},
        "spec": spec,
    }
    if check:
        PLACEMENT_VALIDATOR.validate(obj)
    return obj


def binding(name: str, namespace: str = NS, cluster_set: str | None = None) -> dict:
    return {
        "apiVersion": "cluster.open-cluster-management.io/v1beta2",
        "kind": "ManagedClusterSetBinding",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {"clusterSet": cluster_set or name},
    }


def preview(obj: dict, a_fleet: Fleet, *bindings: dict, existing=()) -> PlacementPreview:
    (result,) = preview_placements([obj, *bindings], a_fleet, existing, namespace=NS)
    return result


def labels_pred(**label_selector: Any) -> dict:
    return {"requiredClusterSelector": {"labelSelector": label_selector}}


def claims_pred(*expressions: dict) -> dict:
    return {"requiredClusterSelector": {"claimSelector": {"matchExpressions": list(expressions)}}}


def expr(key: str, operator: str, *values: str) -> dict:
    return {"key": key, "operator": operator, "values": list(values)} if values else {"key": key, "operator": operator}


def codes(result: PlacementPreview) -> list[str]:
    return [note.code for note in result.notes]


REGIONS = fleet(
    cluster("a", {"region": "eu", "gpu": "true"}, {"platform.open-cluster-management.io": "AWS"}),
    cluster("b", {"region": "us"}, {"platform.open-cluster-management.io": "GCP"}),
    cluster("c", {"region": "ap", "gpu": "false"}, {"id.k8s.io": "c-id"}),
    cluster("d", {}),
)


# --- selectors ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (expr("region", "In", "eu", "us"), ("a", "b")),
        (expr("region", "NotIn", "eu", "us"), ("c", "d")),  # NotIn also matches a missing label
        (expr("gpu", "Exists"), ("a", "c")),
        (expr("gpu", "DoesNotExist"), ("b", "d")),
    ],
)
def test_label_operators(expression: dict, expected: tuple[str, ...]) -> None:
    result = preview(placement(predicates=[labels_pred(matchExpressions=[expression])]), REGIONS, binding("default"))
    assert result.chosen_names == expected
    assert not result.notes


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (expr("platform.open-cluster-management.io", "In", "AWS"), ("a",)),
        (expr("platform.open-cluster-management.io", "NotIn", "AWS"), ("b", "c", "d")),
        (expr("id.k8s.io", "Exists"), ("c",)),
        (expr("id.k8s.io", "DoesNotExist"), ("a", "b", "d")),
    ],
)
def test_claim_operators(expression: dict, expected: tuple[str, ...]) -> None:
    result = preview(placement(predicates=[claims_pred(expression)]), REGIONS, binding("default"))
    assert result.chosen_names == expected


def test_match_labels() -> None:
    result = preview(placement(predicates=[labels_pred(matchLabels={"region": "us"})]), REGIONS, binding("default"))
    assert result.chosen_names == ("b",)


def test_requirements_inside_a_selector_are_anded() -> None:
    selector = {
        "labelSelector": {"matchLabels": {"gpu": "true"}, "matchExpressions": [expr("region", "In", "eu", "ap")]},
        "claimSelector": {"matchExpressions": [expr("platform.open-cluster-management.io", "Exists")]},
    }
    result = preview(placement(predicates=[{"requiredClusterSelector": selector}]), REGIONS, binding("default"))
    assert result.chosen_names == ("a",)
    selector["claimSelector"] = {"matchExpressions": [expr("id.k8s.io", "Exists")]}
    assert preview(placement(predicates=[{"requiredClusterSelector": selector}]), REGIONS, binding("default")).chosen_names == ()


def test_predicates_are_ored() -> None:
    predicates = [labels_pred(matchLabels={"region": "us"}), claims_pred(expr("id.k8s.io", "Exists"))]
    assert preview(placement(predicates=predicates), REGIONS, binding("default")).chosen_names == ("b", "c")


def test_no_predicates_select_every_candidate() -> None:
    result = preview(placement(), REGIONS, binding("default"))
    assert result.chosen_names == ("a", "b", "c", "d")
    assert result.reason == "AllDecisionsScheduled"


def test_no_cluster_matched() -> None:
    result = preview(placement(predicates=[labels_pred(matchLabels={"region": "mars"})]), REGIONS, binding("default"))
    assert (result.candidates, result.chosen_names, result.reason) == (("a", "b", "c", "d"), (), "NoManagedClusterMatched")
    assert [d.clusters for d in result.decisions] == [()]


def test_invalid_operator_is_misconfigured() -> None:
    obj = placement(check=False, predicates=[labels_pred(matchExpressions=[expr("gpu", "Gt", "1")])])
    result = preview(obj, REGIONS, binding("default"))
    assert result.chosen_names == ()
    assert result.reason == "Misconfigured"
    assert "predicates[0].labelSelector.matchExpressions[0]: 'Gt' is not a valid selector operator" in result.notes[0].message


def test_in_without_values_is_misconfigured() -> None:
    obj = placement(predicates=[labels_pred(matchExpressions=[expr("gpu", "In")])])
    assert preview(obj, REGIONS, binding("default")).reason == "Misconfigured"


def test_claim_match_labels_is_reported_as_dropped() -> None:
    obj = placement(check=False, predicates=[{"requiredClusterSelector": {"claimSelector": {"matchLabels": {"id.k8s.io": "x"}}}}])
    result = preview(obj, REGIONS, binding("default"))
    assert result.chosen_names == ("a", "b", "c", "d")
    assert codes(result) == ["ignored-field"]


# --- cluster sets and bindings -----------------------------------------------

SETS = fleet(
    cluster("eu-1", sets=("default", "eu")),
    cluster("eu-2", sets=("eu",)),
    cluster("us-1", sets=("default", "us")),
)


def test_missing_binding_means_no_candidates() -> None:
    result = preview(placement(clusterSets=["default"]), SETS)
    assert (result.cluster_sets, result.candidates, result.chosen_names) == ((), (), ())
    assert result.reason == "NoManagedClusterSetBindings"


def test_binding_with_another_name_means_no_candidates() -> None:
    result = preview(placement(clusterSets=["default"]), SETS, binding("flower-default", cluster_set="default"))
    assert result.candidates == ()
    assert result.reason == "NoManagedClusterSetBindings"
    assert codes(result) == ["binding-rejected"]


def test_binding_in_another_namespace_does_not_count() -> None:
    assert preview(placement(), SETS, binding("default", namespace="other")).candidates == ()


def test_binding_of_unknown_set_is_ignored() -> None:
    result = preview(placement(), SETS, binding("asia"))
    assert result.candidates == ()
    assert codes(result) == ["unknown-cluster-set"]


def test_rendered_cluster_set_counts_as_existing() -> None:
    cluster_set = {"apiVersion": "cluster.open-cluster-management.io/v1beta2", "kind": "ManagedClusterSet", "metadata": {"name": "lab"}}
    a_fleet = fleet(cluster("x", sets=("lab",)), sets=())
    (result,) = preview_placements([cluster_set, binding("lab"), placement()], a_fleet, namespace=NS)
    assert result.chosen_names == ("x",)


def test_empty_cluster_sets_means_all_bound_sets() -> None:
    result = preview(placement(), SETS, binding("eu"), binding("us"))
    assert result.cluster_sets == ("eu", "us")
    assert result.candidates == ("eu-1", "eu-2", "us-1")


def test_cluster_sets_intersect_with_bound_sets() -> None:
    result = preview(placement(clusterSets=["default", "us"]), SETS, binding("us"), binding("eu"))
    assert result.cluster_sets == ("us",)
    assert result.candidates == ("us-1",)


def test_spec_set_not_bound_is_no_intersection() -> None:
    result = preview(placement(clusterSets=["default"]), SETS, binding("eu"))
    assert (result.candidates, result.reason) == ((), "NoIntersection")


def test_cluster_set_without_members() -> None:
    result = preview(placement(), fleet(cluster("x", sets=("eu",)), sets=("eu", "empty")), binding("empty"))
    assert result.reason == "AllManagedClusterSetsEmpty"


def test_existing_bindings_from_the_caller() -> None:
    as_value = preview(placement(), SETS, existing=[Binding(NS, "us")])
    as_object = preview(placement(), SETS, existing=[binding("eu")])
    assert as_value.candidates == ("us-1",)
    assert as_object.candidates == ("eu-1", "eu-2")


def test_namespace_defaults_to_release_namespace() -> None:
    obj = placement()
    del obj["metadata"]["namespace"]
    unscoped = binding("default")
    del unscoped["metadata"]["namespace"]
    (result,) = preview_placements([obj, unscoped], SETS, namespace="ml")
    assert (result.namespace, result.candidates) == ("ml", ("eu-1", "us-1"))


def test_other_objects_are_ignored() -> None:
    docs = [None, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p"}}, "text", placement(), binding("us")]
    assert [r.chosen_names for r in preview_placements(docs, SETS, namespace=NS)] == [("us-1",)]


def test_preview_placement_directly_with_bindings() -> None:
    result = preview_placement(placement(), SETS, [Binding(NS, "eu")], cluster_sets=["eu"])
    assert result.chosen_names == ("eu-1", "eu-2")


# --- numberOfClusters and prioritizers -----------------------------------------

FIVE = fleet(*(cluster(n) for n in ("e", "c", "a", "d", "b")))


def test_number_of_clusters_caps_by_cluster_name() -> None:
    result = preview(placement(numberOfClusters=2), FIVE, binding("default"))
    assert result.feasible == ("a", "b", "c", "d", "e")
    assert result.chosen_names == ("a", "b")
    assert result.reason == "AllDecisionsScheduled"
    # the default Balance and Steady prioritizers depend on existing decisions on the hub
    assert codes(result) == ["prioritizer"]
    assert result.approximate


def test_number_of_clusters_above_feasible_leaves_decisions_unscheduled() -> None:
    result = preview(placement(numberOfClusters=7), FIVE, binding("default"))
    assert (len(result.chosen), result.unscheduled, result.reason) == (5, 2, "NotAllDecisionsScheduled")
    assert not result.notes


def test_exact_mode_without_prioritizers_is_exact() -> None:
    result = preview(placement(numberOfClusters=3, prioritizerPolicy={"mode": "Exact"}), FIVE, binding("default"))
    assert result.chosen_names == ("a", "b", "c")
    assert not result.approximate


def test_addon_prioritizer_is_not_evaluated() -> None:
    policy = {"mode": "Exact", "configurations": [{"scoreCoordinate": {"type": "AddOn", "addOn": {"resourceName": "gpu", "scoreName": "free"}}, "weight": 2}]}
    capped = preview(placement(numberOfClusters=2, prioritizerPolicy=policy), FIVE, binding("default"))
    assert codes(capped) == ["prioritizer"]
    assert "AddOn/gpu/free" in capped.notes[0].message
    assert capped.approximate
    uncapped = preview(placement(prioritizerPolicy=policy), FIVE, binding("default"))
    assert codes(uncapped) == ["prioritizer"]
    assert not uncapped.approximate


def test_builtin_resource_prioritizer_is_not_evaluated() -> None:
    policy = {"configurations": [{"scoreCoordinate": {"type": "BuiltIn", "builtIn": "ResourceAllocatableCPU"}}]}
    result = preview(placement(numberOfClusters=1, prioritizerPolicy=policy), FIVE, binding("default"))
    assert "ResourceAllocatableCPU" in result.notes[0].message
    assert result.approximate
    assert result.chosen_names == ("a",)


def test_spread_policy_and_sort_by_score_are_reported() -> None:
    obj = placement(spreadPolicy={"spreadConstraints": [{"topologyKey": "region", "topologyKeyType": "Label"}]}, sortBy="Score")
    result = preview(obj, FIVE, binding("default"))
    assert codes(result) == ["spread-policy", "sort-by-score"]
    assert result.approximate


# --- CEL -----------------------------------------------------------------------


def test_cel_selector_is_not_evaluated() -> None:
    selector = {
        "labelSelector": {"matchLabels": {"gpu": "true"}},
        "celSelector": {"celExpressions": ['managedCluster.metadata.labels["region"] == "eu"']},
    }
    predicates = [{"requiredClusterSelector": selector}, labels_pred(matchLabels={"region": "us"})]
    result = preview(placement(predicates=predicates), REGIONS, binding("default"))
    assert result.chosen_names == ("a", "b")
    assert result.uncertain == ("a",)  # c has gpu=false: the label part already rules it out
    assert codes(result) == ["cel-selector"]
    assert result.approximate


def test_cel_selector_that_cannot_matter_is_not_approximate() -> None:
    selector = {"labelSelector": {"matchLabels": {"region": "mars"}}, "celSelector": {"celExpressions": ["true"]}}
    result = preview(placement(predicates=[{"requiredClusterSelector": selector}]), REGIONS, binding("default"))
    assert (result.chosen_names, result.uncertain, result.approximate) == ((), (), False)
    assert codes(result) == ["cel-selector"]


def test_cel_cluster_name_equality_is_evaluated() -> None:
    """The form the chart writes for per-cluster placements is decided, not assumed."""
    for expression in ('managedCluster.metadata.name == "b"', "managedCluster.metadata.name=='b'"):
        selector = {"labelSelector": {"matchLabels": {"gpu": "true"}}, "celSelector": {"celExpressions": [expression]}}
        result = preview(placement(predicates=[{"requiredClusterSelector": selector}]), REGIONS, binding("default"))
        assert (result.chosen_names, result.uncertain, result.approximate, codes(result)) == ((), (), False, [])
        selector["labelSelector"] = {}
        result = preview(placement(predicates=[{"requiredClusterSelector": selector}]), REGIONS, binding("default"))
        assert (result.chosen_names, result.uncertain, codes(result)) == (("b",), (), [])
    mixed = {"celSelector": {"celExpressions": ['managedCluster.metadata.name == "a"', "size(x) > 1"]}}
    result = preview(placement(predicates=[{"requiredClusterSelector": mixed}]), REGIONS, binding("default"))
    assert (result.chosen_names, result.uncertain, codes(result)) == (("a",), ("a",), ["cel-selector"])


# --- taints and tolerations ------------------------------------------------------

TAINTED = fleet(
    cluster("clean"),
    cluster("maint", taints=[Taint("maintenance", "NoSelect", "true")]),
    cluster("prefer", taints=[Taint("slow", "PreferNoSelect")]),
    cluster("newonly", taints=[Taint("draining", "NoSelectIfNew")]),
)


def test_taints_exclude_unless_tolerated() -> None:
    result = preview(placement(), TAINTED, binding("default"))
    assert result.chosen_names == ("clean", "prefer")
    assert codes(result) == ["no-select-if-new"]
    assert not result.approximate


@pytest.mark.parametrize(
    ("toleration", "tolerated"),
    [
        ({"key": "maintenance", "operator": "Equal", "value": "true"}, True),
        ({"key": "maintenance", "value": "true"}, True),  # operator defaults to Equal
        ({"key": "maintenance", "value": "false"}, False),
        ({"key": "maintenance", "operator": "Exists"}, True),
        ({"key": "maintenance", "operator": "Exists", "effect": "NoSelect"}, True),
        ({"key": "maintenance", "operator": "Exists", "effect": "NoSelectIfNew"}, False),
        ({"operator": "Exists"}, True),  # empty key with Exists tolerates everything
    ],
)
def test_tolerations(toleration: dict, tolerated: bool) -> None:
    result = preview(placement(tolerations=[toleration]), TAINTED, binding("default"))
    assert ("maint" in result.chosen_names) is tolerated


def test_no_select_if_new_can_be_tolerated() -> None:
    result = preview(placement(tolerations=[{"key": "draining", "operator": "Exists"}]), TAINTED, binding("default"))
    assert "newonly" in result.chosen_names
    assert not result.notes


def test_toleration_seconds_make_the_preview_approximate() -> None:
    toleration = {"key": "maintenance", "operator": "Exists", "tolerationSeconds": 60}
    result = preview(placement(tolerations=[toleration]), TAINTED, binding("default"))
    assert "maint" in result.chosen_names
    assert "toleration-seconds" in codes(result)
    assert result.approximate


def test_empty_toleration_key_needs_exists() -> None:
    result = preview(placement(tolerations=[{"value": "true"}]), TAINTED, binding("default"))
    assert result.reason == "Misconfigured"
    assert result.chosen_names == ()


# --- decision groups and PlacementDecisions ---------------------------------------

SITES = fleet(
    *(cluster(f"hosp-{i}", {"sector": "health"}) for i in range(5)),
    *(cluster(f"bank-{i}", {"sector": "finance"}) for i in range(3)),
    cluster("lab", {"sector": "research"}),
)


def group_strategy(per_group: int | str | None = None, *groups: tuple[str, dict]) -> dict:
    strategy: dict[str, Any] = {"decisionGroups": [{"groupName": n, "groupClusterSelector": {"labelSelector": s}} for n, s in groups]}
    if per_group is not None:
        strategy["clustersPerDecisionGroup"] = per_group
    return {"groupStrategy": strategy}


def layout(result: PlacementPreview) -> list[tuple[int, str, tuple[str, ...]]]:
    return [(g.index, g.name, g.clusters) for g in result.groups]


def test_single_group_by_default() -> None:
    result = preview(placement(), SITES, binding("default"))
    assert [(g.index, g.name, len(g.clusters), g.decisions) for g in result.groups] == [(0, "", 9, ("p-decision-1",))]


def test_named_groups_first_then_the_rest_split_by_count() -> None:
    strategy = group_strategy(2, ("banks", {"matchLabels": {"sector": "finance"}}), ("labs", {"matchLabels": {"sector": "research"}}))
    result = preview(placement(decisionStrategy=strategy), SITES, binding("default"))
    assert layout(result) == [
        (0, "banks", ("bank-0", "bank-1")),
        (1, "banks", ("bank-2",)),
        (2, "labs", ("lab",)),
        (3, "", ("hosp-0", "hosp-1")),
        (4, "", ("hosp-2", "hosp-3")),
        (5, "", ("hosp-4",)),
    ]
    assert [d.name for d in result.decisions] == [f"p-decision-{n}" for n in range(1, 7)]
    assert result.chosen[0] == result.chosen[0].__class__("bank-0", 0, "banks", "p-decision-1")
    assert result.decisions[2].labels == {
        "cluster.open-cluster-management.io/placement": "p",
        "cluster.open-cluster-management.io/decision-group-name": "labs",
        "cluster.open-cluster-management.io/decision-group-index": "2",
    }


def test_clusters_per_group_percentage_rounds_up() -> None:
    result = preview(placement(decisionStrategy=group_strategy("25%")), SITES, binding("default"))
    assert [len(g.clusters) for g in result.groups] == [3, 3, 3]  # ceil(25% of 9) = 3
    assert [g.index for g in result.groups] == [0, 1, 2]


def test_group_without_matches_and_earlier_group_wins() -> None:
    strategy = group_strategy(None, ("none", {"matchLabels": {"sector": "space"}}), ("all", {}), ("health", {"matchLabels": {"sector": "health"}}))
    result = preview(placement(decisionStrategy=strategy), SITES, binding("default"))
    assert [(g.index, g.name, len(g.clusters)) for g in result.groups] == [(0, "all", 9)]


def test_clusters_per_group_larger_than_selection_means_one_group() -> None:
    result = preview(placement(decisionStrategy=group_strategy(50)), SITES, binding("default"))
    assert len(result.groups) == 1


def test_groups_apply_to_capped_selection() -> None:
    obj = placement(numberOfClusters=4, prioritizerPolicy={"mode": "Exact"}, decisionStrategy=group_strategy("50%"))
    result = preview(obj, SITES, binding("default"))
    assert layout(result) == [(0, "", ("bank-0", "bank-1")), (1, "", ("bank-2", "hosp-0"))]


def test_empty_selection_has_one_empty_group_and_decision() -> None:
    result = preview(placement(decisionStrategy=group_strategy(2, ("banks", {}))), SITES)
    assert layout(result) == [(0, "", ())]
    assert [(d.name, d.clusters) for d in result.decisions] == [("p-decision-1", ())]


BIG = fleet(*(cluster(f"site-{i:03d}") for i in range(250)))


def test_more_than_100_decisions_are_split_across_objects() -> None:
    result = preview(placement(name="fl"), BIG, binding("default"))
    assert [(d.name, d.group_index, len(d.clusters)) for d in result.decisions] == [
        ("fl-decision-1", 0, 100),
        ("fl-decision-2", 0, 100),
        ("fl-decision-3", 0, 50),
    ]
    assert result.decisions[1].clusters[0] == "site-100"
    assert result.groups[0].decisions == ("fl-decision-1", "fl-decision-2", "fl-decision-3")


def test_decision_numbering_continues_across_groups() -> None:
    result = preview(placement(name="fl", decisionStrategy=group_strategy(150)), BIG, binding("default"))
    assert [(d.name, d.group_index, len(d.clusters)) for d in result.decisions] == [
        ("fl-decision-1", 0, 100),
        ("fl-decision-2", 0, 50),
        ("fl-decision-3", 1, 100),
    ]
    assert result.status()["decisionGroups"][1] == {
        "decisionGroupIndex": 1,
        "decisionGroupName": "",
        "decisions": ["fl-decision-3"],
        "clusterCount": 100,
    }


def test_decision_objects_match_the_placementdecision_crd() -> None:
    result = preview(placement(decisionStrategy=group_strategy(2, ("banks", {"matchLabels": {"sector": "finance"}}))), SITES, binding("default"))
    for decision in result.decisions:
        obj = decision.to_object()
        jsonschema.validate(obj, DECISION_SCHEMA)
        assert obj["metadata"]["namespace"] == NS
        assert len(obj["status"]["decisions"]) <= 100


# --- end to end with the example fleet --------------------------------------------


def test_default_chart_placement_on_example_fleet() -> None:
    example = load_fleet(REPO / "examples" / "fleet.yaml")
    obj = placement(name="flower", clusterSets=["default"], predicates=[labels_pred(matchLabels={"flower.ai/enabled": "true"})])
    result = preview(obj, example, binding("default"))
    assert result.chosen_names == ("bank-frankfurt", "hospital-berlin", "hospital-lyon")
    assert result.decisions[0].name == "flower-decision-1"
    assert json.loads(json.dumps(result.to_dict()))["approximate"] is False


def test_example_fleet_taint_keeps_new_york_out() -> None:
    example = load_fleet(REPO / "examples" / "fleet.yaml")
    gpu = placement(predicates=[labels_pred(matchLabels={"gpu": "true"})])
    assert preview(gpu, example, binding("default"), binding("eu")).chosen_names == ("hospital-berlin", "hospital-boston", "research-lab")


# --- property ----------------------------------------------------------------------

NAMES = [f"c{i}" for i in range(12)]
label_maps = st.dictionaries(st.sampled_from(["region", "gpu"]), st.sampled_from(["x", "y"]), max_size=2)
requirements = st.builds(
    lambda key, op, values: expr(key, op, *values) if op in ("In", "NotIn") else expr(key, op),
    st.sampled_from(["region", "gpu"]),
    st.sampled_from(["In", "NotIn", "Exists", "DoesNotExist"]),
    st.lists(st.sampled_from(["x", "y"]), min_size=1, max_size=2, unique=True),
)
selectors = st.builds(lambda exprs: labels_pred(matchExpressions=exprs), st.lists(requirements, max_size=2))
random_clusters = st.lists(
    st.builds(
        cluster,
        st.sampled_from(NAMES),
        label_maps,
        label_maps,
        st.lists(st.sampled_from(["default", "eu"]), min_size=1, max_size=2, unique=True),
        st.lists(st.builds(Taint, st.sampled_from(["k1", "k2"]), st.sampled_from(["NoSelect", "PreferNoSelect", "NoSelectIfNew"])), max_size=1),
    ),
    max_size=10,
    unique_by=lambda c: c.name,
)


@settings(max_examples=200, deadline=None)
@given(
    clusters=random_clusters,
    predicates=st.lists(selectors, max_size=2),
    number=st.none() | st.integers(min_value=0, max_value=8),
    spec_sets=st.lists(st.sampled_from(["default", "eu"]), max_size=2, unique=True),
    bound=st.lists(st.sampled_from(["default", "eu", "us"]), max_size=3, unique=True),
    per_group=st.none() | st.integers(min_value=1, max_value=5) | st.sampled_from(["10%", "50%", "100%"]),
)
def test_chosen_is_a_capped_subset_of_candidates(clusters, predicates, number, spec_sets, bound, per_group) -> None:
    spec: dict[str, Any] = {"clusterSets": spec_sets, "predicates": predicates}
    if number is not None:
        spec["numberOfClusters"] = number
    if per_group is not None:
        spec["decisionStrategy"] = {"groupStrategy": {"clustersPerDecisionGroup": per_group}}
    result = preview(placement(**spec), fleet(*clusters, sets=("default", "eu")), *(binding(s) for s in bound))
    chosen = result.chosen_names
    assert set(chosen) <= set(result.candidates)
    assert len(set(chosen)) == len(chosen)
    if number is not None:
        assert len(chosen) <= number
    assert sorted(c for d in result.decisions for c in d.clusters) == sorted(chosen)
    assert all(len(d.clusters) <= 100 for d in result.decisions)


# --- the notes, reasons and objects a user sees ------------------------------------


def notes(result: PlacementPreview) -> list[tuple[str, str, bool]]:
    return [(n.code, n.message, n.approximate) for n in result.notes]


def test_notes_name_what_the_preview_did_not_evaluate() -> None:
    obj = placement(spreadPolicy={"spreadConstraints": [{"topologyKey": "region", "topologyKeyType": "Label"}]}, sortBy="Score")
    obj["apiVersion"] = "cluster.open-cluster-management.io/v1alpha1"
    assert notes(preview(obj, FIVE, binding("default"))) == [
        ("api-version", "apiVersion 'cluster.open-cluster-management.io/v1alpha1': the hub serves Placement only as "
                        "cluster.open-cluster-management.io/v1beta1", False),
        ("spread-policy", "spreadPolicy is not evaluated", True),
        ("sort-by-score", "sortBy Score orders decisions by score, which is not computed; decisions are listed by name", False),
    ]


@pytest.mark.parametrize(("regions", "assumed"), [(("eu", "ap"), "a, c"), (("mars",), "none")])
def test_cel_note_lists_the_clusters_assumed_to_match(regions: tuple[str, ...], assumed: str) -> None:
    selector = {"labelSelector": {"matchExpressions": [expr("region", "In", *regions)]}, "celSelector": {"celExpressions": ["size(x) > 1"]}}
    result = preview(placement(predicates=[{"requiredClusterSelector": selector}]), REGIONS, binding("default"))
    message = f"celSelector expressions are not evaluated; clusters assumed to match them: {assumed}"
    assert notes(result) == [("cel-selector", message, assumed != "none")]


def test_claim_match_labels_note_says_the_api_server_drops_it() -> None:
    dropped = {"requiredClusterSelector": {"claimSelector": {"matchLabels": {"id.k8s.io": "x"}}}}
    result = preview(placement(check=False, predicates=[labels_pred(), dropped]), REGIONS, binding("default"))
    message = "predicates[1].claimSelector.matchLabels is not part of the API (use matchExpressions); the API server drops it"
    assert notes(result) == [("ignored-field", message, False)]


def test_taint_notes_name_the_cluster_and_the_assumption() -> None:
    toleration = {"key": "maintenance", "operator": "Exists", "tolerationSeconds": 60}
    assert notes(preview(placement(tolerations=[toleration]), TAINTED, binding("default"))) == [
        ("toleration-seconds", "maint: tolerated only for tolerationSeconds, which the preview does not count down; "
                               "assumed still tolerated", True),
        ("no-select-if-new", "newonly: its NoSelectIfNew taint excludes it, assuming it is not already among this "
                             "Placement's decisions", False),
    ]


@pytest.mark.parametrize(
    ("toleration", "tolerated"),
    [
        ({"key": "other", "operator": "Exists"}, False),  # a key names the one taint it tolerates
        ({"key": "quiet", "operator": "Equal"}, True),  # no value tolerates the taint without one
        ({"key": "quiet", "value": "x"}, False),
    ],
)
def test_toleration_key_and_empty_value(toleration: dict, tolerated: bool) -> None:
    quiet = fleet(cluster("maint", taints=[Taint("maintenance", "NoSelect", "true")]), cluster("q", taints=[Taint("quiet", "NoSelect")]))
    result = preview(placement(tolerations=[toleration]), quiet, binding("default"))
    assert result.chosen_names == (("q",) if tolerated else ())


ADDON_SCORE = {"scoreCoordinate": {"type": "AddOn", "addOn": {"resourceName": "gpu", "scoreName": "free"}}}
CPU_SCORE = {"scoreCoordinate": {"type": "BuiltIn", "builtIn": "ResourceAllocatableCPU"}}


@pytest.mark.parametrize(
    ("number", "effect", "approximate"),
    [
        (2, "numberOfClusters keeps the highest scores, so the chosen clusters are approximate", True),
        (None, "every feasible cluster is chosen, so scores change nothing", False),
    ],
)
def test_live_prioritizers_note(number: int | None, effect: str, approximate: bool) -> None:
    spec: dict[str, Any] = {"prioritizerPolicy": {"configurations": [ADDON_SCORE, CPU_SCORE]}}
    if number is not None:
        spec["numberOfClusters"] = number
    message = f"prioritizers AddOn/gpu/free, ResourceAllocatableCPU score clusters from live hub state and are not evaluated; {effect}"
    assert notes(preview(placement(**spec), FIVE, binding("default"))) == [("prioritizer", message, approximate)]


def test_default_prioritizers_note_when_number_of_clusters_cuts() -> None:
    message = ("numberOfClusters keeps the highest scores; Balance, Steady depend on PlacementDecisions already on the "
               "hub, so all scores are taken as equal and ties are broken by cluster name")
    assert notes(preview(placement(numberOfClusters=2), FIVE, binding("default"))) == [("prioritizer", message, True)]


def test_addon_coordinate_without_names_and_zero_weights() -> None:
    unnamed = {"scoreCoordinate": {"type": "AddOn", "addOn": {}}}
    result = preview(placement(check=False, prioritizerPolicy={"mode": "Exact", "configurations": [unnamed]}), FIVE, binding("default"))
    assert "prioritizers AddOn// score clusters" in result.notes[0].message
    zero = [{**ADDON_SCORE, "weight": 0}, {"scoreCoordinate": {"type": "BuiltIn", "builtIn": "Balance"}, "weight": 0}]
    result = preview(placement(numberOfClusters=2, prioritizerPolicy={"configurations": zero}), FIVE, binding("default"))
    assert "; Steady depend on PlacementDecisions" in result.notes[0].message  # a weight of 0 turns a prioritizer off


def test_number_of_clusters_equal_to_feasible_or_zero() -> None:
    exact = preview(placement(numberOfClusters=5), FIVE, binding("default"))
    assert (len(exact.chosen), exact.notes) == (5, ())
    none = preview(placement(numberOfClusters=0), FIVE, binding("default"))
    assert (none.chosen_names, none.reason) == ((), "NoManagedClusterMatched")


MISCONFIGURED = [
    ({"predicates": [labels_pred(matchExpressions=[expr("gpu", "NotIn")])]},
     "predicates[0].labelSelector.matchExpressions[0]: values must be non-empty for NotIn"),
    ({"predicates": [claims_pred(expr("id.k8s.io", "Exists", "x"))]},
     "predicates[0].claimSelector.matchExpressions[0]: values must be empty for Exists"),
    ({"predicates": [labels_pred(), labels_pred(matchExpressions=[expr("gpu", "DoesNotExist", "x")])]},
     "predicates[1].labelSelector.matchExpressions[0]: values must be empty for DoesNotExist"),
    ({"tolerations": [{"value": "true"}]}, "tolerations[0]: if the key is empty, operator must be Exists"),
    ({"tolerations": [{"key": "k", "operator": "Exists", "value": "v"}]},
     "tolerations[0]: if the operator is Exists, the value should be empty"),
    ({"prioritizerPolicy": {"mode": "Fast"}}, "incorrect prioritizer policy mode: Fast"),
    ({"prioritizerPolicy": {"configurations": [CPU_SCORE, {"weight": 2}]}},
     "prioritizerPolicy.configurations[1]: scoreCoordinate field is required"),
    ({"prioritizerPolicy": {"configurations": [{"scoreCoordinate": {"type": "BuiltIn", "builtIn": "ResourceAllocatableCpu"}}]}},
     "incorrect builtin prioritizer: ResourceAllocatableCpu"),  # OCM's getPrioritizers: only the names it knows
    ({"prioritizerPolicy": {"configurations": [{"scoreCoordinate": {"type": "BuiltIn"}, "weight": 3}]}},
     "incorrect builtin prioritizer: "),
    ({"prioritizerPolicy": {"configurations": [{"scoreCoordinate": {"type": "AddOn"}}]}}, "addOn should not be empty"),
    ({"decisionStrategy": {"groupStrategy": {"clustersPerDecisionGroup": True}}},
     "clustersPerDecisionGroup True is not a number or percentage"),
    ({"decisionStrategy": {"groupStrategy": {"clustersPerDecisionGroup": "3"}}}, "clustersPerDecisionGroup '3' is not a percentage"),
    ({"decisionStrategy": {"groupStrategy": {"clustersPerDecisionGroup": "x%"}}}, "clustersPerDecisionGroup 'x%' is not a percentage"),
    ({"decisionStrategy": group_strategy(None, ("all", {}), ("bad", {"matchExpressions": [expr("gpu", "Gt")]}))},
     "decisionGroups[1].groupClusterSelector.labelSelector.matchExpressions[0]: 'Gt' is not a valid selector operator"),
]


@pytest.mark.parametrize(("spec", "problem"), MISCONFIGURED)
def test_misconfigured_note_says_why(spec: dict, problem: str) -> None:
    result = preview(placement(check=False, **spec), FIVE, binding("default"))
    assert notes(result) == [("misconfigured", f"the hub would not schedule this Placement: {problem}", False)]
    assert (result.name, result.reason, result.feasible, result.uncertain, result.chosen) == ("p", "Misconfigured", (), (), ())
    assert layout(result) == [(0, "", ())]


def test_a_prioritizer_switched_off_is_not_checked() -> None:
    unknown = {"scoreCoordinate": {"type": "BuiltIn", "builtIn": "Nope"}, "weight": 0}
    result = preview(placement(numberOfClusters=2, prioritizerPolicy={"configurations": [unknown]}), FIVE, binding("default"))
    assert (result.reason, result.chosen_names) == ("AllDecisionsScheduled", ("a", "b"))


def test_misconfigured_placement_leaves_its_clusters_unscheduled() -> None:
    obj = placement(check=False, numberOfClusters=2, prioritizerPolicy={"mode": "Fast"})
    result = preview(obj, FIVE, binding("default"))
    assert (result.reason, result.chosen, result.unscheduled) == ("Misconfigured", (), 2)


def test_binding_notes_say_why_the_hub_ignores_a_binding() -> None:
    result = preview(placement(), SETS, binding("flower-default", cluster_set="default"), binding("asia"))
    assert notes(result) == [
        ("binding-rejected", "ManagedClusterSetBinding 'flower-default' binds set 'default': the hub rejects a binding "
                             "whose name differs from its clusterSet", False),
        ("unknown-cluster-set", "ManagedClusterSetBinding 'asia': no such ManagedClusterSet in the fleet, the hub ignores it", False),
    ]


def test_existing_binding_objects_without_a_namespace_are_in_the_release_namespace() -> None:
    unscoped = binding("us")
    del unscoped["metadata"]["namespace"]
    assert preview(placement(), SETS, existing=[unscoped]).candidates == ("us-1",)


@pytest.mark.parametrize(("per_group", "sizes"), [(1, [1] * 9), (0, [9]), ("0%", [9]), (-2, [9])])
def test_clusters_per_group_of_one_or_none(per_group: int | str, sizes: list[int]) -> None:
    result = preview(placement(check=False, decisionStrategy=group_strategy(per_group)), SITES, binding("default"))
    assert [len(g.clusters) for g in result.groups] == sizes


def test_decision_object_and_status() -> None:
    result = preview(placement(numberOfClusters=2), FIVE, binding("default"))
    assert result.decisions[0].to_object() == {
        "apiVersion": "cluster.open-cluster-management.io/v1beta1",
        "kind": "PlacementDecision",
        "metadata": {"name": "p-decision-1", "namespace": NS, "labels": {
            "cluster.open-cluster-management.io/placement": "p",
            "cluster.open-cluster-management.io/decision-group-name": "",
            "cluster.open-cluster-management.io/decision-group-index": "0",
        }},
        "status": {"decisions": [{"clusterName": "a", "reason": ""}, {"clusterName": "b", "reason": ""}]},
    }
    assert result.status()["numberOfSelectedClusters"] == 2


def test_defaults_namespace_and_known_sets() -> None:
    """Without namespace= an unscoped Placement and binding are in "default"; without cluster_sets= the fleet's sets exist."""
    obj = placement()
    del obj["metadata"]["namespace"]
    unscoped = binding("us")
    del unscoped["metadata"]["namespace"]
    (result,) = preview_placements([obj], SETS, [unscoped])
    assert (result.namespace, result.candidates) == ("default", ("us-1",))
    direct = preview_placement(obj, SETS, [Binding("default", "eu")])
    assert (direct.name, direct.namespace, direct.candidates) == ("p", "default", ("eu-1", "eu-2"))
    assert explain_cluster(obj, "us-1", SETS, [Binding("default", "us")])[0] is True


# --- one cluster: helm flower explain ----------------------------------------------


def explain(obj: dict, name: str, a_fleet: Fleet = REGIONS, bindings=(Binding(NS, "default"),), **kwargs: Any) -> tuple[bool, str]:
    return explain_cluster(obj, name, a_fleet, list(bindings), **kwargs)


def test_explain_a_cluster_that_passes_or_does_not_exist() -> None:
    assert explain(placement(), "a") == (True, "it passes the placement's cluster sets, predicates and tolerations")
    assert explain(placement(), "z") == (False, "there is no ManagedCluster z")


def test_explain_cluster_sets() -> None:
    assert explain(placement(), "eu-2", SETS, [Binding(NS, "default"), Binding(NS, "us")]) == (
        False, "it is in cluster set(s) eu, not in one the placement uses (default, us)")
    assert explain(placement(), "eu-1", SETS, [Binding(NS, "us")]) == (
        False, "it is in cluster set(s) default, eu, not in one the placement uses (us)")
    loner = fleet(cluster("x", sets=()), sets=("default",))
    assert explain(placement(), "x", loner, [Binding(NS, "flower", "default")]) == (
        False, f"it is in cluster set(s) (none), not in one the placement uses (none bound to namespace {NS})")
    assert explain(placement(), "eu-2", SETS, [Binding(NS, "eu")], namespace="other")[0] is True  # metadata.namespace wins


def test_explain_uses_the_sets_given_as_existing() -> None:
    lab = fleet(cluster("x", sets=("lab",)), sets=())
    assert explain(placement(), "x", lab, [Binding(NS, "lab")])[0] is False
    assert explain(placement(), "x", lab, [Binding(NS, "lab")], cluster_sets=["lab"])[0] is True


def test_explain_predicates_in_words() -> None:
    predicates = [
        labels_pred(matchLabels={"region": "eu"}, matchExpressions=[expr("tier", "In", "x", "y"), expr("gpu", "Exists")]),
        {"requiredClusterSelector": {
            "labelSelector": {"matchExpressions": [expr("zone", "NotIn", "z1", "z2"), expr("old", "DoesNotExist")]},
            "claimSelector": {"matchExpressions": [expr("id.k8s.io", "In", "c-id")]},
            "celSelector": {"celExpressions": ['managedCluster.metadata.name == "c"']},
        }},
        {"requiredClusterSelector": {}},
    ]
    ok, why = explain(placement(predicates=predicates[:2]), "d")
    assert (ok, why) == (False, "its labels and claims match none of the placement's predicates: "
                                "(label region=eu and label tier in (x, y) and label gpu exists) or "
                                "(label zone not in (z1, z2) and label old absent and claim id.k8s.io=c-id and "
                                'CEL managedCluster.metadata.name == "c")')
    assert explain(placement(predicates=predicates), "d")[0] is True  # an empty selector matches any cluster


def test_explain_misconfigured_and_taints() -> None:
    bad = placement(check=False, predicates=[labels_pred(), labels_pred(matchExpressions=[expr("gpu", "Gt")])])
    assert explain(bad, "a") == (
        False, "the placement is misconfigured: predicates[1].labelSelector.matchExpressions[0]: 'Gt' is not a valid selector operator")
    assert explain(placement(), "maint", TAINTED) == (False, "its taint maintenance (NoSelect) is not tolerated by the placement")


def test_explain_ignores_bindings_the_hub_rejects() -> None:
    assert explain(placement(), "a", REGIONS, [Binding(NS, "flower", "default"), Binding(NS, "nowhere")])[0] is False


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ({"matchLabels": {"gpu": "true"}}, {"gpu": "true"}, True),
        ({"matchLabels": {"gpu": "true"}}, {}, False),
        ({"matchExpressions": [expr("gpu", "Exists")]}, {"gpu": "x"}, True),
        ({"matchExpressions": [expr("gpu", "Gt", "1")]}, {"gpu": "2"}, False),  # an invalid selector matches nothing
    ],
)
def test_label_selector_matches(selector: dict, labels: dict, matches: bool) -> None:
    assert label_selector_matches(selector, labels) is matches
