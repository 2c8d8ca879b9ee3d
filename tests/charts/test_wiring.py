"""Traffic paths: Services select pods with the ports they target, Ingress/Route reach a rendered
Service, SuperNodes dial an endpoint that exists and speaks their protocol, and the NetworkPolicies
let every Flower connection through (SuperNode -> SuperLink, ServerApp -> SuperLink,
ClientApp -> SuperNode)."""

from __future__ import annotations

from pathlib import Path

import pytest

import kube as k
import render as r
from cases import NAMESPACE, RELEASE, Case, render_case, variant

pytestmark = pytest.mark.helm

OUTSIDE_IP = "203.0.113.50"  # a SuperNode on a managed cluster, as the hub sees it
INGRESS_CONTROLLER = k.Peer({"app.kubernetes.io/name": "ingress-nginx"}, "ingress-nginx", "10.244.7.7")


def _service_pods(svc: dict, pods: list[k.Pod]) -> list[k.Pod]:
    selector = svc["spec"].get("selector") or {}
    ns = svc["metadata"].get("namespace", "")
    return [p for p in pods if p.namespace == ns and selector and all(p.labels.get(a) == b for a, b in selector.items())]


def test_services_select_pods_with_their_target_ports(objects: list[r.Obj]) -> None:
    errors = []
    for scope, objs in k.scopes(objects).items():
        pods = k.pods(objs)
        for o in objs:
            if o.kind != "Service":
                continue
            selected = _service_pods(o.obj, pods)
            if not selected:
                errors.append(f"{scope}: {o} selects no pod")
            for port in o.obj["spec"]["ports"]:
                target = port.get("targetPort", port["port"])
                for pod in selected:
                    if k.container_port(pod, target) is None:
                        errors.append(f"{scope}: {o} port {port.get('name')} targets {target!r}, which {pod.owner} does not expose")
    assert not errors, "\n".join(errors)


def test_ingress_and_route_reach_a_rendered_service(rendered: list[dict], case: Case) -> None:
    services = {s["metadata"]["name"]: s for s in r.of_kind(rendered, "Service")}
    exposure = case.get("superlink.exposure.type")
    ingresses, routes = r.of_kind(rendered, "Ingress"), r.of_kind(rendered, "Route")
    assert len(ingresses) == (exposure == "Ingress" and bool(case.get("superlink.enabled")))
    assert len(routes) == (exposure == "Route" and bool(case.get("superlink.enabled")))
    for ing in ingresses:
        for rule in ing["spec"]["rules"]:
            assert rule["host"] == case.get("superlink.exposure.host")
            for path in rule["http"]["paths"]:
                backend = path["backend"]["service"]
                svc = services[backend["name"]]
                assert any(p.get("name") == backend["port"].get("name") or p["port"] == backend["port"].get("number") for p in svc["spec"]["ports"])
        if ing["spec"].get("ingressClassName") or case.get("superlink.exposure.ingressClassName"):
            assert ing["spec"]["ingressClassName"] == case.get("superlink.exposure.ingressClassName")
    for route in routes:
        assert route["spec"]["host"] == case.get("superlink.exposure.host")
        svc = services[route["spec"]["to"]["name"]]
        target = route["spec"]["port"]["targetPort"]
        assert any(target in (p.get("name"), p["port"], p.get("targetPort")) for p in svc["spec"]["ports"]), f"Route targetPort {target} is not a port of Service {svc['metadata']['name']}"


def _endpoints(rendered: list[dict]) -> set[str]:
    return {v["value"] for a in r.of_kind(rendered, "AddOnDeploymentConfig") for v in a["spec"]["customizedVariables"] if v["name"] == "SUPERLINK_ADDRESS"}


