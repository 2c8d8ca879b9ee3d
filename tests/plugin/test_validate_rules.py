"""Semantic rules of `helm flower validate` (FLW2xx) and the Kubernetes/Flower/OCM syntax
they rely on (helm_flower.k8s, helm_flower.nodeconfig)."""

from __future__ import annotations

import contextlib
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
import yaml

from helm_flower import k8s, nodeconfig
from helm_flower.cli import main
from helm_flower.findings import RULES
from helm_flower.rules import sprig_merge

REPO = Path(__file__).resolve().parents[2]
CHART = str(REPO / "charts" / "flower-federation")
HOST = {"superlink": {"exposure": {"host": "fl.example.com"}}}
PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUZm9vYmFy\n-----END CERTIFICATE-----\n"


def deep(*parts: dict) -> dict:
    out: dict = {}
    for part in parts:
        out = _merge(out, part)
    return out


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for key, value in b.items():
        out[key] = _merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def validate(tmp_path: Path, values: dict, *args: str) -> tuple[int, list[dict]]:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump(values))
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", CHART, "-f", str(path), "-o", "json", *args])
    assert err.getvalue() == ""
    return code, json.loads(out.getvalue())["findings"]


def rules_of(found: list[dict]) -> set[str]:
    return {f["rule"] for f in found}


def only(found: list[dict], rule: str) -> list[dict]:
    return [f for f in found if f["rule"] == rule]


# --- the defaults and the catalogue ------------------------------------------------------------


def test_chart_defaults_only_warn(tmp_path):
    code, found = validate(tmp_path, {})
    assert code == 0
    assert all(f["severity"] == "warning" for f in found)


def test_every_finding_has_the_documented_fields(tmp_path):
    _, found = validate(tmp_path, deep(HOST, {"superlink": {"replicaCount": 2}}))
    for finding in found:
        assert {"rule", "severity", "path", "message", "hint", "file"} <= set(finding)
        assert finding["rule"] in RULES and finding["severity"] in ("error", "warning")


def test_rule_ids_are_stable_and_well_formed():
    assert all(len(rule) == 6 and rule.startswith("FLW") and rule[3:].isdigit() for rule in RULES)
    assert {"FLW001", "FLW100", "FLW201", "FLW210", "FLW224", "FLW240", "FLW250", "FLW260", "FLW270",
            "FLW280", "FLW300", "FLW301"} <= set(RULES)


# --- placements -----------------------------------------------------------------------------------


def test_clientapp_placement_must_exist(tmp_path):
    values = deep(HOST, {"hubAddon": {"placements": [{"name": "eu", "clusterSets": ["eu"]}]},
                         "clientApp": {"apps": [{"name": "a", "placements": ["eu", "us"]}]}})
    code, found = validate(tmp_path, values)
    assert code == 1
    [finding] = only(found, "FLW201")
    assert finding["path"] == "$.clientApp.apps[0].placements[1]" and "eu" in finding["message"]
    assert finding["file"].endswith("values.yaml")


def test_manual_mode_needs_empty_placements(tmp_path):
    values = deep(HOST, {"hubAddon": {"installStrategy": "Manual", "clusters": [{"name": "c1"}]},
                         "clientApp": {"apps": [{"name": "a", "placements": ["default"]}]}})
    assert only(validate(tmp_path, values)[1], "FLW202")[0]["path"] == "$.clientApp.apps[0].placements[0]"
    values["clientApp"]["apps"][0]["placements"] = []
    code, found = validate(tmp_path, values)
    assert code == 0 and not rules_of(found) & {"FLW201", "FLW202", "FLW205"}


def test_clientapps_without_hub_addon(tmp_path):
    """An error, as the chart refuses it (found by tests/plugin/test_validate_vs_template.py: was a
    warning, and only with apps listed)."""
    code, found = validate(tmp_path, deep(HOST, {"hubAddon": {"enabled": False}}))
    assert code == 1 and only(found, "FLW203")[0]["severity"] == "error"
    code, found = validate(tmp_path, deep(HOST, {"hubAddon": {"enabled": False}, "clientApp": {"apps": []}}))
    assert code == 1 and only(found, "FLW203")[0]["path"] == "$.clientApp.enabled"


def test_duplicate_names(tmp_path):
    values = deep(HOST, {"hubAddon": {"clusters": [{"name": "c1"}, {"name": "c1"}]},
                         "clientApp": {"apps": [{"name": "a", "placements": []}, {"name": "a", "placements": []}]}})
    paths = {f["path"] for f in only(validate(tmp_path, values)[1], "FLW204")}
    assert paths == {"$.hubAddon.clusters[1].name", "$.clientApp.apps[1].name"}


def test_no_supernodes_anywhere(tmp_path):
    _, found = validate(tmp_path, deep(HOST, {"hubAddon": {"installStrategy": "Manual"},
                                              "clientApp": {"apps": [{"name": "a", "placements": []}]}}))
    assert only(found, "FLW205")[0]["path"] == "$.hubAddon.clusters"


def test_a_null_install_strategy_is_neither_mode(tmp_path):
    """A null hubAddon.installStrategy removes the chart's default: the chart then renders no SuperNode
    placement nor ManagedClusterAddOn, and refuses ClientApps that name a placement. validate used
    to take it for Placements and pass."""
    values = deep(HOST, {"hubAddon": {"installStrategy": None}, "clientApp": {"apps": [{"name": "a"}]}})
    code, found = validate(tmp_path, values)
    (none,) = only(found, "FLW205")
    assert code == 0 and none["path"] == "$.hubAddon.installStrategy" and none["severity"] == "warning"
    assert none["message"] == ("hubAddon.installStrategy is neither Placements nor Manual (a null removes the "
                               "chart's default): no managed cluster gets a SuperNode")
    values["clientApp"]["apps"][0]["placements"] = ["default"]
    code, found = validate(tmp_path, values)
    assert code == 1 and only(found, "FLW202")[0]["path"] == "$.clientApp.apps[0].placements[0]"


