"""OCM emulation of the rehearsal: variable substitution, config precedence, node-config."""

from __future__ import annotations

import json

import pytest

from helm_flower.rehearse import ocm

NS = "flower"


# --- substitution (valyala/fasttemplate ExecuteString, as the addon manager uses it) ------------


def test_substitute_replaces_every_known_tag() -> None:
    text = '{"a":"{{X}}","b":"x-{{Y}}-{{X}}"}'
    assert ocm.substitute(text, {"X": "1", "Y": "2"}) == '{"a":"1","b":"x-2-1"}'


def test_substitute_unknown_tag_becomes_empty() -> None:
    assert ocm.substitute("a{{NOPE}}b", {}) == "ab"


def test_substitute_is_one_pass_values_are_not_rescanned() -> None:
    # A value holding a placeholder reaches the output literally (what OCM does to NODE_CONFIG).
    out = ocm.substitute("{{NODE_CONFIG}}", {"NODE_CONFIG": "name={{CLUSTER_NAME}}", "CLUSTER_NAME": "c1"})
    assert out == "name={{CLUSTER_NAME}}"


def test_substitute_does_not_trim_tag_names() -> None:
    assert ocm.substitute("{{ X }}|{{X}}", {"X": "v"}) == "|v"


def test_substitute_unterminated_tag_fails() -> None:
    with pytest.raises(ocm.SubstitutionError):
        ocm.substitute('{"a":"{{X"}', {"X": "1"})


def test_render_manifest_unescapes_a_json_escaped_value_like_the_hub() -> None:
    # The chart JSON-escapes NODE_CONFIG because it lands inside a JSON string of the raw manifest.
    manifest = {"args": ["--node-config", "{{NODE_CONFIG}}"]}
    escaped = json.dumps('cluster-name="c1" partition-id=0')[1:-1]
    assert escaped == 'cluster-name=\\"c1\\" partition-id=0'
    out = ocm.render_manifest(manifest, {"NODE_CONFIG": escaped})
    assert out["args"][1] == 'cluster-name="c1" partition-id=0'


def test_render_manifest_rejects_a_value_that_breaks_the_json() -> None:
    with pytest.raises(ocm.SubstitutionError, match="not valid JSON"):
        ocm.render_manifest({"a": "{{V}}"}, {"V": 'x"y'})


def test_template_tags_in_order() -> None:
    assert ocm.template_tags("{{A}} x {{B}}{{A}}") == ["A", "B", "A"]


# --- variables ---------------------------------------------------------------------------------


def _adc(variables: dict[str, str], namespace: str = "flower-demo") -> dict:
    return {
        "kind": "AddOnDeploymentConfig",
        "spec": {
            "agentInstallNamespace": namespace,
            "customizedVariables": [{"name": k, "value": v} for k, v in variables.items()],
        },
    }


def _template(*manifests: dict, registration: bool = False) -> dict:
    spec: dict = {"agentSpec": {"workload": {"manifests": list(manifests)}}}
    if registration:
        spec["registration"] = [{"type": "KubeClient"}]
    return {"kind": "AddOnTemplate", "spec": spec}


def test_builtins_override_customized_variables() -> None:
    variables = ocm.addon_variables("c1", _adc({"CLUSTER_NAME": "evil", "INSTALL_NAMESPACE": "evil", "X": "1"}))
    assert variables.values["CLUSTER_NAME"] == "c1"
    assert variables.values["INSTALL_NAMESPACE"] == "flower-demo"
    assert variables.values["X"] == "1"
    assert dict(variables.ordered_env) == {"CLUSTER_NAME": "c1", "INSTALL_NAMESPACE": "flower-demo"}


def test_install_namespace_default_and_hub_kubeconfig_with_registration() -> None:
    adc = {"spec": {"customizedVariables": []}}
    variables = ocm.addon_variables("c1", adc, _template(registration=True))
    assert variables.values["INSTALL_NAMESPACE"] == ocm.DEFAULT_INSTALL_NAMESPACE
    assert variables.values["HUB_KUBECONFIG"] == ocm.HUB_KUBECONFIG_PATH
    assert "HUB_KUBECONFIG" not in ocm.addon_variables("c1", adc, _template()).values


def test_unknown_and_nested_variables_are_reported() -> None:
    template = _template({"a": "{{SUPERLINK_ADDRESS}}", "b": "{{MISSING}}"})
    variables = ocm.addon_variables("c1", _adc({"SUPERLINK_ADDRESS": "h:1", "NODE_CONFIG": "n={{CLUSTER_NAME}}"}), template)
    assert variables.unknown == ("MISSING",)
    assert variables.nested == ("NODE_CONFIG",)


# --- config precedence -------------------------------------------------------------------------


def _ref(name: str, resource: str = ocm.ADC_RESOURCE) -> dict:
    return {"group": ocm.ADDON_GROUP, "resource": resource, "name": name, "namespace": NS}