def test_supernodes_dial_an_endpoint_that_exists(rendered: list[dict], case: Case) -> None:
    endpoints = _endpoints(rendered)
    if not case.get("hubAddon.enabled"):
        assert not endpoints
        return
    (address,) = endpoints
    host, port = address.rsplit(":", 1)
    port = int(port)
    exposure = case.get("superlink.exposure")
    services = r.of_kind(rendered, "Service")
    if not exposure.get("host"):
        svc = f"{RELEASE}-superlink"
        assert host == f"{svc}.{NAMESPACE}.svc.cluster.local"
        assert any(s["metadata"]["name"] == svc and any(p["port"] == port for p in s["spec"]["ports"]) for s in services)
        return
    assert host == exposure["host"]
    kind = exposure["type"]
    if kind == "LoadBalancer":
        assert any(s["spec"]["type"] == "LoadBalancer" and any(p["port"] == port for p in s["spec"]["ports"]) for s in services)
    elif kind == "NodePort":
        assert any(s["spec"]["type"] == "NodePort" and any(p.get("nodePort") == port for p in s["spec"]["ports"]) for s in services)
    elif kind in ("Ingress", "Route"):
        assert port == exposure.get("port", 443)
    else:  # ClusterIP with a host: the in-hub Service port behind some DNS name
        assert any(any(p["port"] == port for p in s["spec"]["ports"]) for s in services)


@pytest.mark.parametrize("variant_case", [
    pytest.param(variant(f"plaintext-{e}", "global.tls.mode=disabled", f"superlink.exposure.type={e}",
                         "superlink.exposure.host=flower.example.com"), id=e) for e in ("Route", "Ingress")])
def test_plaintext_supernodes_reach_a_plaintext_listener(helm: Path, variant_case: Case) -> None:
    try:
        rendered = render_case(helm, variant_case)
    except r.HelmError:
        return  # refusing the combination is a fix too
    (address,) = _endpoints(rendered)
    port = int(address.rsplit(":", 1)[1])
    for route in r.of_kind(rendered, "Route"):
        assert "tls" not in route["spec"] and port == 80, f"the Route only serves TLS; SuperNodes dial {address} in plain text"
    for ing in r.of_kind(rendered, "Ingress"):
        assert not ing["spec"].get("tls") and port == 80, f"the Ingress serves plain HTTP on 80; SuperNodes dial {address}"


# ----------------------------------------------------------------------------- NetworkPolicies


def _pod_of(objs: list[r.Obj], program: str, embedded: bool) -> list[tuple[k.Pod, dict]]:
    return [(pod, c) for pod, c, p in k.flower_containers(objs) if p == program and pod.owner.embedded == embedded]


