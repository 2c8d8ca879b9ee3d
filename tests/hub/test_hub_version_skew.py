"""`helm flower status` reports Flower version skew per cluster, with its fix: a ClientApp SuperExec
of another major.minor than the cluster's SuperNode (the SuperNode's Runtime API refuses it, exit
606: the cluster is not ready), and a SuperNode of another minor than the SuperLink (the Fleet API
only warns: reported, still ready). The SuperNode's version is the image of the
AddOnDeploymentConfig its ManagedClusterAddOn last applied; a ClientApp's is the image (or
flower.ai/flower-version label) its ManifestWork ships; the SuperLink's is the release's
app.kubernetes.io/version."""

from __future__ import annotations

import json

import fleetgen
import jsonschema
import yaml

from helm_flower.commands import status

NS = "flower"


def upgraded_fleet(**kw) -> fleetgen.FleetSpec:
    """The small fleet after `helm upgrade --set global.flower.version=1.42.0`: every SuperNode got
    1.42 from the addon; ClientApp works ship flwr/superexec of the versions given."""
    spec = fleetgen.small_fleet()
    spec.flower_version = "1.42.0"
    spec.deployment_configs = True
    for key, value in kw.items():
        setattr(spec, key, value)
    return spec


def json_status(run_cmd) -> tuple[int, dict]:
    rc, out, _ = run_cmd(status, ["status", "fed", "-n", NS, "-o", "json"])
    return rc, json.loads(out)


def rows(data: dict) -> dict[str, dict]:
    return {r["cluster"]: r for p in data["placements"] for r in p["rows"]}


def test_clientapp_behind_its_supernode_is_a_blocking_skew_with_the_fix(make_hub, run_cmd):
    # charlie: the addon rolled its SuperNode to 1.42, the ClientApp's (Progressive) rollout has not yet
    versions = {("digits", "alpha"): "1.42.0", ("digits", "bravo"): "1.42.0", ("digits", "charlie"): "1.41.0"}
    make_hub(upgraded_fleet(clientapp_version=versions))
    rc, data = json_status(run_cmd)
    assert rc == 1 and not data["ready"]
    by = rows(data)
    assert by["alpha"]["versionSkew"] is None and by["alpha"]["ready"]
    skew = by["charlie"]["versionSkew"]
    assert skew["superNode"] == "1.42" and skew["superLink"] == "1.42" and skew["clientApps"] == {"digits": "1.41"}
    assert skew["blocking"] and not by["charlie"]["ready"]
    assert by["charlie"]["reason"] == skew["finding"]
    assert "SuperNode 1.42, ClientApp digits 1.41, SuperLink 1.42" in skew["finding"]
    assert "exit 606" in skew["finding"] and "--set global.flower.version=1.42.x" in skew["finding"]
    assert [s["cluster"] for s in data["versionSkew"]] == ["charlie"]
    rc, out, _ = run_cmd(status, ["status", "fed", "-n", NS])
    assert "Flower version skew (1 clusters):" in out
    assert any(line.startswith("  - charlie: Flower version skew: SuperNode 1.42, ClientApp digits 1.41")
               for line in out.splitlines()), out


def test_supernode_behind_the_superlink_is_reported_but_not_blocking(make_hub, run_cmd):
    # bravo's SuperNode and ClientApp stayed on 1.41 together: they work, the SuperLink (1.42) only warns
    versions = {("digits", c): "1.42.0" for c in ("alpha", "charlie")} | {("digits", "bravo"): "1.41.0"}
    make_hub(upgraded_fleet(clientapp_version=versions, supernode_version={"bravo": "1.41.0"}))
    rc, data = json_status(run_cmd)
    assert rc == 0 and data["ready"]
    skew = rows(data)["bravo"]["versionSkew"]
    assert skew["superNode"] == "1.41" and skew["superLink"] == "1.42" and not skew["blocking"]
    assert "bring this cluster to 1.42" in skew["finding"]
    assert [s["cluster"] for s in data["versionSkew"]] == ["bravo"]


def test_one_minor_everywhere_has_no_skew(make_hub, run_cmd):
    versions = {("digits", c): "1.42.3" for c in ("alpha", "bravo", "charlie")}
    make_hub(upgraded_fleet(clientapp_version=versions))
    rc, data = json_status(run_cmd)
    assert rc == 0 and data["ready"] and data["versionSkew"] == []
    assert all(r["versionSkew"] is None for r in rows(data).values())
    rc, out, _ = run_cmd(status, ["status", "fed", "-n", NS])
    assert rc == 0 and "version skew" not in out


def test_fixture_deployment_configs_validate_against_the_crd(ocm_crds_dir):
    """The fixture's AddOnDeploymentConfigs have the upstream CRD's shape (test_hub_fleetgen checks
    the other objects)."""
    crd = next(c for c in (yaml.safe_load(p.read_text()) for p in ocm_crds_dir.glob("*.crd.yaml"))
               if c["spec"]["names"]["kind"] == "AddOnDeploymentConfig")
    schema = next(v for v in crd["spec"]["versions"] if v["name"] == "v1alpha1")["schema"]["openAPIV3Schema"]
    objs = [o for o in fleetgen.objects(upgraded_fleet(supernode_version={"bravo": "1.41.0"}))
            if o["kind"] == "AddOnDeploymentConfig"]
    assert len(objs) == 2
    for obj in objs:
        assert not list(jsonschema.Draft7Validator(schema).iter_errors(obj))


def test_app_images_without_a_flower_version_are_not_guessed(make_hub, run_cmd):
    """An app's own image tag is the app's version (registry.example.com/flower/digits:1.41.0 in the
    fixtures): nothing to compare, no finding, even though the SuperLink is 1.42."""
    make_hub(upgraded_fleet())
    rc, data = json_status(run_cmd)
    assert rc == 0 and data["versionSkew"] == []
