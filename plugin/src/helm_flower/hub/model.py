"""Pure interpretation of OCM objects: compact records and the states shown by ``status``.

Reading 10,000 clusters must stay cheap in time and memory, so every object is reduced to a
small tuple-like record as soon as its page arrives (:func:`addon_record`,
:func:`work_record`) and the page is dropped.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .. import flower_versions
from .resources import MW_PLACEMENT_LABEL

FLOWER_VERSION_LABEL = "flower.ai/flower-version"  # on ClientApp pods built by `helm flower images`

# States shown in the SuperNode / ClientApp columns.
AVAILABLE = "available"
DEGRADED = "degraded"
UNAVAILABLE = "unavailable"
UNKNOWN = "unknown"
UNREACHABLE = "unreachable"  # the cluster's agent stopped renewing its lease: offline, objects kept
PROGRESSING = "progressing"
MISSING = "missing"
NOT_READY = "not ready"
FAILED = "failed"
PENDING = "pending"
WAITING = "waiting"  # ClientApp waits for the SuperNode / its placement
ROLLING_OUT = "rolling out"  # chosen by the ClientApp placement, not reached by the rollout yet
NONE = "-"  # no ClientApp targets this cluster


# Reasons OCM's addon manager gives on a ManagedClusterAddOn's Available=Unknown when the cluster's
# klusterlet stopped renewing its lease (seen on a real hub: OCM v1.2).
UNREACHABLE_REASONS = frozenset({"ManagedClusterLeaseUpdateStopped"})


def conditions(obj: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c.get("type", ""): c for c in ((obj.get("status") or {}).get("conditions") or [])}


def _msg(c: dict[str, Any] | None) -> str:
    if not c:
        return ""
    reason, message = c.get("reason") or "", (c.get("message") or "").strip()
    if reason and message:
        return f"{reason}: {message}"
    return reason or message


@dataclass(frozen=True, slots=True)
class AddonRecord:
    """A ManagedClusterAddOn reduced to what status shows."""

    state: str
    reason: str
    rv: str = ""
    # The AddOnDeploymentConfig the SuperNode runs with (its lastAppliedConfig equals the desired
    # one); "" while OCM rolls a changed config out, or when not reported.
    config: str = ""

    @property
    def available(self) -> bool:
        # A degraded SuperNode still runs and serves: it counts as available (the reason says why).
        return self.state in (AVAILABLE, DEGRADED)


def applied_deployment_config(obj: dict[str, Any]) -> str:
    """The AddOnDeploymentConfig a ManagedClusterAddOn's SuperNode was last given, when that is
    also the desired one (status.configReferences); "" while a changed config rolls out."""
    for ref in (obj.get("status") or {}).get("configReferences") or ():
        if ref.get("resource") != "addondeploymentconfigs":
            continue
        desired, last = ref.get("desiredConfig") or {}, ref.get("lastAppliedConfig") or {}
        if desired.get("specHash") and desired.get("specHash") == last.get("specHash"):
            return str(desired.get("name") or ref.get("name") or "")
        return ""
    return ""


def addon_record(obj: dict[str, Any]) -> AddonRecord:
    """The SuperNode state of a cluster from its ManagedClusterAddOn's conditions."""
    rec = _addon_state(obj)
    config = applied_deployment_config(obj)
    return AddonRecord(rec.state, rec.reason, rec.rv, config) if config else rec


def _addon_state(obj: dict[str, Any]) -> AddonRecord:
    conds = conditions(obj)
    avail, degraded, progressing = conds.get("Available"), conds.get("Degraded"), conds.get("Progressing")
    rv = str((obj.get("metadata") or {}).get("resourceVersion") or "")
    if avail and avail.get("status") == "True":
        if degraded and degraded.get("status") == "True":
            return AddonRecord(DEGRADED, _msg(degraded), rv)
        return AddonRecord(AVAILABLE, "", rv)
    if avail and avail.get("status") == "False":
        return AddonRecord(UNAVAILABLE, _msg(avail), rv)
    if progressing and progressing.get("status") == "True":
        return AddonRecord(PROGRESSING, _msg(progressing) or _msg(avail), rv)
    if avail and avail.get("reason") in UNREACHABLE_REASONS:
        return AddonRecord(UNREACHABLE, f"{_msg(avail)} The cluster is offline; OCM keeps its SuperNode and "
                                        "ClientApps (hubAddon.offlineToleranceSeconds) and they resume when it "
                                        "returns.", rv)
    if avail:  # Unknown
        return AddonRecord(UNKNOWN, _msg(avail), rv)
    applied = conds.get("ManifestApplied")
    if applied and applied.get("status") == "False":
        return AddonRecord(PROGRESSING, _msg(applied), rv)
    return AddonRecord(PENDING, "the addon manager has not reported on this cluster yet", rv)


@dataclass(frozen=True, slots=True)
class WorkRecord:
    """A ClientApp ManifestWork reduced to what status shows."""

    cluster: str
    mwrs: str  # MWRS name (from the owner label)
    placement: str  # placement that created it (label), "" if absent
    name: str
    state: str
    reason: str
    flower: str = ""  # Flower major.minor of the SuperExec it ships ("" = not known)

    @property
    def available(self) -> bool:
        return self.state == AVAILABLE


