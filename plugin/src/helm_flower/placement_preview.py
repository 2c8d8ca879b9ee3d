"""Offline preview of the decisions an OCM hub would make for a release's Placements.

Input: the OCM objects of a rendered release (dicts as parsed from ``helm
template``) and a :class:`~helm_flower.fleet.Fleet`. Output: one
:class:`PlacementPreview` per Placement (kind Placement, apiVersion
cluster.open-cluster-management.io/v1beta1).

The rules follow the hub scheduler of open-cluster-management-io/ocm
(pkg/placement/controllers/scheduling and pkg/placement/plugins):

* Candidates are the clusters of the cluster sets bound into the Placement's
  namespace by a ManagedClusterSetBinding whose name is the set's name (the
  hub's webhook rejects any other name; a binding of a set that does not exist
  is ignored), intersected with ``spec.clusterSets`` when that is not empty.
* ``spec.predicates`` are ORed; inside a ``requiredClusterSelector`` the
  labelSelector, claimSelector and celSelector are ANDed. CEL is not evaluated,
  except a cluster-name equality (``managedCluster.metadata.name == "x"``, what
  the chart writes): clusters that pass the rest are assumed to match, listed as
  ``uncertain`` and the preview is marked approximate.
* Taints with effect NoSelect or NoSelectIfNew exclude a cluster unless a
  toleration matches (the preview treats every cluster as new to the
  Placement); PreferNoSelect never excludes.
* The hub sorts feasible clusters by prioritizer score (descending), ties by
  cluster name, and keeps the first ``numberOfClusters``. Scores come from
  live hub state (existing PlacementDecisions for the default Balance and
  Steady prioritizers, AddOnPlacementScores, allocatable resources), so the
  preview treats all scores as equal: the choice is deterministic by cluster
  name and marked approximate whenever numberOfClusters cuts the list. A
  prioritizer in use (weight not 0) the scheduler does not know (a built-in
  other than Balance, Steady, ResourceAllocatableCPU/Memory; an AddOn
  coordinate without addOn) makes the Placement Misconfigured.
* Decision groups: each ``decisionGroups[]`` entry takes its matching clusters
  first, in order; the rest follow with an empty group name. Each group's
  clusters are sorted by name and cut into groups of ``clustersPerDecisionGroup``
  (an integer, or a percentage of the chosen clusters rounded up); the group
  index counts up from 0. Each group's clusters are stored in PlacementDecisions
  of at most 100 decisions named ``<placement>-decision-<n>``, n counting from 1
  across all groups. With no cluster chosen there is one empty group and one
  empty PlacementDecision.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from .fleet import Cluster, Fleet, Taint

GROUP = "cluster.open-cluster-management.io"
PLACEMENT_API_VERSION = f"{GROUP}/v1beta1"
DECISION_API_VERSION = f"{GROUP}/v1beta1"
MAX_DECISIONS_PER_OBJECT = 100
PLACEMENT_LABEL = f"{GROUP}/placement"
GROUP_NAME_LABEL = f"{GROUP}/decision-group-name"
GROUP_INDEX_LABEL = f"{GROUP}/decision-group-index"

SELECTOR_OPERATORS = frozenset({"In", "NotIn", "Exists", "DoesNotExist"})
EXCLUDING_EFFECTS = frozenset({"NoSelect", "NoSelectIfNew"})
DEFAULT_PRIORITIZER_WEIGHTS = {"Balance": 1, "Steady": 1}
BUILTIN_PRIORITIZERS = frozenset({"Balance", "Steady", "ResourceAllocatableCPU", "ResourceAllocatableMemory"})
DECISION_STATE_PRIORITIZERS = frozenset(DEFAULT_PRIORITIZER_WEIGHTS)

Groups = list[tuple[str, tuple[str, ...]]]  # (group name, cluster names) in group-index order


# --- public result types -----------------------------------------------------


@dataclass(frozen=True)
class Binding:
    """A ManagedClusterSetBinding: ``name`` binds the set of that name into ``namespace``."""

    namespace: str
    name: str
    cluster_set: str = ""

    def __post_init__(self) -> None:
        if not self.cluster_set:
            object.__setattr__(self, "cluster_set", self.name)


@dataclass(frozen=True)
class Note:
    """Something the preview could not evaluate, or an assumption it made.

    ``approximate`` is true when the note means the chosen clusters may differ
    on a live hub.
    """

    code: str
    message: str
    approximate: bool = False


@dataclass(frozen=True)
class Decision:
    """A PlacementDecision object the hub would create (at most 100 clusters)."""

    name: str
    namespace: str
    placement: str
    group_index: int
    group_name: str
    clusters: tuple[str, ...]

    @property
    def labels(self) -> dict[str, str]:
        return {
            PLACEMENT_LABEL: self.placement,
            GROUP_NAME_LABEL: self.group_name,
            GROUP_INDEX_LABEL: str(self.group_index),
        }

    def to_object(self) -> dict[str, Any]:
        """The PlacementDecision as a Kubernetes object (status included)."""
        return {
            "apiVersion": DECISION_API_VERSION,
            "kind": "PlacementDecision",
            "metadata": {"name": self.name, "namespace": self.namespace, "labels": self.labels},
            "status": {"decisions": [{"clusterName": c, "reason": ""} for c in self.clusters]},
        }


@dataclass(frozen=True)
class DecisionGroup:
    """A decision group: its index, name, clusters and PlacementDecision names."""

    index: int
    name: str
    clusters: tuple[str, ...]
    decisions: tuple[str, ...]


@dataclass(frozen=True)
class ChosenCluster:
    """One selected cluster with the decision group and PlacementDecision holding it."""

    name: str
    group_index: int
    group_name: str
    decision: str


@dataclass(frozen=True)
class PlacementPreview:
    """What the hub would decide for one Placement.

    ``cluster_sets``: eligible sets (bound and, if given, listed in spec);
    ``candidates``: clusters of those sets; ``feasible``: candidates passing
    predicates and taints; ``chosen``: feasible clusters kept by
    numberOfClusters, in decision order; ``uncertain``: feasible clusters
    whose match depends on CEL; ``reason``: the reason of the Placement's
    PlacementSatisfied condition (or ``Misconfigured``).
    """

    name: str
    namespace: str
    cluster_sets: tuple[str, ...]
    candidates: tuple[str, ...]
    feasible: tuple[str, ...]
    chosen: tuple[ChosenCluster, ...]
    groups: tuple[DecisionGroup, ...]
    decisions: tuple[Decision, ...]
    uncertain: tuple[str, ...]
    unscheduled: int
    reason: str
    notes: tuple[Note, ...]

    @property
    def approximate(self) -> bool:
        return any(note.approximate for note in self.notes)

    @property
    def chosen_names(self) -> tuple[str, ...]:
        return tuple(choice.name for choice in self.chosen)

    def status(self) -> dict[str, Any]:
        """The Placement status fields the hub would set."""
        return {
            "numberOfSelectedClusters": len(self.chosen),
            "decisionGroups": [
                {
                    "decisionGroupIndex": g.index,
                    "decisionGroupName": g.name,
                    "decisions": list(g.decisions),
                    "clusterCount": len(g.clusters),
                }
                for g in self.groups
            ],
        }

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field plus ``approximate``."""
        return {**asdict(self), "approximate": self.approximate}


