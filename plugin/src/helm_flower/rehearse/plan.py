"""From a rendered release and a fleet to the processes of a rehearsal.

Pure: reads objects, writes nothing, starts nothing. :func:`build_plan` returns a
:class:`Plan` with one :class:`Component` per process (SuperLink, ServerApp SuperExec, a
SuperNode per placed cluster, a ClientApp SuperExec per app and cluster) holding the
container exactly as it would run (OCM variables substituted for addon manifests), plus the
placement preview and everything the rehearsal could not evaluate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import naming
from ..fleet import Fleet
from ..placement_preview import PlacementPreview, preview_placements
from . import ocm
from .errors import Refusal
from .mapping import Lookup, executable_for, flag_value, image_repository_name

SUPERLINK = "superlink"
SERVERAPP = "serverapp"
SUPERNODE = "supernode"
CLIENTAPP = "clientapp"

# Entrypoints of the official Flower images (the charts set `args` only for some containers).
ENTRYPOINTS = {
    "superlink": "flower-superlink",
    "supernode": "flower-supernode",
    "superexec": "flower-superexec",
}
PROGRAM_ROLE = {"flower-superlink": SUPERLINK, "flower-supernode": SUPERNODE, "flower-superexec": "superexec"}
VERSION_LABEL = "app.kubernetes.io/version"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod")


@dataclass
class Component:
    """One process to start: the rendered container and where it came from."""

    key: str  # unique, file-name safe
    role: str  # superlink | serverapp | supernode | clientapp
    name: str  # what the user reads
    program: str  # e.g. flower-superlink
    args: list[str]  # as rendered (after OCM substitution)
    pod_spec: dict[str, Any]
    container: dict[str, Any]
    lookup: Lookup
    namespace: str
    pod_name: str
    cluster: str | None = None
    app: str | None = None
    extra_env: tuple[tuple[str, str], ...] = ()  # env the OCM addon manager adds


@dataclass
class ClusterPlan:
    name: str
    supernode_sources: list[str] = field(default_factory=list)  # "placement ns/name", "ManagedClusterAddOn"
    uncertain: bool = False  # chosen only because the preview assumed a CEL match
    adc: ocm.ConfigRef | None = None
    template: ocm.ConfigRef | None = None
    variables: dict[str, str] = field(default_factory=dict)
    claims: dict[str, str] = field(default_factory=dict)  # ClusterClaims its addon manifests publish
    node_config_rendered: str | None = None
    node_config: dict[str, Any] = field(default_factory=dict)
    partition_added: dict[str, int] = field(default_factory=dict)
    clientapps: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "supernode": True,
            "supernode_sources": self.supernode_sources,
            "uncertain": self.uncertain,
            "addon_deployment_config": self.adc.key if self.adc else None,
            "addon_deployment_config_source": self.adc.source if self.adc else None,
            "addon_template": self.template.key if self.template else None,
            "node_config_rendered": self.node_config_rendered,
            "node_config": self.node_config,
            "partition_added": self.partition_added,
            "clientapps": self.clientapps,
        }


@dataclass
class PlacementView:
    namespace: str
    name: str
    role: str  # "supernode" or "clientapp <app>"
    chosen: tuple[str, ...]
    uncertain: tuple[str, ...]
    reason: str
    notes: tuple[str, ...]
    approximate: bool

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass
class Plan:
    release: str
    namespace: str
    chart_flower_version: str | None
    addon: str | None
    superlink: Component
    serverapp: Component | None
    supernodes: dict[str, Component]
    clientapps: list[Component]
    clusters: dict[str, ClusterPlan]
    placements: list[PlacementView]
    notes: list[str]
    partitions_added: bool = False

    @property
    def components(self) -> list[Component]:
        out = [self.superlink]
        if self.serverapp:
            out.append(self.serverapp)
        out += [self.supernodes[c] for c in sorted(self.supernodes)]
        out += self.clientapps
        return out


# --- object index ------------------------------------------------------------


class Objects:
    def __init__(self, objects: Sequence[Mapping[str, Any]], namespace: str) -> None:
        self.namespace = namespace
        self.items = [o for o in objects if isinstance(o, Mapping)]
        self._index: dict[tuple[str, str, str], Mapping[str, Any]] = {}
        for obj in self.items:
            meta = obj.get("metadata") or {}
            self._index[(obj.get("kind", ""), meta.get("namespace") or "", meta.get("name", ""))] = obj

    def get(self, kind: str, name: str, namespace: str | None = None) -> Mapping[str, Any] | None:
        ns = self.namespace if namespace is None else namespace
        return self._index.get((kind, ns, name)) or self._index.get((kind, "", name))

    def of_kind(self, kind: str) -> list[Mapping[str, Any]]:
        return [o for o in self.items if o.get("kind") == kind]

    def lookup(self, namespace: str | None = None) -> Lookup:
        return lambda kind, name: self.get(kind, name, namespace)


def _meta(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    return obj.get("metadata") or {}


def _pod_spec(deployment: Mapping[str, Any]) -> dict[str, Any]:
    return dict(((deployment.get("spec") or {}).get("template") or {}).get("spec") or {})


def _any_pod_spec(obj: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = obj.get("spec") or {}
    if obj.get("kind") == "Pod":
        return spec
    if obj.get("kind") == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    return (spec.get("template") or {}).get("spec") or {}


def _find_container(pod_spec: Mapping[str, Any], program: str) -> dict[str, Any] | None:
    for container in pod_spec.get("containers") or []:
        try:
            found, _ = executable_for(container, ENTRYPOINTS)
        except Refusal:
            continue
        if found == program:
            return dict(container)
    return None


def _component(
    key: str,
    role: str,
    name: str,
    deployment: Mapping[str, Any],
    program: str,
    lookup: Lookup,
    namespace: str,
    **extra: Any,
) -> Component:
    pod_spec = _pod_spec(deployment)
    container = _find_container(pod_spec, program)
    if container is None:
        raise Refusal(f"{name}: no container runs {program}", component=name)
    _, args = executable_for(container, ENTRYPOINTS)
    return Component(
        key=key,
        role=role,
        name=name,
        program=program,
        args=args,
        pod_spec=pod_spec,
        container=container,
        lookup=lookup,
        namespace=namespace,
        pod_name=_meta(deployment).get("name", key),
        **extra,
    )


def safe_key(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text)


# --- the plan ----------------------------------------------------------------


def release_deployment(index: Objects, release: str, namespace: str, component: str) -> Mapping[str, Any] | None:
    """The release's Deployment of a component (superlink, serverapp), found by its labels: the
    chart shortens names that would be too long (helm_flower.naming), the labels stay."""
    for obj in index.of_kind("Deployment"):
        meta = _meta(obj)
        labels = meta.get("labels") or {}
        if (labels.get("app.kubernetes.io/instance") == release and labels.get("app.kubernetes.io/component") == component
                and (meta.get("namespace") or namespace) == namespace):
            return obj
    return index.get("Deployment", naming.name(release, namespace, component))


def chart_flower_version(objects: Sequence[Mapping[str, Any]], release: str, namespace: str) -> str | None:
    """global.flower.version as rendered: the version label of the SuperLink Deployment."""
    index = Objects(objects, namespace)
    deployment = release_deployment(index, release, namespace, "superlink")
    candidates = [deployment] if deployment else []
    candidates += [o for o in index.items if (_meta(o).get("labels") or {}).get("app.kubernetes.io/instance") == release]
    for obj in candidates:
        version = (_meta(obj).get("labels") or {}).get(VERSION_LABEL)
        if version:
            return str(version)
    return None


def build_plan(
    objects: Sequence[Mapping[str, Any]],
    fleet: Fleet,
    *,
    release: str,
    namespace: str,
    add_partitions: bool = True,
) -> Plan:
    index = Objects(objects, namespace)
    notes: list[str] = []

    superlink_deployment = release_deployment(index, release, namespace, "superlink")
    if superlink_deployment is None:
        raise Refusal(
            f"the render has no SuperLink Deployment of release {release} "
            f"({naming.name(release, namespace, 'superlink')}): the rehearsal needs superlink.enabled=true",
            component="SuperLink",
        )
    superlink = _component(
        SUPERLINK, SUPERLINK, f"SuperLink (Deployment {_meta(superlink_deployment).get('name')})", superlink_deployment,
        "flower-superlink", index.lookup(), namespace,
    )
    serverapp_deployment = release_deployment(index, release, namespace, "serverapp")
    serverapp = None
    if serverapp_deployment is not None:
        serverapp = _component(
            SERVERAPP, SERVERAPP, f"ServerApp SuperExec (Deployment {_meta(serverapp_deployment).get('name')})",
            serverapp_deployment, "flower-superexec", index.lookup(), namespace,
        )
    elif flag_value(superlink.args, "--isolation") == "process":
        notes.append(
            "no ServerApp SuperExec is rendered (superlink.serverApp.enabled=false) while the SuperLink uses "
            "--isolation process: nothing will run the ServerApp"
        )

    cmas = index.of_kind("ClusterManagementAddOn")
    if not cmas:
        raise Refusal("the render has no ClusterManagementAddOn: the rehearsal needs hubAddon.enabled=true", component="SuperNode")
    cma = cmas[0]
    addon = _meta(cma).get("name", "")

    previews = {(p.namespace, p.name): p for p in preview_placements(index.items, fleet, namespace=namespace)}
    placements: list[PlacementView] = []

    # Clusters that get the addon: install-strategy placements, then ManagedClusterAddOns.
    clusters: dict[str, ClusterPlan] = {}
    chosen_by: dict[str, list[tuple[str, str]]] = {}
    for ref in ocm.install_placements(cma):
        preview = previews.get(ref)
        if preview is None:
            notes.append(f"Placement {ref[0]}/{ref[1]} named by ClusterManagementAddOn {addon} is not in the render")
            continue
        placements.append(_view(preview, SUPERNODE))
        for name in preview.chosen_names:
            plan = clusters.setdefault(name, ClusterPlan(name))
            plan.supernode_sources.append(f"placement {ref[0]}/{ref[1]}")
            plan.uncertain = plan.uncertain or name in preview.uncertain
            chosen_by.setdefault(name, []).append(ref)
    mcas: dict[str, Mapping[str, Any]] = {}
    for mca in index.of_kind("ManagedClusterAddOn"):
        cluster_ns = _meta(mca).get("namespace") or ""
        if _meta(mca).get("name") != addon:
            notes.append(f"ManagedClusterAddOn {cluster_ns}/{_meta(mca).get('name')} is not addon {addon}; ignored")
            continue
        mcas[cluster_ns] = mca
        if fleet.cluster(cluster_ns) is None:
            notes.append(f"ManagedClusterAddOn in namespace {cluster_ns}: no such cluster in the fleet, nothing installed")
            continue
        plan = clusters.setdefault(cluster_ns, ClusterPlan(cluster_ns))
        plan.supernode_sources.append("ManagedClusterAddOn")

    supernodes: dict[str, Component] = {}
    for name in sorted(clusters):
        supernodes[name] = _supernode(index, cma, addon, clusters[name], mcas.get(name), chosen_by.get(name, []), notes)

    # ClientApps: their Placements require the addon-available label and the ClusterClaims the addon
    # publishes (its SuperNode's Flower minor); the rehearsal takes the addon as available, with
    # those claims, exactly where a SuperNode was placed.
    label = ocm.addon_available_label(addon)
    available = fleet_with_label(fleet, set(supernodes), label, claims={n: clusters[n].claims for n in supernodes})
    previews_available = {(p.namespace, p.name): p for p in preview_placements(index.items, available, namespace=namespace)}
    clientapps: list[Component] = []
    for mwrs in index.of_kind("ManifestWorkReplicaSet"):
        clientapps += _clientapps(mwrs, index, previews_available, supernodes, clusters, placements, notes)

    rehearsed = {superlink.pod_name, serverapp.pod_name if serverapp else ""}
    for kind in WORKLOAD_KINDS:
        for obj in index.of_kind(kind):
            name = _meta(obj).get("name", "")
            if kind == "Deployment" and name in rehearsed:
                continue
            images = ", ".join(str(c.get("image", "")) for c in _any_pod_spec(obj).get("containers") or [])
            notes.append(f"not rehearsed: {kind} {name} ({images}); the local SuperNodes dial the SuperLink directly")

    plan = Plan(
        release=release,
        namespace=namespace,
        chart_flower_version=chart_flower_version(index.items, release, namespace),
        addon=addon,
        superlink=superlink,
        serverapp=serverapp,
        supernodes=supernodes,
        clientapps=clientapps,
        clusters=clusters,
        placements=placements,
        notes=list(dict.fromkeys(notes)),
    )
    if add_partitions:
        add_missing_partitions(plan)
    return plan


def _view(preview: PlacementPreview, role: str) -> PlacementView:
    return PlacementView(
        namespace=preview.namespace,
        name=preview.name,
        role=role,
        chosen=preview.chosen_names,
        uncertain=preview.uncertain,
        reason=preview.reason,
        notes=tuple(f"[{n.code}] {n.message}" for n in preview.notes),
        approximate=preview.approximate,
    )


def fleet_with_label(fleet: Fleet, clusters: set[str], label: str, value: str = "available",
                     claims: Mapping[str, Mapping[str, str]] | None = None) -> Fleet:
    """A copy of ``fleet`` where ``clusters`` carry ``label=value`` and their ``claims``."""
    claims = claims or {}
    return Fleet(
        clusters=tuple(
            dataclasses.replace(c, labels={**c.labels, label: value}, claims={**c.claims, **claims.get(c.name, {})})
            if c.name in clusters else c
            for c in fleet.clusters
        ),
        cluster_sets=fleet.cluster_sets,
        source=fleet.source,
    )


def _supernode(
    index: Objects,
    cma: Mapping[str, Any],
    addon: str,
    cluster: ClusterPlan,
    mca: Mapping[str, Any] | None,
    placements: list[tuple[str, str]],
    notes: list[str],
) -> Component:
    where = f"SuperNode @ {cluster.name}"
    adc_ref = ocm.resolve_config(ocm.ADC_RESOURCE, cma, mca=mca, placements=placements)
    template_ref = ocm.resolve_config(ocm.TEMPLATE_RESOURCE, cma, mca=mca, placements=placements)
    if template_ref is None:
        raise Refusal(f"{where}: the ClusterManagementAddOn names no AddOnTemplate", component=where)
    template = index.get("AddOnTemplate", template_ref.name, "")
    if template is None:
        raise Refusal(f"{where}: AddOnTemplate {template_ref.name!r} is not in the render", component=where)
    adc = None
    if adc_ref is not None:
        adc = index.get("AddOnDeploymentConfig", adc_ref.name, adc_ref.namespace or index.namespace)
        if adc is None:
            raise Refusal(
                f"{where}: AddOnDeploymentConfig {adc_ref.key} ({adc_ref.source}) is not in the render; "
                "the hub would not deploy the addon there",
                component=where,
            )
    variables = ocm.addon_variables(cluster.name, adc, template)
    for tag in variables.unknown:
        notes.append(f"AddOnTemplate {template_ref.name}: {{{{{tag}}}}} has no value (no variable defines it): OCM renders it empty")
    for name in variables.nested:
        source = f"AddOnDeploymentConfig {adc_ref.key}" if adc_ref else "a variable"
        notes.append(
            f"{source}: {name} = {variables.values[name]!r} holds a {{{{...}}}} placeholder; OCM substitutes "
            "variables in ONE pass, so it reaches the SuperNode literally (the rehearsal does the same)"
        )
    try:
        manifests = [ocm.render_manifest(m, variables.values) for m in ocm.template_manifests(template)]
    except ocm.SubstitutionError as exc:
        raise Refusal(f"{where}: OCM cannot render the AddOnTemplate: {exc}", component=where) from None
    by_kind = {(m.get("kind", ""), _meta(m).get("name", "")): m for m in manifests}
    cluster.claims = {_meta(m).get("name", ""): str((m.get("spec") or {}).get("value", ""))
                      for m in manifests if m.get("kind") == "ClusterClaim"}
    deployment = next(
        (m for m in manifests if m.get("kind") == "Deployment" and _find_container(_pod_spec(m), "flower-supernode")),
        None,
    )
    if deployment is None:
        raise Refusal(f"{where}: the AddOnTemplate has no Deployment running flower-supernode", component=where)
    cluster.adc, cluster.template = adc_ref, template_ref
    cluster.variables = dict(variables.values)
    install_ns = _meta(deployment).get("namespace") or variables.values.get("INSTALL_NAMESPACE", "")
    component = _component(
        f"supernode-{safe_key(cluster.name)}", SUPERNODE, where, deployment, "flower-supernode",
        lambda kind, name: by_kind.get((kind, name)), install_ns,
        cluster=cluster.name, extra_env=variables.ordered_env,
    )
    cluster.node_config_rendered = flag_value(component.args, "--node-config")
    try:
        cluster.node_config = ocm.parse_node_config(cluster.node_config_rendered or "")
    except ValueError as exc:
        notes.append(f"{where}: {exc}")
    return component


def _clientapps(
    mwrs: Mapping[str, Any],
    index: Objects,
    previews: Mapping[tuple[str, str], PlacementPreview],
    supernodes: Mapping[str, Component],
    clusters: Mapping[str, ClusterPlan],
    placements: list[PlacementView],
    notes: list[str],
) -> list[Component]:
    meta = _meta(mwrs)
    ns = meta.get("namespace") or index.namespace
    app = (meta.get("labels") or {}).get("flower.ai/clientapp") or meta.get("name", "")
    spec = mwrs.get("spec") or {}
    manifests = list((((spec.get("manifestWorkTemplate") or {}).get("workload") or {}).get("manifests")) or [])
    deployments = [
        m for m in manifests if m.get("kind") == "Deployment" and _find_container(_pod_spec(m), "flower-superexec")
    ]
    if not deployments:
        notes.append(f"ManifestWorkReplicaSet {ns}/{meta.get('name')}: no Deployment running flower-superexec")
        return []
    chosen: list[str] = []
    for ref in spec.get("placementRefs") or []:
        preview = previews.get((ns, ref.get("name", "")))
        if preview is None:
            notes.append(f"ManifestWorkReplicaSet {ns}/{meta.get('name')}: Placement {ref.get('name')} is not in the render")
            continue
        placements.append(_view(preview, f"clientapp {app}"))
        chosen += [c for c in preview.chosen_names if c not in chosen]
    by_kind = {(m.get("kind", ""), _meta(m).get("name", "")): m for m in manifests}
    out = []
    for cluster in sorted(chosen):
        if cluster not in supernodes:
            notes.append(f"ClientApp {app} @ {cluster}: no SuperNode there, its SuperExec would have nothing to talk to; skipped")
            continue
        clusters[cluster].clientapps.append(app)
        node_lookup = supernodes[cluster].lookup
        for deployment in deployments:
            dep_name = _meta(deployment).get("name", app)
            name = f"ClientApp SuperExec {dep_name} @ {cluster}"

            def lookup(kind: str, obj_name: str, _node_lookup: Lookup = node_lookup) -> Mapping[str, Any] | None:
                return by_kind.get((kind, obj_name)) or _node_lookup(kind, obj_name)

            key = dep_name if dep_name.startswith("clientapp") else f"clientapp-{dep_name}"
            out.append(
                _component(
                    safe_key(f"{key}-{cluster}"), CLIENTAPP, name, deployment,
                    "flower-superexec", lookup, _meta(deployment).get("namespace") or "",
                    cluster=cluster, app=app,
                )
            )
    return out


def add_missing_partitions(plan: Plan) -> None:
    """Give every SuperNode without partition-id one by sorted cluster name (and num-partitions)."""
    assignment = ocm.partition_assignment(plan.supernodes)
    lacking = [c for c in sorted(plan.supernodes) if "partition-id" not in plan.clusters[c].node_config]
    if not lacking:
        return
    if len(lacking) != len(plan.supernodes):
        plan.notes.append(
            "some SuperNodes have a partition-id in their node-config and some do not; the added ones "
            "count over all SuperNode clusters and may overlap the given ones"
        )
    for cluster in lacking:
        added = dict(assignment[cluster])
        info = plan.clusters[cluster]
        if "num-partitions" in info.node_config:
            added.pop("num-partitions")
        component = plan.supernodes[cluster]
        extra = " ".join(f"{k}={ocm.format_node_config_value(v)}" for k, v in added.items())
        component.args = set_flag_value(component.args, "--node-config", f"{info.node_config_rendered or ''} {extra}".strip())
        info.partition_added = added
        info.node_config = {**info.node_config, **added}
    plan.partitions_added = True


def set_flag_value(args: Sequence[str], flag: str, value: str) -> list[str]:
    """Replace the value of the last ``flag`` (either form), or append ``flag value``."""
    out = list(args)
    for i in range(len(out) - 1, -1, -1):
        if out[i] == flag and i + 1 < len(out):
            out[i + 1] = value
            return out
        if out[i].startswith(flag + "="):
            out[i] = f"{flag}={value}"
            return out
    return [*out, flag, value]


def image_of(component: Component) -> str:
    return str(component.container.get("image", ""))


def role_of_image(image: str) -> str:
    return image_repository_name(image)
