"""OCM wiring: ClientApps only land where this release's SuperNode runs, placements and
deployment configs are what the values say, and every reference resolves inside the release."""

from __future__ import annotations

from pathlib import Path

import pytest

import kube as k
from helm_flower import flower_versions
import render as r
from cases import CHART, NAMESPACE, RELEASE, Case, render_case, variant

pytestmark = pytest.mark.helm

OCM_TAINTS = ("cluster.open-cluster-management.io/unreachable", "cluster.open-cluster-management.io/unavailable")


def _addon_label(rendered: list[dict]) -> str:
    (cma,) = r.of_kind(rendered, "ClusterManagementAddOn")
    return f"feature.open-cluster-management.io/addon-{cma['metadata']['name']}"


def _check_clientapp_placements(rendered: list[dict]) -> list[str]:
    problems = []
    placements = {(p["metadata"]["namespace"], p["metadata"]["name"]): p for p in r.of_kind(rendered, "Placement")}
    works = r.of_kind(rendered, "ManifestWorkReplicaSet")
    if not works:
        return problems
    cmas = r.of_kind(rendered, "ClusterManagementAddOn")
    if len(cmas) != 1:
        return [f"ManifestWorkReplicaSets ship ClientApps but the release renders {len(cmas)} ClusterManagementAddOns (no SuperNodes)"]
    label = _addon_label(rendered)
    for mwrs in works:
        ns, name = mwrs["metadata"]["namespace"], mwrs["metadata"]["name"]
        for ref in mwrs["spec"]["placementRefs"]:
            placement = placements.get((ns, ref["name"]))
            if placement is None:
                problems.append(f"ManifestWorkReplicaSet {name}: placementRef {ref['name']} is not a Placement of this release")
                continue
            predicates = placement["spec"].get("predicates") or []
            if not predicates:
                problems.append(f"Placement {ref['name']} (used by {name}) has no predicates: it selects clusters without a SuperNode")
            for i, pred in enumerate(predicates):
                selector = (pred.get("requiredClusterSelector") or {}).get("labelSelector")
                if not k.requires_label(selector, label):
                    problems.append(f"Placement {ref['name']} predicate {i} does not require the label {label} "
                                    "(this release's SuperNode is installed there)")
    return problems


def test_clientapps_only_land_next_to_a_supernode(rendered: list[dict]) -> None:
    problems = _check_clientapp_placements(rendered)
    assert not problems, "\n".join(problems)


def _minor_claim(rendered: list[dict]) -> str:
    """The ClusterClaim the AddOnTemplate ships (its SuperNode's Flower minor)."""
    (template,) = r.of_kind(rendered, "AddOnTemplate")
    (claim,) = [m for m in template["spec"]["agentSpec"]["workload"]["manifests"] if m["kind"] == "ClusterClaim"]
    assert claim["spec"]["value"] == "{{FLOWER_MINOR}}"
    return claim["metadata"]["name"]


def _supernode_minor(case: Case, item: dict) -> str | None:
    """The Flower minor of placement item's SuperNode, from the values alone (None: unknown)."""
    image = {**case.get("hubAddon.supernode.image", {}), **((item.get("supernode") or {}).get("image") or {})}
    version = None if image.get("digest") else flower_versions.parse(image.get("tag") or case.get("global.flower.version"))
    return flower_versions.mm(version) if version else None


def test_clientapp_placement_is_the_supernode_placement_narrowed(rendered: list[dict], case: Case) -> None:
    """<release>-P-clientapp has P's spec, each predicate narrowed by the addon label and, when P's
    SuperNode minor is known, by the SuperNode's minor claim."""
    if case.get("hubAddon.installStrategy") != "Placements" or not case.get("hubAddon.enabled"):
        assert not [p for p in r.of_kind(rendered, "Placement") if p["metadata"]["name"].endswith("-clientapp")]
        return
    label = _addon_label(rendered)
    claim = _minor_claim(rendered)
    by_name = {p["metadata"]["name"]: p for p in r.of_kind(rendered, "Placement")}
    for item in case.get("hubAddon.placements"):
        supernode = by_name[f"{RELEASE}-{item['name']}"]["spec"]
        clientapp = dict(by_name[f"{RELEASE}-{item['name']}-clientapp"]["spec"])
        narrowed = []
        for pred in clientapp.pop("predicates"):
            sel = dict(pred["requiredClusterSelector"])
            label_sel = dict(sel.pop("labelSelector"))
            exprs = [e for e in label_sel.get("matchExpressions", []) if e["key"] != label]
            assert len(exprs) == len(label_sel.get("matchExpressions", [])) - 1
            if exprs:
                label_sel["matchExpressions"] = exprs
            else:
                label_sel.pop("matchExpressions", None)
            if label_sel:
                sel["labelSelector"] = label_sel
            minor = _supernode_minor(case, item)
            if minor is not None:
                claims = dict(sel.pop("claimSelector"))
                ours = [e for e in claims["matchExpressions"] if e["key"] == claim]
                assert ours == [{"key": claim, "operator": "In", "values": [minor]}], ours
                others = [e for e in claims["matchExpressions"] if e["key"] != claim]
                if others:
                    sel["claimSelector"] = {**claims, "matchExpressions": others}
            narrowed.append({"requiredClusterSelector": sel})
        expected = dict(supernode)
        expected_predicates = expected.pop("predicates", None) or [{"requiredClusterSelector": {}}]
        assert clientapp == expected, f"placement {item['name']}: the ClientApp placement's spec drifted"
        assert narrowed == expected_predicates


