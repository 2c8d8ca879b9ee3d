"""NetworkPolicies judged by an independent analyzer: cyclonus (github.com/mattfenwick/cyclonus, pinned
in hack/go/cyclonus, built by `make tools-test`), not the suite's own model in kube.py. Every ci example,
the defaults and the exposures no example has (allApis), with both Helms.

The rendered policies and a model of the pods go to `cyclonus analyze --mode query-traffic` offline,
one connection per line of the model: every pod the hub renders, an in-hub SuperNode (and its
ClientApps) from the AddOnTemplate as local-cluster would run it, an ingress controller in its own
namespace, the OpenShift router, a stranger pod of the release namespace, a pod of another namespace,
an address outside the cluster, and the peers networkPolicy.extraIngressFrom names. The tests assert
the EXACT set of connections each destination admits:

- the SuperLink: on its API port (TCP) only the ServerApp, the fleet gateway, the node-auth registrar,
  in-hub SuperNodes, extraIngressFrom's peers, and the ingress controller (the router) only where
  Ingress exposure (a Route with allApis) sends SuperNodes through it; everyone only with allApis
  through NodePort or LoadBalancer (acknowledged: SuperNodes arrive from outside straight to that
  port); nobody on any other port or protocol. That one port also serves the Control API, so this is
  also who reaches the Control API; the paths an Ingress or the gateway lets through are HTTP routing,
  which no NetworkPolicy analyzer sees (test_wiring.py checks them).
- the ServerApp SuperExec: nobody.
- a SuperNode on a managed cluster: no stranger (another namespace, the hub's release namespace, outside).

The analyzer gets the ingress half of every rendered policy: the question is what each destination
admits; a stranger's pod carries no egress policy of ours, and that the chart's own egress lets
Flower's traffic through is test_wiring.py's check.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import kube as k
import render as r
from cases import CASES, NAMESPACE, RELEASE, TEST_VALUES, Case, render_case, variant
from tooling import TOOLS

pytestmark = pytest.mark.helm

CYCLONUS = TOOLS / "bin" / "cyclonus"
# Ports a stranger might try besides the SuperLink's own: Flower's other default ports and the usual suspects.
OTHER_PORTS = (22, 80, 443, 8080, 9091, 9093, 9094, 9095)
_ALLOWED = re.compile(r"^\| IS ALLOWED\? \|\s+(TRUE|FALSE)\s+\|", re.MULTILINE)

# The exposures no ci example has: every API through a LoadBalancer, and through a Route.
ALL_APIS = ("superlink.exposure.allApis=true", "superlink.exposure.acknowledgeUnauthenticatedControlApi=true",
            "superlink.exposure.host=flower.example.com")
ALL_APIS_LB = variant("all-apis-loadbalancer", "superlink.exposure.type=LoadBalancer", *ALL_APIS)
ALL_APIS_ROUTE = variant("all-apis-route", "superlink.exposure.type=Route", *ALL_APIS,
                         values=(TEST_VALUES / "openshift-router-peers.yaml",))
ANALYZED = [*CASES, ALL_APIS_LB, ALL_APIS_ROUTE]


@dataclass(frozen=True)
class Peer:
    """One end of a connection as cyclonus models it: a pod (namespace, labels) with its address, or
    an address outside the cluster (namespace None)."""

    name: str
    ip: str
    namespace: str | None = None
    labels: dict = field(default_factory=dict, hash=False)
    namespace_labels: dict = field(default_factory=dict, hash=False)
    pod: k.Pod | None = field(default=None, compare=False, hash=False, repr=False)  # a rendered one

    @classmethod
    def of(cls, pod: k.Pod, ip: str) -> Peer:
        return cls(f"{pod.owner.kind} {pod.namespace}/{pod.owner.name}", ip, pod.namespace, pod.labels,
                   pod.namespace_labels, pod)

    @property
    def component(self) -> str:
        return self.labels.get("app.kubernetes.io/component", "")

    @property
    def on_hub(self) -> bool:
        """One of the release's pods on the hub (not from the AddOnTemplate or a ManifestWork)."""
        return self.pod is not None and not self.pod.owner.embedded

    def traffic_peer(self) -> dict:
        if self.namespace is None:
            return {"IP": self.ip}
        ns_labels = {**self.namespace_labels, "kubernetes.io/metadata.name": self.namespace}
        return {"IP": self.ip, "Internal": {"PodLabels": self.labels, "NamespaceLabels": ns_labels,
                                            "Namespace": self.namespace}}


@dataclass(frozen=True)
class Port:
    number: int
    name: str = ""
    protocol: str = "TCP"

    def __str__(self) -> str:
        return f"{self.protocol} {self.number}" + (f" ({self.name})" if self.name else "")


INGRESS_CONTROLLER = Peer("ingress controller", "10.244.7.7", "ingress-nginx",
                          {"app.kubernetes.io/name": "ingress-nginx", "app.kubernetes.io/component": "controller"})