def _reachability_errors(objects: list[r.Obj], case: Case) -> list[str]:
    errors: list[str] = []
    scopes = k.scopes(objects)
    hub_objs = scopes["hub"]
    hub_pods = k.pods(hub_objs)
    hub_np = [o.obj for o in hub_objs if o.kind == "NetworkPolicy"]
    superlinks = _pod_of(hub_objs, "flower-superlink", False)
    if superlinks:
        ((sl_pod, sl_c),) = superlinks
        sl_port = sl_c["ports"][0]["containerPort"]
        for sx_pod, _c in _pod_of(hub_objs, "flower-superexec", False):
            if not (k.egress_allowed(hub_np, sx_pod, sl_port, k.Peer.of(sl_pod), sl_pod) and k.ingress_allowed(hub_np, sl_pod, sl_port, k.Peer.of(sx_pod))):
                errors.append(f"hub: {sx_pod.owner} cannot reach the SuperLink on {sl_port}")
        # The way in for SuperNodes: the Service behind SUPERLINK_ADDRESS, or the Ingress.
        rendered = [o.obj for o in hub_objs]
        for address in _endpoints(rendered):
            port = int(address.rsplit(":", 1)[1])
            external = bool(case.get("superlink.exposure.host"))
            exposure = case.get("superlink.exposure.type")
            supernode_pods = [o for o in k.pods(x for x in objects if x.origin.startswith("AddOnTemplate/"))]
            if not external:
                # Only a SuperNode on the hub's own cluster (e.g. local-cluster) can dial the in-hub name.
                if not supernode_pods:
                    continue
                src = k.Peer.of(supernode_pods[0])
                entry = [(sl_pod, sl_port)]
            elif exposure == "Ingress":
                src, entry = INGRESS_CONTROLLER, [(sl_pod, sl_port)]
            else:
                src = k.Peer(ip=OUTSIDE_IP)
                exposing = [s for s in rendered if s["kind"] == "Service" and any(p["port"] == port or p.get("nodePort") == port for p in s["spec"]["ports"])]
                if exposure == "Route":
                    exposing = [s for s in rendered if s["kind"] == "Service" and s["metadata"]["name"] == r.of_kind(rendered, "Route")[0]["spec"]["to"]["name"]]
                    src = k.Peer({"ingresscontroller.operator.openshift.io/deployment-ingresscontroller": "default"}, "openshift-ingress", "10.128.2.5")
                entry = []
                for svc in exposing:
                    for pod in _service_pods(svc, hub_pods):
                        for p in svc["spec"]["ports"]:
                            found = k.container_port(pod, p.get("targetPort", p["port"]))
                            if found:
                                entry.append((pod, found[0]))
            if not entry:
                errors.append(f"hub: nothing serves {address}")
            for pod, cport in entry:
                if not k.ingress_allowed(hub_np, pod, cport, src):
                    errors.append(f"hub: NetworkPolicy refuses SuperNodes ({src}) at {pod.owner} port {cport} (they dial {address})")
                if pod is not sl_pod and not (k.egress_allowed(hub_np, pod, sl_port, k.Peer.of(sl_pod), sl_pod) and k.ingress_allowed(hub_np, sl_pod, sl_port, k.Peer.of(pod))):
                    errors.append(f"hub: {pod.owner} cannot forward to the SuperLink on {sl_port}")
    for scope, objs in scopes.items():
        if scope == "hub":
            continue
        pods = k.pods(objs)
        nps = [o.obj for o in objs if o.kind == "NetworkPolicy"]
        supernodes = _pod_of(objs, "flower-supernode", True)
        for sn_pod, sn_c in supernodes:
            superlink = (k.flag_values(sn_c["args"], "--superlink") or [":0"])[0]
            if not k.egress_allowed(nps, sn_pod, int(superlink.rsplit(":", 1)[1]), k.Peer(ip=OUTSIDE_IP)):
                errors.append(f"{scope}: {sn_pod.owner} may not dial {superlink}")
            rt_port = int(k.flag_values(sn_c["args"], "--port")[0])
            for ca_pod, _c in _pod_of(objs, "flower-superexec", True):
                if not (k.egress_allowed(nps, ca_pod, rt_port, k.Peer.of(sn_pod), sn_pod) and k.ingress_allowed(nps, sn_pod, rt_port, k.Peer.of(ca_pod))):
                    errors.append(f"{scope}: {ca_pod.owner} cannot reach the SuperNode Runtime API on {rt_port}")
        for pod in pods:
            if not k.egress_allowed(nps, pod, 53, k.Peer(ip="10.96.0.10"), protocol="UDP"):
                errors.append(f"{scope}: {pod.owner} may not resolve DNS")
    return errors


def test_network_policies_let_flower_traffic_through(objects: list[r.Obj], case: Case) -> None:
    errors = _reachability_errors(objects, case)
    assert not errors, "\n".join(errors)




CLUSTER_IP = variant("clusterip", "superlink.exposure.type=ClusterIP")


def test_clusterip_supernode_on_the_hub_is_admitted(helm: Path) -> None:
    objects = r.all_objects(render_case(helm, CLUSTER_IP))
    errors = _reachability_errors(objects, CLUSTER_IP)
    assert not errors, "\n".join(errors)
