"""The test server speaks Kubernetes API HTTP to the real `kubernetes` client: these tests pin the
behaviour the other tests rely on (paging, selectors, 201, PUT conflicts, /version, watches with
resourceVersion, 401/403/404/410)."""

from __future__ import annotations

import json
import threading
import time

import fakehub
import pytest
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

G, V = "cluster.open-cluster-management.io", "v1beta1"


def pd(name: str, placement: str, ns: str = "flower", clusters=("a",)) -> dict:
    return {"apiVersion": f"{G}/{V}", "kind": "PlacementDecision",
            "metadata": {"name": name, "namespace": ns,
                         "labels": {"cluster.open-cluster-management.io/placement": placement, "tier": name[-1]}},
            "status": {"decisions": [{"clusterName": c, "reason": ""} for c in clusters]}}


@pytest.fixture
def api(make_hub):
    hub = make_hub(token="secret")
    cfg = client.Configuration()
    cfg.host = hub.url
    cfg.api_key = {"authorization": "Bearer secret"}
    api_client = client.ApiClient(cfg)
    yield hub, client.CustomObjectsApi(api_client), api_client
    api_client.close()


def test_create_returns_201_and_the_object(api):
    hub, custom, _ = api
    created, status, _ = custom.create_namespaced_custom_object_with_http_info(
        G, V, "flower", "placementdecisions", pd("p-decision-1", "p"))
    assert status == 201
    assert created["metadata"]["resourceVersion"]
    with pytest.raises(ApiException) as exc:
        custom.create_namespaced_custom_object(G, V, "flower", "placementdecisions", pd("p-decision-1", "p"))
    assert exc.value.status == 409


def test_paging_with_limit_and_continue(api):
    hub, custom, _ = api
    hub.create_many(pd(f"p-decision-{i:03d}", "p") for i in range(250))
    seen, pages, token = [], 0, None
    while True:
        kw = {"limit": 100, **({"_continue": token} if token else {})}
        page = custom.list_namespaced_custom_object(G, V, "flower", "placementdecisions", **kw)
        pages += 1
        seen += [o["metadata"]["name"] for o in page["items"]]
        token = page["metadata"].get("continue")
        if token:
            assert page["metadata"]["remainingItemCount"] == 250 - len(seen)
        else:
            break
    assert pages == 3 and len(seen) == 250 == len(set(seen))


def test_label_and_field_selectors(api):
    hub, custom, _ = api
    hub.create_many([pd("x-decision-1", "x"), pd("y-decision-2", "y"), pd("z-decision-3", "z"),
                     pd("x-decision-1", "x", ns="other")])

    def names(**kw):
        return sorted(o["metadata"]["name"] for o in custom.list_namespaced_custom_object(
            G, V, "flower", "placementdecisions", **kw)["items"])

    key = "cluster.open-cluster-management.io/placement"
    assert names(label_selector=f"{key} in (x,z)") == ["x-decision-1", "z-decision-3"]
    assert names(label_selector=f"{key} notin (x,z)") == ["y-decision-2"]
    assert names(label_selector=f"{key}!=y,tier") == ["x-decision-1", "z-decision-3"]
    assert names(label_selector="!tier") == []
    assert names(field_selector="metadata.name=y-decision-2") == ["y-decision-2"]
    everywhere = custom.list_cluster_custom_object(G, V, "placementdecisions", field_selector="metadata.name=x-decision-1")
    assert sorted(o["metadata"]["namespace"] for o in everywhere["items"]) == ["flower", "other"]
    with pytest.raises(ApiException) as exc:
        names(field_selector="spec.foo=bar")
    assert exc.value.status == 400


def test_put_with_stale_resource_version_conflicts(api):
    hub, custom, _ = api
    obj = custom.create_namespaced_custom_object(G, V, "flower", "placementdecisions", pd("p-decision-1", "p"))
    obj["status"]["decisions"].append({"clusterName": "b", "reason": ""})
    new = custom.replace_namespaced_custom_object(G, V, "flower", "placementdecisions", "p-decision-1", obj)
    assert int(new["metadata"]["resourceVersion"]) > int(obj["metadata"]["resourceVersion"])
    with pytest.raises(ApiException) as exc:  # obj still carries the old resourceVersion
        custom.replace_namespaced_custom_object(G, V, "flower", "placementdecisions", "p-decision-1", obj)
    assert exc.value.status == 409


