"""The test machinery itself: the schema checks, OCM's variable substitution and the ci examples.
No helm here: these make sure the chart tests can fail."""

from __future__ import annotations

from pathlib import Path

import kubernetes_validate
import pytest

import kube_schemas as ks
import render as r
from cases import CI_FILES


def test_ci_examples_exist_and_say_what_they_cover() -> None:
    assert len(CI_FILES) >= 8, "charts/flower-federation/ci should hold the chart-testing examples"
    for f in CI_FILES:
        first = f.read_text().splitlines()[0]
        assert first.startswith("# Covers:"), f"{f.name}: start with a '# Covers: ...' comment"


DEPLOYMENT = {
    "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "x", "namespace": "n"},
    "spec": {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}},
             "spec": {"containers": [{"name": "c", "image": "busybox"}]}}},
}


def test_cached_kubernetes_validator_agrees_with_kubernetes_validate(ocm_crds_dir: Path) -> None:
    kubernetes_validate.validate(DEPLOYMENT, ks.K8S_VERSION, strict=True)
    assert ks.schema_errors(DEPLOYMENT, ocm_crds_dir) == (f"kubernetes-{ks.K8S_VERSION}", [])
    broken = {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "replica": 1}}
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, ks.K8S_VERSION, strict=True)
    assert any("replica" in e for e in ks.schema_errors(broken, ocm_crds_dir)[1])


def test_schema_checks_reject_unknown_fields_wrong_types_and_unknown_kinds(ocm_crds_dir: Path) -> None:
    container = {"name": "c", "imagee": "x"}
    deployment = {**DEPLOYMENT, "spec": {**DEPLOYMENT["spec"], "template": {"spec": {"containers": [container]}}}}
    assert any("imagee" in e for e in ks.schema_errors(deployment, ocm_crds_dir)[1])
    placement = {"apiVersion": "cluster.open-cluster-management.io/v1beta1", "kind": "Placement",
                 "metadata": {"name": "p", "namespace": "n", "labels": {"a": 1}},
                 "spec": {"numberOfClusters": "3", "predicate": [],
                          "prioritizerPolicy": {"configurations": [{"scoreCoordinate": {"type": "Other"}}]}}}
    errors = " ".join(ks.schema_errors(placement, ocm_crds_dir)[1])
    for needle in ("predicate", "numberOfClusters", "Other", "metadata.labels.a"):
        assert needle in errors, needle
    # Required fields with a CRD default are filled in first, as the API server does.
    mwrs = {"apiVersion": "work.open-cluster-management.io/v1alpha1", "kind": "ManifestWorkReplicaSet",
            "metadata": {"name": "w", "namespace": "n"},
            "spec": {"placementRefs": [{"name": "p"}], "manifestWorkTemplate": {"workload": {"manifests": [{"apiVersion": "v1", "kind": "ConfigMap", "any": "thing"}]}}}}
    assert ks.schema_errors(mwrs, ocm_crds_dir)[1] == []
    mwrs["spec"]["placementRefs"][0]["rolloutStrategy"] = {"type": "Progressive", "progressive": {"maxConcurrency": "150%"}}
    assert ks.schema_errors(mwrs, ocm_crds_dir)[1]
    route = {"apiVersion": "route.openshift.io/v1", "kind": "Route", "metadata": {"name": "r"},
             "spec": {"to": {"kind": "Service", "name": "s"}, "tls": {"termination": "pass"}}}
    assert ks.schema_errors(route, ocm_crds_dir)[1]
    certificate = {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "c"},
                   "spec": {"secretName": "s", "issuerRef": {"name": "i"}, "dnsNames": ["a"], "duration": "90d"}}
    assert any("duration" in e for e in ks.schema_errors(certificate, ocm_crds_dir)[1])
    with pytest.raises(ks.NoSchemaError):
        ks.schema_errors({"apiVersion": "example.com/v1", "kind": "Widget", "metadata": {"name": "w"}}, ocm_crds_dir)
    with pytest.raises(ks.NoSchemaError):  # AddOnTemplate is served as v1alpha1 only
        ks.schema_errors({"apiVersion": "addon.open-cluster-management.io/v1beta1", "kind": "AddOnTemplate",
                          "metadata": {"name": "t"}}, ocm_crds_dir)


def test_ocm_substitution_is_one_pass_and_blanks_unknown_variables() -> None:
    raw = '{"a":"{{CLUSTER_NAME}}","b":"{{NODE_CONFIG}}","c":"{{UNSET}}"}'
    out = r.ocm_substitute(raw, {"CLUSTER_NAME": "c1", "NODE_CONFIG": "x={{CLUSTER_NAME}}"})
    assert out == '{"a":"c1","b":"x={{CLUSTER_NAME}}","c":""}'
    assert r.ocm_tags(raw) == {"CLUSTER_NAME", "NODE_CONFIG", "UNSET"}


def test_addon_template_instances_use_each_deployment_config() -> None:
    tmpl = {"apiVersion": "addon.open-cluster-management.io/v1alpha1", "kind": "AddOnTemplate", "metadata": {"name": "t"},
            "spec": {"addonName": "t", "agentSpec": {"workload": {"manifests": [
                {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "m", "namespace": "{{INSTALL_NAMESPACE}}"},
                 "data": {"v": "{{V}}", "c": "{{CLUSTER_NAME}}"}}]}}}}
    adcs = [{"kind": "AddOnDeploymentConfig", "metadata": {"name": n, "namespace": "hub"},
             "spec": {"agentInstallNamespace": f"ns-{n}", "customizedVariables": [{"name": "V", "value": f'say \\"{n}\\"'}]}}
            for n in ("one", "two")]
    mca = {"kind": "ManagedClusterAddOn", "metadata": {"name": "t", "namespace": "site-9"},
           "spec": {"configs": [{"resource": "addondeploymentconfigs", "name": "two", "namespace": "hub"}]}}
    # Values land in the raw JSON unescaped: the chart must JSON-escape them (here \" -> ").
    got = [(o.adc, o.cluster, o.obj["metadata"]["namespace"], o.obj["data"]) for o in r.addon_template_instances([tmpl, *adcs, mca])]
    assert got == [("one", r.SAMPLE_CLUSTER, "ns-one", {"v": 'say "one"', "c": r.SAMPLE_CLUSTER}),
                   ("two", "site-9", "ns-two", {"v": 'say "two"', "c": "site-9"})]
