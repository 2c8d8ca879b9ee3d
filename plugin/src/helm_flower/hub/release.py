"""A Flower release's state on the hub: read with paged lists, kept current by watch events,
summarised per placement.

How the release's objects are found (names and labels from charts/flower-federation):

- Placements in the release namespace labelled ``app.kubernetes.io/name=flower`` and
  ``app.kubernetes.io/instance=<release>``; ``flower.ai/placement-role`` tells SuperNode
  placements (``<release>-<P>``) from their ClientApp twins (``<release>-<P>-clientapp``,
  ``flower.ai/placement=<P>``) and from ``<release>-supernodes`` (no ``flower.ai/placement``).
  Names are never parsed (the chart shortens long ones: helm_flower.naming), labels say it all.
  None at all: the release does not exist (or has ``hubAddon.enabled=false``).
- PlacementDecisions of all those placements: ONE paged list in the namespace with the label
  selector ``cluster.open-cluster-management.io/placement in (...)``; decision groups from the
  ``decision-group-index`` / ``decision-group-name`` labels.
- The addon name: the release's ClusterManagementAddOn, found by its labels (the release, and
  ``flower.ai/release-namespace``: it is cluster-scoped); else the chart's default
  (``flower-<release>-<namespace>``, shortened to fit: helm_flower.naming).
- ManagedClusterAddOns: ONE paged cluster-wide list with ``fieldSelector=metadata.name=<addon>``.
- ManifestWorkReplicaSets in the namespace labelled with the release and ``flower.ai/clientapp``.
- Their ManifestWorks: ONE paged cluster-wide list with the OCM owner label
  ``work.open-cluster-management.io/manifestworkreplicaset in (<ns>.<mwrs>, ...)`` (names are not
  relied on: newer OCM names works with generateName).

Every page is reduced to small records at once (see :mod:`.model`), so memory stays flat.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .. import flower_versions
from . import model
from .errors import HubError
from .kube import DEFAULT_PAGE_SIZE, Hub
from .resources import (
    ADDON_DEPLOYMENT_CONFIGS,
    CLIENTAPP_LABEL,
    CLUSTER_MANAGEMENT_ADDONS,
    DECISION_GROUP_INDEX_LABEL,
    DECISION_GROUP_NAME_LABEL,
    MANAGED_CLUSTER_ADDONS,
    MANIFEST_WORK_REPLICA_SETS,
    MANIFEST_WORKS,
    MWRS_LABEL,
    PLACEMENT_DECISIONS,
    PLACEMENT_ITEM_LABEL,
    PLACEMENT_LABEL,
    PLACEMENT_ROLE_LABEL,
    PLACEMENTS,
    addon_selector,
    all_supernodes_placement,
    default_addon_name,
    in_selector,
    release_selector,
)

VERSION_LABEL = "app.kubernetes.io/version"  # global.flower.version, on every object of the chart

MANUAL = "(manual)"  # table name of the clusters of installStrategy Manual


@dataclass
class PlacementInfo:
    name: str  # object name
    item: str | None  # flower.ai/placement (None for <release>-supernodes)
    role: str  # supernode | clientapp
    selected: int | None = None  # status.numberOfSelectedClusters
    satisfied: dict[str, str] = field(default_factory=dict)  # PlacementSatisfied condition


@dataclass
class Decision:
    placement: str
    group_index: int
    group_name: str
    clusters: tuple[str, ...]


@dataclass
class MwrsInfo:
    name: str
    app: str
    refs: list[tuple[str, str]]  # (placement name, rollout type)
    summary: dict[str, Any]
    placement_summary: dict[str, dict[str, Any]]
    conditions: dict[str, dict[str, str]]


@dataclass(slots=True)
class Row:
    cluster: str
    group_index: int | None
    group_name: str
    supernode: str
    supernode_reason: str
    apps: list[tuple[str, str, str]]  # (app, state, reason)
    ready: bool
    skew: dict[str, Any] | None = None  # Flower version skew on this cluster (see ReleaseState._skew)

    @property
    def clientapp(self) -> str:
        if not self.apps:
            return model.NONE
        if len(self.apps) == 1:
            return self.apps[0][1]
        ok = sum(1 for a in self.apps if a[1] == model.AVAILABLE)
        return f"{ok}/{len(self.apps)} available"

    @property
    def reason(self) -> str:
        if self.skew and self.skew["blocking"]:
            return self.skew["finding"]
        if self.supernode not in (model.AVAILABLE,) and self.supernode_reason:
            return f"SuperNode: {self.supernode_reason}"
        if self.supernode != model.AVAILABLE and self.supernode != model.DEGRADED:
            return f"SuperNode {self.supernode}"
        for app, state, reason in self.apps:
            if state != model.AVAILABLE:
                prefix = f"ClientApp {app}" if len(self.apps) > 1 else "ClientApp"
                return f"{prefix}: {reason}" if reason else f"{prefix} {state}"
        return self.supernode_reason  # degraded but running: say why

    @property
    def group(self) -> str:
        if self.group_name:
            return self.group_name
        return "" if self.group_index is None else str(self.group_index)

    def to_dict(self) -> dict[str, Any]:
        return {
            "cluster": self.cluster,
            "decisionGroup": {"index": self.group_index, "name": self.group_name},
            "superNode": {"state": self.supernode, "reason": self.supernode_reason},
            "clientApps": [{"app": a, "state": s, "reason": r} for a, s, r in self.apps],
            "ready": self.ready,
            "reason": self.reason,
            "versionSkew": self.skew,
        }


@dataclass
class Summary:
    release: str
    namespace: str
    addon: str
    mode: str
    chosen: int
    ready_count: int
    required: int
    supernode_available: int
    clientapp_ready: int
    tables: list[dict[str, Any]]  # per placement: name, placement, rows, groups, apps
    apps: list[MwrsInfo]
    warnings: list[str]
    not_ready: list[Row]
    skewed: list[Row] = field(default_factory=list)  # clusters with a Flower version skew
    skew_blocked: int = 0  # clusters whose SuperNode and ClientApps are available but skewed (blocking)

    @property
    def ready(self) -> bool:
        return self.chosen > 0 and self.ready_count >= self.required

    @property
    def verdict(self) -> str:
        n_apps = len(self.apps)
        what = "an available SuperNode" + (" and ClientApp" + ("s" if n_apps > 1 else "") if n_apps else "")
        if self.chosen == 0:
            return ("not ready: the placements chose no cluster (check the ManagedClusterSetBindings in "
                    f"namespace {self.namespace}, the cluster sets and the predicates)")
        need = f" (at least {self.required} required)" if self.required != self.chosen else ""
        if self.ready:
            return f"ready: {self.ready_count}/{self.chosen} clusters have {what}{need}"
        parts = []
        sn_missing = self.chosen - self.supernode_available
        if sn_missing:
            parts.append(f"{sn_missing} without an available SuperNode")
        ca_missing = self.supernode_available - self.clientapp_ready
        if n_apps and ca_missing:
            parts.append(f"{ca_missing} with a SuperNode but no available ClientApp")
        if self.skew_blocked:
            parts.append(f"{self.skew_blocked} blocked by a Flower version skew")
        need = f", {self.required} required" if self.required != self.chosen else ""
        return f"not ready: {self.ready_count}/{self.chosen} clusters ready{need}" + (
            f"; {', '.join(parts)}" if parts else "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "release": self.release,
            "namespace": self.namespace,
            "addon": self.addon,
            "installStrategy": self.mode,
            "ready": self.ready,
            "verdict": self.verdict,
            "clusters": {"chosen": self.chosen, "ready": self.ready_count, "required": self.required,
                         "superNodeAvailable": self.supernode_available,
                         "clientAppsAvailable": self.clientapp_ready, "blockedByVersionSkew": self.skew_blocked},
            "placements": [
                {"name": t["name"], "placement": t["placement"], "clusters": len(t["rows"]),
                 "ready": sum(1 for r in t["rows"] if r.ready), "decisionGroups": t["groups"],
                 "clientApps": t["apps"], "rows": [r.to_dict() for r in t["rows"]]}
                for t in self.tables
            ],
            "clientApps": [{"app": m.app, "manifestWorkReplicaSet": m.name,
                            "placementRefs": [{"name": n, "rolloutStrategy": t} for n, t in m.refs],
                            "summary": m.summary, "conditions": m.conditions} for m in self.apps],
            "versionSkew": [dict(r.skew, cluster=r.cluster) for r in self.skewed if r.skew],
            "warnings": self.warnings,
        }


class ReleaseState:
    """Everything status needs about one release, as compact records."""

    def __init__(self, release: str, namespace: str, addon: str) -> None:
        self.release = release
        self.namespace = namespace
        self.addon = addon
        self.placements: dict[str, PlacementInfo] = {}
        self.decisions: dict[str, Decision] = {}  # PlacementDecision name -> decision
        self.addons: dict[str, model.AddonRecord] = {}  # cluster -> record
        self.mwrs: dict[str, MwrsInfo] = {}
        self.works: dict[tuple[str, str], dict[str, model.WorkRecord]] = {}  # (mwrs, cluster) -> name -> rec
        self.works_visible = True  # False when the ManifestWorks could not be listed
        self.release_flower = ""  # major.minor of global.flower.version (the SuperLink's): Placement labels
        self.config_flower: dict[str, str] = {}  # AddOnDeploymentConfig -> its SuperNode image's major.minor
        self.warnings: list[str] = []
        self.rv: dict[str, str] = {}  # stream -> list resourceVersion

    # -- selectors shared by the initial lists and the watches -------------------------------

    def decision_selector(self) -> str:
        return in_selector(PLACEMENT_LABEL, set(self.placements))

    def addon_field_selector(self) -> str:
        return f"metadata.name={self.addon}"

    def mwrs_selector(self) -> str:
        return release_selector(self.release) + f",{CLIENTAPP_LABEL}"

    def work_selector(self) -> str | None:
        keys = {f"{self.namespace}.{name}" for name in self.mwrs}
        if not keys:
            return None
        if len(keys) == 1:
            return f"{MWRS_LABEL}={next(iter(keys))}"
        return in_selector(MWRS_LABEL, keys)

    # -- applying objects (initial lists and watch events) -----------------------------------

    def apply_placement(self, obj: dict[str, Any]) -> None:
        md = obj.get("metadata") or {}
        labels = md.get("labels") or {}
        st = obj.get("status") or {}
        sat = model.condition_summary(obj, ("PlacementSatisfied",)).get("PlacementSatisfied", {})
        found = flower_versions.parse(labels.get(VERSION_LABEL))
        if found:
            self.release_flower = flower_versions.mm(found)
        self.placements[md["name"]] = PlacementInfo(
            md["name"], labels.get(PLACEMENT_ITEM_LABEL), labels.get(PLACEMENT_ROLE_LABEL, ""),
            st.get("numberOfSelectedClusters"), sat)

    def apply_decision(self, kind: str, obj: dict[str, Any]) -> None:
        md = obj.get("metadata") or {}
        name = md.get("name", "")
        if kind == "DELETED":
            self.decisions.pop(name, None)
            return
        labels = md.get("labels") or {}
        try:
            gi = int(labels.get(DECISION_GROUP_INDEX_LABEL, ""))
        except ValueError:
            gi = 0
        clusters = tuple(d.get("clusterName", "") for d in ((obj.get("status") or {}).get("decisions") or [])
                         if d.get("clusterName"))
        self.decisions[name] = Decision(labels.get(PLACEMENT_LABEL, ""), gi,
                                        labels.get(DECISION_GROUP_NAME_LABEL, ""), clusters)

    def apply_addon(self, kind: str, obj: dict[str, Any]) -> None:
        md = obj.get("metadata") or {}
        if md.get("name") != self.addon:
            return
        cluster = md.get("namespace", "")
        if kind == "DELETED":
            self.addons.pop(cluster, None)
        else:
            self.addons[cluster] = model.addon_record(obj)

    def apply_deployment_config(self, kind: str, obj: dict[str, Any]) -> None:
        name = (obj.get("metadata") or {}).get("name", "")
        if kind == "DELETED":
            self.config_flower.pop(name, None)
            return
        for var in (obj.get("spec") or {}).get("customizedVariables") or ():
            if var.get("name") == "SUPERNODE_IMAGE":
                self.config_flower[name] = model.minor_of_image(str(var.get("value") or ""))

    def apply_mwrs(self, kind: str, obj: dict[str, Any]) -> None:
        md = obj.get("metadata") or {}
        name = md.get("name", "")
        if kind == "DELETED":
            self.mwrs.pop(name, None)
            return
        spec, st = obj.get("spec") or {}, obj.get("status") or {}
        refs = [(r.get("name", ""), (r.get("rolloutStrategy") or {}).get("type")
                 or (r.get("rolloutStrategy") or {}).get("rolloutType") or "All")
                for r in spec.get("placementRefs") or []]
        # The CRD calls it placementSummary; tolerate the Go field name too.
        psum = st.get("placementSummary") or st.get("placementsSummary") or []
        self.mwrs[name] = MwrsInfo(
            name, (md.get("labels") or {}).get(CLIENTAPP_LABEL, name), refs, st.get("summary") or {},
            {p.get("name", ""): p for p in psum},
            model.condition_summary(obj, ("PlacementVerified", "PlacementRolledOut", "ManifestworkApplied")))

    def apply_work(self, kind: str, obj: dict[str, Any]) -> None:
        md = obj.get("metadata") or {}
        owner = (md.get("labels") or {}).get(MWRS_LABEL, "")
        ns, _, mwrs = owner.partition(".")
        if ns != self.namespace or not mwrs:
            return
        key = (mwrs, md.get("namespace", ""))
        if kind == "DELETED":
            works = self.works.get(key)
            if works is not None:
                works.pop(md.get("name", ""), None)
                if not works:
                    del self.works[key]
            return
        rec = model.work_record(obj, mwrs)
        self.works.setdefault(key, {})[rec.name] = rec

    # -- derived views ---------------------------------------------------------------------------

    @property
    def manual(self) -> bool:
        return not any(p.role == "supernode" for p in self.placements.values())

    def chosen(self) -> dict[str, dict[str, tuple[int | None, str]]]:
        """Table name -> cluster -> (decision group index, group name)."""
        out: dict[str, dict[str, tuple[int | None, str]]] = {}
        if self.manual:
            out[MANUAL] = {c: (None, "") for c in self.addons}
            return out
        item_of = {p.name: p.item or p.name for p in self.placements.values() if p.role == "supernode"}
        for name in item_of:
            out[item_of[name]] = {}
        for d in self.decisions.values():
            item = item_of.get(d.placement)
            if item is None:
                continue
            table = out[item]
            for c in d.clusters:
                table[c] = (d.group_index, d.group_name)
        return out

    def clientapp_decisions(self) -> dict[str, set[str]]:
        out: dict[str, set[str]] = {p.name: set() for p in self.placements.values() if p.role == "clientapp"}
        for d in self.decisions.values():
            if d.placement in out:
                out[d.placement].update(d.clusters)
        return out

    def summarise(self, min_clusters: int | None = None) -> Summary:
        tables = self.chosen()
        twin = {p.name: p.item for p in self.placements.values() if p.role == "clientapp"}
        placement_of = {p.item or p.name: p.name for p in self.placements.values() if p.role == "supernode"}
        ca_decisions = self.clientapp_decisions()
        # MWRS -> which tables it covers: None = every SuperNode cluster (<release>-supernodes).
        mwrs_items: dict[str, list[tuple[str | None, str, str]]] = {}
        for m in self.mwrs.values():
            for ref, rollout in m.refs:
                if ref in twin:
                    mwrs_items.setdefault(m.name, []).append((twin[ref], ref, rollout))
        cluster_tables: dict[str, frozenset[str]] = {}
        for tname, clusters in tables.items():
            for c in clusters:
                cluster_tables[c] = cluster_tables.get(c, frozenset()) | {tname}
        # Which ClientApps (with their covering placement refs) target a cluster depends only on
        # the set of tables it is in: computed once per distinct set, not once per cluster.
        ordered = sorted(self.mwrs.values(), key=lambda m: m.app)
        targets: dict[frozenset[str], list[tuple[MwrsInfo, list[tuple[str, str]]]]] = {}
        for tnames in set(cluster_tables.values()):
            targets[tnames] = [
                (m, cov) for m in ordered
                if (cov := [(ref, rollout) for item, ref, rollout in mwrs_items.get(m.name, [])
                            if item is None or item in tnames or self.manual])]
        rows_by_cluster: dict[str, Row] = {}
        for cluster, tnames in cluster_tables.items():
            rows_by_cluster[cluster] = self._row(cluster, targets[tnames], ca_decisions)
        out_tables = []
        for tname, clusters in tables.items():
            rows = []
            for c, (gi, gn) in clusters.items():
                base = rows_by_cluster[c]
                rows.append(Row(c, gi, gn, base.supernode, base.supernode_reason, base.apps, base.ready, base.skew))
            rows.sort(key=lambda r: (r.group_index if r.group_index is not None else -1, r.cluster))
            pname = placement_of.get(tname) or next(
                (p.name for p in self.placements.values() if p.role == "clientapp" and p.item is None),
                all_supernodes_placement(self.release, self.namespace))
            groups: dict[tuple[int | None, str], list[int]] = {}
            for r in rows:
                g = groups.setdefault((r.group_index, r.group_name), [0, 0])
                g[0] += 1
                g[1] += r.ready
            apps = []
            for m in self.mwrs.values():
                for item, ref, rollout in mwrs_items.get(m.name, []):
                    if item == tname or item is None:
                        ps = m.placement_summary.get(ref, {})
                        apps.append({"app": m.app, "manifestWorkReplicaSet": m.name, "placement": ref,
                                     "rolloutStrategy": rollout, "summary": ps.get("summary") or {},
                                     "availableDecisionGroups": ps.get("availableDecisionGroups", ""),
                                     "conditions": m.conditions})
            out_tables.append({"name": tname, "placement": pname, "rows": rows, "apps": apps,
                               "groups": [{"index": gi, "name": gn, "clusters": n, "ready": ok}
                                          for (gi, gn), (n, ok) in sorted(groups.items(), key=lambda kv: (
                                              kv[0][0] if kv[0][0] is not None else -1, kv[0][1]))]})
        all_rows = list(rows_by_cluster.values())
        chosen = len(all_rows)
        ready = sum(1 for r in all_rows if r.ready)
        sn_ok = sum(1 for r in all_rows if r.supernode in (model.AVAILABLE, model.DEGRADED))
        ca_ok = sum(1 for r in all_rows if r.supernode in (model.AVAILABLE, model.DEGRADED)
                    and all(a[1] == model.AVAILABLE for a in r.apps))
        required = chosen if min_clusters is None else min_clusters
        warnings = list(self.warnings) + self._mwrs_warnings() + self._placement_warnings(tables)
        not_ready = sorted((r for r in all_rows if not r.ready), key=lambda r: r.cluster)
        skewed = sorted((r for r in all_rows if r.skew), key=lambda r: r.cluster)
        # not ready for no other reason than a blocking skew (see _row)
        skew_blocked = len(not_ready) - (chosen - sn_ok) - (sn_ok - ca_ok)
        return Summary(self.release, self.namespace, self.addon, "Manual" if self.manual else "Placements",
                       chosen, ready, required, sn_ok, ca_ok, out_tables, list(self.mwrs.values()), warnings,
                       not_ready, skewed, skew_blocked)

    def _row(self, cluster: str, targets: list[tuple[MwrsInfo, list[tuple[str, str]]]], ca_decisions) -> Row:
        rec = self.addons.get(cluster)
        if rec is None:
            sn, sn_reason = model.MISSING, f"no ManagedClusterAddOn {self.addon} in namespace {cluster} yet"
        else:
            sn, sn_reason = rec.state, rec.reason
        sn_ok = sn in (model.AVAILABLE, model.DEGRADED)
        apps: list[tuple[str, str, str]] = []
        app_minors: dict[str, str] = {}
        for m, covering in targets:
            works = self.works.get((m.name, cluster))
            if works:
                w = model.worst(list(works.values()))
                app_minors[m.app] = w.flower
                reason = w.reason
                if len(works) > 1:
                    reason = (reason + "; " if reason else "") + (
                        f"{len(works)} ManifestWorks of {m.name} on this cluster (overlapping placements)")
                apps.append((m.app, w.state, reason))
            elif not self.works_visible:
                apps.append((m.app, model.UNKNOWN, "ManifestWorks could not be read"))
            elif not sn_ok:
                apps.append((m.app, model.WAITING, "waits for the SuperNode"))
            elif any(cluster in ca_decisions.get(ref, ()) for ref, _ in covering):
                ref, rollout = next((r, t) for r, t in covering if cluster in ca_decisions.get(r, ()))
                apps.append((m.app, model.ROLLING_OUT, f"not rolled out here yet ({rollout} rollout of {m.name} "
                                                       f"via placement {ref})"))
            else:
                ref = covering[0][0]
                apps.append((m.app, model.WAITING,
                             f"placement {ref} has not chosen this cluster yet (it waits for the ManagedCluster "
                             f"label feature.open-cluster-management.io/addon-{self.addon}=available)"))
        skew = self._skew(rec, app_minors)
        ready = sn_ok and all(a[1] == model.AVAILABLE for a in apps) and not (skew and skew["blocking"])
        return Row(cluster, None, "", sn, sn_reason, apps, ready, skew)

    def _skew(self, rec: model.AddonRecord | None, app_minors: dict[str, str]) -> dict[str, Any] | None:
        """The cluster's Flower version skew, as a finding with its fix; None when there is none (or
        nothing to compare). A ClientApp of another minor than its SuperNode cannot run (the
        SuperNode's Runtime API refuses it, exit 606): blocking. A SuperNode of another minor than the
        SuperLink still connects (the Fleet API only warns): reported, not blocking."""
        supernode = self.config_flower.get(rec.config, "") if rec is not None and rec.config else ""
        superlink = self.release_flower
        apps = {a: m for a, m in app_minors.items() if m}
        off_apps = sorted(a for a, m in apps.items() if supernode and m != supernode)
        blocking = bool(off_apps)
        if not blocking and not (supernode and superlink and supernode != superlink) and not (
                not supernode and superlink and any(m != superlink for m in apps.values())):
            return None
        parts = [f"SuperNode {supernode or '?'}"] + [f"ClientApp {a} {m}" for a, m in sorted(apps.items())]
        parts.append(f"SuperLink {superlink or '?'}")
        target = superlink or supernode
        if blocking:
            fix = (f"the SuperNode refuses the ClientApp SuperExec (exit 606): finish the upgrade to {target} "
                   f"on this cluster (helm upgrade --set global.flower.version={target}.x, no per-image tag "
                   "overrides; the SuperNode (addon) and ClientApp (ManifestWorkReplicaSet) rollouts both "
                   "have to reach it: helm flower status --wait)")
        else:
            fix = (f"Flower only warns across minors between SuperNode and SuperLink, but a ServerApp and "
                   f"ClientApps of different minors may not interoperate: bring this cluster to {target} "
                   "(remove per-placement hubAddon supernode.image.tag overrides, clientApp image tags, then "
                   "wait for the addon's rollout: helm flower status --wait)")
        return {"superNode": supernode, "superLink": superlink, "clientApps": apps, "blocking": blocking,
                "finding": f"Flower version skew: {', '.join(parts)}; {fix}"}

    def _mwrs_warnings(self) -> list[str]:
        out = []
        for m in sorted(self.mwrs.values(), key=lambda m: m.name):
            pv = m.conditions.get("PlacementVerified")
            if pv and pv.get("status") == "False":
                out.append(f"ManifestWorkReplicaSet {m.name}: PlacementVerified=False ({pv.get('reason')}) "
                           f"{pv.get('message', '')}".rstrip())
            ma = m.conditions.get("ManifestworkApplied")
            if ma and ma.get("reason") == "InvalidManifestWorkName":
                out.append(f"ManifestWorkReplicaSet {m.name}: {ma.get('message')}")
            known = {p.name for p in self.placements.values()}
            for ref, _ in m.refs:
                if ref not in known:
                    out.append(f"ManifestWorkReplicaSet {m.name} refers to placement {ref}, which is not a "
                               f"placement of release {self.release}")
        return out

    def _placement_warnings(self, tables) -> list[str]:
        out = []
        for p in sorted(self.placements.values(), key=lambda p: p.name):
            if p.role != "supernode":
                continue
            n = len(tables.get(p.item or p.name, {}))
            if n == 0 and p.satisfied.get("status") == "False":
                out.append(f"placement {p.name} chose no cluster: {p.satisfied.get('reason')}: "
                           f"{p.satisfied.get('message', '')}".rstrip(": "))
            elif p.selected is not None and p.selected != n:
                out.append(f"placement {p.name} reports {p.selected} selected clusters but its "
                           f"PlacementDecisions list {n} (the placement controller is still writing them)")
        return out

    def all_chosen(self) -> set[str]:
        return {c for t in self.chosen().values() for c in t}


# --- reading ------------------------------------------------------------------------------------


def find_addon_name(hub: Hub, release: str, namespace: str, warnings: list[str]) -> str:
    """The release's addon name: its ClusterManagementAddOn (labelled with the release and, being
    cluster-scoped, with the namespace that owns it), else the chart's default for the release."""
    default = default_addon_name(release, namespace)
    candidates: list[dict[str, Any]] = []
    try:
        for items, _ in hub.list_pages(CLUSTER_MANAGEMENT_ADDONS, label_selector=addon_selector(release, namespace)):
            candidates.extend(items)
    except HubError as err:
        if "forbidden" in err.message or "does not serve" in err.message:
            warnings.append(f"could not list ClusterManagementAddOns ({err.message.split('. ')[0]}); "
                            f"assuming the addon is named {default} (use --addon-name if global.addon.name is set)")
            return default
        raise
    names = sorted(c["metadata"]["name"] for c in candidates)
    if not names:
        return default
    if len(names) > 1:
        warnings.append(f"several ClusterManagementAddOns are labelled with release {release} of namespace "
                        f"{namespace}: {', '.join(names)}; using {names[0]} (use --addon-name to choose)")
    return names[0]