# --- versions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("tag, bad", [("1.42.3", False), ("1.42", False), ("v1.42.0-py3.12", False),
                                      ("1.41.0", True), ("2.41.0", True), ("latest", False), ("nightly", False)])
def test_official_superexec_tag_must_match_major_minor(tmp_path, tag, bad):
    values = deep(HOST, {"superlink": {"serverApp": {"image": {"repository": "flwr/superexec", "tag": tag}}}})
    _, found = validate(tmp_path, values)
    assert bool(only(found, "FLW210")) is bad


def test_app_image_tag_is_the_apps_own_version(tmp_path):
    values = deep(HOST, {"clientApp": {"apps": [{"name": "a", "placements": [],
                                                 "image": {"repository": "acme/app", "tag": "3.1.0"}}]}})
    assert not only(validate(tmp_path, values)[1], "FLW210")
    values["clientApp"]["apps"][0]["appLabels"] = {"flower.ai/flower-version": "1.40.2"}
    [finding] = only(validate(tmp_path, values)[1], "FLW210")
    assert finding["path"] == '$.clientApp.apps[0].appLabels["flower.ai/flower-version"]'


def test_app_inherits_the_defaults_tag(tmp_path):
    values = deep(HOST, {"clientApp": {"defaults": {"image": {"tag": "1.39.0"}},
                                       "apps": [{"name": "a", "placements": [],
                                                 "image": {"repository": "flwr/superexec"}}]}})
    [finding] = only(validate(tmp_path, values)[1], "FLW210")
    assert finding["path"] == "$.clientApp.apps[0].image.tag" and "1.39" in finding["message"]


def test_digest_pins_the_image_and_the_tag_is_ignored(tmp_path):
    values = deep(HOST, {"superlink": {"image": {"tag": "1.30.0", "digest": "sha256:" + "a" * 64}}})
    assert not only(validate(tmp_path, values)[1], "FLW211")


def test_superlink_and_supernode_versions(tmp_path):
    values = deep(HOST, {"superlink": {"image": {"tag": "1.43.0"}},
                         "hubAddon": {"supernode": {"image": {"tag": "1.40.0"}}}})
    _, found = validate(tmp_path, values)
    assert only(found, "FLW211")[0]["severity"] == "error"
    assert only(found, "FLW212")[0]["severity"] == "warning"


def test_global_version_moves_every_default(tmp_path):
    code, found = validate(tmp_path, deep(HOST, {"global": {"flower": {"version": "1.41.0"}}}))
    assert code == 0 and not rules_of(found) & {"FLW210", "FLW211", "FLW212"}


@pytest.mark.parametrize("version, bad", [("1.40.0", True), ("2.42.0", True), ("1.41.0", False), ("1.42.7", False)])
def test_unsupported_flower_minor_is_refused_with_the_supported_ones(tmp_path, version, bad):
    code, found = validate(tmp_path, deep(HOST, {"global": {"flower": {"version": version}}}))
    refused = only(found, "FLW213")
    assert bool(refused) is bad
    if bad:
        [finding] = refused
        supported = sorted(json.loads((REPO / "plugin" / "src" / "helm_flower" / "flower_versions.json")
                                      .read_text())["minors"], reverse=True)
        assert finding["severity"] == "error" and code == 1
        assert finding["path"] == "$.global.flower.version"
        assert f"supported minors: {', '.join(supported)}" in finding["message"]


SKEW_PLACEMENTS = {"hubAddon": {"placements": [
    {"name": "old", "clusterSets": ["default"], "supernode": {"image": {"repository": "flwr/supernode",
                                                                       "tag": "1.41.0"}}},
    {"name": "new", "clusterSets": ["default"]}]}}


def test_clientapp_and_supernode_of_one_cluster_must_share_the_minor(tmp_path):
    values = deep(HOST, SKEW_PLACEMENTS, {"clientApp": {"apps": [
        {"name": "everywhere", "placements": []},  # 1.42 (the default), reaches placement old's 1.41
        {"name": "on-new", "placements": ["new"]},  # 1.42 on 1.42: fine
        {"name": "labelled", "placements": ["new"], "image": {"repository": "acme/app", "tag": "7.0"},
         "appLabels": {"flower.ai/flower-version": "1.41.3"}},  # 1.41 on 1.42
    ]}})
    code, found = validate(tmp_path, values)
    skew = only(found, "FLW214")
    assert code == 1 and {f["severity"] for f in skew} == {"error"}
    assert {(f["path"], f["message"].split(",")[0]) for f in skew} == {
        ("$.clientApp.defaults.image.tag", "ClientApp 'everywhere' is Flower 1.42"),
        ('$.clientApp.apps[2].appLabels["flower.ai/flower-version"]', "ClientApp 'labelled' is Flower 1.41"),
    }
    everywhere = next(f for f in skew if "'everywhere'" in f["message"])
    assert "placement 'old' is Flower 1.41 ($.hubAddon.placements[0].supernode.image.tag)" in everywhere["message"]
    assert "exit 606" in everywhere["message"]


def test_matching_minors_on_every_cluster_have_no_skew(tmp_path):
    values = deep(HOST, SKEW_PLACEMENTS, {"clientApp": {"apps": [
        {"name": "old-app", "placements": ["old"], "image": {"repository": "flwr/superexec", "tag": "1.41.0"}},
        {"name": "new-app", "placements": ["new"]},
        {"name": "pinned", "placements": [], "image": {"repository": "flwr/superexec",
                                                       "digest": "sha256:" + "b" * 64}},  # unknown: no finding
    ]}})
    assert not only(validate(tmp_path, values)[1], "FLW214")
    # global.flower.version moves SuperNodes and ClientApps together: no skew either
    assert not only(validate(tmp_path, deep(HOST, {"global": {"flower": {"version": "1.41.0"}}}))[1], "FLW214")


