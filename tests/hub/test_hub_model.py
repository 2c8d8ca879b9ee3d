"""helm_flower.hub.model, object by object: the SuperNode and ClientApp states `status` shows for a
ManagedClusterAddOn's and a ManifestWork's conditions and status feedback, and the Flower minor of the
SuperExec a work ships. The fleet tests reach these through a hub; these pin each branch the mutation
run (make mutation) found unchecked."""

from __future__ import annotations

from typing import Any

import pytest

from helm_flower.hub import model
from helm_flower.hub.resources import MW_PLACEMENT_LABEL


def cond(kind: str, status: str, reason: str = "", message: str = "") -> dict[str, str]:
    return {"type": kind, "status": status, "reason": reason, "message": message}


def addon(*conditions: dict[str, str], refs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    status: dict[str, Any] = {"conditions": list(conditions)}
    if refs is not None:
        status["configReferences"] = refs
    return {"metadata": {"resourceVersion": "42"}, "status": status}


def work(*conditions: dict[str, str], feedback: list[dict[str, Any]] | None = None,
         manifests: list[dict[str, Any]] | None = None, deleting: bool = False) -> dict[str, Any]:
    md: dict[str, Any] = {"namespace": "c1", "name": "w1", "labels": {MW_PLACEMENT_LABEL: "eu"}}
    if deleting:
        md["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    status: dict[str, Any] = {"conditions": list(conditions)}
    if feedback is not None:
        status["resourceStatus"] = {"manifests": [
            {"resourceMeta": {"kind": "ConfigMap"}, "statusFeedback": {"values": [{"name": "x"}]}},
            {"resourceMeta": {"resource": "deployments"}, "statusFeedback": {"values": feedback}}]}
    return {"metadata": md, "spec": {"workload": {"manifests": manifests or []}}, "status": status}


def replicas(**counts: int) -> list[dict[str, Any]]:
    return [{"name": name, "fieldValue": {"type": "Integer", "integer": n}} for name, n in counts.items()]


@pytest.mark.parametrize("condition, text", [
    ({"reason": "R", "message": " it broke \n"}, "R: it broke"), ({"reason": "R"}, "R"),
    ({"message": "only text"}, "only text"), ({}, ""), (None, ""),
])
def test_a_condition_reads_reason_colon_message(condition, text):
    assert model._msg(condition) == text


@pytest.mark.parametrize("conditions, state, reason", [
    ([cond("Available", "True"), cond("Degraded", "True", "Slow", "disk")], model.DEGRADED, "Slow: disk"),
    ([cond("Available", "True"), cond("Degraded", "False", "Fine")], model.AVAILABLE, ""),
    ([cond("Available", "False", "Crash", "loop")], model.UNAVAILABLE, "Crash: loop"),
    ([cond("Available", "Unknown", "Wait"), cond("Progressing", "True", "", "")], model.PROGRESSING, "Wait"),
    ([cond("Available", "Unknown", "ManagedClusterLeaseUpdateStopped", "lease")], model.UNREACHABLE,
     "ManagedClusterLeaseUpdateStopped: lease The cluster is offline; OCM keeps its SuperNode and ClientApps "
     "(hubAddon.offlineToleranceSeconds) and they resume when it returns."),
    ([cond("Available", "Unknown", "Odd")], model.UNKNOWN, "Odd"),
    ([cond("ManifestApplied", "False", "Apply", "denied")], model.PROGRESSING, "Apply: denied"),
    ([cond("ManifestApplied", "True")], model.PENDING, "the addon manager has not reported on this cluster yet"),
])
def test_supernode_state_from_the_addon_conditions(conditions, state, reason):
    rec = model.addon_record(addon(*conditions))
    assert (rec.state, rec.reason, rec.rv, rec.config) == (state, reason, "42", "")
    assert rec.available is (state in (model.AVAILABLE, model.DEGRADED))


def test_applied_deployment_config_only_once_rolled_out():
    adc = {"resource": "addondeploymentconfigs", "name": "ref-name"}
    rolled = {**adc, "desiredConfig": {"name": "cfg", "specHash": "h1"}, "lastAppliedConfig": {"specHash": "h1"}}
    unnamed = {**adc, "desiredConfig": {"specHash": "h1"}, "lastAppliedConfig": {"specHash": "h1"}}
    rolling = {**adc, "desiredConfig": {"name": "cfg", "specHash": "h2"}, "lastAppliedConfig": {"specHash": "h1"}}
    other = {"resource": "configmaps", "desiredConfig": {"name": "no", "specHash": "h"},
             "lastAppliedConfig": {"specHash": "h"}}
    ok = cond("Available", "True")
    assert model.addon_record(addon(ok, refs=[other, rolled])) == model.AddonRecord(model.AVAILABLE, "", "42", "cfg")
    assert model.addon_record(addon(ok, refs=[unnamed])).config == "ref-name"
    assert model.addon_record(addon(ok, refs=[rolling, rolled])).config == ""
    assert model.addon_record(addon(ok, refs=[{**adc, "desiredConfig": {}, "lastAppliedConfig": {}}])).config == ""
    nameless = {"resource": "addondeploymentconfigs", "desiredConfig": {"specHash": "h"},
                "lastAppliedConfig": {"specHash": "h"}}
    assert model.applied_deployment_config(addon(ok, refs=[nameless])) == ""
    assert model.addon_record(addon(ok, refs=[rolled])).state == model.AVAILABLE


@pytest.mark.parametrize("obj, state, reason", [
    (work(cond("Available", "True"), deleting=True), model.PROGRESSING, "being deleted"),
    (work(), model.PENDING, "the work agent has not reported yet (cluster offline or agent not running?)"),
    (work(cond("Applied", "False", "Bad", "manifest"), cond("Available", "True")), model.FAILED, "Bad: manifest"),
    (work(cond("Degraded", "True", "Half"), cond("Available", "True")), model.DEGRADED, "Half"),
    (work(cond("Available", "False", "Down")), model.NOT_READY, "Down"),
    (work(cond("Available", "True"), cond("Progressing", "True", "Rolling")), model.PROGRESSING, "Rolling"),
    (work(cond("Available", "True"), cond("Progressing", "False")), model.AVAILABLE, ""),
    (work(cond("Progressing", "True", "Start")), model.PROGRESSING, "Start"),
    (work(cond("Applied", "True", "Applied", "ok")), model.PENDING, "Applied: ok"),
    (work(cond("Available", "Unknown", "Unk"), cond("Applied", "True", "Applied")), model.PENDING, "Unk"),
    (work(cond("Progressing", "False")), model.PENDING, "no Available condition yet"),
])
def test_clientapp_state_from_the_work_conditions(obj, state, reason):
    rec = model.work_record(obj, "mwrs-a")
    assert (rec.cluster, rec.mwrs, rec.placement, rec.name) == ("c1", "mwrs-a", "eu", "w1")
    assert (rec.state, rec.reason) == (state, reason)
    assert rec.available is (state == model.AVAILABLE)


@pytest.mark.parametrize("feedback, state, reason", [
    (replicas(AvailableReplicas=0, Replicas=2), model.NOT_READY, "SuperExec Deployment 0/2 replicas available"),
    (replicas(AvailableReplicas=1, Replicas=2), model.NOT_READY, "SuperExec Deployment 1/2 replicas available"),
    (replicas(ReadyReplicas=0), model.NOT_READY, "SuperExec Deployment 0/1 replicas available"),
    (replicas(AvailableReplicas=2, Replicas=2), model.AVAILABLE, ""),
    (replicas(AvailableReplicas=1), model.AVAILABLE, ""),
    ([{"name": "AvailableReplicas", "fieldValue": {"type": "String", "string": "0"}}], model.AVAILABLE, ""),
    ([], model.PROGRESSING, "Rolling"),
])
def test_superexec_replicas_from_the_status_feedback(feedback, state, reason):
    obj = work(cond("Available", "True"), cond("Progressing", "True", "Rolling"), feedback=feedback)
    rec = model.work_record(obj, "m")
    assert (rec.state, rec.reason) == (state, reason)


@pytest.mark.parametrize("conditions, state, reason", [
    ([cond("Available", "Unknown", "Unk")], model.PENDING, "Unk"),
    ([cond("Applied", "True", "Applied")], model.PENDING, "Applied"),
])
def test_full_replicas_are_not_available_without_the_available_condition(conditions, state, reason):
    rec = model.work_record(work(*conditions, feedback=replicas(AvailableReplicas=2, Replicas=2)), "m")
    assert (rec.state, rec.reason) == (state, reason)


def test_feedback_found_by_kind_as_well_as_by_resource():
    obj = work(cond("Available", "True"))
    obj["status"]["resourceStatus"] = {"manifests": [
        {"resourceMeta": {"kind": "Deployment"}, "statusFeedback": {"values": replicas(AvailableReplicas=0)}}]}
    assert model.work_record(obj, "m").state == model.NOT_READY


def test_a_work_without_a_placement_label_has_no_placement():
    obj = work(cond("Available", "True"))
    obj["metadata"]["labels"] = {}
    assert model.work_record(obj, "m").placement == ""


def test_feedback_values_keep_their_type():
    values = [{"name": "a", "fieldValue": {"integer": 3}}, {"name": "b", "fieldValue": {"string": "s"}},
              {"name": "c", "fieldValue": {"boolean": False}}, {"fieldValue": {}}]
    assert model._feedback(work(feedback=values)) == {"a": 3, "b": "s", "c": False, "": None}
    assert model._feedback(work()) is None


def deployment(labels: dict[str, str] | None = None, **containers: str) -> dict[str, Any]:
    return {"kind": "Deployment", "spec": {"template": {"metadata": {"labels": labels or {}}, "spec": {
        "containers": [{"name": name, "image": image} for name, image in containers.items()]}}}}


@pytest.mark.parametrize("manifests, flower", [
    ([deployment(superexec="flwr/superexec:1.42.0")], "1.42"),
    ([deployment(superexec="docker.io/flwr/superexec:1.41.1-py3.11")], "1.41"),
    ([deployment({model.FLOWER_VERSION_LABEL: "1.41.0"}, superexec="flwr/superexec:1.42.0")], "1.41"),
    ([deployment({model.FLOWER_VERSION_LABEL: "soon"}, superexec="flwr/superexec:1.42.0")], "1.42"),
    ([deployment(superexec="registry.example/me/superexec:1.42.0")], ""),
    ([deployment(sidecar="flwr/superexec:1.42.0")], ""),
    ([deployment(superexec="flwr/superexec:latest")], ""),
    ([{"kind": "ConfigMap", "metadata": {"labels": {model.FLOWER_VERSION_LABEL: "1.41"}}},
      deployment(superexec="flwr/superexec:1.42.0")], "1.42"),
    ([], ""),
])
def test_flower_minor_of_the_superexec_a_work_ships(manifests, flower):
    assert model.work_record(work(manifests=manifests), "m").flower == flower


@pytest.mark.parametrize("reference, minor", [
    ("flwr/superexec:1.42.0", "1.42"), ("flwr/superexec", ""), ("flwr/superexec:latest", ""),
    ("flwr/superexec@sha256:" + "a" * 64, ""),
])
def test_minor_of_image(reference, minor):
    assert model.minor_of_image(reference) == minor


def test_worst_is_the_least_ready_then_the_first_name():
    def rec(name: str, state: str) -> model.WorkRecord:
        return model.WorkRecord("c", "m", "p", name, state, "")

    assert model.worst([rec("b", model.AVAILABLE), rec("a", model.PENDING), rec("c", model.NOT_READY)]).name == "c"
    assert model.worst([rec("b", model.FAILED), rec("a", model.FAILED)]).name == "a"
    assert model.worst([rec("a", model.DEGRADED), rec("b", "strange")]).name == "b"  # unknown ranks worst


def test_condition_summary_lists_the_asked_types_that_exist():
    obj = addon(cond("Available", "True", "Up", "fine"), {"type": "Degraded"})
    assert model.condition_summary(obj, ("Available", "Degraded", "Progressing")) == {
        "Available": {"status": "True", "reason": "Up", "message": "fine"},
        "Degraded": {"status": "", "reason": "", "message": ""}}