# --- entry points ------------------------------------------------------------


def preview_placements(
    objects: Iterable[Any],
    fleet: Fleet,
    existing_bindings: Iterable[Binding | Mapping[str, Any]] = (),
    *,
    namespace: str = "default",
) -> list[PlacementPreview]:
    """Preview every Placement among ``objects``.

    ``existing_bindings`` are bindings already on the hub (Binding values or
    ManagedClusterSetBinding objects); the rendered bindings are added to them.
    ``namespace`` is used for objects without metadata.namespace (the release
    namespace). Rendered ManagedClusterSets count as existing sets; their
    members are the fleet clusters that list them.
    """
    docs = [obj for obj in objects if isinstance(obj, Mapping)]
    bindings = [_as_binding(b, namespace) for b in existing_bindings]
    bindings += [
        binding_from_object(o, namespace) for o in docs if _is_kind(o, "ManagedClusterSetBinding")
    ]
    known_sets = set(fleet.cluster_sets) | {_name(o) for o in docs if _is_kind(o, "ManagedClusterSet")}
    return [
        preview_placement(o, fleet, bindings, namespace=namespace, cluster_sets=known_sets)
        for o in docs
        if _is_kind(o, "Placement")
    ]


def preview_placement(
    placement: Mapping[str, Any],
    fleet: Fleet,
    bindings: Sequence[Binding] = (),
    *,
    namespace: str = "default",
    cluster_sets: Iterable[str] | None = None,
) -> PlacementPreview:
    """Preview one Placement object against ``fleet`` and ``bindings``.

    ``cluster_sets`` are the ManagedClusterSets that exist (default: the fleet's).
    """
    name = _name(placement)
    ns = (placement.get("metadata") or {}).get("namespace") or namespace
    spec = placement.get("spec") or {}
    known = set(fleet.cluster_sets if cluster_sets is None else cluster_sets)
    notes = _api_version_notes(placement)
    valid = _valid_bindings(bindings, ns, known, notes)
    eligible = _eligible_sets(spec, valid)
    candidates = _candidates(fleet, eligible)
    try:
        selection = _schedule(spec, candidates)
    except _Misconfigured as exc:
        notes.append(Note("misconfigured", f"the hub would not schedule this Placement: {exc}"))
        selection = _Selection((), (), (), [("", ())], [], misconfigured=True)
    notes += selection.notes
    decisions, groups = _decisions(name, ns, selection.groups)
    unscheduled = _unscheduled(spec, selection)
    return PlacementPreview(
        name=name,
        namespace=ns,
        cluster_sets=tuple(eligible),
        candidates=tuple(c.name for c in candidates),
        feasible=selection.feasible,
        chosen=_chosen(decisions),
        groups=groups,
        decisions=decisions,
        uncertain=selection.uncertain,
        unscheduled=unscheduled,
        reason=_reason(valid, eligible, candidates, selection, unscheduled),
        notes=tuple(notes),
    )


