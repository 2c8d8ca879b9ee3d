"""Step 2 of validate: the merged values against the chart's JSON schema (a small fixture schema
here, plus the real values.schema.json of the chart): every error, sorted by path, each with
its JSON path, the offending value, what was expected and the file that set it."""

from __future__ import annotations

import contextlib
import copy
import io
import json
from pathlib import Path

import pytest
import yaml

from helm_flower import schemacheck
from helm_flower.cli import main

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "flower-federation"

FIXTURE_SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "properties": {
        "global": {"type": "object"},
        "flower-common": {"type": "object"},
        "hubAddon": {"type": "object"},
        "clientApp": {"type": "object"},
        "superlink": {
            "type": "object",
            "additionalProperties": False,
            "required": ["port"],
            "properties": {
                "global": {"type": "object"},
                "enabled": {"type": "boolean"},
                "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                "replicaCount": {"type": "integer", "minimum": 0},
                "exposure": {
                    "type": "object",
                    "properties": {
                        "type": {"enum": ["ClusterIP", "NodePort", "LoadBalancer", "Ingress", "Route"]},
                        "host": {"type": "string", "maxLength": 20},
                        "allApis": {"type": "boolean"},
                    },
                },
                "extraArgs": {"type": "array", "items": {"type": "string"}},
                "image": {"type": "object"},
            },
            "patternProperties": {"^x-": {}},
        },
    },
}


def fixture_chart(root: Path, schema: dict) -> Path:
    """A small umbrella chart with one aliased subchart, like flower-federation."""
    chart = root / "demo"
    (chart / "charts" / "sub").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(yaml.safe_dump({
        "apiVersion": "v2", "name": "demo", "version": "0.1.0",
        "dependencies": [{"name": "sub", "version": "0.1.0", "alias": "superlink",
                          "condition": "superlink.enabled"}]}))
    (chart / "values.yaml").write_text("global:\n  flower:\n    version: 1.41.0\nsuperlink:\n  enabled: true\n")
    (chart / "values.schema.json").write_text(json.dumps(schema))
    (chart / "charts" / "sub" / "Chart.yaml").write_text("apiVersion: v2\nname: sub\nversion: 0.1.0\n")
    (chart / "charts" / "sub" / "values.yaml").write_text(
        "port: 9092\nreplicaCount: 1\nexposure:\n  type: LoadBalancer\n  host: ''\nextraArgs: []\n")
    return chart


def run(tmp_path: Path, values: dict, *args: str, schema: dict | None = FIXTURE_SCHEMA) -> tuple[int, dict]:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    chart = CHART if schema is None else fixture_chart(tmp_path, schema)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["validate", str(chart), "-f", str(path), "-o", "json", *args])
    return code, json.loads(out.getvalue())


def schema_findings(report: dict) -> list[dict]:
    return [f for f in report["findings"] if f["rule"] == "FLW100"]


def test_all_errors_sorted_by_path(tmp_path):
    values = {"superlink": {"port": "9092", "replicaCount": -1, "exposure": {"type": "Nodeport", "host": "h" * 30},
                            "extraArgs": ["--ok", 5, "--ok", 7], "replicas": 2, "x-extra": 1}}
    code, report = run(tmp_path, values)
    assert code == 1
    paths = [f["path"] for f in schema_findings(report)]
    assert paths == ["$.superlink.exposure.host", "$.superlink.exposure.type", "$.superlink.extraArgs[1]",
                     "$.superlink.extraArgs[3]", "$.superlink.port", "$.superlink.replicaCount",
                     "$.superlink.replicas"]


def test_messages_show_value_and_expectation(tmp_path):
    values = {"superlink": {"port": "9092", "exposure": {"type": "loadbalancer"}, "replicas": 2, "enabled": "true"}}
    _, report = run(tmp_path, values)
    by_path = {f["path"]: f for f in schema_findings(report)}
    assert by_path["$.superlink.port"]["message"] == 'got "9092"; expected integer'
    assert "remove the quotes" in by_path["$.superlink.port"]["hint"]
    enum = by_path["$.superlink.exposure.type"]
    assert enum["message"].startswith('got "loadbalancer"; expected one of "ClusterIP"')
    assert "did you mean 'LoadBalancer'" in enum["hint"]
    assert by_path["$.superlink.replicas"]["message"] == "unknown key 'replicas'"
    assert "replicaCount" in by_path["$.superlink.replicas"]["hint"]
    assert by_path["$.superlink.enabled"]["hint"] == "remove the quotes"
    assert all(f["file"] == str(tmp_path / "values.yaml") for f in by_path.values())