def _feedback(obj: dict[str, Any]) -> dict[str, Any] | None:
    """WellKnownStatus feedback of the Deployment in the work (ReadyReplicas, Replicas, AvailableReplicas)."""
    manifests = ((obj.get("status") or {}).get("resourceStatus") or {}).get("manifests") or []
    for m in manifests:
        meta = m.get("resourceMeta") or {}
        if meta.get("kind") == "Deployment" or meta.get("resource") == "deployments":
            values = (m.get("statusFeedback") or {}).get("values") or []
            if not values:
                return None
            out: dict[str, Any] = {}
            for v in values:
                fv = v.get("fieldValue") or {}
                out[v.get("name", "")] = fv.get("integer", fv.get("string", fv.get("boolean")))
            return out
    return None


def minor_of_image(reference: str) -> str:
    """Flower major.minor of an official image reference by its tag ("" when unknown)."""
    tag = flower_versions.image_tag(reference)
    found = flower_versions.parse(tag) if tag else None
    return flower_versions.mm(found) if found else ""


def clientapp_flower(obj: dict[str, Any]) -> str:
    """Flower major.minor of the SuperExec a ClientApp ManifestWork ships, the way validate derives
    it (FLW210): the pod's flower.ai/flower-version label, else the tag of an official
    (.../flwr/...) image; "" when neither says."""
    for m in ((obj.get("spec") or {}).get("workload") or {}).get("manifests") or ():
        if m.get("kind") != "Deployment":
            continue
        template = (m.get("spec") or {}).get("template") or {}
        found = flower_versions.parse(((template.get("metadata") or {}).get("labels") or {}).get(FLOWER_VERSION_LABEL))
        if found:
            return flower_versions.mm(found)
        for c in (template.get("spec") or {}).get("containers") or ():
            image = str(c.get("image") or "")
            if c.get("name") == "superexec" and flower_versions.is_official(flower_versions.image_repository(image)):
                return minor_of_image(image)
    return ""


def work_record(obj: dict[str, Any], mwrs_name: str) -> WorkRecord:
    md = obj.get("metadata") or {}
    labels = md.get("labels") or {}
    cluster, name, placement = md.get("namespace", ""), md.get("name", ""), labels.get(MW_PLACEMENT_LABEL, "")
    flower = clientapp_flower(obj)

    def rec(state: str, reason: str) -> WorkRecord:
        return WorkRecord(cluster, mwrs_name, placement, name, state, reason, flower)

    if md.get("deletionTimestamp"):
        return rec(PROGRESSING, "being deleted")
    applied = available = degraded = progressing = None
    status = obj.get("status") or {}
    for c in status.get("conditions") or ():  # one pass: this runs for every work of the fleet
        t = c.get("type")
        if t == "Applied":
            applied = c
        elif t == "Available":
            available = c
        elif t == "Degraded":
            degraded = c
        elif t == "Progressing":
            progressing = c
    if applied is None and available is None and degraded is None and progressing is None:
        return rec(PENDING, "the work agent has not reported yet (cluster offline or agent not running?)")
    if applied and applied.get("status") == "False":
        return rec(FAILED, _msg(applied))
    if degraded and degraded.get("status") == "True":
        return rec(DEGRADED, _msg(degraded))
    if available and available.get("status") == "False":
        return rec(NOT_READY, _msg(available))
    fb = _feedback(obj)
    if fb is not None:
        ready = fb.get("AvailableReplicas", fb.get("ReadyReplicas"))
        want = fb.get("Replicas")
        if isinstance(ready, int) and ready < max(1, want if isinstance(want, int) else 1):
            return rec(NOT_READY, f"SuperExec Deployment {ready or 0}/{want if isinstance(want, int) else 1} "
                                  "replicas available")
        if available and available.get("status") == "True":
            return rec(AVAILABLE, "")
    if available and available.get("status") == "True":
        if progressing and progressing.get("status") == "True":
            return rec(PROGRESSING, _msg(progressing))
        return rec(AVAILABLE, "")
    if progressing and progressing.get("status") == "True":
        return rec(PROGRESSING, _msg(progressing))
    return rec(PENDING, _msg(available) or _msg(applied) or "no Available condition yet")


WORK_RANK = {FAILED: 0, DEGRADED: 1, NOT_READY: 2, PENDING: 3, PROGRESSING: 4, AVAILABLE: 5}


def worst(records: list[WorkRecord]) -> WorkRecord:
    """Of several works of one MWRS on one cluster (overlapping placements), the least ready."""
    return min(records, key=lambda r: (WORK_RANK.get(r.state, 0), r.name))


def condition_summary(obj: dict[str, Any], types: tuple[str, ...]) -> dict[str, dict[str, str]]:
    conds = conditions(obj)
    return {t: {"status": conds[t].get("status", ""), "reason": conds[t].get("reason", ""),
                "message": conds[t].get("message", "")} for t in types if t in conds}