def binding_from_object(obj: Mapping[str, Any], namespace: str = "default") -> Binding:
    """A Binding from a ManagedClusterSetBinding object."""
    meta = obj.get("metadata") or {}
    return Binding(
        namespace=meta.get("namespace") or namespace,
        name=meta.get("name", ""),
        cluster_set=(obj.get("spec") or {}).get("clusterSet", ""),
    )


# --- objects -----------------------------------------------------------------


def _is_kind(obj: Mapping[str, Any], kind: str) -> bool:
    return obj.get("kind") == kind and str(obj.get("apiVersion", "")).startswith(f"{GROUP}/")


def _name(obj: Mapping[str, Any]) -> str:
    return (obj.get("metadata") or {}).get("name", "")


def _as_binding(value: Binding | Mapping[str, Any], namespace: str) -> Binding:
    return value if isinstance(value, Binding) else binding_from_object(value, namespace)


def _api_version_notes(placement: Mapping[str, Any]) -> list[Note]:
    version = placement.get("apiVersion")
    if version == PLACEMENT_API_VERSION:
        return []
    message = f"apiVersion {version!r}: the hub serves Placement only as {PLACEMENT_API_VERSION}"
    return [Note("api-version", message)]


# --- cluster sets and bindings -----------------------------------------------


def _valid_bindings(
    bindings: Iterable[Binding], namespace: str, known: set[str], notes: list[Note]
) -> list[str]:
    """Names of the sets validly bound into ``namespace``; notes explain the rest."""
    valid = set()
    for binding in (b for b in bindings if b.namespace == namespace):
        problem = _binding_problem(binding, known)
        if problem:
            notes.append(problem)
        else:
            valid.add(binding.name)
    return sorted(valid)


