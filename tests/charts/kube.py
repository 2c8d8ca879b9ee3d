"""Small, explicit models of Kubernetes semantics the chart tests need: label selectors,
NetworkPolicy admission, which Flower program a container runs, where an argument's file comes
from. Objects are grouped by "scope": the hub (top-level objects) or one managed cluster instance
(the substituted manifests of one AddOnTemplate+ADC, plus the ClientApp ManifestWorks)."""

from __future__ import annotations

import base64
import ipaddress
from collections.abc import Iterable
from dataclasses import dataclass

from render import Obj, pod_specs

# --------------------------------------------------------------------------- selectors


def selector_matches(selector: dict | None, labels: dict) -> bool:
    """metav1.LabelSelector semantics (an empty selector matches everything)."""
    selector = selector or {}
    for k, v in (selector.get("matchLabels") or {}).items():
        if labels.get(k) != v:
            return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
    return True


def requires_label(selector: dict | None, key: str, value: str | None = None) -> bool:
    """True when every object the selector matches carries key=value (value None: carries key)."""
    selector = selector or {}
    matched = (selector.get("matchLabels") or {}).get(key)
    if matched is not None and (value is None or matched == value):
        return True
    for e in selector.get("matchExpressions") or []:
        if e["key"] != key:
            continue
        if e["operator"] == "In" and (value is None or set(e.get("values") or []) == {value}):
            return True
        if e["operator"] == "Exists" and value is None:
            return True
    return False


# --------------------------------------------------------------------------- pods


@dataclass
class Pod:
    owner: Obj
    spec: dict
    labels: dict
    namespace: str
    namespace_labels: dict


def pods(objs: Iterable[Obj]) -> list[Pod]:
    """Pods of the workloads in objs; their namespace's labels come from a Namespace object
    among objs (the AddOnTemplate ships one), plus kubernetes.io/metadata.name."""
    objs = list(objs)
    ns_labels = {o.name: (o.obj.get("metadata") or {}).get("labels") or {} for o in objs if o.kind == "Namespace"}
    out = []
    for o, spec in pod_specs(objs):
        tmpl_labels = ((o.obj.get("spec") or {}).get("template") or {}).get("metadata", {}).get("labels") or {}
        labels = {**ns_labels.get(o.namespace, {}), "kubernetes.io/metadata.name": o.namespace}
        out.append(Pod(o, spec, tmpl_labels, o.namespace, labels))
    return out


def scopes(objs: list[Obj]) -> dict[str, list[Obj]]:
    """'hub' -> top-level objects; one scope per AddOnTemplate instance (ADC), each together with
    the ClientApp manifests (they land in the same namespace of the same managed cluster)."""
    hub = [o for o in objs if not o.embedded]
    works = [o for o in objs if o.origin.startswith("ManifestWorkReplicaSet/")]
    out: dict[str, list[Obj]] = {"hub": hub}
    for o in objs:
        if o.origin.startswith("AddOnTemplate/"):
            out.setdefault(f"managed[{o.adc}]", []).append(o)
    for key in [k for k in out if k != "hub"]:
        out[key] += works
    if len(out) == 1 and works:
        out["managed[no addon]"] = works
    return out


# --------------------------------------------------------------------------- NetworkPolicy


def _port_matches(rule_ports: list | None, port_number: int, port_name: str | None, protocol: str = "TCP") -> bool:
    if not rule_ports:
        return True
    for p in rule_ports:
        if p.get("protocol", "TCP") != protocol:
            continue
        if "port" not in p:
            return True
        rp = p["port"]
        if isinstance(rp, int) and (rp == port_number or (p.get("endPort") and rp <= port_number <= p["endPort"])):
            return True
        if isinstance(rp, str) and port_name is not None and rp == port_name:
            return True
    return False