CMA = {
    "kind": "ClusterManagementAddOn",
    "metadata": {"name": "flower-demo"},
    "spec": {
        "supportedConfigs": [
            {"group": ocm.ADDON_GROUP, "resource": ocm.TEMPLATE_RESOURCE, "defaultConfig": {"name": "flower-demo"}},
            {"group": ocm.ADDON_GROUP, "resource": ocm.ADC_RESOURCE, "defaultConfig": {"name": "adc-default", "namespace": NS}},
        ],
        "installStrategy": {
            "type": "Placements",
            "placements": [
                {"name": "p1", "namespace": NS, "configs": [_ref("adc-p1")]},
                {"name": "p2", "namespace": NS, "configs": [_ref("adc-p2")]},
                {"name": "p3", "namespace": NS},
            ],
        },
    },
}


def test_default_config_when_no_placement_or_mca_names_one() -> None:
    ref = ocm.resolve_config(ocm.ADC_RESOURCE, CMA)
    assert (ref.name, ref.namespace, ref.source) == ("adc-default", NS, "default")
    # p3 has no configs: the default applies.
    assert ocm.resolve_config(ocm.ADC_RESOURCE, CMA, placements=[(NS, "p3")]).name == "adc-default"


def test_placement_config_beats_default() -> None:
    ref = ocm.resolve_config(ocm.ADC_RESOURCE, CMA, placements=[(NS, "p1")])
    assert (ref.name, ref.source) == ("adc-p1", f"placement {NS}/p1")


def test_later_placement_in_the_cma_wins_for_a_cluster_chosen_twice() -> None:
    # Order of the argument does not matter; the CMA's list order does.
    assert ocm.resolve_config(ocm.ADC_RESOURCE, CMA, placements=[(NS, "p2"), (NS, "p1")]).name == "adc-p2"
    assert ocm.resolve_config(ocm.ADC_RESOURCE, CMA, placements=[(NS, "p1"), (NS, "p2")]).name == "adc-p2"


def test_placement_that_did_not_choose_the_cluster_is_ignored() -> None:
    assert ocm.resolve_config(ocm.ADC_RESOURCE, CMA, placements=[(NS, "other")]).name == "adc-default"


def test_managed_cluster_addon_beats_placement_and_default() -> None:
    mca = {"kind": "ManagedClusterAddOn", "metadata": {"name": "flower-demo", "namespace": "c1"},
           "spec": {"configs": [_ref("adc-c1")]}}
    ref = ocm.resolve_config(ocm.ADC_RESOURCE, CMA, mca=mca, placements=[(NS, "p2")])
    assert (ref.name, ref.source) == ("adc-c1", "ManagedClusterAddOn")


def test_managed_cluster_addon_without_configs_changes_nothing() -> None:
    mca = {"spec": {"configs": []}}
    assert ocm.resolve_config(ocm.ADC_RESOURCE, CMA, mca=mca, placements=[(NS, "p1")]).name == "adc-p1"


def test_precedence_is_per_resource() -> None:
    # An MCA naming only an ADC leaves the AddOnTemplate to the CMA default.
    mca = {"spec": {"configs": [_ref("adc-c1")]}}
    ref = ocm.resolve_config(ocm.TEMPLATE_RESOURCE, CMA, mca=mca, placements=[(NS, "p1")])
    assert (ref.name, ref.source) == ("flower-demo", "default")


def test_install_placements_only_for_placements_strategy() -> None:
    assert ocm.install_placements(CMA) == [(NS, "p1"), (NS, "p2"), (NS, "p3")]
    manual = {"spec": {"installStrategy": {"type": "Manual"}}}
    assert ocm.install_placements(manual) == []


# --- node-config -------------------------------------------------------------------------------


def test_parse_node_config_like_flower() -> None:
    parsed = ocm.parse_node_config('cluster-name="c 1" partition-id=0 num-partitions=3 f=0.5 b=true s=\'x\'')
    assert parsed == {"cluster-name": "c 1", "partition-id": 0, "num-partitions": 3, "f": 0.5, "b": True, "s": "x"}


def test_parse_node_config_keeps_a_literal_placeholder() -> None:
    assert ocm.parse_node_config('cluster-name="{{CLUSTER_NAME}}"') == {"cluster-name": "{{CLUSTER_NAME}}"}


def test_parse_node_config_invalid() -> None:
    with pytest.raises(ValueError):
        ocm.parse_node_config("a=not valid")


def test_partition_assignment_by_sorted_name() -> None:
    assert ocm.partition_assignment(["b", "c", "a"]) == {
        "a": {"partition-id": 0, "num-partitions": 3},
        "b": {"partition-id": 1, "num-partitions": 3},
        "c": {"partition-id": 2, "num-partitions": 3},
    }


def test_format_node_config_value() -> None:
    assert [ocm.format_node_config_value(v) for v in (1, 0.5, True, "x y")] == ["1", "0.5", "true", '"x y"']