def _binding_problem(binding: Binding, known: set[str]) -> Note | None:
    prefix = f"ManagedClusterSetBinding {binding.name!r}"
    if binding.name != binding.cluster_set:
        return Note(
            "binding-rejected",
            f"{prefix} binds set {binding.cluster_set!r}: the hub rejects a binding "
            "whose name differs from its clusterSet",
        )
    if binding.name not in known:
        message = f"{prefix}: no such ManagedClusterSet in the fleet, the hub ignores it"
        return Note("unknown-cluster-set", message)
    return None


def _eligible_sets(spec: Mapping[str, Any], bound: list[str]) -> list[str]:
    wanted = spec.get("clusterSets") or []
    return [s for s in bound if s in wanted] if wanted else list(bound)


def _candidates(fleet: Fleet, eligible: list[str]) -> list[Cluster]:
    chosen = {c.name: c for s in eligible for c in fleet.members(s)}
    return [chosen[n] for n in sorted(chosen)]


# --- scheduling --------------------------------------------------------------


class _Misconfigured(Exception):
    """The hub would flag the Placement Misconfigured and select nothing."""


@dataclass
class _Selection:
    feasible: tuple[str, ...]
    uncertain: tuple[str, ...]
    chosen: tuple[str, ...]
    groups: Groups
    notes: list[Note]
    misconfigured: bool = False


def _schedule(spec: Mapping[str, Any], candidates: list[Cluster]) -> _Selection:
    selectors = [
        _compile_selector(p.get("requiredClusterSelector") or {}, f"predicates[{i}]")
        for i, p in enumerate(spec.get("predicates") or [])
    ]
    tolerations = _tolerations(spec)
    verdicts = {c.name: _predicates_verdict(selectors, c) for c in candidates}
    matched = [c for c in candidates if verdicts[c.name] is not False]
    feasible = [c for c in matched if not _excluding_taints(c, tolerations)]
    uncertain = tuple(c.name for c in feasible if verdicts[c.name] is None)
    chosen, truncated = _cap(spec, feasible)
    notes = _selector_notes(spec, selectors, uncertain)
    notes += _taint_notes(matched, tolerations)
    notes += _prioritizer_notes(spec, truncated)
    notes += _policy_notes(spec)
    groups = _decision_groups(spec, chosen)
    names = tuple(c.name for c in chosen)
    return _Selection(tuple(c.name for c in feasible), uncertain, names, groups, notes)


def _cap(spec: Mapping[str, Any], feasible: list[Cluster]) -> tuple[list[Cluster], bool]:
    """Keep the first numberOfClusters (feasible is sorted by name: equal scores)."""
    count = spec.get("numberOfClusters")
    if count is None or count >= len(feasible):
        return list(feasible), False
    return list(feasible[: max(count, 0)]), True


def _unscheduled(spec: Mapping[str, Any], selection: _Selection) -> int:
    count = spec.get("numberOfClusters")
    return max(count - len(selection.chosen), 0) if count is not None else 0


def _reason(
    valid: list[str], eligible: list[str], candidates: list[Cluster], selection: _Selection, unscheduled: int
) -> str:
    """The PlacementSatisfied reason the hub would report (or Misconfigured)."""
    if not valid:
        return "NoManagedClusterSetBindings"
    if not eligible:
        return "NoIntersection"
    if not candidates:
        return "AllManagedClusterSetsEmpty"
    if selection.misconfigured:
        return "Misconfigured"
    if not selection.chosen:
        return "NoManagedClusterMatched"
    return "NotAllDecisionsScheduled" if unscheduled else "AllDecisionsScheduled"


# --- selectors ---------------------------------------------------------------

Requirement = tuple[str, str, tuple[str, ...]]


