"""NetworkPolicies deny: the other tests prove Flower's traffic gets through; these prove that
what is not Flower's does not (an allow-all ingress rule added to the SuperLink's NetworkPolicy
passed every other test, and checkov). Every ci example and the defaults, both Helms, with the
NetworkPolicy model of kube.py.

Strangers: a pod of the release namespace that is none of the release's, a pod of another
namespace, an address outside the cluster. The SuperLink admits them on no port but its API port,
and there only what the exposure lets in: the outside world only when SuperNodes arrive from
outside without the fleet gateway (Ingress, or allApis), and only the peers that
networkPolicy.extraIngressFrom names. The ServerApp SuperExec admits nobody; a SuperNode on a
managed cluster admits nobody from another namespace or outside.

Known weakness, written down here rather than hidden: with Ingress exposure (or allApis) the
SuperLink admits 0.0.0.0/0 on its API port - the Ingress controller's namespace is not known to
the chart - and that port serves the Fleet, Control and Runtime APIs; so every pod of the hub
cluster reaches the unauthenticated Control API directly, past the Ingress's Fleet-API-only paths.
Exposures through the fleet gateway (NodePort, LoadBalancer, Route) and ClusterIP do not."""

from __future__ import annotations

import kube as k
import render as r
from cases import NAMESPACE, Case

INTRUDER = {"app.kubernetes.io/name": "intruder"}
OUTSIDE = k.Peer(ip="203.0.113.7")
# Ports nothing should open to a stranger (a few of Flower's other APIs and the usual suspects).
OTHER_PORTS = (22, 80, 443, 8080, 9091, 9092, 9093, 9094, 9095)


def _strangers(namespace: str) -> dict[str, k.Peer]:
    return {
        "a stranger pod of its namespace": k.Peer(INTRUDER, namespace, "10.244.9.9", {}),
        "a pod of another namespace": k.Peer(INTRUDER, "attacker", "10.244.9.10", {}),
        "the outside": OUTSIDE,
    }


def _program_pods(objs: list[r.Obj], program: str, embedded: bool) -> list[k.Pod]:
    return [pod for pod, _c, p in k.flower_containers(objs) if p == program and pod.owner.embedded == embedded]


def _ports(pod: k.Pod) -> set[int]:
    return {cp["containerPort"] for c in pod.spec["containers"] for cp in c.get("ports") or []} | set(OTHER_PORTS)


def _selected(policies: list[dict], pod: k.Pod) -> bool:
    return any(p["metadata"].get("namespace", "") == pod.namespace
               and k.selector_matches(p["spec"].get("podSelector"), pod.labels)
               and "Ingress" in (p["spec"].get("policyTypes") or ["Ingress"]) for p in policies)


def test_superlink_admits_no_stranger_but_what_its_exposure_needs(objects: list[r.Obj], case: Case) -> None:
    hub = k.scopes(objects)["hub"]
    policies = [o.obj for o in hub if o.kind == "NetworkPolicy"]
    superlinks = _program_pods(hub, "flower-superlink", False)
    if not case.get("superlink.enabled", True):
        assert not superlinks
        return
    (pod,) = superlinks
    if case.get("superlink.networkPolicy.enabled") is False:  # the user's choice (superlink-only example)
        assert not _selected(policies, pod)
        return
    assert _selected(policies, pod), "no NetworkPolicy selects the SuperLink"
    api = k.container_port(pod, "api")
    assert api, "the SuperLink has no port named api"
    exposure = case.get("superlink.exposure.type")
    gateway = any(o.kind == "Deployment" and o.obj["metadata"]["name"].endswith("fleet-gateway") for o in hub)
    outside_on_api = exposure != "ClusterIP" and not gateway
    errors = []
    for what, peer in _strangers(pod.namespace).items():
        for port in sorted(_ports(pod)):
            allowed = k.ingress_allowed(policies, pod, port, peer)
            # An ipBlock of 0.0.0.0/0 matches pod addresses too (on most CNIs): whoever may come from
            # outside may come from inside as well. (So with Ingress or allApis exposure any pod reaches
            # every API of the SuperLink's one port: a known weakness, see the module docstring.)
            expected = port == api[0] and outside_on_api
            if allowed != expected:
                errors.append(f"{what} on port {port}: {'admitted' if allowed else 'refused'}")
        for protocol in ("UDP", "SCTP"):
            if k.ingress_allowed(policies, pod, api[0], peer, protocol=protocol):
                errors.append(f"{what} on {protocol} {api[0]}: admitted")
    assert not errors, f"SuperLink NetworkPolicy ({exposure}, gateway={gateway}):\n" + "\n".join(errors)


def test_extra_ingress_admits_only_its_peers(objects: list[r.Obj], case: Case) -> None:
    """networkPolicy.extraIngressFrom (the ClusterIP example names the SuperNode namespaces) admits
    those peers on the API port, and nothing that merely shares their namespace's labels."""
    extra = case.get("superlink.networkPolicy.extraIngressFrom")
    if not extra:
        return
    hub = k.scopes(objects)["hub"]
    policies = [o.obj for o in hub if o.kind == "NetworkPolicy"]
    (pod,) = _program_pods(hub, "flower-superlink", False)
    api = k.container_port(pod, "api")[0]
    for peer in extra:
        ns_labels = (peer.get("namespaceSelector") or {}).get("matchLabels") or {}
        pod_labels = (peer.get("podSelector") or {}).get("matchLabels") or {}
        named = k.Peer(pod_labels, "flower-x", "10.244.9.11", ns_labels)
        assert k.ingress_allowed(policies, pod, api, named)
        assert not k.ingress_allowed(policies, pod, api, k.Peer(INTRUDER, "flower-x", "10.244.9.11", ns_labels))
        assert not any(k.ingress_allowed(policies, pod, port, named) for port in OTHER_PORTS if port != api)


def test_serverapp_admits_nobody(objects: list[r.Obj], case: Case) -> None:
    hub = k.scopes(objects)["hub"]
    policies = [o.obj for o in hub if o.kind == "NetworkPolicy"]
    pods = _program_pods(hub, "flower-superexec", False)
    for pod in pods:
        assert _selected(policies, pod), f"no NetworkPolicy selects {pod.owner}"
        peers = {**_strangers(pod.namespace)}
        peers |= {f"{other.owner}": k.Peer.of(other) for other in k.pods(hub) if other is not pod}
        admitted = [f"{what} on {port}" for what, peer in peers.items() for port in sorted(_ports(pod))
                    if k.ingress_allowed(policies, pod, port, peer)]
        assert not admitted, f"{pod.owner} admits: {admitted}"


def test_supernodes_admit_nobody_from_elsewhere(objects: list[r.Obj], case: Case) -> None:
    for scope, objs in k.scopes(objects).items():
        if scope == "hub":
            continue
        policies = [o.obj for o in objs if o.kind == "NetworkPolicy"]
        for pod in _program_pods(objs, "flower-supernode", True):
            assert _selected(policies, pod), f"{scope}: no NetworkPolicy selects {pod.owner}"
            strangers = _strangers(pod.namespace)
            del strangers["a stranger pod of its namespace"]  # the SuperNode's namespace is the release's own
            strangers["a pod of the hub's release namespace"] = k.Peer(INTRUDER, NAMESPACE, "10.244.9.12", {})
            admitted = [f"{what} on {port}" for what, peer in strangers.items() for port in sorted(_ports(pod))
                        if k.ingress_allowed(policies, pod, port, peer)]
            assert not admitted, f"{scope}: {pod.owner} admits {admitted}"
