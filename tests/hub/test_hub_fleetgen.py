"""The test fleet is shaped like the real thing: every kind of object fleetgen writes (each state
of addons and ManifestWorks included) validates against the upstream OCM CRD schemas."""

from __future__ import annotations

import jsonschema
import pytest
import yaml

import fleetgen


@pytest.fixture(scope="module")
def validators(ocm_crds_dir):
    out = {}
    for path in ocm_crds_dir.glob("*.crd.yaml"):
        crd = yaml.safe_load(path.read_text())
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for v in crd["spec"]["versions"]:
            out[(f"{group}/{v['name']}", kind)] = jsonschema.Draft7Validator(v["schema"]["openAPIV3Schema"])
    return out


def sample_objects() -> list[dict]:
    spec = fleetgen.FleetSpec(placements={"p": [("canary", ["a", "b"]), ("", ["c", "d", "e", "f"])]},
                              apps={"one": ["p"], "all": []}, rollout={"one": "Progressive"})
    states = fleetgen.ADDON_STATES[:-1]  # all but "missing"
    work_states = fleetgen.WORK_STATES[:-1]
    for cluster, state in zip("abcdef", states):
        spec.addon_state[cluster] = state
    for cluster, state in zip("abcdef", work_states):
        spec.work_state[("one", cluster)] = state
    return fleetgen.objects(spec, per_object=3)


def test_every_ocm_object_validates_against_the_upstream_crds(validators):
    seen = set()
    for obj in sample_objects():
        key = (obj["apiVersion"], obj["kind"])
        if key not in validators:
            continue  # core kinds (Service, ConfigMap, Node)
        errors = sorted(validators[key].iter_errors(obj), key=lambda e: list(e.path))
        assert not errors, f"{obj['kind']} {obj['metadata']['name']}: " + "; ".join(
            f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors[:3])
        seen.add(obj["kind"])
    assert seen == {"ClusterManagementAddOn", "Placement", "PlacementDecision", "ManagedClusterAddOn",
                    "ManifestWork", "ManifestWorkReplicaSet"}


def test_decisions_are_split_per_group_and_capped():
    spec = fleetgen.FleetSpec(release="r")
    pds, names = fleetgen.decisions(spec, "r-p", [("g0", [f"c{i}" for i in range(250)]), ("", ["x"])])
    assert [len(p["status"]["decisions"]) for p in pds] == [100, 100, 50, 1]
    assert names == [["r-p-decision-1", "r-p-decision-2", "r-p-decision-3"], ["r-p-decision-4"]]
    assert pds[3]["metadata"]["labels"] == {"cluster.open-cluster-management.io/placement": "r-p",
                                            "cluster.open-cluster-management.io/decision-group-index": "1"}