def expected_tolerations(item: dict, seconds) -> list[dict]:
    """The item's own tolerations, then OCM's offline taints for those it does not tolerate itself."""
    own = list(item.get("tolerations") or [])
    keys = {t.get("key") for t in own}
    extra = [{"key": key, "operator": "Exists", **({"tolerationSeconds": seconds} if seconds is not None else {})}
             for key in OCM_TAINTS if key not in keys]
    return own + extra


def test_every_placement_tolerates_offline_clusters(rendered: list[dict], case: Case) -> None:
    """An unreachable cluster keeps its SuperNode and ClientApps for offlineToleranceSeconds (a
    placement's own toleration for one of OCM's taints is kept as the user wrote it)."""
    if not case.get("hubAddon.enabled"):
        return
    seconds = case.get("hubAddon.offlineToleranceSeconds")
    chart_default = {key: {"key": key, "operator": "Exists", **({"tolerationSeconds": seconds} if seconds is not None else {})}
                     for key in OCM_TAINTS}
    user = [t for item in case.get("hubAddon.placements") or [] for t in item.get("tolerations") or []]
    placements = r.of_kind(rendered, "Placement")
    assert placements
    for placement in placements:
        tolerations = placement["spec"].get("tolerations") or []
        for key in OCM_TAINTS:
            matching = [t for t in tolerations if t.get("key") == key]
            assert len(matching) == 1, f"Placement {placement['metadata']['name']}: tolerations of {key}: {matching}"
            assert matching[0] in user or matching[0] == chart_default[key], matching[0]


def test_placements_and_configs_follow_the_values(rendered: list[dict], case: Case) -> None:
    if not case.get("hubAddon.enabled"):
        assert not r.of_kind(rendered, "ClusterManagementAddOn") and not r.of_kind(rendered, "AddOnTemplate")
        return
    (cma,) = r.of_kind(rendered, "ClusterManagementAddOn")
    adcs = {a["metadata"]["name"]: a for a in r.of_kind(rendered, "AddOnDeploymentConfig")}
    templates = {t["metadata"]["name"] for t in r.of_kind(rendered, "AddOnTemplate")}
    placements = {p["metadata"]["name"]: p for p in r.of_kind(rendered, "Placement")}
    for cfg in cma["spec"]["supportedConfigs"]:
        ref = cfg["defaultConfig"]["name"]
        assert ref in (templates if cfg["resource"] == "addontemplates" else adcs), f"CMA default config {ref} is not rendered"
    strategy = cma["spec"]["installStrategy"]
    assert strategy["type"] == case.get("hubAddon.installStrategy")
    if strategy["type"] == "Placements":
        items = case.get("hubAddon.placements")
        own = [c for c in case.get("hubAddon.clusters") or [] if c.get("nodeConfig")]
        # Per-cluster placements come last: OCM gives a cluster the configs of the last one choosing it.
        assert [p["name"] for p in strategy["placements"]] == (
            [f"{RELEASE}-{i['name']}" for i in items] + [f"{RELEASE}-cluster-{c['name']}" for c in own])
        for c, entry in zip(own, strategy["placements"][len(items):]):
            assert [cfg["name"] for cfg in entry["configs"]] == [f"{RELEASE}-supernode-cluster-{c['name']}"]
            spec = placements[entry["name"]]["spec"]
            assert all(f'managedCluster.metadata.name == "{c["name"]}"' in p["requiredClusterSelector"]["celSelector"]
                       ["celExpressions"] for p in spec["predicates"]), spec
        for item, entry in zip(items, strategy["placements"]):
            spec = {key: v for key, v in item.items() if key not in ("name", "supernode", "rolloutStrategy")}
            spec["tolerations"] = expected_tolerations(item, case.get("hubAddon.offlineToleranceSeconds"))
            assert placements[entry["name"]]["spec"] == spec, f"Placement {entry['name']} is not the values' spec"
            assert entry["rolloutStrategy"] == item.get("rolloutStrategy", {"type": "All"})
            for c in entry.get("configs") or []:
                assert c["name"] in adcs and c["namespace"] == NAMESPACE
    else:
        assert "placements" not in strategy
    mcas = r.of_kind(rendered, "ManagedClusterAddOn")
    # Only the Manual strategy renders ManagedClusterAddOns: in Placements mode OCM creates them.
    manual = strategy["type"] == "Manual"
    assert sorted(m["metadata"]["namespace"] for m in mcas) == (
        sorted(c["name"] for c in case.get("hubAddon.clusters") or []) if manual else [])
    for mca in mcas:
        assert mca["metadata"]["name"] == cma["metadata"]["name"]
        for c in mca["spec"].get("configs") or []:
            assert c["name"] in adcs, f"ManagedClusterAddOn in {mca['metadata']['namespace']} refers to missing ADC {c['name']}"
    sets = {s for p in placements.values() for s in p["spec"].get("clusterSets") or []}
    bindings = {b["metadata"]["name"] for b in r.of_kind(rendered, "ManagedClusterSetBinding")}
    if case.get("hubAddon.createClusterSetBindings"):
        assert sets <= bindings, f"cluster sets without a ManagedClusterSetBinding: {sorted(sets - bindings)}"