OPENSHIFT_ROUTER = Peer("OpenShift router", "10.128.2.5", "openshift-ingress",
                        {"ingresscontroller.operator.openshift.io/deployment-ingresscontroller": "default"},
                        {"network.openshift.io/policy-group": "ingress"})
STRANGER = {"app.kubernetes.io/name": "intruder"}
OUTSIDE = Peer("the outside", "203.0.113.7")


def _strangers(release_namespace: str) -> list[Peer]:
    return [Peer("a stranger pod of the release namespace", "10.244.9.9", release_namespace, STRANGER),
            Peer("a pod of another namespace", "10.244.9.10", "elsewhere", STRANGER), OUTSIDE]


def _extra_peers(case: Case, lookalikes: bool = False) -> list[Peer]:
    """A pod that each networkPolicy.extraIngressFrom entry names (its namespace from the entry's
    namespace labels, or the release namespace when the entry has no namespaceSelector); with
    lookalikes, a pod of that namespace that the entry's podSelector does not name instead."""
    peers = []
    for i, entry in enumerate(case.get("superlink.networkPolicy.extraIngressFrom") or []):
        ns_labels = (entry.get("namespaceSelector") or {}).get("matchLabels") or {}
        namespace = ns_labels.get("kubernetes.io/metadata.name") or (f"operators-{i}" if ns_labels else NAMESPACE)
        labels = (entry.get("podSelector") or {}).get("matchLabels") or {}
        if not lookalikes:
            peers.append(Peer(f"extraIngressFrom[{i}]", f"10.244.8.{i + 1}", namespace, labels, ns_labels))
        elif labels:
            peers.append(Peer(f"a neighbour of extraIngressFrom[{i}]", f"10.244.8.{i + 101}", namespace, STRANGER,
                              ns_labels))
    return peers


def _ports(pod: k.Pod) -> list[Port]:
    """The pod's container ports, then OTHER_PORTS it does not have."""
    ports = [Port(cp["containerPort"], cp.get("name", ""), cp.get("protocol", "TCP"))
             for c in pod.spec["containers"] for cp in c.get("ports") or []]
    return ports + [Port(n) for n in OTHER_PORTS if n not in {p.number for p in ports}]


def _ingress_halves(objs: list[r.Obj]) -> list[dict]:
    """The rendered policies as cyclonus reads them, ingress rules only (see the module docstring)."""
    out = []
    for o in objs:
        if o.kind != "NetworkPolicy":
            continue
        spec = o.obj["spec"]
        if "Ingress" not in (spec.get("policyTypes") or ["Ingress"]):
            continue
        out.append({"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
                    "metadata": {"name": o.name, "namespace": o.namespace},
                    "spec": {"podSelector": spec.get("podSelector") or {}, "policyTypes": ["Ingress"],
                             "ingress": spec.get("ingress") or []}})
    return out


def admitted(tmp_path: Path, policies: list[dict], dst: Peer, sources: list[Peer],
             ports: list[Port]) -> set[tuple[str, str]]:
    """(source, port) of every connection to dst that cyclonus finds allowed."""
    if not CYCLONUS.exists():
        pytest.fail(f"{CYCLONUS} is missing: run `make tools-test` (hack/install-go-tools.sh cyclonus)", pytrace=False)
    policy_dir = tmp_path / "policies"
    policy_dir.mkdir(exist_ok=True)
    for old in policy_dir.iterdir():
        old.unlink()
    for i, policy in enumerate(policies):
        (policy_dir / f"{i}.json").write_text(json.dumps(policy))
    queries = [(src, port) for src in sources for port in ports]
    traffic = tmp_path / "traffic.json"
    traffic.write_text(json.dumps([{"Source": src.traffic_peer(), "Destination": dst.traffic_peer(),
                                     "ResolvedPort": port.number, "ResolvedPortName": port.name,
                                     "Protocol": port.protocol} for src, port in queries]))
    args = [str(CYCLONUS), "analyze", "--mode", "query-traffic", "--traffic-path", str(traffic)]
    args += ["--policy-path", str(policy_dir)] if policies else []
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, f"cyclonus failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    verdicts = _ALLOWED.findall(proc.stdout)
    assert len(verdicts) == len(queries), \
        f"cyclonus answered {len(verdicts)} of {len(queries)} queries:\n{proc.stdout[-2000:]}"
    return {(src.name, str(port)) for (src, port), verdict in zip(queries, verdicts) if verdict == "TRUE"}


def _differences(found: set, expected: set) -> str:
    lines = [f"admitted, not intended: {s} on {p}" for s, p in sorted(found - expected)]
    lines += [f"intended, refused: {s} on {p}" for s, p in sorted(expected - found)]
    return "\n".join(lines)