def _load(hub: Hub, res, apply, state: ReleaseState, stream: str, **kw: Any) -> None:
    rv = ""
    for items, rv in hub.list_pages(res, prefetch=True, **kw):
        for obj in items:
            apply("ADDED", obj)
        del items  # drop the page before the next one arrives
    state.rv[stream] = rv


@contextmanager
def gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while pages are parsed and reduced.

    Parsing a page of 500 ManifestWorks allocates ~10^5 containers that live until the page is
    reduced; the collector would scan them (and everything older) over and over, which roughly
    doubles the time of the read. Nothing here creates reference cycles: reference counting frees
    every page as soon as it is dropped, so memory stays flat with the collector paused.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def read_release(
    hub: Hub,
    release: str,
    namespace: str,
    *,
    addon_name: str | None = None,
    page_size: int = DEFAULT_PAGE_SIZE,
) -> ReleaseState:
    """Read the release's placements, decisions, addons, MWRS and ManifestWorks (paged)."""
    with gc_paused():
        return _read_release(hub, release, namespace, addon_name=addon_name, page_size=page_size)


def _read_placements(hub: Hub, release: str, namespace: str, addon_name: str | None, page_size: int) -> ReleaseState:
    placements: list[dict[str, Any]] = []
    prv = ""
    for items, prv in hub.list_pages(PLACEMENTS, namespace=namespace, label_selector=release_selector(release),
                                     limit=page_size):
        placements.extend(items)
    if not placements:
        raise HubError(
            f"release {release!r} not found in namespace {namespace}: no Placements labelled "
            f"app.kubernetes.io/name=flower,app.kubernetes.io/instance={release} there. Check the release name "
            "and -n (helm list -A), and that the release has hubAddon.enabled=true."
        )
    warnings: list[str] = []
    addon = addon_name or find_addon_name(hub, release, namespace, warnings)
    state = ReleaseState(release, namespace, addon)
    state.warnings = warnings
    state.rv["placements"] = prv
    for p in placements:
        state.apply_placement(p)
    _load(hub, PLACEMENT_DECISIONS, state.apply_decision, state, "decisions", namespace=namespace,
          label_selector=state.decision_selector(), limit=page_size)
    return state