def test_cluster_with_its_own_config_takes_its_placements_supernode_image(tmp_path):
    """hubAddon.clusters[] with node-config get their own AddOnDeploymentConfig, whose SuperNode image
    comes from clusters[].placement's overrides (none: hubAddon.supernode)."""
    manual = deep(HOST, {"hubAddon": {"installStrategy": "Manual", "placements": [],
                                      "supernode": {"image": {"tag": "1.41.0"}},
                                      "clusters": [{"name": "c1"}]},
                         "clientApp": {"apps": [{"name": "a", "placements": []}]}})
    [finding] = only(validate(tmp_path, manual)[1], "FLW214")
    assert "the SuperNode of hubAddon.clusters is Flower 1.41" in finding["message"]
    own = deep(HOST, SKEW_PLACEMENTS, {"hubAddon": {"clusters": [{"name": "c1", "placement": "old",
                                                                  "nodeConfig": {"k": 1}}]},
                                       "clientApp": {"apps": [{"name": "a", "placements": ["new"]}]}})
    assert not only(validate(tmp_path, own)[1], "FLW214")
    own["clientApp"]["apps"][0]["placements"] = ["old"]
    messages = [f["message"] for f in only(validate(tmp_path, own)[1], "FLW214")]
    assert any("cluster 'c1' is Flower 1.41" in m for m in messages)


def test_skew_names_the_value_that_sets_the_clientapps_minor(tmp_path):
    """FLW214 points at what decides a ClientApp's minor: its own image (tag or repository given), else
    clientApp.defaults.image; a flower-version label of clientApp.defaults when the app has none."""
    values = deep(HOST, SKEW_PLACEMENTS, {"clientApp": {"apps": [
        {"name": "own-tag", "placements": ["new"], "image": {"tag": "1.41.0"}},  # 1.41 on 1.42
        {"name": "own-repo", "placements": ["old"], "image": {"repository": "flwr/superexec"}},  # 1.42 on 1.41
        {"name": "default-tag", "placements": ["old"]},  # 1.42 on 1.41
    ]}})
    skew = only(validate(tmp_path, values)[1], "FLW214")
    assert {(f["path"], f["message"].split(",")[0]) for f in skew} == {
        ("$.clientApp.apps[0].image.tag", "ClientApp 'own-tag' is Flower 1.41"),
        ("$.clientApp.apps[1].image.tag", "ClientApp 'own-repo' is Flower 1.42"),
        ("$.clientApp.defaults.image.tag", "ClientApp 'default-tag' is Flower 1.42"),
    }
    labelled = deep(HOST, SKEW_PLACEMENTS, {"clientApp": {
        "defaults": {"appLabels": {"flower.ai/flower-version": "1.41.0"}},
        "apps": [{"name": "app", "placements": ["new"], "image": {"repository": "acme/app", "tag": "7.0"}}]}})
    (finding,) = only(validate(tmp_path, labelled)[1], "FLW214")
    assert finding["path"] == '$.clientApp.defaults.appLabels["flower.ai/flower-version"]'
    assert finding["message"].startswith("ClientApp 'app' is Flower 1.41, the SuperNode of placement 'new' is Flower 1.42")


def test_a_supernode_pinned_by_digest_has_no_known_minor(tmp_path):
    pinned = deep(SKEW_PLACEMENTS, {"hubAddon": {"placements": [
        {"name": "old", "clusterSets": ["default"], "supernode": {"image": {
            "repository": "flwr/supernode", "tag": "1.41.0", "digest": "sha256:" + "c" * 64}}},
        {"name": "new", "clusterSets": ["default"]}]}})
    values = deep(HOST, pinned, {"clientApp": {"apps": [{"name": "everywhere", "placements": []}]}})
    assert not only(validate(tmp_path, values)[1], "FLW214")


def test_a_clientapp_defaults_image_of_the_wrong_type_is_the_schemas_finding(tmp_path):
    code, found = validate(tmp_path, deep(HOST, {"clientApp": {"defaults": {"image": "flwr/superexec:1.41.0"}}}))
    assert code == 1 and only(found, "FLW100")[0]["path"] == "$.clientApp.defaults.image"
    assert not only(found, "FLW214")


# --- TLS --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("tls, rules", [
    ({"mode": "existingSecret", "caBundle": PEM}, {"FLW220"}),
    ({"mode": "existingSecret", "existingSecret": "s"}, {"FLW221"}),
    ({"mode": "existingSecret", "existingSecret": "s", "caBundle": PEM}, set()),
    ({"mode": "certManager", "certManager": {"issuerRef": {"name": "ca", "kind": "ClusterIssuer"}}}, {"FLW221"}),
    ({"mode": "certManager"}, set()),
    ({"mode": "existingSecret", "existingSecret": "s", "caBundle": "Zm9v"}, {"FLW222"}),
    ({"mode": "generate", "caBundle": PEM}, {"FLW225"}),
    ({"mode": "disabled"}, {"FLW223"}),
])
def test_tls_consistency(tmp_path, tls, rules):
    _, found = validate(tmp_path, deep(HOST, {"global": {"tls": tls}}))
    assert rules_of(found) & {"FLW220", "FLW221", "FLW222", "FLW223", "FLW225"} == rules


def test_node_auth_needs_tls(tmp_path):
    _, found = validate(tmp_path, deep(HOST, {"global": {"tls": {"mode": "disabled"}, "nodeAuth": {"enabled": True}}}))
    assert only(found, "FLW224")[0]["path"] == "$.global.nodeAuth.enabled"