@dataclass(frozen=True)
class _Selector:
    labels: tuple[Requirement, ...]
    claims: tuple[Requirement, ...]
    cel: tuple[str, ...] = ()

    def verdict(self, cluster: Cluster) -> bool | None:
        """True/False, or None when only the (unevaluated) CEL part decides."""
        if not _matches(self.labels, cluster.labels) or not _matches(self.claims, cluster.claims):
            return False
        verdicts = [_cel_verdict(expression, cluster) for expression in self.cel]
        if False in verdicts:
            return False
        return None if None in verdicts else True


# The one CEL form evaluated here: a cluster's name compared with a string literal (what the chart
# writes for per-cluster placements). Every other expression is left to the hub (None).
_CEL_NAME_EQUALS = re.compile(r"""^\s*managedCluster\.metadata\.name\s*==\s*(?:"([^"\\]*)"|'([^'\\]*)')\s*$""")


def _cel_verdict(expression: str, cluster: Cluster) -> bool | None:
    match = _CEL_NAME_EQUALS.match(expression)
    if not match:
        return None
    return cluster.name == (match.group(1) if match.group(1) is not None else match.group(2))


def _compile_selector(selector: Mapping[str, Any], where: str) -> _Selector:
    label_selector = selector.get("labelSelector") or {}
    claim_selector = selector.get("claimSelector") or {}
    labels = [(k, "In", (v,)) for k, v in sorted((label_selector.get("matchLabels") or {}).items())]
    labels += _expressions(label_selector, f"{where}.labelSelector")
    claims = _expressions(claim_selector, f"{where}.claimSelector")
    cel = tuple((selector.get("celSelector") or {}).get("celExpressions") or ())
    return _Selector(tuple(labels), tuple(claims), cel)


def _expressions(selector: Mapping[str, Any], where: str) -> list[Requirement]:
    expressions = selector.get("matchExpressions") or []
    return [_requirement(e, f"{where}.matchExpressions[{i}]") for i, e in enumerate(expressions)]


def _requirement(expression: Mapping[str, Any], where: str) -> Requirement:
    key, operator = expression.get("key", ""), expression.get("operator")
    values = tuple(expression.get("values") or ())
    if operator not in SELECTOR_OPERATORS:
        raise _Misconfigured(f"{where}: {operator!r} is not a valid selector operator")
    if operator in ("In", "NotIn") and not values:
        raise _Misconfigured(f"{where}: values must be non-empty for {operator}")
    if operator in ("Exists", "DoesNotExist") and values:
        raise _Misconfigured(f"{where}: values must be empty for {operator}")
    return key, operator, values


def _matches(requirements: Iterable[Requirement], data: Mapping[str, str]) -> bool:
    return all(_satisfies(r, data) for r in requirements)


def _satisfies(requirement: Requirement, data: Mapping[str, str]) -> bool:
    key, operator, values = requirement
    if operator == "In":
        return key in data and data[key] in values
    if operator == "NotIn":
        return key not in data or data[key] not in values
    if operator == "Exists":
        return key in data
    return key not in data


def _predicates_verdict(selectors: list[_Selector], cluster: Cluster) -> bool | None:
    """Predicates are ORed: True if one matches, None if one might (CEL), else False."""
    if not selectors:
        return True
    verdicts = [s.verdict(cluster) for s in selectors]
    if True in verdicts:
        return True
    return None if None in verdicts else False


def _selector_notes(
    spec: Mapping[str, Any], selectors: list[_Selector], uncertain: tuple[str, ...]
) -> list[Note]:
    notes = []
    if any(not _CEL_NAME_EQUALS.match(expression) for s in selectors for expression in s.cel):
        which = ", ".join(uncertain) if uncertain else "none"
        message = f"celSelector expressions are not evaluated; clusters assumed to match them: {which}"
        notes.append(Note("cel-selector", message, approximate=bool(uncertain)))
    for i, predicate in enumerate(spec.get("predicates") or []):
        claim_selector = (predicate.get("requiredClusterSelector") or {}).get("claimSelector") or {}
        if "matchLabels" in claim_selector:
            message = (
                f"predicates[{i}].claimSelector.matchLabels is not part of the API "
                "(use matchExpressions); the API server drops it"
            )
            notes.append(Note("ignored-field", message))
    return notes


