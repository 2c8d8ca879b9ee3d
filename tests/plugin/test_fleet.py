"""Tests for the fleet inventory format (schemas/fleet.schema.json) and load_fleet."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import jsonschema
import pytest

from helm_flower.fleet import (
    Cluster,
    FleetError,
    Taint,
    fleet_from_document,
    json_path,
    load_fleet,
    load_schema,
    schema_path,
)

REPO = Path(__file__).resolve().parents[2]
EXAMPLE = REPO / "examples" / "fleet.yaml"
SCHEMA = REPO / "schemas" / "fleet.schema.json"


def write(tmp_path: Path, text: str, name: str = "fleet.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def minimal(**cluster_fields: object) -> dict:
    return {"apiVersion": "flower.ai/v1alpha1", "kind": "Fleet", "clusters": [{"name": "a", **cluster_fields}]}


# --- the example and the schema ----------------------------------------------


def test_example_fleet_loads() -> None:
    fleet = load_fleet(EXAMPLE)
    assert len(fleet.clusters) >= 5
    assert fleet.cluster_sets == ("default", "eu", "us")
    assert fleet.source == str(EXAMPLE)


def test_example_enables_flower_on_three_clusters_of_default() -> None:
    fleet = load_fleet(EXAMPLE)
    enabled = [c.name for c in fleet.members("default") if c.labels.get("flower.ai/enabled") == "true"]
    assert enabled == ["hospital-berlin", "hospital-lyon", "bank-frankfurt"]


def test_example_has_claims_and_taints() -> None:
    fleet = load_fleet(EXAMPLE)
    assert all("id.k8s.io" in c.claims for c in fleet.clusters)
    newyork = fleet.cluster("bank-newyork")
    assert newyork is not None
    assert newyork.taints == (Taint("flower.ai/maintenance", "NoSelect", "true", "2026-06-01T08:00:00Z"),)


def test_schema_is_valid_draft_2020_12() -> None:
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    jsonschema.Draft202012Validator.check_schema(schema)


def _object_schemas(node: object):
    if isinstance(node, dict):
        if node.get("type") == "object":
            yield node
        for value in node.values():
            yield from _object_schemas(value)
    elif isinstance(node, list):
        for value in node:
            yield from _object_schemas(value)


def test_schema_is_strict() -> None:
    """Every object either forbids extra properties or types them (labels, claims)."""
    for node in _object_schemas(json.loads(SCHEMA.read_text(encoding="utf-8"))):
        assert "additionalProperties" in node, node.get("description", node)
        if "properties" in node:
            assert node["additionalProperties"] is False


def test_schema_path_is_found_and_overridable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert schema_path() == SCHEMA
    monkeypatch.setenv("HELM_FLOWER_SCHEMA_DIR", str(tmp_path))
    with pytest.raises(FleetError, match="cannot read the fleet schema"):
        load_schema()


# --- conversion --------------------------------------------------------------


def test_defaults_cluster_sets_to_default_and_derives_fleet_sets() -> None:
    fleet = fleet_from_document(
        {
            "apiVersion": "flower.ai/v1alpha1",
            "kind": "Fleet",
            "clusters": [{"name": "a"}, {"name": "b", "clusterSets": ["eu"]}],
        }
    )
    assert fleet.clusters[0] == Cluster("a", {}, {}, ("default",), ())
    assert fleet.cluster_sets == ("default", "eu")
    assert [c.name for c in fleet.members("eu")] == ["b"]


def test_empty_cluster_list_is_allowed() -> None:
    fleet = fleet_from_document({"apiVersion": "flower.ai/v1alpha1", "kind": "Fleet", "clusters": []})
    assert fleet.clusters == ()


# --- errors ------------------------------------------------------------------


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.yaml"
    with pytest.raises(FleetError) as info:
        load_fleet(path)
    assert str(info.value) == f"{path}: fleet file not found"


def test_directory_is_not_readable(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match="cannot read fleet file"):
        load_fleet(tmp_path)


def test_bad_yaml_names_file_line_and_column(tmp_path: Path) -> None:
    path = write(tmp_path, "apiVersion: flower.ai/v1alpha1\nclusters: [a, b\n")
    with pytest.raises(FleetError) as info:
        load_fleet(path)
    message = str(info.value)
    assert message.startswith(f"{path}:3:1: invalid YAML:")
    assert "Traceback" not in message


def test_duplicate_yaml_key_is_an_error(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        apiVersion: flower.ai/v1alpha1
        kind: Fleet
        clusters:
          - name: a
            labels: {region: eu, region: us}
        """,
    )
    with pytest.raises(FleetError, match=r":5:\d+: invalid YAML: .*duplicate key 'region'"):
        load_fleet(path)