# --- exposure ---------------------------------------------------------------------------------------


def test_exposure_rules(tmp_path):
    _, found = validate(tmp_path, {"superlink": {"exposure": {"type": "Ingress"}}})
    assert only(found, "FLW231")[0]["severity"] == "error"
    _, found = validate(tmp_path, {"superlink": {"exposure": {"type": "LoadBalancer"}}})
    assert only(found, "FLW231")[0]["severity"] == "warning"
    _, found = validate(tmp_path, {"superlink": {"exposure": {"type": "ClusterIP"}}})
    assert rules_of(found) >= {"FLW232"}
    _, found = validate(tmp_path, {"superlink": {"exposure": {"type": "NodePort", "host": "10.0.0.1"}}})
    assert only(found, "FLW233")[0]["path"] == "$.superlink.exposure.nodePort"
    _, found = validate(tmp_path, {"superlink": {"exposure": {"type": "NodePort", "host": "10.0.0.1",
                                                              "nodePort": 30100}}})
    assert not only(found, "FLW233")


def test_all_apis_exposure(tmp_path):
    exposure = {"type": "LoadBalancer", "host": "fl.example.com", "allApis": True}
    _, found = validate(tmp_path, {"superlink": {"exposure": exposure}})
    assert only(found, "FLW236")
    exposure["acknowledgeUnauthenticatedControlApi"] = True
    _, found = validate(tmp_path, {"superlink": {"exposure": exposure}})
    assert only(found, "FLW230")[0]["severity"] == "warning" and not only(found, "FLW236")


def test_ingress_controller_peers(tmp_path):
    """FLW235 mirrors the chart: Ingress (or a Route with allApis) with NetworkPolicies needs the
    ingress controller's peers, else the SuperLink's port would admit any pod."""
    controller = [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}]
    route = {"type": "Route", "host": "fl.example.com", "allApis": True, "acknowledgeUnauthenticatedControlApi": True}
    for exposure in ({"type": "Ingress", "host": "fl.example.com"}, route):
        _, found = validate(tmp_path, {"superlink": {"exposure": exposure}})
        (finding,) = only(found, "FLW235")
        assert finding["severity"] == "error"
        assert finding["path"] == "$.superlink.networkPolicy.ingressControllerFrom"
        assert finding["message"] == (
            f"{exposure['type']} exposure with NetworkPolicies but no superlink.networkPolicy.ingressControllerFrom: "
            "the SuperLink's API port (which also serves the Control API) would admit any pod "
            "(the chart refuses to render)")
        assert finding["hint"] == ("name the ingress controller's pods, e.g. a namespaceSelector for its namespace "
                                   "(kubernetes.io/metadata.name: ingress-nginx), or set "
                                   "superlink.networkPolicy.enabled=false")
        for policy in ({"ingressControllerFrom": controller}, {"enabled": False}):
            _, found = validate(tmp_path, {"superlink": {"exposure": exposure, "networkPolicy": policy}})
            assert not only(found, "FLW235")
    for exposure in ({"type": "Route", "host": "fl.example.com"}, {"type": "LoadBalancer", "host": "fl.example.com"}):
        _, found = validate(tmp_path, {"superlink": {"exposure": exposure}})
        assert not only(found, "FLW235")


def test_hub_addon_without_superlink_is_refused_wherever_the_superlink_runs(tmp_path):
    """The chart refuses hubAddon without this release's SuperLink (templates/checks.yaml), whatever
    superlink.exposure names. validate used to pass an external host and port (exit 0)."""
    elsewhere = {"type": "LoadBalancer", "host": "fl.example.com", "port": 443}
    for superlink in ({"enabled": False}, {"enabled": False, "exposure": elsewhere}):
        code, found = validate(tmp_path, {"superlink": superlink})
        (finding,) = only(found, "FLW234")
        assert code == 1 and finding["severity"] == "error" and finding["path"] == "$.superlink.enabled"
        assert finding["message"] == (
            "superlink is disabled but hubAddon is enabled: SuperNodes dial this release's SuperLink, and "
            "the chart refuses to render without it (a SuperLink run elsewhere is not supported yet)")
        assert finding["hint"] == "enable superlink, or disable hubAddon"
    assert not only(validate(tmp_path, {"superlink": {"enabled": False}, "hubAddon": {"enabled": False},
                                        "clientApp": {"enabled": False}})[1], "FLW234")


# --- SuperLink state --------------------------------------------------------------------------------


def test_persistence_rules(tmp_path):
    _, found = validate(tmp_path, deep(HOST, {"superlink": {"replicaCount": 2}}))
    assert only(found, "FLW240")
    _, found = validate(tmp_path, deep(HOST, {"superlink": {"replicaCount": 2, "persistence": {"enabled": False}}}))
    assert only(found, "FLW242") and not only(found, "FLW240")
    _, found = validate(tmp_path, deep(HOST, {"superlink": {"updateStrategy": {"type": "RollingUpdate"}}}))
    assert only(found, "FLW241")[0]["path"] == "$.superlink.updateStrategy.type"


# --- names ------------------------------------------------------------------------------------------


def test_release_name_length_and_syntax(tmp_path):
    # The chart shortens what would be too long: every release name Helm accepts is fine.
    code, found = validate(tmp_path, HOST, "--release", "x" * 53)
    assert code == 0 and not [f for f in found if f["rule"].startswith("FLW25")], found
    (too_long,) = only(validate(tmp_path, HOST, "--release", "x" * 54)[1], "FLW253")
    assert too_long["message"] == f"release name {'x' * 54!r} has 54 characters, Helm allows 53"
    assert "at most 53" in too_long["hint"]
    assert too_long["path"] == "" and too_long["file"] == ""  # the name comes from --release, not a value
    assert only(validate(tmp_path, HOST, "--release", "Flower")[1], "FLW253")
    (digit,) = only(validate(tmp_path, HOST, "--release", "9lives")[1], "FLW253")  # Service names start with a letter
    assert "'9lives-superlink' must start with a letter" in digit["message"]


