"""The project's own OCM schemas (schemas/ocm/<group>_<version>_<kind>.json), used by
`helm flower validate --rendered` by default, against what the chart renders and against the
upstream OCM CustomResourceDefinitions (open-cluster-management.io/api, installed in .tools/ocm-crds):

* every OCM object rendered from the defaults and from every ci/*-values.yaml is accepted by the
  project schema and by the real CRD's openAPIV3Schema of its version;
* the project schema never invents a field: every property it lists under spec exists at the
  same path in the CRD (and its enums are subsets of the CRD's enums);
* the project schema rejects broken objects (unknown field, bad enum, over-long variable)."""

from __future__ import annotations

import copy
import json
import subprocess
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from helm_flower.schemas import load_project_schemas

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "flower-federation"
SCHEMA_DIR = ROOT / "schemas" / "ocm"
VALUE_FILES = ["defaults", *sorted(p.name for p in (CHART / "ci").glob("*-values.yaml"))]

# Every OCM kind and version the chart renders (group, version, kind).
KINDS = [
    ("addon.open-cluster-management.io", "v1alpha1", "ClusterManagementAddOn"),
    ("addon.open-cluster-management.io", "v1alpha1", "AddOnTemplate"),
    ("addon.open-cluster-management.io", "v1alpha1", "AddOnDeploymentConfig"),
    ("addon.open-cluster-management.io", "v1alpha1", "ManagedClusterAddOn"),
    ("cluster.open-cluster-management.io", "v1beta1", "Placement"),
    ("cluster.open-cluster-management.io", "v1beta2", "ManagedClusterSetBinding"),
    ("work.open-cluster-management.io", "v1alpha1", "ManifestWorkReplicaSet"),
]
KIND_IDS = [k for _, _, k in KINDS]


# --- helpers ---------------------------------------------------------------------------------


def apply_defaults(value: Any, schema: Any, root: dict[str, Any]) -> Any:
    """Structural defaulting as the API server does before validation ($ref-aware)."""
    if not isinstance(schema, dict):
        return value
    while "$ref" in schema:
        schema = resolve(root, schema["$ref"])
    if isinstance(value, dict):
        out = dict(value)
        properties = schema.get("properties") or {}
        for key, sub in properties.items():
            resolved = sub
            while isinstance(resolved, dict) and "$ref" in resolved:
                resolved = resolve(root, resolved["$ref"])
            if key not in out and isinstance(resolved, dict) and "default" in resolved:
                out[key] = copy.deepcopy(resolved["default"])
        extra = schema.get("additionalProperties")
        for key in list(out):
            if key in properties:
                out[key] = apply_defaults(out[key], properties[key], root)
            elif isinstance(extra, dict):
                out[key] = apply_defaults(out[key], extra, root)
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [apply_defaults(item, schema["items"], root) for item in value]
    return value


def resolve(root: dict[str, Any], ref: str) -> dict[str, Any]:
    assert ref.startswith("#/"), ref
    node: Any = root
    for part in ref[2:].split("/"):
        node = node[part]
    return node