@dataclass
class Peer:
    """One end of a connection: a pod (labels + namespace), and/or its IP address."""

    labels: dict | None = None
    namespace: str | None = None
    ip: str | None = None
    namespace_labels: dict | None = None

    @classmethod
    def of(cls, pod: "Pod", ip: str | None = "10.244.0.10") -> "Peer":
        return cls(pod.labels, pod.namespace, ip, pod.namespace_labels)


def _peer_admits(rule_peer: dict, policy_ns: str, peer: Peer) -> bool:
    if "ipBlock" in rule_peer:
        if peer.ip is None:
            return False
        block = rule_peer["ipBlock"]
        ip = ipaddress.ip_address(peer.ip)
        net = ipaddress.ip_network(block["cidr"])
        if ip.version != net.version or ip not in net:
            return False
        return not any(ip in n for n in map(ipaddress.ip_network, block.get("except") or []) if n.version == ip.version)
    if peer.labels is None:
        return False
    if "namespaceSelector" in rule_peer:
        ns_labels = {**(peer.namespace_labels or {}), "kubernetes.io/metadata.name": peer.namespace}
        if not selector_matches(rule_peer["namespaceSelector"], ns_labels):
            return False
    elif peer.namespace != policy_ns:
        return False
    return selector_matches(rule_peer.get("podSelector"), peer.labels)


def _selecting(policies: list[dict], pod: "Pod", direction: str) -> list[dict]:
    return [p for p in policies
            if p["metadata"].get("namespace", "") == pod.namespace
            and selector_matches(p["spec"].get("podSelector"), pod.labels)
            and direction in (p["spec"].get("policyTypes") or (["Ingress", "Egress"] if p["spec"].get("egress") else ["Ingress"]))]


def ingress_allowed(policies: list[dict], dst: "Pod", port: int, src: Peer, protocol: str = "TCP") -> bool:
    """NetworkPolicy ingress of `dst` admits `src` on container port `port`."""
    selecting = _selecting(policies, dst, "Ingress")
    if not selecting:
        return True
    found = container_port(dst, port)
    port_name = found[1] if found else None
    for p in selecting:
        for rule in p["spec"].get("ingress") or []:
            if _port_matches(rule.get("ports"), port, port_name, protocol) and (
                    not rule.get("from") or any(_peer_admits(x, dst.namespace, src) for x in rule["from"])):
                return True
    return False


def egress_allowed(policies: list[dict], src: "Pod", port: int, dst: Peer, dst_pod: "Pod | None" = None, protocol: str = "TCP") -> bool:
    """NetworkPolicy egress of `src` lets it reach `dst` on (destination pod) port `port`."""
    selecting = _selecting(policies, src, "Egress")
    if not selecting:
        return True
    found = container_port(dst_pod, port) if dst_pod else None
    port_name = found[1] if found else None
    for p in selecting:
        for rule in p["spec"].get("egress") or []:
            if _port_matches(rule.get("ports"), port, port_name, protocol) and (
                    not rule.get("to") or any(_peer_admits(x, src.namespace, dst) for x in rule["to"])):
                return True
    return False


# --------------------------------------------------------------------------- containers


FLOWER_PROGRAMS = ("flower-superlink", "flower-supernode", "flower-superexec")
# The fleet gateway (nginx) and helper scripts (e.g. the node-auth registrar): not Flower processes.
NON_FLOWER_PROGRAMS = {"nginx", "python-script"}