def test_placement_and_app_names(tmp_path):
    long = "p" * 63  # <release>-<placement>-clientapp is 80 characters: the chart shortens it
    values = deep(HOST, {"hubAddon": {"placements": [{"name": long, "clusterSets": ["default"]}]},
                         "clientApp": {"apps": [{"name": "App_1", "placements": [long]}]}})
    _, found = validate(tmp_path, values)
    assert not only(found, "FLW250") and not [f for f in only(found, "FLW253") if "placements" in f["path"]]
    (app,) = only(found, "FLW253")
    assert (app["path"], app["message"], app["hint"]) == (
        "$.clientApp.apps[0].name",
        "app name 'App_1' must be a DNS-1123 label: lowercase alphanumerics and '-', starting and ending with an "
        "alphanumeric", "app names become object names and label values: lowercase letters, digits and '-'")


def test_addon_name_limit(tmp_path):
    assert not only(validate(tmp_path, HOST, "--release", "r" * 53, "-n", "n" * 63)[1], "FLW251")  # default fits
    (found,) = only(validate(tmp_path, deep(HOST, {"global": {"addon": {"name": "a" * 58}}}))[1], "FLW251")
    assert found["path"] == "$.global.addon.name"
    assert found["message"] == (f"global.addon.name {'a' * 58!r} has 58 characters: OCM labels clusters with "
                                "feature.open-cluster-management.io/addon-<name>, whose name part allows 63, so the "
                                "name at most 57")
    assert "at most 57" in found["hint"] and "leave it empty" in found["hint"]
    assert not only(validate(tmp_path, deep(HOST, {"global": {"addon": {"name": "a" * 57}}}))[1], "FLW251")


def test_managed_cluster_namespace(tmp_path):
    _, found = validate(tmp_path, deep(HOST, {"global": {"managedCluster": {"namespace": "Flower_NS"}}}))
    assert only(found, "FLW252")[0]["path"] == "$.global.managedCluster.namespace"
    for system in ("kube-system", "kube-flower", "default", "open-cluster-management-agent-addon"):
        (found,) = only(validate(tmp_path, deep(HOST, {"global": {"managedCluster": {"namespace": system}}}))[1], "FLW252")
        assert found["message"] == (f"global.managedCluster.namespace {system!r} is a system namespace of the managed "
                                    "clusters; the SuperNode's namespace is created and deleted with the addon")
    assert not only(validate(tmp_path, deep(HOST, {"global": {"managedCluster": {"namespace": "fl-agents"}}}))[1], "FLW252")


def test_release_namespace(tmp_path):
    """A namespace of 53 or more characters leaves no room for a ClientApp's ManifestWorkReplicaSet
    name under OCM's label; without ClientApps any DNS label is a namespace."""
    ns52, ns53 = "n" * 52, "n" * 53
    assert validate(tmp_path, HOST, "-n", ns52, "--release", "r" * 53)[0] == 0
    code, found = validate(tmp_path, HOST, "-n", ns53)
    (clientapps,) = only(found, "FLW250")
    assert code == 1 and clientapps["path"] == "$.clientApp.apps"
    assert clientapps["message"] == (
        f"namespace {ns53!r} has 53 characters: OCM labels the ManifestWorks of every ClientApp with "
        "work.open-cluster-management.io/manifestworkreplicaset=<namespace>.<name>, a label value of at most 63 "
        "characters, which leaves 9 for the name, and a name needs at least 10")
    assert clientapps["hint"] == ("install the release into a namespace of at most 52 characters (shorten it by 1), "
                                  "or disable clientApp")
    assert validate(tmp_path, deep(HOST, {"clientApp": {"enabled": False}}), "-n", "n" * 63)[0] == 0
    (bad,) = only(validate(tmp_path, deep(HOST, {"clientApp": {"enabled": False}}), "-n", "n" * 64)[1], "FLW253")
    assert bad["message"] == f"release namespace {'n' * 64!r} has 64 characters, at most 63 are allowed"
    assert only(validate(tmp_path, HOST, "-n", "Flower_NS")[1], "FLW253")


# --- resources --------------------------------------------------------------------------------------


@pytest.mark.parametrize("text, value", [
    ("100m", Decimal("0.1")), ("1", Decimal(1)), ("1.5Gi", Decimal(1.5 * 2**30)), ("2e3", Decimal(2000)),
    ("1E-3", Decimal("0.001")), (".5", Decimal("0.5")), ("5.", Decimal(5)), ("+1k", Decimal(1000)),
    (2, Decimal(2)), (0.25, Decimal("0.25")), ("12Mi", Decimal(12 * 2**20)),
])
def test_quantities(text, value):
    assert k8s.parse_quantity(text) == value


@pytest.mark.parametrize("text", ["1GB", "1 Gi", "Gi", "", "1.5.5", "1Kib", "abc", "0x10", "1e", "--1", True, None, "1i"])
def test_invalid_quantities(text):
    assert k8s.parse_quantity(text) is None and k8s.quantity_error(text)


def test_resource_rules(tmp_path):
    values = deep(HOST, {"superlink": {"resources": {"requests": {"memory": "2Gi", "cpus": "1"},
                                                      "limits": {"memory": "1Gi"}},
                                        "serverApp": {"resources": {"requests": {"cpu": "-1"}}}}})
    _, found = validate(tmp_path, values)
    assert only(found, "FLW261")[0]["path"] == "$.superlink.resources.requests.memory"
    assert only(found, "FLW262")[0]["path"] == "$.superlink.resources.requests.cpus"
    assert only(found, "FLW260")[0]["path"] == "$.superlink.serverApp.resources.requests.cpu"