def _hub_model(objects: list[r.Obj]) -> tuple[list[r.Obj], list[Peer]]:
    """The hub's objects, and the release's pods on the hub cluster: its own, and an in-hub SuperNode
    with its ClientApps (the first AddOnTemplate instance, as local-cluster would run it)."""
    scopes = k.scopes(objects)
    hub = scopes["hub"]
    local_cluster = next((objs for scope, objs in scopes.items() if scope.startswith("managed[")
                          and any(o.origin.startswith("AddOnTemplate/") for o in objs)), [])
    pods = k.pods(hub) + k.pods(local_cluster)
    return hub, [Peer.of(pod, f"10.244.0.{i + 10}") for i, pod in enumerate(pods)]


@pytest.fixture(params=ANALYZED, ids=lambda c: c.id)
def analyzed_case(request: pytest.FixtureRequest) -> Case:
    return request.param


@pytest.fixture
def analyzed_objects(helm: Path, analyzed_case: Case) -> list[r.Obj]:
    return r.all_objects(render_case(helm, analyzed_case))


def _superlink_intends(case: Case, peers: list[Peer], api: Port, ports: list[Port]) -> set[tuple[str, str]]:
    """What the chart means the SuperLink to admit, from the values alone."""
    if case.get("superlink.networkPolicy.enabled") is False:  # the user's choice (superlink-only example)
        return {(p.name, str(port)) for p in peers for port in ports}
    exposure = case.get("superlink.exposure.type")
    all_apis = bool(case.get("superlink.exposure.allApis"))
    if all_apis and exposure in ("NodePort", "LoadBalancer"):
        return {(p.name, str(api)) for p in peers}
    own = {"serverapp", "fleet-gateway", "node-auth-registrar", "supernode"}
    if case.get("superlink.tests.enabled") is not False:
        own.add("test")  # the `helm test` pod
    intended = {p.name for p in peers if p.pod and p.component in own
                and p.labels.get("app.kubernetes.io/instance") == RELEASE}
    intended |= {p.name for p in _extra_peers(case)}
    if exposure == "Ingress":
        intended.add(INGRESS_CONTROLLER.name)
    if exposure == "Route" and all_apis:
        intended.add(OPENSHIFT_ROUTER.name)
    return {(name, str(api)) for name in intended}


def test_superlink_admits_exactly_what_the_chart_intends(tmp_path: Path, analyzed_objects: list[r.Obj],
                                                         analyzed_case: Case) -> None:
    hub, release_peers = _hub_model(analyzed_objects)
    case = analyzed_case
    superlinks = [p for p in release_peers if p.on_hub and p.component == "superlink"]
    if case.get("superlink.enabled") is False:
        assert not superlinks
        return
    (superlink,) = superlinks
    found = k.container_port(superlink.pod, "api")
    assert found, "the SuperLink has no port named api"
    api = Port(found[0], "api")
    ports = _ports(superlink.pod) + [Port(api.number, api.name, protocol) for protocol in ("UDP", "SCTP")]
    sources = [p for p in release_peers if p is not superlink]
    sources += [INGRESS_CONTROLLER, OPENSHIFT_ROUTER, *_strangers(superlink.namespace), *_extra_peers(case),
                *_extra_peers(case, lookalikes=True)]
    found_set = admitted(tmp_path, _ingress_halves(hub), superlink, sources, ports)
    expected = _superlink_intends(case, sources, api, ports)
    assert found_set == expected, \
        f"{case.id}: the SuperLink's NetworkPolicies (cyclonus):\n" + _differences(found_set, expected)


def test_serverapp_admits_nobody(tmp_path: Path, analyzed_objects: list[r.Obj], analyzed_case: Case) -> None:
    hub, release_peers = _hub_model(analyzed_objects)
    for serverapp in [p for p in release_peers if p.on_hub and p.component == "serverapp"]:
        sources = [p for p in release_peers if p is not serverapp]
        sources += [INGRESS_CONTROLLER, OPENSHIFT_ROUTER, *_strangers(serverapp.namespace)]
        found = admitted(tmp_path, _ingress_halves(hub), serverapp, sources, _ports(serverapp.pod))
        assert not found, f"{analyzed_case.id}: {serverapp.name} admits (cyclonus):\n" + _differences(found, set())


def test_supernodes_admit_no_stranger(tmp_path: Path, analyzed_objects: list[r.Obj], analyzed_case: Case) -> None:
    for scope, objs in k.scopes(analyzed_objects).items():
        if scope == "hub":
            continue
        pods = [Peer.of(pod, f"10.245.0.{i + 10}") for i, pod in enumerate(k.pods(objs))]
        for supernode in [p for p in pods if p.component == "supernode"]:
            strangers = [Peer("a pod of another namespace", "10.245.9.10", "elsewhere", STRANGER),
                         Peer("a pod of the hub's release namespace", "10.245.9.12", NAMESPACE, STRANGER), OUTSIDE]
            found = admitted(tmp_path, _ingress_halves(objs), supernode, strangers, _ports(supernode.pod))
            assert not found, f"{analyzed_case.id} {scope}: {supernode.name} admits (cyclonus):\n" \
                + _differences(found, set())