def invocation(container: dict) -> tuple[str, list[str]]:
    """(program, its arguments) of a container. A launcher written as `cmd ... -- prog` runs
    `prog` with the rest of the command and the container's args; without a command the
    official Flower images run their own program (also when the image is an OCM variable,
    substituted by now, or a mirror: then the container name tells)."""
    command = [str(x) for x in container.get("command") or []]
    args = [str(x) for x in container.get("args") or []]
    if "--" in command and command.index("--") + 1 < len(command):
        i = command.index("--")
        return command[i + 1].rsplit("/", 1)[-1], command[i + 2:] + args
    if command:
        program = command[0].rsplit("/", 1)[-1]
        if program.startswith("python") and len(command) > 1:
            if command[1] == "-m" or any("flwr" in x or "flower-" in x for x in command[1:]):
                return "python " + " ".join(command[1:3]), command[1:] + args  # classify by hand
            return "python-script", command[1:] + args
        return program, command[1:] + args
    image = container.get("image", "")
    repo = image.split("@")[0].rsplit(":", 1)[0]
    for name, program in (("flwr/superlink", "flower-superlink"), ("flwr/supernode", "flower-supernode"), ("flwr/superexec", "flower-superexec")):
        if repo.endswith(name):
            return program, args
    return {"superlink": "flower-superlink", "supernode": "flower-supernode"}.get(container["name"], ""), args


def flag_values(args: list[str], flag: str) -> list[str]:
    out = []
    for i, a in enumerate(args):
        if a == flag and i + 1 < len(args):
            out.append(args[i + 1])
        elif a.startswith(flag + "="):
            out.append(a.split("=", 1)[1])
    return out


def b64(data: dict, key: str) -> bytes:
    return base64.b64decode(data[key])


def container_port(pod: Pod, ref: int | str) -> tuple[int, str | None] | None:
    for c in pod.spec["containers"]:
        for cp in c.get("ports") or []:
            if cp.get("name") == ref or cp["containerPort"] == ref:
                return cp["containerPort"], cp.get("name")
    return None


@dataclass
class FileSource:
    mount: dict
    volume: dict
    key: str | None  # key in the ConfigMap/Secret (None: not a ConfigMap/Secret volume, or unmapped)

    @property
    def kind(self) -> str:
        for k in ("secret", "configMap", "persistentVolumeClaim", "emptyDir", "projected"):
            if k in self.volume:
                return k
        return next(k for k in self.volume if k != "name")

    @property
    def object_name(self) -> str | None:
        if "secret" in self.volume:
            return self.volume["secret"].get("secretName")
        if "configMap" in self.volume:
            return self.volume["configMap"].get("name")
        if "persistentVolumeClaim" in self.volume:
            return self.volume["persistentVolumeClaim"].get("claimName")
        return None


def file_source(pod: Pod, container: dict, path: str) -> FileSource | None:
    """Which volume (and which ConfigMap/Secret key) provides `path` inside `container`."""
    mounts = [m for m in container.get("volumeMounts") or [] if path == m["mountPath"] or path.startswith(m["mountPath"].rstrip("/") + "/")]
    if not mounts:
        return None
    mount = max(mounts, key=lambda m: len(m["mountPath"]))
    volume = next((v for v in pod.spec.get("volumes") or [] if v["name"] == mount["name"]), None)
    if volume is None:
        return None
    rel = path[len(mount["mountPath"].rstrip("/")) + 1:]
    if mount.get("subPath"):
        rel = mount["subPath"] + ("/" + rel if rel else "")
    key = None
    for src in ("secret", "configMap"):
        if src in volume:
            items = volume[src].get("items")
            key = next((i["key"] for i in items if i["path"] == rel), None) if items else rel
    return FileSource(mount, volume, key)


def find(objs: Iterable[Obj], kind: str, name: str, namespace: str | None = None) -> Obj | None:
    for o in objs:
        if o.kind == kind and o.name == name and (namespace is None or o.namespace == namespace):
            return o
    return None


def flower_containers(objects: Iterable[Obj]):
    """(pod, container, program) of every Flower process; fails on a container nobody classified,
    so a new Flower process cannot slip past the argument checks."""
    for pod in pods(objects):
        for c in pod.spec.get("initContainers", []) + pod.spec["containers"]:
            program, args = invocation(c)
            if program in FLOWER_PROGRAMS:
                yield pod, {**c, "args": args}, program  # args: what the program really gets
            else:
                assert program in NON_FLOWER_PROGRAMS, f"{pod.owner} container {c['name']}: unknown program {program!r}"