def test_request_and_limit_findings_say_what_to_change(tmp_path):
    """FLW261: a request over its limit of the same object (an equal one is fine; an unparsable request
    does not stop the others). FLW262: an extended resource (<domain>/<name>, not kubernetes.io/ or
    requests.) needs request == limit."""
    resources = {"requests": {"cpu": "x", "memory": "2Gi", "ephemeral-storage": "1Gi", "example.com/gpu": 1,
                              "example.com/fpga": 1, "example.com/tpu": 2, "kubernetes.io/batch": 1,
                              "requests.example.com/gpu": 1},
                 "limits": {"memory": "1Gi", "ephemeral-storage": "1Gi", "example.com/fpga": 2, "example.com/tpu": 2}}
    _, found = validate(tmp_path, deep(HOST, {"superlink": {"resources": resources}}))
    (over,) = only(found, "FLW261")
    assert (over["path"], over["message"], over["hint"]) == (
        "$.superlink.resources.requests.memory", 'request memory="2Gi" is greater than its limit "1Gi"',
        "raise the limit or lower the request")
    own = {"name": "a", "placements": [], "resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}}
    (app,) = only(validate(tmp_path, deep(HOST, {"clientApp": {"apps": [own]}}))[1], "FLW261")
    assert (app["path"], app["message"]) == ("$.clientApp.apps[0].resources.requests.cpu",
                                             'request cpu="2" is greater than its limit "1"')
    extended = [f for f in only(found, "FLW262") if f["message"].startswith("extended")]
    assert sorted((f["path"], f["message"], f["hint"]) for f in extended) == [
        ('$.superlink.resources.requests["example.com/fpga"]', "extended resource example.com/fpga has request 1 but "
         "limit 2: Kubernetes requires request == limit for extended resources",
         "set only limits (the request defaults to it), or make both equal"),
        ('$.superlink.resources.requests["example.com/gpu"]', "extended resource example.com/gpu has request 1 but "
         "no limit: Kubernetes requires request == limit for extended resources",
         "set only limits (the request defaults to it), or make both equal")]


def test_request_over_an_inherited_limit(tmp_path):
    values = deep(HOST, {"clientApp": {"defaults": {"resources": {"limits": {"memory": "1Gi"}}},
                                       "apps": [{"name": "a", "placements": [],
                                                 "resources": {"requests": {"memory": "3Gi"}}}]}})
    [finding] = only(validate(tmp_path, values)[1], "FLW261")
    assert finding["path"] == "$.clientApp.apps[0].resources.requests.memory"
    assert "$.clientApp.defaults.resources.limits.memory" in finding["message"]


def test_a_finding_of_shared_defaults_is_reported_once(tmp_path):
    """Every app inherits clientApp.defaults' request over its limit: one finding, at the defaults."""
    values = deep(HOST, {"clientApp": {"defaults": {"resources": {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}},
                                       "apps": [{"name": "a", "placements": []}, {"name": "b", "placements": []}]}})
    (finding,) = only(validate(tmp_path, values)[1], "FLW261")
    assert finding["path"] == "$.clientApp.defaults.resources.requests.cpu"


def test_sprig_merge_treats_empty_values_as_missing():
    assert sprig_merge({"a": "", "b": 0, "c": False, "d": "x", "e": {"f": ""}},
                       {"h": None, "a": "A", "b": 1, "c": True, "d": "D", "e": {"f": "F", "g": 1}}) == {
        "a": "A", "b": 1, "c": True, "d": "x", "e": {"f": "F", "g": 1}}


# --- labels and selectors ---------------------------------------------------------------------------


@pytest.mark.parametrize("key, ok", [("app", True), ("flower.ai/enabled", True), ("a" * 63, True),
                                     ("a" * 64, False), ("Flower.AI/x", False), ("/x", False), ("x/", False),
                                     ("-x", False), ("x_y.z", True), ("a/b/c", False), ("", False)])
def test_label_keys(key, ok):
    assert (k8s.qualified_name_error(key) is None) is ok


@pytest.mark.parametrize("value, ok", [("", True), ("true", True), ("a-b_c.d", True), ("a" * 64, False),
                                       ("has space", False), ("-x", False), (True, False), (1, False)])
def test_label_values(value, ok):
    assert (k8s.label_value_error(value) is None) is ok


@pytest.mark.parametrize("expression, problems", [
    ({"key": "a", "operator": "In", "values": ["x"]}, set()),
    ({"key": "a", "operator": "In", "values": []}, {"values"}),
    ({"key": "a", "operator": "NotIn"}, {"values"}),
    ({"key": "a", "operator": "Exists"}, set()),
    ({"key": "a", "operator": "DoesNotExist", "values": ["x"]}, {"values"}),
    ({"key": "a", "operator": "Equals", "values": ["x"]}, {"operator"}),
    ({"key": "a b", "operator": "Exists"}, {"key"}),
    ({"key": "a", "operator": "In", "values": ["not ok"]}, {"values[0]"}),
])
def test_label_selector_expressions(expression, problems):
    assert {sub for sub, _ in k8s.expression_error(expression)} == problems


def test_node_affinity_allows_gt_and_lt():
    assert not k8s.expression_error({"key": "cpu", "operator": "Gt", "values": ["4"]}, k8s.NODE_OPERATORS, False)
    assert k8s.expression_error({"key": "cpu", "operator": "Gt", "values": ["4", "5"]}, k8s.NODE_OPERATORS, False)


def test_a_global_value_is_reported_once_and_subcharts_are_still_walked(tmp_path):
    """Helm copies global into every subchart; its findings belong to $.global alone, and the rest of
    each subchart is still checked."""
    values = deep(HOST, {"global": {"commonLabels": {"bad key!": "v"}},
                         "superlink": {"global": {"note": "a subchart's own global"},
                                       "resources": {"requests": {"cpu": "x"}}}})
    _, found = validate(tmp_path, values)
    assert [f["path"] for f in only(found, "FLW270")] == ['$.global.commonLabels["bad key!"]']
    assert [f["path"] for f in only(found, "FLW260")] == ["$.superlink.resources.requests.cpu"]


def test_label_rules_in_values(tmp_path):
    values = deep(HOST, {"hubAddon": {"placements": [{"name": "default", "clusterSets": ["default"], "predicates": [
        {"requiredClusterSelector": {"labelSelector": {"matchLabels": {"flower.ai/enabled": True},
                                                       "matchExpressions": [{"key": "x", "operator": "Exists",
                                                                             "values": ["y"]}]}}}]}]},
        "superlink": {"nodeSelector": {"bad key!": "x"}, "podAnnotations": {"a/b/c": "x", "ok": 1}}})
    _, found = validate(tmp_path, values)
    paths = {(f["rule"], f["path"]) for f in found}
    selector = "$.hubAddon.placements[0].predicates[0].requiredClusterSelector.labelSelector"
    assert ("FLW270", f'{selector}.matchLabels["flower.ai/enabled"]') in paths
    assert ("FLW271", f"{selector}.matchExpressions[0].values") in paths
    assert ("FLW270", '$.superlink.nodeSelector["bad key!"]') in paths
    assert ("FLW272", '$.superlink.podAnnotations["a/b/c"]') in paths
    assert ("FLW272", "$.superlink.podAnnotations.ok") in paths


# --- node-config and AddOnDeploymentConfig variables -------------------------------------------------


def test_node_config_renders_like_the_chart():
    plain, stored = nodeconfig.render({"b": True, "i": 3.0, "f": 0.5, "s": 'x "y" <z>', "big": 1234567.5})
    assert plain == ('b=true big=1.2345675e+06 cluster-name="{{CLUSTER_NAME}}" f=0.5 i=3 '
                     's="x \\"y\\" \\u003cz\\u003e"')
    assert stored == json.dumps(plain)[1:-1].replace("<", "\\u003c").replace(">", "\\u003e")


@pytest.mark.parametrize("value, text", [(0.1, "0.1"), (1e21, "1e+21"), (123456.5, "123456.5"),
                                         (1234567.5, "1.2345675e+06"), (0.0001, "0.0001"), (0.00001, "1e-05"),
                                         (-2.5, "-2.5")])
def test_go_float_formatting(value, text):
    assert nodeconfig.go_float(value) == text


def test_node_config_parses_back_like_flower():
    flwr_config = pytest.importorskip("flwr.common.config")
    config = {"partition-id": 3, "lr": 0.01, "tier": "research grade", "gpu": True, "path": "/data/x y"}
    plain, _ = nodeconfig.render(config)
    expected = {**config, "cluster-name": "{{CLUSTER_NAME}}"}
    assert flwr_config.parse_config_args([plain]) == expected == nodeconfig.flower_parse(plain)
    assert nodeconfig.problems(config) == {}


@pytest.mark.parametrize("config, key", [
    ({"q": 'say "hi"'}, "q"), ({"n": None}, "n"), ({"l": [1, 2]}, "l"), ({"m": {"a": 1}}, "m"),
    ({"key with space": 1}, "key with space"), ({"cluster-name": "x"}, "cluster-name"), ({"ünï": 1}, "ünï"),
])
def test_node_config_problems(config, key):
    assert key in nodeconfig.problems(config)


def test_node_config_problems_match_flower():
    flwr_config = pytest.importorskip("flwr.common.config")
    plain, _ = nodeconfig.render({"q": 'say "hi"'})
    parsed = None
    with contextlib.suppress(Exception):
        parsed = flwr_config.parse_config_args([plain])
    assert parsed != {"q": 'say "hi"', "cluster-name": "{{CLUSTER_NAME}}"}


def test_node_config_rules_in_values(tmp_path):
    values = deep(HOST, {"hubAddon": {"supernode": {"nodeConfig": {"ok": 1}},
                                      "placements": [{"name": "default", "clusterSets": ["default"],
                                                      "supernode": {"nodeConfig": {"data": "x" * 1000}}}],
                                      "clusters": [{"name": "c1", "nodeConfig": {"bad": 'a"b'}}]}})
    _, found = validate(tmp_path, values)
    assert only(found, "FLW281")[0]["path"] == "$.hubAddon.clusters[0].nodeConfig.bad"
    long = only(found, "FLW280")[0]
    assert long["path"] == "$.hubAddon.placements[0].supernode.nodeConfig"
    assert "flower-supernode-default" in long["message"]
    # 1000 characters fit: only the JSON escaping of cluster-name and the pairs push it over 1024
    assert not only(validate(tmp_path, deep(HOST, {"hubAddon": {"supernode": {"nodeConfig": {"d": "x" * 900}}}}))[1],
                    "FLW280")


DIGEST = "sha256:" + "d" * 64


@pytest.mark.parametrize("image, global_values, tail", [
    ({"registry": "registry.example"}, {}, ":1.42.0"),  # an empty tag follows global.flower.version
    ({"registry": "registry.example", "tag": "7"}, {"imageRegistry": "mirror.example"}, ":7"),
    ({"registry": "", "tag": "1.42.0", "digest": DIGEST}, {}, "@" + DIGEST),  # a digest pins it
    ({"registry": "", "tag": ""}, {"flower": {"version": ""}}, ":"),  # neither tag nor version: nothing after the colon
])
def test_supernode_image_reference_is_measured_as_the_chart_renders_it(tmp_path, image, global_values, tail):
    """SUPERNODE_IMAGE (flower.image in the chart): global.imageRegistry over image.registry, no
    registry no '/', the digest over the tag. At 1025 characters OCM refuses the AddOnDeploymentConfig."""
    registry = global_values.get("imageRegistry") or image["registry"]
    prefix = f"{registry}/" if registry else ""
    repository = "r" * (1025 - len(prefix) - len(tail))
    values = deep(HOST, {"global": global_values,
                         "hubAddon": {"supernode": {"image": {**image, "repository": repository}}}})
    messages = {f["message"] for f in only(validate(tmp_path, values)[1], "FLW280")
                if f["path"] == "$.hubAddon.supernode.image"}
    assert messages == {"SUPERNODE_IMAGE of AddOnDeploymentConfig flower-supernode is 1025 characters; "
                        "OCM allows 1024"}


def test_cluster_config_starts_from_its_placement(tmp_path):
    values = deep(HOST, {"hubAddon": {"placements": [{"name": "eu", "clusterSets": ["eu"],
                                                      "supernode": {"nodeConfig": {"data": "x" * 1000}}}],
                                      "clusters": [{"name": "c1", "placement": "eu", "nodeConfig": {"id": 1}},
                                                   {"name": "c2", "placement": "us", "nodeConfig": {"id": 2}}]},
                         "clientApp": {"apps": [{"name": "a", "placements": ["eu"]}]}})
    _, found = validate(tmp_path, values)
    [long] = only(found, "FLW280")
    assert long["path"] == "$.hubAddon.placements[0].supernode.nodeConfig"
    assert "flower-supernode-eu" in long["message"] and "flower-supernode-cluster-c1" in long["message"]
    [unknown] = only(found, "FLW206")
    assert unknown["path"] == "$.hubAddon.clusters[1].placement"


# --- property: rules never crash on values of the wrong shape ---------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_PATHS = [
    ("global",), ("global", "flower", "version"), ("global", "tls"), ("global", "tls", "mode"),
    ("global", "tls", "caBundle"), ("global", "tls", "certManager", "issuerRef"), ("global", "nodeAuth"),
    ("global", "nodeAuth", "enabled"), ("global", "addon", "name"), ("global", "managedCluster", "namespace"),
    ("superlink",), ("superlink", "enabled"), ("superlink", "image"), ("superlink", "image", "tag"),
    ("superlink", "exposure"), ("superlink", "exposure", "type"), ("superlink", "exposure", "host"),
    ("superlink", "exposure", "nodePort"), ("superlink", "exposure", "allApis"), ("superlink", "port"),
    ("superlink", "replicaCount"), ("superlink", "persistence"), ("superlink", "persistence", "size"),
    ("superlink", "updateStrategy"), ("superlink", "resources"), ("superlink", "resources", "requests"),
    ("superlink", "serverApp", "image"), ("superlink", "serverApp", "appLabels"), ("superlink", "nodeSelector"),
    ("superlink", "podAnnotations"), ("hubAddon",), ("hubAddon", "enabled"), ("hubAddon", "installStrategy"),
    ("hubAddon", "placements"), ("hubAddon", "placements", 0), ("hubAddon", "placements", 0, "name"),
    ("hubAddon", "placements", 0, "supernode"), ("hubAddon", "placements", 0, "supernode", "nodeConfig"),
    ("hubAddon", "placements", 0, "supernode", "resources"), ("hubAddon", "placements", 0, "predicates"),
    ("hubAddon", "clusters"), ("hubAddon", "clusters", 0), ("hubAddon", "clusters", 0, "nodeConfig"),
    ("hubAddon", "supernode"), ("hubAddon", "supernode", "nodeConfig"), ("hubAddon", "supernode", "image"),
    ("hubAddon", "supernode", "resources", "limits"), ("clientApp",), ("clientApp", "enabled"),
    ("clientApp", "apps"), ("clientApp", "apps", 0), ("clientApp", "apps", 0, "placements"),
    ("clientApp", "apps", 0, "image"), ("clientApp", "apps", 0, "resources"), ("clientApp", "defaults"),
    ("clientApp", "defaults", "image", "tag"), ("clientApp", "apps", 0, "appLabels"),
]
_json = st.recursive(st.one_of(st.none(), st.booleans(), st.integers(-5, 70000), st.floats(allow_nan=False),
                               st.text(max_size=8), st.sampled_from(["1.41.0", "1.40", "Manual", "disabled",
                                                                     "NodePort", "In", "1Gi", "x" * 70])),
                     lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6),
                                                                                       inner, max_size=3)),
                     max_leaves=8)


def _put(values: dict, path: tuple, value) -> None:
    node = values
    for part, following in zip(path, path[1:]):
        empty = [] if isinstance(following, int) else {}
        if isinstance(node, dict):
            if not isinstance(node.get(part), type(empty)):
                node[part] = empty
            node = node[part]
        elif isinstance(node, list):
            while len(node) <= part:
                node.append({} if not isinstance(following, int) else [])
            if not isinstance(node[part], type(empty)):
                node[part] = empty
            node = node[part]
    last = path[-1]
    if isinstance(node, dict):
        node[last] = value
    elif isinstance(node, list):
        while len(node) <= last:
            node.append(None)
        node[last] = value


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(_PATHS), _json), min_size=1, max_size=6))
def test_rules_never_crash_on_odd_shapes(tmp_path_factory, changes):
    values: dict = {}
    for path, value in changes:
        _put(values, path, value)
    code, found = validate(tmp_path_factory.mktemp("odd"), values)
    assert code in (0, 1, 2)