def test_long_values_are_truncated(tmp_path):
    _, report = run(tmp_path, {"superlink": {"exposure": {"host": "h" * 500}}})
    [finding] = schema_findings(report)
    assert len(finding["message"]) < 150 and "..." in finding["message"]


def test_missing_required_key_points_at_the_key(tmp_path):
    _, report = run(tmp_path, {"superlink": {"port": None}})
    [finding] = schema_findings(report)
    assert finding["path"] == "$.superlink.port" and "required" in finding["message"]
    assert finding["hint"] == schemacheck.NULL_HINT  # the user's null deleted the chart's default


def test_a_key_missing_without_a_null_gets_no_null_hint(tmp_path):
    schema = copy.deepcopy(FIXTURE_SCHEMA)
    schema["properties"]["superlink"]["required"] = ["port", "image"]  # the chart sets no image
    _, report = run(tmp_path, {"superlink": {"replicaCount": 2}}, schema=schema)
    [finding] = schema_findings(report)
    assert finding["path"] == "$.superlink.image" and finding["hint"] == ""


def test_set_values_are_checked_and_named(tmp_path):
    _, report = run(tmp_path, {}, "--set", "superlink.replicaCount=-3", "--set-string", "superlink.port=80")
    by_path = {f["path"]: f for f in schema_findings(report)}
    assert by_path["$.superlink.replicaCount"]["file"] == "--set superlink.replicaCount=-3"
    assert by_path["$.superlink.port"]["file"] == "--set-string superlink.port=80"


def test_chart_defaults_are_validated_too(tmp_path):
    schema = json.loads(json.dumps(FIXTURE_SCHEMA))
    schema["properties"]["superlink"]["properties"]["exposure"]["properties"]["type"] = {"enum": ["Ingress"]}
    _, report = run(tmp_path, {}, schema=schema)
    [finding] = schema_findings(report)
    assert finding["path"] == "$.superlink.exposure.type"
    assert finding["file"].endswith("demo/charts/sub/values.yaml")


def test_broken_schema_is_an_input_error(tmp_path):
    code, report = run(tmp_path, {}, schema={"type": "object", "properties": {"superlink": {"$ref": "#/nowhere"}}})
    assert code == 2 and report["findings"][0]["rule"] == "FLW011"


def test_schema_that_is_not_json(tmp_path):
    bad = tmp_path / "schema.json"
    bad.write_text("{not json")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["validate", str(CHART), "--schema", str(bad), "-o", "json"])
    assert code == 2 and json.loads(out.getvalue())["findings"][0]["rule"] == "FLW011"


def test_schema_option_replaces_the_charts_schemas(tmp_path):
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"superlink": {
        "type": "object", "properties": {"replicaCount": {"maximum": 0}}}}}))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        main(["validate", str(CHART), "--schema", str(schema), "-o", "json", "--set", "superlink.replicas=1"])
    paths = [f["path"] for f in schema_findings(json.loads(out.getvalue()))]
    assert paths == ["$.superlink.replicaCount"]  # the chart's own schema would reject replicas too


# --- the chart's own schema ----------------------------------------------------------------------


needs_chart_schema = pytest.mark.skipif(not (CHART / "values.schema.json").is_file(),
                                        reason="the chart has no values.schema.json yet")


@needs_chart_schema
def test_chart_schema_accepts_the_defaults(tmp_path):
    _, report = run(tmp_path, {}, schema=None)
    assert not schema_findings(report)


@needs_chart_schema
def test_chart_schema_errors_have_paths(tmp_path):
    values = {"superlink": {"exposure": {"type": "Nodeport"}, "replicas": 3}, "global": {"tls": {"mode": "x"}}}
    code, report = run(tmp_path, values, schema=None)
    paths = {f["path"] for f in schema_findings(report)}
    assert code == 1
    assert {"$.superlink.exposure.type", "$.superlink.replicas", "$.global.tls.mode"} <= paths
    # globals are copied into every subchart by Helm; they are reported once, where they are set
    assert not [p for p in paths if p.endswith(".global.tls.mode") and p != "$.global.tls.mode"]


@needs_chart_schema
def test_every_ci_values_file_matches_the_chart_schema(tmp_path):
    for path in sorted((CHART / "ci").glob("*-values.yaml")):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            main(["validate", str(CHART), "-f", str(path), "-o", "json"])
        assert not schema_findings(json.loads(out.getvalue())), path