def _read_release(hub: Hub, release: str, namespace: str, *, addon_name: str | None, page_size: int) -> ReleaseState:
    state = _read_placements(hub, release, namespace, addon_name, page_size)
    _load(hub, MANAGED_CLUSTER_ADDONS, state.apply_addon, state, "addons",
          field_selector=state.addon_field_selector(), limit=page_size)
    try:  # the SuperNode image each cluster runs with (a few objects: default, per placement, per cluster)
        _load(hub, ADDON_DEPLOYMENT_CONFIGS, state.apply_deployment_config, state, "configs", namespace=namespace,
              label_selector=release_selector(release), limit=page_size)
    except HubError as err:
        if not err.message.startswith("forbidden"):
            raise
        state.warnings.append(f"{err.message.split('. Ask')[0]}: the SuperNodes' Flower versions are unknown")
    _load(hub, MANIFEST_WORK_REPLICA_SETS, state.apply_mwrs, state, "mwrs", namespace=namespace,
          label_selector=state.mwrs_selector(), limit=page_size)
    selector = state.work_selector()
    if selector:
        try:
            _load(hub, MANIFEST_WORKS, state.apply_work, state, "works", label_selector=selector, limit=page_size)
        except HubError as err:
            if not err.message.startswith("forbidden"):
                raise
            state.works_visible = False
            state.warnings.append(f"{err.message.split('. Ask')[0]}: the per-cluster ClientApp state is unknown")
    return state


def read_chosen(hub: Hub, release: str, namespace: str, *, addon_name: str | None = None,
                page_size: int = DEFAULT_PAGE_SIZE) -> ReleaseState:
    """Only what decides the chosen clusters: placements and decisions (Manual mode: the addons)."""
    with gc_paused():
        state = _read_placements(hub, release, namespace, addon_name, page_size)
        if state.manual:
            _load(hub, MANAGED_CLUSTER_ADDONS, state.apply_addon, state, "addons",
                  field_selector=state.addon_field_selector(), limit=page_size)
    return state