def test_empty_file(tmp_path: Path) -> None:
    path = write(tmp_path, "")
    with pytest.raises(FleetError) as info:
        load_fleet(path)
    assert str(info.value) == f"{path}: $: the fleet document is empty; expected a mapping with apiVersion, kind and clusters"
    assert info.value.json_path == "$"


def test_top_level_list_is_a_schema_error(tmp_path: Path) -> None:
    with pytest.raises(FleetError, match=r": \$: \[1, 2\] is not of type 'object'"):
        load_fleet(write(tmp_path, "[1, 2]\n"))


def test_schema_error_names_json_path_of_unquoted_boolean(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        apiVersion: flower.ai/v1alpha1
        kind: Fleet
        clusters:
          - name: a
          - name: b
            labels: {flower.ai/enabled: true}
        """,
    )
    with pytest.raises(FleetError) as info:
        load_fleet(path)
    assert info.value.json_path == '$.clusters[1].labels["flower.ai/enabled"]'
    assert str(info.value) == (
        f'{path}: $.clusters[1].labels["flower.ai/enabled"]: True is not of type '
        "'string' (quote YAML booleans, numbers and dates, e.g. \"true\")"
    )


def test_schema_error_for_unknown_field() -> None:
    with pytest.raises(FleetError) as info:
        fleet_from_document(minimal(tolerations=[]), source="f.yaml")
    assert info.value.json_path == "$.clusters[0]"
    assert "Additional properties are not allowed ('tolerations' was unexpected)" in str(info.value)


def test_schema_error_for_wrong_api_version_and_bad_taint_effect() -> None:
    document = minimal(taints=[{"key": "k", "effect": "NoSchedule"}])
    document["apiVersion"] = "v1"
    with pytest.raises(FleetError) as info:
        fleet_from_document(document, source="f.yaml")
    lines = str(info.value).splitlines()
    assert lines[0].startswith("f.yaml: $.apiVersion: ")
    assert lines[1].startswith("f.yaml: $.clusters[0].taints[0].effect: 'NoSchedule' is not one of")


def test_schema_error_for_bad_cluster_name() -> None:
    with pytest.raises(FleetError, match=r"\$\.clusters\[0\]\.name: 'Hospital_A' does not match"):
        fleet_from_document({"apiVersion": "flower.ai/v1alpha1", "kind": "Fleet", "clusters": [{"name": "Hospital_A"}]})


def test_duplicate_cluster_names(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        apiVersion: flower.ai/v1alpha1
        kind: Fleet
        clusters:
          - name: a
          - name: b
          - name: a
        """,
    )
    with pytest.raises(FleetError) as info:
        load_fleet(path)
    assert str(info.value) == f"{path}: $.clusters[2].name: duplicate cluster name 'a' (first at $.clusters[0].name)"
    assert info.value.json_path == "$.clusters[2].name"


def test_cluster_set_must_be_declared_when_sets_are_listed() -> None:
    document = minimal(clusterSets=["default", "eu"])
    document["clusterSets"] = ["default"]
    with pytest.raises(FleetError) as info:
        fleet_from_document(document, source="f.yaml")
    assert str(info.value) == "f.yaml: $.clusters[0].clusterSets[1]: cluster set 'eu' is not listed in $.clusterSets"


def test_json_path_quotes_keys_that_are_not_identifiers() -> None:
    assert json_path(["clusters", 3, "claims", "id.k8s.io"]) == '$.clusters[3].claims["id.k8s.io"]'
    assert json_path([]) == "$"


def test_invalid_label_key_points_at_the_key() -> None:
    with pytest.raises(FleetError) as info:
        fleet_from_document(minimal(labels={"bad key!": "x"}), source="f.yaml")
    assert info.value.json_path == '$.clusters[0].labels["bad key!"]'
    assert str(info.value).startswith("f.yaml: $.clusters[0].labels[\"bad key!\"]: invalid key: 'bad key!' does not match")


def test_yaml_anchors_and_merge_keys_are_allowed(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """\
        apiVersion: flower.ai/v1alpha1
        kind: Fleet
        clusters:
          - &hospital {name: a, labels: {sector: health}}
          - {<<: *hospital, name: b}
        """,
    )
    assert [(c.name, c.labels) for c in load_fleet(path).clusters] == [("a", {"sector": "health"}), ("b", {"sector": "health"})]