# --- taints and tolerations --------------------------------------------------


def _tolerations(spec: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    tolerations = list(spec.get("tolerations") or [])
    for i, toleration in enumerate(tolerations):
        operator = toleration.get("operator") or "Equal"
        if not toleration.get("key") and operator != "Exists":
            raise _Misconfigured(f"tolerations[{i}]: if the key is empty, operator must be Exists")
        if operator == "Exists" and toleration.get("value"):
            raise _Misconfigured(f"tolerations[{i}]: if the operator is Exists, the value should be empty")
    return tolerations


def _tolerates(toleration: Mapping[str, Any], taint: Taint) -> bool:
    if toleration.get("effect") and toleration["effect"] != taint.effect:
        return False
    if toleration.get("key") and toleration["key"] != taint.key:
        return False
    if (toleration.get("operator") or "Equal") == "Exists":
        return True
    return (toleration.get("value") or "") == taint.value


def _excluding_taints(cluster: Cluster, tolerations: list[Mapping[str, Any]]) -> list[Taint]:
    """Taints that keep the cluster out (PreferNoSelect never does)."""
    return [
        t for t in cluster.taints
        if t.effect in EXCLUDING_EFFECTS and not any(_tolerates(tol, t) for tol in tolerations)
    ]


def _time_limited(cluster: Cluster, tolerations: list[Mapping[str, Any]]) -> list[Taint]:
    """Excluding taints tolerated only by tolerations with tolerationSeconds."""
    limited = []
    for taint in cluster.taints:
        matching = [tol for tol in tolerations if _tolerates(tol, taint)]
        timed = all(tol.get("tolerationSeconds") is not None for tol in matching)
        if taint.effect in EXCLUDING_EFFECTS and matching and timed:
            limited.append(taint)
    return limited


def _taint_notes(clusters: list[Cluster], tolerations: list[Mapping[str, Any]]) -> list[Note]:
    notes = []
    for cluster in clusters:
        if any(t.effect == "NoSelectIfNew" for t in _excluding_taints(cluster, tolerations)):
            message = (
                f"{cluster.name}: its NoSelectIfNew taint excludes it, assuming it is not "
                "already among this Placement's decisions"
            )
            notes.append(Note("no-select-if-new", message))
        if _time_limited(cluster, tolerations):
            message = (
                f"{cluster.name}: tolerated only for tolerationSeconds, which the preview "
                "does not count down; assumed still tolerated"
            )
            notes.append(Note("toleration-seconds", message, approximate=True))
    return notes


# --- prioritizers and other unevaluated policies ----------------------------


def _prioritizers(spec: Mapping[str, Any]) -> list[str]:
    """Names of the prioritizers with a non-zero weight (Additive mode adds the defaults)."""
    policy = spec.get("prioritizerPolicy") or {}
    mode = policy.get("mode") or "Additive"
    if mode not in ("Additive", "Exact"):
        raise _Misconfigured(f"incorrect prioritizer policy mode: {mode}")
    weights = dict(DEFAULT_PRIORITIZER_WEIGHTS) if mode == "Additive" else {}
    problems: dict[str, str | None] = {}
    for i, config in enumerate(policy.get("configurations") or []):
        coordinate = config.get("scoreCoordinate")
        name = _coordinate_name(coordinate, i)
        weights[name] = config.get("weight", 1)
        problems[name] = _coordinate_problem(coordinate)
    active = sorted(name for name, weight in weights.items() if weight != 0)
    problem = next((problems[name] for name in active if problems.get(name)), None)
    if problem:
        raise _Misconfigured(problem)
    return active


def _coordinate_name(coordinate: Mapping[str, Any] | None, index: int) -> str:
    if not coordinate:
        where = f"prioritizerPolicy.configurations[{index}]"
        raise _Misconfigured(f"{where}: scoreCoordinate field is required")
    if coordinate.get("type") == "AddOn":
        addon = coordinate.get("addOn") or {}
        return f"AddOn/{addon.get('resourceName', '')}/{addon.get('scoreName', '')}"
    return coordinate.get("builtIn", "")


def _coordinate_problem(coordinate: Mapping[str, Any]) -> str | None:
    """Why the hub's scheduler would refuse a prioritizer it uses (weight not 0), as OCM words it."""
    if coordinate.get("type") == "AddOn":
        return None if coordinate.get("addOn") is not None else "addOn should not be empty"
    builtin = coordinate.get("builtIn", "")
    return None if builtin in BUILTIN_PRIORITIZERS else f"incorrect builtin prioritizer: {builtin}"


def _prioritizer_notes(spec: Mapping[str, Any], truncated: bool) -> list[Note]:
    active = _prioritizers(spec)
    live = [p for p in active if p not in DECISION_STATE_PRIORITIZERS]
    if live:
        effect = (
            "numberOfClusters keeps the highest scores, so the chosen clusters are approximate"
            if truncated
            else "every feasible cluster is chosen, so scores change nothing"
        )
        names = ", ".join(live)
        message = f"prioritizers {names} score clusters from live hub state and are not evaluated; {effect}"
        return [Note("prioritizer", message, approximate=truncated)]
    if truncated and active:
        message = (
            f"numberOfClusters keeps the highest scores; {', '.join(active)} depend on PlacementDecisions "
            "already on the hub, so all scores are taken as equal and ties are broken by cluster name"
        )
        return [Note("prioritizer", message, approximate=True)]
    return []


def _policy_notes(spec: Mapping[str, Any]) -> list[Note]:
    notes = []
    if (spec.get("spreadPolicy") or {}).get("spreadConstraints"):
        notes.append(Note("spread-policy", "spreadPolicy is not evaluated", approximate=True))
    if spec.get("sortBy") == "Score":
        message = "sortBy Score orders decisions by score, which is not computed; decisions are listed by name"
        notes.append(Note("sort-by-score", message))
    return notes


# --- decision groups and PlacementDecisions ----------------------------------


def _group_length(value: Any, total: int) -> int:
    """clustersPerDecisionGroup as a count: int, or percentage of total rounded up."""
    if isinstance(value, bool):
        raise _Misconfigured(f"clustersPerDecisionGroup {value!r} is not a number or percentage")
    if isinstance(value, str):
        if not value.endswith("%"):
            raise _Misconfigured(f"clustersPerDecisionGroup {value!r} is not a percentage")
        try:
            length = math.ceil(float(value[:-1]) / 100 * total)
        except ValueError:
            raise _Misconfigured(f"clustersPerDecisionGroup {value!r} is not a percentage") from None
    else:
        length = int(value)
    return total if length <= 0 or length > total else length


def _decision_groups(spec: Mapping[str, Any], chosen: list[Cluster]) -> Groups:
    strategy = (spec.get("decisionStrategy") or {}).get("groupStrategy") or {}
    length = _group_length(strategy.get("clustersPerDecisionGroup", "100%"), len(chosen))
    remaining = sorted(chosen, key=lambda c: c.name)
    groups: Groups = []
    for i, group in enumerate(strategy.get("decisionGroups") or []):
        where = f"decisionGroups[{i}].groupClusterSelector"
        selector = _compile_selector(group.get("groupClusterSelector") or {}, where)
        matched = [c for c in remaining if selector.verdict(c) is not False]
        remaining = [c for c in remaining if selector.verdict(c) is False]
        groups += _split(group.get("groupName", ""), [c.name for c in matched], length)
    groups += _split("", [c.name for c in remaining], length)
    return groups or [("", ())]


def _split(name: str, clusters: list[str], length: int) -> Groups:
    return [(name, tuple(clusters[i : i + length])) for i in range(0, len(clusters), max(length, 1))]


def _decisions(
    placement: str, namespace: str, groups: Groups
) -> tuple[tuple[Decision, ...], tuple[DecisionGroup, ...]]:
    """PlacementDecisions of at most 100 clusters, numbered from 1 across all groups."""
    decisions: list[Decision] = []
    views: list[DecisionGroup] = []
    for index, (group_name, clusters) in enumerate(groups):
        names = []
        for chunk in _chunks(clusters):
            name = f"{placement}-decision-{len(decisions) + 1}"
            decision = Decision(name, namespace, placement, index, group_name, chunk)
            decisions.append(decision)
            names.append(decision.name)
        views.append(DecisionGroup(index, group_name, clusters, tuple(names)))
    return tuple(decisions), tuple(views)


def _chunks(clusters: tuple[str, ...]) -> list[tuple[str, ...]]:
    size = MAX_DECISIONS_PER_OBJECT
    return [clusters[i : i + size] for i in range(0, len(clusters), size)] or [()]


def _chosen(decisions: tuple[Decision, ...]) -> tuple[ChosenCluster, ...]:
    return tuple(
        ChosenCluster(cluster, d.group_index, d.group_name, d.name)
        for d in decisions
        for cluster in d.clusters
    )


# --- one cluster -------------------------------------------------------------


def label_selector_matches(label_selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    """A Kubernetes label selector (matchLabels, matchExpressions) against a set of labels."""
    try:
        compiled = _compile_selector({"labelSelector": label_selector}, "labelSelector")
    except _Misconfigured:
        return False
    return _matches(compiled.labels, labels)


def explain_cluster(
    placement: Mapping[str, Any],
    cluster_name: str,
    fleet: Fleet,
    bindings: Sequence[Binding] = (),
    *,
    namespace: str = "default",
    cluster_sets: Iterable[str] | None = None,
) -> tuple[bool, str]:
    """Whether the hub's scheduler could choose ``cluster_name`` for ``placement``, and why not:
    the first filter it fails (cluster sets, predicates, taints), in the scheduler's order.
    (True, ...) means it passes every filter; numberOfClusters and prioritizers decide the rest."""
    cluster = fleet.cluster(cluster_name)
    if cluster is None:
        return False, f"there is no ManagedCluster {cluster_name}"
    spec = placement.get("spec") or {}
    ns = (placement.get("metadata") or {}).get("namespace") or namespace
    known = set(fleet.cluster_sets if cluster_sets is None else cluster_sets)
    eligible = _eligible_sets(spec, _valid_bindings(bindings, ns, known, []))
    if not set(eligible) & set(cluster.cluster_sets):
        usable = ", ".join(eligible) or f"none bound to namespace {ns}"
        return False, (f"it is in cluster set(s) {', '.join(cluster.cluster_sets) or '(none)'}, not in one the "
                       f"placement uses ({usable})")
    try:
        selectors = [_compile_selector(p.get("requiredClusterSelector") or {}, f"predicates[{i}]")
                     for i, p in enumerate(spec.get("predicates") or [])]
        excluding = _excluding_taints(cluster, _tolerations(spec))
    except _Misconfigured as exc:
        return False, f"the placement is misconfigured: {exc}"
    if _predicates_verdict(selectors, cluster) is False:
        wanted = " or ".join(f"({_describe(s)})" for s in selectors)
        return False, f"its labels and claims match none of the placement's predicates: {wanted}"
    if excluding:
        taint = excluding[0]
        return False, f"its taint {taint.key} ({taint.effect}) is not tolerated by the placement"
    return True, "it passes the placement's cluster sets, predicates and tolerations"


def _describe(selector: _Selector) -> str:
    def one(kind: str, requirement: Requirement) -> str:
        key, operator, values = requirement
        if operator == "In":
            return f"{kind} {key}={values[0]}" if len(values) == 1 else f"{kind} {key} in ({', '.join(values)})"
        if operator == "NotIn":
            return f"{kind} {key} not in ({', '.join(values)})"
        return f"{kind} {key} {'exists' if operator == 'Exists' else 'absent'}"

    parts = [one("label", r) for r in selector.labels] + [one("claim", r) for r in selector.claims]
    parts += [f"CEL {expression}" for expression in selector.cel]
    return " and ".join(parts) or "any cluster"
