"""Names: any release name (Helm allows 53 characters) in any namespace up to 40 characters renders
every feature, with every name within its limit; two releases of one name in two namespaces, and
two releases in one namespace, share no object (on the hub, on the managed clusters after OCM's
substitution, nor what OCM makes from them); the plugin computes the chart's names; and the
names of a fixed render are frozen (a renamed addon reinstalls every SuperNode of a fleet)."""

from __future__ import annotations

import json
import random
import re
import subprocess
from pathlib import Path

import pytest
import yaml

import kube_schemas as ks
import names_check
import render as r
import test_flwr_args
import test_render
import test_wiring
from cases import CASE, CASES, CHART, Case, render_case, variant

from helm_flower import naming

pytestmark = pytest.mark.helm


def _label(length: int, seed: str) -> str:
    """A readable DNS-1123 label of exactly `length` characters, starting with a letter."""
    text = (seed * (length // len(seed) + 2))[:length]
    return text[:-1] + "x" if text.endswith("-") else text


RELEASES = {1: "f", 30: _label(30, "hospital-fed-"), 53: _label(53, "federated-learning-")}
NAMESPACES = {7: "flwr-ns", 40: _label(40, "team-research-")}
assert {len(v) for v in RELEASES.values()} == set(RELEASES) and {len(v) for v in NAMESPACES.values()} == set(NAMESPACES)
NODE_AUTH_CLIENTAPPS = variant("node-auth-clientapps", "global.nodeAuth.enabled=true",
                               values=(CHART / "ci" / "clientapps-values.yaml",))
MATRIX_CASES = [*CASES, NODE_AUTH_CLIENTAPPS]


def _check_render(objects: list[dict], case: Case, crds: Path) -> list[str]:
    """The chart tests' object checks (schemas, names, pod security, wiring) on one render."""
    objs = r.all_objects(objects)
    problems = []
    for o in objs:
        how, errors = ks.schema_errors(o.obj, crds)
        problems += [f"{o} [{how}] {e}" for e in errors]
    problems += names_check.problems(objs, objects)
    problems += test_wiring._reachability_errors(objs, case)
    for check in (lambda: test_render.test_pods_are_restricted_and_bounded(objs),
                  lambda: test_render.test_addon_template_variables_are_defined(objects),
                  lambda: test_render.test_one_release_has_no_duplicate_objects(objects),
                  lambda: test_wiring.test_services_select_pods_with_their_target_ports(objs),
                  lambda: test_flwr_args.test_clients_dial_what_servers_serve(objs)):
        try:
            check()
        except AssertionError as exc:
            problems.append(str(exc))
    return problems


@pytest.mark.parametrize("ns_len", sorted(NAMESPACES), ids=lambda n: f"ns{n}")
@pytest.mark.parametrize("release_len", sorted(RELEASES), ids=lambda n: f"release{n}")
@pytest.mark.parametrize("matrix_case", MATRIX_CASES, ids=lambda c: c.id)
def test_any_release_in_any_namespace_renders(helm: Path, matrix_case: Case, release_len: int, ns_len: int,
                                               ocm_crds_dir: Path) -> None:
    release, namespace = RELEASES[release_len], NAMESPACES[ns_len]
    objects = render_case(helm, matrix_case, release, namespace)
    problems = _check_render(objects, matrix_case, ocm_crds_dir)
    assert not problems, "\n".join(problems)
    for o in objects:  # the release's namespaced objects stay in its namespace
        ns = o["metadata"].get("namespace")
        assert ns in (None, namespace) or o["kind"] == "ManagedClusterAddOn", f"{o['kind']}/{o['metadata']['name']} in {ns}"


def test_the_matrix_shortens_and_covers_every_feature(helm: Path) -> None:
    """The long case does shorten names (else the matrix would prove nothing), and the matrix
    renders node auth on and off, both install strategies and ClientApps."""
    long = render_case(helm, CASE["clientapps"], RELEASES[53], NAMESPACES[40])
    hashed = [o["metadata"]["name"] for o in long if re.search(r"-[0-9a-f]{8}$", o["metadata"]["name"])]
    assert len(hashed) >= 10, hashed
    kinds = {o["kind"] for o in long}
    assert {"ManifestWorkReplicaSet", "ClusterManagementAddOn", "Placement"} <= kinds
    assert {c.get("global.nodeAuth.enabled") for c in MATRIX_CASES} == {True, False}
    assert {c.get("hubAddon.installStrategy") for c in MATRIX_CASES} == {"Placements", "Manual"}


# ----------------------------------------------------------------------------- side by side


def _footprint(objects: list[dict], cluster: str = "cluster-1") -> set[tuple[str, ...]]:
    """Everything a render puts somewhere: its objects on the hub, the objects OCM creates on a
    managed cluster from them (substituted with the render's own AddOnDeploymentConfigs, so with
    its own install namespace), and the objects and labels OCM makes on the hub for them."""
    out: set[tuple[str, ...]] = set()
    for o in r.all_objects(objects, cluster=cluster):
        group = o.obj["apiVersion"].rpartition("/")[0]
        if o.kind == "ManagedClusterSetBinding":  # OCM requires binding name == set name: shared by design
            continue
        out.add(("managed" if o.embedded else "hub", group, o.kind, o.namespace, o.name))
    for kind, ns, name, labels in names_check.derived(objects, cluster):
        if kind == "ManagedCluster":  # the cluster itself is shared; the label each addon puts on it is not
            out |= {("hub", "ManagedCluster label", key) for key in labels}
        else:
            out.add(("hub", "ocm", kind, ns, name))
    for tmpl in r.of_kind(objects, "AddOnTemplate"):
        out.add(("hub", "addon", tmpl["spec"]["addonName"]))
    return out


SIDE_BY_SIDE = [
    # same release name, two namespaces
    ("flower", "team-a", "flower", "team-b"),
    (RELEASES[53], NAMESPACES[40], RELEASES[53], NAMESPACES[40][:-1] + "y"),
    # two release names (alike until their last character), one namespace
    ("a", "flower-system", "b", "flower-system"),
    (RELEASES[53], NAMESPACES[40], RELEASES[53][:-1] + "y", NAMESPACES[40]),
]


@pytest.mark.parametrize("pair", SIDE_BY_SIDE, ids=["same-name-two-namespaces", "same-long-name-two-long-namespaces",
                                                    "two-names-one-namespace", "two-long-names-one-long-namespace"])
@pytest.mark.parametrize("matrix_case", MATRIX_CASES, ids=lambda c: c.id)
def test_releases_side_by_side_share_nothing(helm_bins: dict[str, Path], matrix_case: Case,
                                             pair: tuple[str, str, str, str]) -> None:
    """(With Helm 4: both Helms give the same names, test_plugin_computes_the_chart_names.)"""
    helm = helm_bins["4"]
    a = _footprint(render_case(helm, matrix_case, pair[0], pair[1]))
    b = _footprint(render_case(helm, matrix_case, pair[2], pair[3]))
    assert not a & b, f"{pair[:2]} and {pair[2:]} both render: {sorted(a & b)}"


def test_footprint_sees_what_would_collide(helm: Path) -> None:
    """The comparison above finds a clash when there is one: a release compared with itself, and
    two releases that force one addon name and one agent namespace."""
    case = CASE["clientapps"]
    one = _footprint(render_case(helm, case, "flower", "team-a"))
    assert {x for x in one if x[:3] == ("managed", "", "Namespace")}, "the agent namespace is part of the footprint"
    forced = ("global.addon.name=shared", "global.managedCluster.namespace=shared-ns")
    a = _footprint(r.render(helm, CHART, case.values_files, forced, "flower", "team-a"))
    b = _footprint(r.render(helm, CHART, case.values_files, forced, "flower", "team-b"))
    shared = a & b
    assert ("hub", "addon", "shared") in shared
    assert ("managed", "", "Namespace", "", "shared-ns") in shared
    assert ("hub", "ocm", "ManagedClusterAddOn", "cluster-1", "shared") in shared


# ----------------------------------------------------------------------------- chart == plugin

_PROBE = """\
{{- $out := list }}
{{- range .Values.cases }}
{{- $global := dict "addon" (dict "name" (.addon | default "")) "managedCluster" (dict "namespace" (.agentNamespace | default "")) }}
{{- $root := dict "Release" (dict "Name" .release "Namespace" .namespace) "Values" (dict "global" $global) }}
{{- $names := dict "name" (include "flower.name" (list $root .item)) "addon" (include "flower.addonName" $root) "agentNamespace" (include "flower.agentNamespace" $root) "clusterRbac" (include "flower.clusterRbacName" (list $root .item)) }}
{{- if le (len .namespace) 52 }}
{{- $_ := set $names "clientAppWork" (include "flower.clientAppWorkName" (list $root .item)) }}
{{- end }}
{{- $out = append $out $names }}
{{- end }}
{{- range .Values.fits }}
{{- $out = append $out (dict "fit" (include "flower.fitName" (list .name .max .key))) }}
{{- end }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: probe
data:
  names: {{ toJson $out | quote }}
"""


def _inputs() -> tuple[list[dict], list[dict]]:
    rng = random.Random(20260601)
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-"

    def label(length: int) -> str:
        chars = [rng.choice(alphabet) for _ in range(length)]
        chars[0] = rng.choice("abcdefghijklmnopqrstuvwxyz")
        chars[-1] = rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
        return "".join(chars)

    cases = []
    for _ in range(600):
        release = label(rng.choice([1, 2, 9, 20, 30, 41, 44, 45, 46, 52, 53, rng.randint(1, 53)]))
        namespace = label(rng.choice([1, 6, 7, 13, 33, 40, 41, 46, 50, 52, 53, 63, rng.randint(1, 63)]))
        item = rng.choice(["superlink", "superlink-tls", "superlink-from-node-auth-registrar", "supernodes",
                           f"supernode-cluster-{label(rng.randint(1, 63))}", f"{label(rng.randint(1, 63))}-clientapp",
                           label(rng.randint(1, 53))])
        case = {"release": release, "namespace": namespace, "item": item}
        if rng.random() < 0.15:
            case["addon"] = label(rng.randint(1, 57))
        if rng.random() < 0.15:
            case["agentNamespace"] = label(rng.randint(1, 63))
        cases.append(case)
    # The cut lands on "-" (dropped) and on "--" (one dropped): every prefix length near the limit.
    for n in range(40, 64):
        cases.append({"release": "r" * n, "namespace": "ns", "item": "a-b--c-d" * 3})
    fits = [{"name": "a" * 20 + "-" + "b" * 20, "max": m, "key": f"k{m}"} for m in range(10, 45)]
    fits += [{"name": label(rng.randint(1, 80)), "max": rng.randint(10, 70), "key": label(12)} for _ in range(200)]
    return cases, fits


def _plugin_names(case: dict) -> dict[str, str]:
    rel, ns, item = case["release"], case["namespace"], case["item"]
    out = {"name": naming.name(rel, ns, item),
           "addon": naming.addon(rel, ns, case.get("addon")),
           "agentNamespace": naming.agent_namespace(rel, ns, case.get("agentNamespace")),
           "clusterRbac": naming.cluster_rbac(rel, ns, item, case.get("addon"))}
    if len(ns) <= 52:
        out["clientAppWork"] = naming.clientapp_work(rel, ns, item)
    return out


@pytest.fixture(scope="module")
def probe_chart(tmp_path_factory: pytest.TempPathFactory) -> Path:
    chart = tmp_path_factory.mktemp("probe") / "probe"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: probe\nversion: 0.1.0\n")
    names_tpl = CHART / "charts" / "flower-common" / "templates" / "_names.tpl"
    (chart / "templates" / "_names.tpl").write_text(names_tpl.read_text())
    (chart / "templates" / "probe.yaml").write_text(_PROBE)
    cases, fits = _inputs()
    (chart / "values.yaml").write_text(json.dumps({"cases": cases, "fits": fits}))
    return chart


def test_plugin_computes_the_chart_names(helm: Path, probe_chart: Path) -> None:
    proc = subprocess.run([str(helm), "template", "p", str(probe_chart)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(yaml.safe_load(proc.stdout)["data"]["names"])
    cases, fits = _inputs()
    expected = [_plugin_names(c) for c in cases] + [{"fit": naming.fit(f["name"], f["max"], f["key"])} for f in fits]
    assert len(got) == len(expected)
    mismatches = [(i, e, g) for i, (e, g) in enumerate(zip(expected, got)) if e != g]
    assert not mismatches, mismatches[:5]
    # the inputs exercise both paths of every name
    flat = [v for names in expected[:len(cases)] for v in names.values()]
    assert sum(bool(re.search(r"-[0-9a-f]{8}$", v)) for v in flat) > 300
    assert sum(not re.search(r"-[0-9a-f]{8}$", v) for v in flat) > 300
    assert all(len(v) <= 63 for v in flat)
    assert all(len(g["fit"]) <= f["max"] for f, g in zip(fits, got[len(cases):]))


def test_fit_name_refuses_a_limit_with_no_room(helm: Path, probe_chart: Path) -> None:
    values = probe_chart.parent / "no-room.yaml"
    values.write_text(json.dumps({"cases": [], "fits": [{"name": "x" * 20, "max": 9, "key": "k"}]}))
    proc = subprocess.run([str(helm), "template", "p", str(probe_chart), "-f", str(values)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert ('name "xxxxxxxxxxxxxxxxxxxx" cannot be shortened to 9 characters (a shortened name needs at least 10: '
            'a prefix, "-" and an 8-digit hash)') in proc.stderr
    with pytest.raises(naming.NameTooShortError, match="cannot be shortened to 9 characters"):
        naming.fit("x" * 20, 9, "k")


def test_fit_keeps_a_readable_prefix() -> None:
    assert naming.fit("abc", 3, "k") == "abc"
    assert naming.fit("abcd", 3 + 9 + 1, "k") == "abcd"
    short = naming.fit("a" * 10 + "-" + "b" * 10, 20, "k")
    assert short == "a" * 10 + "-" + short[-8:] and len(short) == 19  # the "-" at the cut is dropped
    assert naming.fit("x" * 64, 63, "k1") != naming.fit("x" * 64, 63, "k2")
    assert naming.fit("x" * 64, 63, "k1") == naming.fit("x" * 64, 63, "k1")
    with pytest.raises(naming.NameTooShortError, match="at least 10"):
        naming.fit("x" * 20, 9, "k")


# ----------------------------------------------------------------------------- guards


def _refusal(helm: Path, namespace: str, *sets: str, skip_schema: bool = False) -> str:
    args = [str(helm), "template", "fed", str(CHART), "-n", namespace]
    args += ["--skip-schema-validation"] if skip_schema else []
    for s in sets:
        args += ["--set", s]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0, f"helm template {' '.join(sets)} -n {namespace} rendered"
    return proc.stderr


def test_namespace_too_long_for_clientapps(helm: Path) -> None:
    ns = "n" * 53
    assert (f'namespace "{ns}" has 53 characters: OCM labels the ManifestWorks of ClientApp "default" with '
            "work.open-cluster-management.io/manifestworkreplicaset=<namespace>.<name>, a label value of at most 63 "
            "characters, which leaves 9 for the name, and a name needs at least 10; install the release into a "
            "namespace of at most 52 characters (or set clientApp.enabled=false)") in _refusal(helm, ns)
    for ok in (r.render(helm, CHART, (), (), "f", "n" * 52), r.render(helm, CHART, (), ("clientApp.enabled=false",), "f", "n" * 63)):
        assert {o["kind"] for o in ok} >= {"ClusterManagementAddOn", "Deployment"}


def test_explicit_names_are_checked(helm: Path) -> None:
    """Overrides are used as given: too long, or a system namespace of the managed clusters, is refused
    (the values schema refuses the lengths first; the templates again, with the schema skipped)."""
    addon = "a" * 58
    assert (f'global.addon.name: "{addon}" has 58 characters, at most 57 are allowed: shorten it, or leave it empty '
            "for a name the chart fits itself") in _refusal(helm, "flower", f"global.addon.name={addon}", skip_schema=True)
    ns = "n" * 64
    assert (f'global.managedCluster.namespace: "{ns}" has 64 characters, at most 63 are allowed') in _refusal(
        helm, "flower", f"global.managedCluster.namespace={ns}", skip_schema=True)
    for system in ("kube-system", "open-cluster-management-agent-addon", "default"):
        assert (f'global.managedCluster.namespace: "{system}" is a system namespace of the managed clusters; the '
                "SuperNode's namespace is created and deleted with the addon: choose a namespace of its own, or "
                "leave it empty") in _refusal(helm, "flower", f"global.managedCluster.namespace={system}")
    kept = r.render(helm, CHART, (), ("global.addon.name=" + "a" * 57, "global.managedCluster.namespace=fl-agents"), "fed", "flower")
    assert {o["metadata"]["name"] for o in kept if o["kind"] == "ClusterManagementAddOn"} == {"a" * 57}
    assert {o["spec"]["agentInstallNamespace"] for o in kept if o["kind"] == "AddOnDeploymentConfig"} == {"fl-agents"}


# ----------------------------------------------------------------------------- frozen names

# The names of two fixed renders (ClientApps in both install strategies' Placements mode, node
# auth, a cluster with its own node-config). Changing one renames objects of installed releases
# on upgrade: a new addon name reinstalls every SuperNode of the fleet, a new agent namespace moves
# them, a new ManifestWorkReplicaSet name redeploys every ClientApp. Change them only on purpose.
FROZEN_VALUES = (CHART / "ci" / "clientapps-values.yaml",)
FROZEN_SET = ("global.nodeAuth.enabled=true", "hubAddon.clusters[0].name=site-1",
              "hubAddon.clusters[0].placement=hospitals", "hubAddon.clusters[0].nodeConfig.partition-id=0")
FROZEN_SHORT = ("fed", "flower")
FROZEN_LONG = (RELEASES[53], NAMESPACES[40])
FROZEN: dict[tuple[str, str], list[str]] = {
    FROZEN_SHORT: [
        'hub AddOnDeploymentConfig flower/fed-supernode',
        'hub AddOnDeploymentConfig flower/fed-supernode-cluster-site-1',
        'hub AddOnDeploymentConfig flower/fed-supernode-hospitals',
        'hub AddOnDeploymentConfig flower/fed-supernode-labs',
        'hub AddOnTemplate flower-fed-flower-<hash>',
        'hub ClusterManagementAddOn flower-fed-flower',
        'hub ClusterRole flower-fed-flower-node-auth-registrar',
        'hub ClusterRoleBinding flower-fed-flower-node-auth-registrar',
        'hub ConfigMap flower/fed-ca-bundle',
        'hub ConfigMap flower/fed-fleet-gateway',
        'hub ConfigMap flower/fed-node-auth-registrar',
        'hub Deployment flower/fed-fleet-gateway',
        'hub Deployment flower/fed-node-auth-registrar',
        'hub Deployment flower/fed-serverapp',
        'hub Deployment flower/fed-superlink',
        'hub ManifestWorkReplicaSet flower/fed-clientapp-smoke-flower',
        'hub ManifestWorkReplicaSet flower/fed-clientapp-tabular-flower',
        'hub ManifestWorkReplicaSet flower/fed-clientapp-xray-flower',
        'hub NetworkPolicy flower/fed-fleet-gateway',
        'hub NetworkPolicy flower/fed-node-auth-registrar',
        'hub NetworkPolicy flower/fed-serverapp',
        'hub NetworkPolicy flower/fed-superlink',
        'hub NetworkPolicy flower/fed-superlink-from-node-auth-registrar',
        'hub NetworkPolicy flower/fed-test-superlink',
        'hub PersistentVolumeClaim flower/fed-superlink-state',
        'hub Placement flower/fed-cluster-site-1',
        'hub Placement flower/fed-hospitals',
        'hub Placement flower/fed-hospitals-clientapp',
        'hub Placement flower/fed-labs',
        'hub Placement flower/fed-labs-clientapp',
        'hub Placement flower/fed-supernodes',
        'hub Pod flower/fed-test-superlink',
        'hub Role flower/fed-node-auth-ca-signer',
        'hub RoleBinding flower/fed-node-auth-ca-signer',
        'hub Secret flower/fed-node-auth-ca',
        'hub Secret flower/fed-superexec-auth',
        'hub Secret flower/fed-superlink-tls',
        'hub Secret flower/fed-supernode-tls',
        'hub Secret flower/fed-tls-ca',
        'hub Service flower/fed-superlink',
        'hub Service flower/fed-superlink-fleet',
        'hub ServiceAccount flower/fed-node-auth-registrar',
        'hub ServiceAccount flower/fed-superlink',
        'managed ClusterClaim flower-fed-flower-flower-minor',
        'managed ConfigMap flower-fed-flower/flower-ca',
        'managed ConfigMap flower-fed-flower/flower-node-auth',
        'managed Deployment flower-fed-flower/clientapp-smoke',
        'managed Deployment flower-fed-flower/clientapp-tabular',
        'managed Deployment flower-fed-flower/clientapp-xray',
        'managed Deployment flower-fed-flower/supernode',
        'managed Namespace flower-fed-flower',
        'managed NetworkPolicy flower-fed-flower/clientapp-smoke',
        'managed NetworkPolicy flower-fed-flower/clientapp-tabular',
        'managed NetworkPolicy flower-fed-flower/clientapp-xray',
        'managed NetworkPolicy flower-fed-flower/supernode',
        'managed Secret flower-fed-flower/flower-superexec-auth',
        'managed Secret flower-fed-flower/supernode-runtime-tls',
        'managed Service flower-fed-flower/supernode',
        'managed ServiceAccount flower-fed-flower/clientapp-smoke',
        'managed ServiceAccount flower-fed-flower/clientapp-tabular',
        'managed ServiceAccount flower-fed-flower/clientapp-xray',
        'managed ServiceAccount flower-fed-flower/supernode',
        'ocm ManagedCluster cluster-1 feature.open-cluster-management.io/addon-flower-fed-flower=available',
        'ocm ManagedClusterAddOn cluster-1/flower-fed-flower',
        'ocm ManifestWork cluster-1/addon-flower-fed-flower-deploy-0 open-cluster-management.io/addon-name=flower-fed-flower',
        'ocm ManifestWork cluster-1/fed-clientapp-smoke-flower work.open-cluster-management.io/manifestworkreplicaset=flower.fed-clientapp-smoke-flower,work.open-cluster-management.io/placementname=fed-labs-clientapp',
        'ocm ManifestWork cluster-1/fed-clientapp-tabular-flower work.open-cluster-management.io/manifestworkreplicaset=flower.fed-clientapp-tabular-flower,work.open-cluster-management.io/placementname=fed-hospitals-clientapp',
        'ocm ManifestWork cluster-1/fed-clientapp-tabular-flower work.open-cluster-management.io/manifestworkreplicaset=flower.fed-clientapp-tabular-flower,work.open-cluster-management.io/placementname=fed-labs-clientapp',
        'ocm ManifestWork cluster-1/fed-clientapp-xray-flower work.open-cluster-management.io/manifestworkreplicaset=flower.fed-clientapp-xray-flower,work.open-cluster-management.io/placementname=fed-hospitals-clientapp',
        'ocm PlacementDecision flower/fed-cluster-site-1-decision-1 cluster.open-cluster-management.io/placement=fed-cluster-site-1',
        'ocm PlacementDecision flower/fed-hospitals-clientapp-decision-1 cluster.open-cluster-management.io/placement=fed-hospitals-clientapp',
        'ocm PlacementDecision flower/fed-hospitals-decision-1 cluster.open-cluster-management.io/placement=fed-hospitals',
        'ocm PlacementDecision flower/fed-labs-clientapp-decision-1 cluster.open-cluster-management.io/placement=fed-labs-clientapp',
        'ocm PlacementDecision flower/fed-labs-decision-1 cluster.open-cluster-management.io/placement=fed-labs',
        'ocm PlacementDecision flower/fed-supernodes-decision-1 cluster.open-cluster-management.io/placement=fed-supernodes',
    ],
    FROZEN_LONG: [
        'hub AddOnDeploymentConfig team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-5d96df22',
        'hub AddOnDeploymentConfig team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-9480c97a',
        'hub AddOnDeploymentConfig team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-ac07c4d3',
        'hub AddOnDeploymentConfig team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-supernode',
        'hub AddOnTemplate flower-federated-learning-federated-learning-fed-0941077d-<hash>',
        'hub ClusterManagementAddOn flower-federated-learning-federated-learning-fed-0941077d',
        'hub ClusterRole flower-federated-learning-federated-learning-federated-8b626b3a',
        'hub ClusterRoleBinding flower-federated-learning-federated-learning-federated-8b626b3a',
        'hub ConfigMap team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-4dc824d2',
        'hub ConfigMap team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-5c26a7b0',
        'hub ConfigMap team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-ca-bundle',
        'hub Deployment team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-4dc824d2',
        'hub Deployment team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-5c26a7b0',
        'hub Deployment team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-serverapp',
        'hub Deployment team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-superlink',
        'hub ManifestWorkReplicaSet team-research-team-research-team-researc/federated-lea-114fdc79',
        'hub ManifestWorkReplicaSet team-research-team-research-team-researc/federated-lea-19e51ca8',
        'hub ManifestWorkReplicaSet team-research-team-research-team-researc/federated-lea-65d39e8a',
        'hub NetworkPolicy team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-4dc824d2',
        'hub NetworkPolicy team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-5c26a7b0',
        'hub NetworkPolicy team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-91e2b555',
        'hub NetworkPolicy team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-953b1c24',
        'hub NetworkPolicy team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-serverapp',
        'hub NetworkPolicy team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-superlink',
        'hub PersistentVolumeClaim team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-d9f55064',
        'hub Placement team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-44c241c4',
        'hub Placement team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-5dbb2367',
        'hub Placement team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-a2c6dba7',
        'hub Placement team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-d315846b',
        'hub Placement team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-hospitals',
        'hub Placement team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-labs',
        'hub Pod team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-91e2b555',
        'hub Role team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-14b5f6b3',
        'hub RoleBinding team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-14b5f6b3',
        'hub Secret team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-0a21c9f9',
        'hub Secret team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-0bab832e',
        'hub Secret team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-81bfb272',
        'hub Secret team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-ebc5cdba',
        'hub Secret team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-tls-ca',
        'hub Service team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-97583848',
        'hub Service team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-superlink',
        'hub ServiceAccount team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-4dc824d2',
        'hub ServiceAccount team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-superlink',
        'managed ClusterClaim flower-federated-learning-federated-learning-fed-09410-630f66a9',
        'managed ConfigMap flower-federated-learning-federated-learning-federated-f271efb5/flower-ca',
        'managed ConfigMap flower-federated-learning-federated-learning-federated-f271efb5/flower-node-auth',
        'managed Deployment flower-federated-learning-federated-learning-federated-f271efb5/clientapp-smoke',
        'managed Deployment flower-federated-learning-federated-learning-federated-f271efb5/clientapp-tabular',
        'managed Deployment flower-federated-learning-federated-learning-federated-f271efb5/clientapp-xray',
        'managed Deployment flower-federated-learning-federated-learning-federated-f271efb5/supernode',
        'managed Namespace flower-federated-learning-federated-learning-federated-f271efb5',
        'managed NetworkPolicy flower-federated-learning-federated-learning-federated-f271efb5/clientapp-smoke',
        'managed NetworkPolicy flower-federated-learning-federated-learning-federated-f271efb5/clientapp-tabular',
        'managed NetworkPolicy flower-federated-learning-federated-learning-federated-f271efb5/clientapp-xray',
        'managed NetworkPolicy flower-federated-learning-federated-learning-federated-f271efb5/supernode',
        'managed Secret flower-federated-learning-federated-learning-federated-f271efb5/flower-superexec-auth',
        'managed Secret flower-federated-learning-federated-learning-federated-f271efb5/supernode-runtime-tls',
        'managed Service flower-federated-learning-federated-learning-federated-f271efb5/supernode',
        'managed ServiceAccount flower-federated-learning-federated-learning-federated-f271efb5/clientapp-smoke',
        'managed ServiceAccount flower-federated-learning-federated-learning-federated-f271efb5/clientapp-tabular',
        'managed ServiceAccount flower-federated-learning-federated-learning-federated-f271efb5/clientapp-xray',
        'managed ServiceAccount flower-federated-learning-federated-learning-federated-f271efb5/supernode',
        'ocm ManagedCluster cluster-1 feature.open-cluster-management.io/addon-flower-federated-learning-federated-learning-fed-0941077d=available',
        'ocm ManagedClusterAddOn cluster-1/flower-federated-learning-federated-learning-fed-0941077d',
        'ocm ManifestWork cluster-1/addon-flower-federated-learning-federated-learning-fed-0941077d-deploy-0 open-cluster-management.io/addon-name=flower-federated-learning-federated-learning-fed-0941077d',
        'ocm ManifestWork cluster-1/federated-lea-114fdc79 work.open-cluster-management.io/manifestworkreplicaset=team-research-team-research-team-researc.federated-lea-114fdc79,work.open-cluster-management.io/placementname=federated-learning-federated-learning-federated-learn-5dbb2367',
        'ocm ManifestWork cluster-1/federated-lea-19e51ca8 work.open-cluster-management.io/manifestworkreplicaset=team-research-team-research-team-researc.federated-lea-19e51ca8,work.open-cluster-management.io/placementname=federated-learning-federated-learning-federated-learn-5dbb2367',
        'ocm ManifestWork cluster-1/federated-lea-19e51ca8 work.open-cluster-management.io/manifestworkreplicaset=team-research-team-research-team-researc.federated-lea-19e51ca8,work.open-cluster-management.io/placementname=federated-learning-federated-learning-federated-learn-a2c6dba7',
        'ocm ManifestWork cluster-1/federated-lea-65d39e8a work.open-cluster-management.io/manifestworkreplicaset=team-research-team-research-team-researc.federated-lea-65d39e8a,work.open-cluster-management.io/placementname=federated-learning-federated-learning-federated-learn-a2c6dba7',
        'ocm PlacementDecision team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-44c241c4-decision-1 cluster.open-cluster-management.io/placement=federated-learning-federated-learning-federated-learn-44c241c4',
        'ocm PlacementDecision team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-5dbb2367-decision-1 cluster.open-cluster-management.io/placement=federated-learning-federated-learning-federated-learn-5dbb2367',
        'ocm PlacementDecision team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-a2c6dba7-decision-1 cluster.open-cluster-management.io/placement=federated-learning-federated-learning-federated-learn-a2c6dba7',
        'ocm PlacementDecision team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-d315846b-decision-1 cluster.open-cluster-management.io/placement=federated-learning-federated-learning-federated-learn-d315846b',
        'ocm PlacementDecision team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-hospitals-decision-1 cluster.open-cluster-management.io/placement=federated-learning-federated-learning-federated-learn-hospitals',
        'ocm PlacementDecision team-research-team-research-team-researc/federated-learning-federated-learning-federated-learn-labs-decision-1 cluster.open-cluster-management.io/placement=federated-learning-federated-learning-federated-learn-labs',
    ],
}


def _frozen_view(objects: list[dict]) -> list[str]:
    out = set()
    for o in r.all_objects(objects, cluster="cluster-1"):
        if o.kind == "ManagedClusterSetBinding":
            continue
        name = re.sub(r"-[0-9a-f]{10}$", "-<hash>", o.name) if o.kind == "AddOnTemplate" else o.name
        out.add(f"{'managed' if o.embedded else 'hub'} {o.kind} {o.namespace + '/' if o.namespace else ''}{name}")
    for kind, ns, name, labels in names_check.derived(objects, "cluster-1"):
        out.add(f"ocm {kind} {ns + '/' if ns else ''}{name} {','.join(f'{k}={v}' for k, v in sorted(labels.items()))}".rstrip())
    return sorted(out)


@pytest.mark.parametrize("release_namespace", list(FROZEN), ids=["short", "long"])
def test_names_are_frozen(helm: Path, release_namespace: tuple[str, str]) -> None:
    release, namespace = release_namespace
    objects = r.render(helm, CHART, FROZEN_VALUES, FROZEN_SET, release, namespace)
    assert _frozen_view(objects) == FROZEN[release_namespace]