def test_version_endpoint(api):
    _, _, api_client = api
    info = client.VersionApi(api_client).get_code()
    assert info.major == "1" and info.git_version.startswith("v1.33")


def test_watch_from_resource_version_sees_changes_and_label_transitions(api):
    hub, custom, _ = api
    hub.create_many([pd("p-decision-1", "p")])
    listed = custom.list_namespaced_custom_object(G, V, "flower", "placementdecisions",
                                                  label_selector="cluster.open-cluster-management.io/placement=p")
    rv = listed["metadata"]["resourceVersion"]
    events: list[tuple[str, str]] = []
    w = watch.Watch()

    def consume() -> None:
        for ev in w.stream(custom.list_namespaced_custom_object, G, V, "flower", "placementdecisions",
                           label_selector="cluster.open-cluster-management.io/placement=p",
                           resource_version=rv, timeout_seconds=5):
            events.append((ev["type"], ev["object"]["metadata"]["name"]))
            if len(events) == 3:
                w.stop()

    t = threading.Thread(target=consume)
    t.start()
    while hub.open_watches < 1:
        time.sleep(0.01)
    hub.patch(f"{G}/{V}", "PlacementDecision", "p-decision-1", {"status": {"decisions": []}}, "flower")
    hub.create(pd("q-decision-1", "q"))  # other label: not seen
    hub.patch(f"{G}/{V}", "PlacementDecision", "p-decision-1",
              {"metadata": {"labels": {"cluster.open-cluster-management.io/placement": "q"}}}, "flower")
    hub.create(pd("p-decision-2", "p"))
    t.join(timeout=10)
    assert events == [("MODIFIED", "p-decision-1"), ("DELETED", "p-decision-1"), ("ADDED", "p-decision-2")]


def test_watch_ends_at_timeout_seconds_and_too_old_versions_are_gone(api):
    hub, custom, _ = api
    hub.create_many([pd("p-decision-1", "p")])  # compacts history: versions before now are gone
    start = time.monotonic()
    events = list(watch.Watch().stream(custom.list_namespaced_custom_object, G, V, "flower", "placementdecisions",
                                       resource_version=str(hub.rv), timeout_seconds=1))
    assert events == [] and 0.9 < time.monotonic() - start < 5
    with pytest.raises(ApiException) as exc:
        list(watch.Watch().stream(custom.list_namespaced_custom_object, G, V, "flower", "placementdecisions",
                                  resource_version="1", timeout_seconds=1))
    assert exc.value.status == 410


def test_errors_401_403_404(api, make_hub):
    hub, custom, api_client = api
    hub.deny("list", "placementdecisions", G, "flower")
    with pytest.raises(ApiException) as exc:
        custom.list_namespaced_custom_object(G, V, "flower", "placementdecisions")
    assert exc.value.status == 403
    assert 'cannot list resource "placementdecisions" in API group "cluster.open-cluster-management.io" ' \
           'in the namespace "flower"' in json.loads(exc.value.body)["message"]
    custom.list_namespaced_custom_object(G, V, "other", "placementdecisions")  # other namespaces still allowed
    hub.remove_group(G)
    with pytest.raises(ApiException) as exc:
        custom.list_namespaced_custom_object(G, V, "flower", "placements")
    assert exc.value.status == 404 and "could not find the requested resource" in exc.value.body
    api_client.configuration.api_key = {"authorization": "Bearer wrong"}
    with pytest.raises(ApiException) as exc:
        custom.list_cluster_custom_object("work.open-cluster-management.io", "v1", "manifestworks")
    assert exc.value.status == 401


def test_label_selector_parser_matches_kubernetes_semantics():
    sel = fakehub.parse_label_selector("a in (1, 2),b notin (x),c,!d,e!=f,g==h")
    assert sel({"a": "1", "c": "", "g": "h"})
    assert sel({"a": "2", "b": "y", "c": "z", "e": "g", "g": "h"})
    assert not sel({"a": "3", "c": "", "g": "h"})
    assert not sel({"a": "1", "b": "x", "c": "", "g": "h"})
    assert not sel({"a": "1", "c": "", "d": "", "g": "h"})
    assert not sel({"a": "1", "c": "", "e": "f", "g": "h"})
    assert fakehub.parse_label_selector("")({"anything": "x"})