def strict(schema: Any) -> Any:
    """A CRD structural schema as JSON schema: unknown fields rejected (server-side strict field
    validation), nullable honoured."""
    if isinstance(schema, list):
        return [strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict(v) if k in ("items", "additionalProperties", "allOf", "anyOf", "oneOf", "not") else v
           for k, v in schema.items()}
    if isinstance(schema.get("properties"), dict):
        out["properties"] = {k: strict(v) for k, v in schema["properties"].items()}
    if schema.get("nullable") is True and isinstance(schema.get("type"), str):
        out["type"] = [schema["type"], "null"]
    if (schema.get("type") == "object" and isinstance(schema.get("properties"), dict)
            and "additionalProperties" not in schema and not schema.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    return out


def messages(validator: Any, obj: Any) -> list[str]:
    return [f"{'.'.join(str(p) for p in e.absolute_path) or '$'}: {e.message[:200]}"
            for e in validator.iter_errors(obj)]


# --- fixtures --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def project_schemas() -> dict[tuple[str, str, str], dict[str, Any]]:
    return {key: json.loads((SCHEMA_DIR / f"{key[0]}_{key[1]}_{key[2]}.json").read_text(encoding="utf-8"))
            for key in KINDS}


@pytest.fixture(scope="module")
def project_validators(project_schemas) -> dict[tuple[str, str, str], Any]:
    out = {}
    for key, schema in project_schemas.items():
        cls = jsonschema.validators.validator_for(schema)
        cls.check_schema(schema)
        out[key] = cls(schema)
    return out


@pytest.fixture(scope="module")
def crd_schemas(ocm_crds_dir: Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    wanted = set(KINDS)
    found = {}
    for path in sorted(ocm_crds_dir.glob("*.crd.yaml")):
        crd = yaml.safe_load(path.read_text(encoding="utf-8"))
        spec = crd["spec"]
        for version in spec["versions"]:
            key = (spec["group"], version["name"], spec["names"]["kind"])
            if key in wanted:
                found[key] = version["schema"]["openAPIV3Schema"]
    missing = wanted - set(found)
    if missing:
        pytest.fail(f"CRDs missing from {ocm_crds_dir}: {sorted(missing)}", pytrace=False)
    return found


@pytest.fixture(scope="module")
def rendered(helm_bins, chart_dir) -> dict[str, list[dict[str, Any]]]:
    """OCM objects rendered by helm 4, per values file (each file rendered once)."""
    out = {}
    for name in VALUE_FILES:
        command = [str(helm_bins["4"]), "template", "r", str(chart_dir), "--namespace", "default"]
        if name != "defaults":
            command += ["-f", str(chart_dir / "ci" / name)]
        proc = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, f"{name}: {proc.stderr}"
        out[name] = [d for d in yaml.safe_load_all(proc.stdout)
                     if isinstance(d, dict) and str(d.get("apiVersion", "")).rpartition("/")[0]
                     .endswith("open-cluster-management.io")]
    return out


def key_of(obj: dict[str, Any]) -> tuple[str, str, str]:
    group, _, version = obj["apiVersion"].rpartition("/")
    return group, version, obj["kind"]


# --- (1) rendered objects are valid ----------------------------------------------------------


def test_schema_files_are_exactly_the_rendered_kinds():
    names = sorted(p.name for p in SCHEMA_DIR.glob("*.json"))
    assert names == sorted(f"{g}_{v}_{k}.json" for g, v, k in KINDS)


def test_plugin_loads_the_project_schemas():
    loaded = load_project_schemas([ROOT])
    assert loaded is not None and Path(loaded.source) == SCHEMA_DIR
    assert set(loaded.schemas) == set(KINDS)
    for group, version, kind in KINDS:
        validator = loaded.validator(f"{group}/{version}", kind)
        assert isinstance(validator, jsonschema.Draft202012Validator), kind


def test_every_kind_is_rendered_somewhere(rendered):
    # superlink-only renders no OCM object; every other values file renders some.
    assert [name for name, objects in rendered.items() if not objects] == ["superlink-only-values.yaml"]
    seen = {key_of(obj) for objects in rendered.values() for obj in objects}
    assert seen == set(KINDS)


@pytest.mark.parametrize("values", VALUE_FILES)
def test_rendered_objects_match_project_schema(values, rendered, project_schemas, project_validators):
    problems = []
    for obj in rendered[values]:
        key = key_of(obj)
        assert key in project_validators, f"no project schema for {key}"
        defaulted = apply_defaults(obj, project_schemas[key], project_schemas[key])
        problems += [f"{obj['kind']}/{obj['metadata']['name']}: {m}"
                     for m in messages(project_validators[key], defaulted)]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("values", VALUE_FILES)
def test_rendered_objects_match_upstream_crd(values, rendered, crd_schemas):
    problems = []
    for obj in rendered[values]:
        key = key_of(obj)
        assert key in crd_schemas, f"no upstream CRD for {key}"
        schema = strict(crd_schemas[key])
        defaulted = apply_defaults(obj, schema, schema)
        problems += [f"{obj['kind']}/{obj['metadata']['name']}: {m}"
                     for m in messages(jsonschema.Draft4Validator(schema), defaulted)]
    assert not problems, "\n".join(problems)


# --- (2) the project schema agrees with the CRD ----------------------------------------------


def _walk(project: Any, crd: Any, root: dict[str, Any], path: str, problems: list[str]) -> None:
    while isinstance(project, dict) and "$ref" in project:
        project = resolve(root, project["$ref"])
    if not isinstance(project, dict) or not isinstance(crd, dict):
        return
    if crd.get("x-kubernetes-embedded-resource"):
        # An embedded Kubernetes object: apiVersion, kind and metadata are implied by the CRD.
        extra = set(project.get("properties") or {}) - {"apiVersion", "kind", "metadata"}
        if extra:
            problems.append(f"{path}: {sorted(extra)} not fields of an embedded resource")
        return
    if "enum" in project and "enum" in crd:
        extra = set(project["enum"]) - set(crd["enum"])
        if extra:
            problems.append(f"{path}: enum values {sorted(extra)} not in the CRD")
    for name, sub in (project.get("properties") or {}).items():
        crd_props = crd.get("properties") or {}
        if name not in crd_props:
            problems.append(f"{path}.{name}: not a field of the CRD")
            continue
        _walk(sub, crd_props[name], root, f"{path}.{name}", problems)
    if isinstance(project.get("items"), dict):
        _walk(project["items"], crd.get("items"), root, f"{path}[]", problems)
    if isinstance(project.get("additionalProperties"), dict):
        _walk(project["additionalProperties"], crd.get("additionalProperties"), root, f"{path}{{}}", problems)


@pytest.mark.parametrize("key", KINDS, ids=KIND_IDS)
def test_project_schema_invents_no_field(key, project_schemas, crd_schemas):
    project = project_schemas[key]
    crd = crd_schemas[key]
    assert project["properties"]["apiVersion"] == {"const": f"{key[0]}/{key[1]}"}
    assert project["properties"]["kind"] == {"const": key[2]}
    problems: list[str] = []
    _walk(project["properties"]["spec"], crd["properties"]["spec"], project, "spec", problems)
    assert not problems, "\n".join(problems)
    # The spec-level field names are a subset of the CRD's, and the CRD's required ones are required.
    spec = project["properties"]["spec"]
    assert set(spec["properties"]) <= set(crd["properties"]["spec"]["properties"])
    assert set(crd["properties"]["spec"].get("required", [])) <= set(spec.get("required", []))


# --- (3) broken objects are rejected ---------------------------------------------------------


def _first(rendered, kind: str) -> dict[str, Any]:
    for name in VALUE_FILES:
        for obj in rendered[name]:
            if obj["kind"] == kind:
                return copy.deepcopy(obj)
    raise AssertionError(f"no {kind} rendered")


def _adc_with_variables(rendered) -> dict[str, Any]:
    for name in VALUE_FILES:
        for obj in rendered[name]:
            if obj["kind"] == "AddOnDeploymentConfig" and obj["spec"].get("customizedVariables"):
                return copy.deepcopy(obj)
    raise AssertionError("no AddOnDeploymentConfig with customizedVariables rendered")


def _cma_with_placements(rendered) -> dict[str, Any]:
    for name in VALUE_FILES:
        for obj in rendered[name]:
            if obj["kind"] == "ClusterManagementAddOn" and obj["spec"].get("installStrategy", {}).get("placements"):
                return copy.deepcopy(obj)
    raise AssertionError("no ClusterManagementAddOn with install placements rendered")


def _mutations(rendered):
    adc = _adc_with_variables(rendered)
    long_value = copy.deepcopy(adc)
    long_value["spec"]["customizedVariables"][0]["value"] = "x" * 1025
    bad_name = copy.deepcopy(adc)
    bad_name["spec"]["customizedVariables"][0]["name"] = "1-not-a-variable"
    unknown_adc = copy.deepcopy(adc)
    unknown_adc["spec"]["customisedVariables"] = []
    cma = _cma_with_placements(rendered)
    bad_install = copy.deepcopy(cma)
    bad_install["spec"]["installStrategy"]["type"] = "Automatic"
    bad_rollout = copy.deepcopy(cma)
    bad_rollout["spec"]["installStrategy"]["placements"][0]["rolloutStrategy"] = {"type": "Canary"}
    cma_namespaced = copy.deepcopy(cma)
    cma_namespaced["metadata"]["namespace"] = "default"
    template = _first(rendered, "AddOnTemplate")
    bad_registration = copy.deepcopy(template)
    bad_registration["spec"]["registration"] = [{"type": "Token"}]
    manifest_without_kind = copy.deepcopy(template)
    del manifest_without_kind["spec"]["agentSpec"]["workload"]["manifests"][0]["kind"]
    placement = _first(rendered, "Placement")
    bad_operator = copy.deepcopy(placement)
    bad_operator["spec"]["predicates"] = [{"requiredClusterSelector": {"labelSelector": {
        "matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]}}}]
    unknown_placement = copy.deepcopy(placement)
    unknown_placement["spec"]["clusterSet"] = "default"
    mwrs = _first(rendered, "ManifestWorkReplicaSet")
    bad_cascade = copy.deepcopy(mwrs)
    bad_cascade["spec"]["cascadeDeletionPolicy"] = "Orphan"
    no_refs = copy.deepcopy(mwrs)
    del no_refs["spec"]["placementRefs"]
    binding = _first(rendered, "ManagedClusterSetBinding")
    wrong_version = copy.deepcopy(binding)
    wrong_version["apiVersion"] = "cluster.open-cluster-management.io/v1beta1"
    return {
        "variable-value-1025-chars": long_value,
        "variable-name-pattern": bad_name,
        "adc-unknown-spec-field": unknown_adc,
        "install-strategy-enum": bad_install,
        "rollout-strategy-enum": bad_rollout,
        "cluster-scoped-with-namespace": cma_namespaced,
        "registration-type-enum": bad_registration,
        "manifest-without-kind": manifest_without_kind,
        "selector-operator-enum": bad_operator,
        "placement-unknown-spec-field": unknown_placement,
        "cascade-deletion-enum": bad_cascade,
        "mwrs-without-placement-refs": no_refs,
        "binding-wrong-api-version": wrong_version,
    }


MUTATIONS = ["variable-value-1025-chars", "variable-name-pattern", "adc-unknown-spec-field",
             "install-strategy-enum", "rollout-strategy-enum", "cluster-scoped-with-namespace",
             "registration-type-enum", "manifest-without-kind", "selector-operator-enum",
             "placement-unknown-spec-field", "cascade-deletion-enum", "mwrs-without-placement-refs",
             "binding-wrong-api-version"]


@pytest.fixture(scope="module")
def mutations(rendered):
    out = _mutations(rendered)
    assert sorted(out) == sorted(MUTATIONS)
    return out


@pytest.mark.parametrize("name", MUTATIONS)
def test_project_schema_rejects_broken_object(name, mutations, project_schemas, project_validators):
    obj = mutations[name]
    kind = obj["kind"]
    key = next(k for k in KINDS if k[2] == kind)  # the correct schema, even for a wrong apiVersion
    defaulted = apply_defaults(obj, project_schemas[key], project_schemas[key])
    assert messages(project_validators[key], defaulted), f"{name}: accepted by the project schema"
