"""Where ``flwr`` can reach a release's SuperLink, from the objects the chart rendered.

``flwr`` talks to the SuperLink's Control API (``/v1/control/*``), which shares the SuperLink's
one port with the Fleet API. The chart exposes the SuperLink to managed clusters as:

- a LoadBalancer or NodePort Service ``<release>-superlink-fleet``;
- an Ingress ``<release>-superlink`` (host, 443 with TLS);
- a Route ``<release>-superlink`` (OpenShift; host, 443);
- nothing (ClusterIP): only ``<release>-superlink`` inside the hub.

Unless ``superlink.exposure.allApis`` is set, that exposure carries the Fleet API ONLY (the
fleet gateway, or Ingress paths ``/v1/fleet/`` and ``/health``): then flwr must use a
port-forward to ``<release>-superlink`` (the SuperLink certificate names 127.0.0.1 and
localhost). This module tells which case applies, from the Service selector / target port, the
Ingress paths and the Route's backend.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .errors import EXIT_NOT_READY, HubError
from .kube import Hub
from .resources import (
    COMPONENT_LABEL,
    INGRESSES,
    NODES,
    ROUTES,
    SERVICES,
    fleet_service,
    superlink_service,
)

GATEWAY_COMPONENT = "fleet-gateway"


@dataclass
class Endpoint:
    address: str  # host:port for flwr
    kind: str  # LoadBalancer | NodePort | Ingress | Route | port-forward | override
    exposure: str = ""  # what managed clusters dial, for information
    notes: list[str] = field(default_factory=list)
    port_forward: str = ""  # the command to run when address is 127.0.0.1


def _api_port(svc: dict[str, Any]) -> dict[str, Any]:
    ports = (svc.get("spec") or {}).get("ports") or []
    for p in ports:
        if p.get("name") == "api":
            return p
    if not ports:
        raise HubError(f"Service {svc['metadata']['name']} has no ports")
    return ports[0]


def _host_port(host: str, port: int | str) -> str:
    return f"[{host}]:{port}" if ":" in host and not host.startswith("[") else f"{host}:{port}"


def _fleet_only_service(svc: dict[str, Any]) -> bool:
    spec = svc.get("spec") or {}
    if (spec.get("selector") or {}).get(COMPONENT_LABEL) == GATEWAY_COMPONENT:
        return True
    return str(_api_port(svc).get("targetPort", "")) == "fleet"


def _ingress_routes_control(ing: dict[str, Any]) -> bool:
    for rule in (ing.get("spec") or {}).get("rules") or []:
        for p in ((rule.get("http") or {}).get("paths") or []):
            path = p.get("path") or "/"
            if "/v1/control/".startswith(path.rstrip("*")) or path in ("/", "/v1", "/v1/"):
                return True
    return False


def _node_address(hub: Hub) -> str | None:
    try:
        for items, _ in hub.list_pages(NODES, limit=50):
            for node in items:
                addrs = (node.get("status") or {}).get("addresses") or []
                for kind in ("ExternalIP", "ExternalDNS", "InternalIP"):
                    for a in addrs:
                        if a.get("type") == kind and a.get("address"):
                            return a["address"]
    except HubError as err:
        if err.message.startswith("forbidden"):
            return None
        raise
    return None


def resolve(hub: Hub, release: str, namespace: str, *, address: str | None = None) -> Endpoint:
    """The address flwr should use for the release's SuperLink."""
    svc = hub.get(SERVICES, superlink_service(release, namespace), namespace)
    if svc is None:
        raise HubError(
            f"release {release!r} has no SuperLink Service {superlink_service(release, namespace)} in namespace {namespace}: "
            "check the release name and -n, and that superlink.enabled is true"
        )
    port = _api_port(svc).get("port")
    pf = (f"kubectl -n {namespace} port-forward svc/{superlink_service(release, namespace)} {port}:{port}"
          + (f" --context {hub.settings.kube_context}" if hub.settings.kube_context else ""))
    if address:
        return Endpoint(address, "override", notes=["address given with --address"])

    exposure, fleet_only, pending = "", False, False
    fleet = hub.get(SERVICES, fleet_service(release, namespace), namespace)
    kind = ""
    if fleet is not None and (fleet.get("spec") or {}).get("type") in ("LoadBalancer", "NodePort"):
        kind = fleet["spec"]["type"]
        fleet_only = _fleet_only_service(fleet)
        fport = _api_port(fleet)
        if kind == "LoadBalancer":
            ingress = (((fleet.get("status") or {}).get("loadBalancer") or {}).get("ingress") or [])
            host = next((i.get("ip") or i.get("hostname") for i in ingress if i.get("ip") or i.get("hostname")), "")
            if host:
                exposure = _host_port(host, fport.get("port"))
            else:
                pending = True
                exposure = f"LoadBalancer {fleet_service(release, namespace)} (no external address yet)"
        else:
            node = _node_address(hub)
            exposure = _host_port(node, fport.get("nodePort")) if node else \
                f"NodePort {fport.get('nodePort')} on any node (node addresses not readable)"
            if not node and not fleet_only:
                raise HubError(f"the SuperLink is exposed on NodePort {fport.get('nodePort')} but the node addresses "
                               "cannot be read: pass --address NODE:" + str(fport.get("nodePort")))
    else:
        route = hub.get_optional_type(ROUTES, superlink_service(release, namespace), namespace)
        ing = None if route is not None else hub.get_optional_type(INGRESSES, superlink_service(release, namespace), namespace)
        if route is not None:
            kind = "Route"
            spec = route.get("spec") or {}
            host = spec.get("host") or next((i.get("host") for i in ((route.get("status") or {}).get("ingress") or [])
                                             if i.get("host")), "")
            exposure = _host_port(host, 443)
            backend = (spec.get("to") or {}).get("name", "")
            if backend == fleet_service(release, namespace):
                fleet_only = fleet is None or _fleet_only_service(fleet)
        elif ing is not None:
            kind = "Ingress"
            spec = ing.get("spec") or {}
            host = next((r.get("host") for r in spec.get("rules") or [] if r.get("host")), "")
            exposure = _host_port(host, 443 if spec.get("tls") else 80)
            fleet_only = not _ingress_routes_control(ing)
    if not kind:
        return Endpoint(_host_port("127.0.0.1", port), "port-forward", "in-hub Service only (ClusterIP)", [
            "the SuperLink is not exposed outside the hub (superlink.exposure.type ClusterIP): "
            "flwr reaches it through a port-forward"], pf)
    if fleet_only:
        return Endpoint(_host_port("127.0.0.1", port), "port-forward", exposure, [
            f"the {kind} exposure ({exposure}) carries the Fleet API only (fleet gateway / path routing), "
            "not the Control API flwr uses: flwr reaches the SuperLink through a port-forward"], pf)
    if pending:
        raise HubError(f"the SuperLink's LoadBalancer {fleet_service(release, namespace)} has no external address yet; "
                       "retry when it has one, or pass --address", EXIT_NOT_READY)
    return Endpoint(exposure, kind, exposure)