# ----------------------------------------------------------------------------- failures


BAD_PLACEMENT = [
    pytest.param(variant("bad-placement", "clientApp.apps[0].name=x", "clientApp.apps[0].placements={nope}"),
                 "clientApp.apps[0].placements", id="unknown-placement"),
    pytest.param(variant("bad-placement-2", "clientApp.apps[0].name=x", "clientApp.apps[0].placements={default}",
                         "clientApp.apps[1].name=y", "clientApp.apps[1].placements={default,other}"),
                 "clientApp.apps[1].placements", id="second-app"),
    pytest.param(variant("bad-placement-manual", "hubAddon.installStrategy=Manual", "hubAddon.clusters[0].name=c1",
                         "clientApp.apps[0].name=x", "clientApp.apps[0].placements={default}"),
                 "clientApp.apps[0].placements", id="manual-mode"),
]
NO_HUB_ADDON = variant("no-hub-addon", "hubAddon.enabled=false")


@pytest.mark.parametrize(("variant_case", "message"), BAD_PLACEMENT)
def test_clientapp_naming_a_missing_placement_fails(helm: Path, variant_case: Case, message: str) -> None:
    with pytest.raises(r.HelmError) as err:
        render_case(helm, variant_case)
    assert message in err.value.stderr, err.value.stderr


def test_clientapps_without_the_hub_addon_fail_or_resolve(helm: Path) -> None:
    try:
        rendered = render_case(helm, NO_HUB_ADDON)
    except r.HelmError as err:
        assert "clientApp" in err.stderr
        return
    problems = _check_clientapp_placements(rendered)
    assert not problems, "\n".join(problems)


def test_clientapps_follow_each_placements_supernode_minor(helm: Path) -> None:
    """A placement whose SuperNode runs another minor (mid-upgrade): its ClientApp placement selects
    clusters whose SuperNode claims that minor, the catch-all ClientApp placement either minor, and
    each AddOnDeploymentConfig gives the claim its SuperNode's minor; a digest-pinned SuperNode
    (minor unknown) selects on no claim."""
    placements = CHART / "ci" / "placements-values.yaml"
    skewed = render_case(helm, Case("minor-per-placement", (placements,), ("hubAddon.placements[0].supernode.image.tag=1.41.0",)))
    claim = _minor_claim(skewed)
    by_name = {p["metadata"]["name"]: p["spec"] for p in r.of_kind(skewed, "Placement")}

    def claimed(spec: dict) -> list[list[str]]:
        """The minors each predicate accepts (one entry per predicate)."""
        return [[v for e in (pred["requiredClusterSelector"].get("claimSelector") or {}).get("matchExpressions", [])
                 if e["key"] == claim for v in e["values"]] for pred in spec["predicates"]]

    assert claimed(by_name[f"{RELEASE}-top-memory-clientapp"]) == [["1.41"]]
    assert claimed(by_name[f"{RELEASE}-edge-clientapp"]) == [["1.42"], ["1.42"]]
    assert claimed(by_name[f"{RELEASE}-supernodes"]) == [["1.41", "1.42"]]
    minors = {c["metadata"]["name"]: {v["name"]: v["value"] for v in c["spec"]["customizedVariables"]}["FLOWER_MINOR"]
              for c in r.of_kind(skewed, "AddOnDeploymentConfig")}
    assert minors[f"{RELEASE}-supernode-top-memory"] == "1.41" and minors[f"{RELEASE}-supernode-edge"] == "1.42", minors

    pinned = render_case(helm, Case("minor-unknown", (placements,), ("hubAddon.supernode.image.digest=sha256:" + "1" * 64,)))
    by_name = {p["metadata"]["name"]: p["spec"] for p in r.of_kind(pinned, "Placement")}
    assert claimed(by_name[f"{RELEASE}-supernodes"]) == [[]]
    assert "unknown" in {v["value"] for c in r.of_kind(pinned, "AddOnDeploymentConfig") for v in c["spec"]["customizedVariables"]}
