"""A small Kubernetes-API-compatible HTTP server for tests: an OCM hub without a kube-apiserver.

It speaks the real Kubernetes REST protocol (JSON) over HTTP/1.1 on 127.0.0.1, closely enough
for the official ``kubernetes`` Python client to talk to it unchanged:

- discovery (``/api``, ``/apis``, ``/apis/<group>/<version>``) and ``/version``;
- GET / LIST (namespaced, all namespaces, cluster-scoped), POST (201), PUT (with optimistic
  concurrency on ``metadata.resourceVersion``), PATCH (merge patch), DELETE, ``/status``;
- label selectors (``=``, ``==``, ``!=``, ``in``, ``notin``, ``key``, ``!key``) and field
  selectors (``metadata.name``, ``metadata.namespace``; ``=``, ``==``, ``!=``);
- paging with ``limit`` / ``continue`` (opaque tokens; a stale token gives 410 Expired);
- a global, monotonically increasing ``resourceVersion``; WATCH from a resourceVersion (replays
  the events since then, then streams new ones as chunked JSON lines), ``timeoutSeconds``,
  ``allowWatchBookmarks``, ``ERROR 410 Gone`` when the version was compacted; label-selector
  transitions on MODIFIED become ADDED / DELETED like the real watch cache;
- Bearer-token authentication (401) and per verb/resource/namespace denials (403) whose Status
  bodies are shaped like the API server's; unknown groups/resources give 404.

Test code changes the hub directly (``create``/``replace``/``patch``/``delete``) and every
change reaches open watches. Not emulated: protobuf, server-side apply, admission, field
validation, consistent snapshots across the pages of one list (pages show current state).

Run standalone (used by bench/bench_status.py): ``python fakehub.py --fleet 10000``.
"""

from __future__ import annotations

import base64
import bisect
import copy
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterable

# --- resources -----------------------------------------------------------------------------


@dataclass(frozen=True)
class ResourceType:
    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool
    short: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def gr(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


CLUSTER = "cluster.open-cluster-management.io"
ADDON = "addon.open-cluster-management.io"
WORK = "work.open-cluster-management.io"

DEFAULT_TYPES: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "namespaces", "Namespace", False),
    ResourceType("", "v1", "nodes", "Node", False),
    ResourceType("", "v1", "services", "Service", True),
    ResourceType("", "v1", "configmaps", "ConfigMap", True),
    ResourceType("", "v1", "secrets", "Secret", True),
    ResourceType("networking.k8s.io", "v1", "ingresses", "Ingress", True),
    ResourceType(CLUSTER, "v1", "managedclusters", "ManagedCluster", False),
    ResourceType(CLUSTER, "v1beta2", "managedclustersets", "ManagedClusterSet", False),
    ResourceType(CLUSTER, "v1beta2", "managedclustersetbindings", "ManagedClusterSetBinding", True),
    ResourceType(CLUSTER, "v1beta1", "placements", "Placement", True),
    ResourceType(CLUSTER, "v1beta1", "placementdecisions", "PlacementDecision", True),
    ResourceType(ADDON, "v1alpha1", "clustermanagementaddons", "ClusterManagementAddOn", False),
    ResourceType(ADDON, "v1alpha1", "managedclusteraddons", "ManagedClusterAddOn", True),
    ResourceType(ADDON, "v1alpha1", "addondeploymentconfigs", "AddOnDeploymentConfig", True),
    ResourceType(WORK, "v1", "manifestworks", "ManifestWork", True),
    ResourceType(WORK, "v1alpha1", "manifestworkreplicasets", "ManifestWorkReplicaSet", True),
)
ROUTE_TYPE = ResourceType("route.openshift.io", "v1", "routes", "Route", True)


# --- selectors -----------------------------------------------------------------------------


class SelectorError(ValueError):
    pass


def _split_top(text: str) -> list[str]:
    """Split on commas that are not inside parentheses."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def parse_label_selector(text: str) -> Callable[[dict[str, str]], bool]:
    """The Kubernetes label selector syntax as a predicate over a labels dict."""
    reqs: list[Callable[[dict[str, str]], bool]] = []
    for part in _split_top(text or ""):
        low = f" {part} "
        if " notin " in low or " in " in low:
            op = "notin" if " notin " in low else "in"
            key, _, rest = part.partition(f" {op} ")
            key, rest = key.strip(), rest.strip()
            if not (rest.startswith("(") and rest.endswith(")")):
                raise SelectorError(f"unable to parse requirement: {part!r}")
            values = frozenset(v.strip() for v in rest[1:-1].split(",") if v.strip())
            if op == "in":
                reqs.append(lambda l, k=key, vs=values: l.get(k) in vs)
            else:
                reqs.append(lambda l, k=key, vs=values: l.get(k) not in vs)
        elif "!=" in part:
            key, value = (s.strip() for s in part.split("!=", 1))
            reqs.append(lambda l, k=key, v=value: l.get(k) != v)
        elif "=" in part:
            key, value = (s.strip() for s in part.replace("==", "=").split("=", 1))
            reqs.append(lambda l, k=key, v=value: l.get(k) == v)
        elif part.startswith("!"):
            reqs.append(lambda l, k=part[1:].strip(): k not in l)
        else:
            reqs.append(lambda l, k=part: k in l)
    return lambda labels: all(r(labels) for r in reqs)


FIELDS = {"metadata.name": 1, "metadata.namespace": 0}


def parse_field_selector(text: str) -> Callable[[tuple[str, str]], bool]:
    """Field selectors on metadata.name / metadata.namespace, over a (namespace, name) key."""
    reqs: list[Callable[[tuple[str, str]], bool]] = []
    for part in _split_top(text or ""):
        neg = "!=" in part
        fld, value = (s.strip() for s in part.replace("==", "=").split("!=" if neg else "=", 1))
        if fld not in FIELDS:
            raise SelectorError(f'field label not supported: {fld}')
        idx = FIELDS[fld]
        if neg:
            reqs.append(lambda key, i=idx, v=value: key[i] != v)
        else:
            reqs.append(lambda key, i=idx, v=value: key[i] == v)
    return lambda key: all(r(key) for r in reqs)


# --- storage -------------------------------------------------------------------------------


@dataclass
class Entry:
    obj: dict[str, Any]
    rv: int
    raw: bytes | None = None

    @property
    def labels(self) -> dict[str, str]:
        return self.obj.get("metadata", {}).get("labels") or {}

    def data(self) -> bytes:
        if self.raw is None:
            self.raw = json.dumps(self.obj, separators=(",", ":")).encode()
        return self.raw


@dataclass
class Event:
    rv: int
    rtype: ResourceType
    kind: str  # ADDED / MODIFIED / DELETED
    key: tuple[str, str]
    entry: Entry
    old_labels: dict[str, str] | None


@dataclass
class Store:
    rtype: ResourceType
    items: dict[tuple[str, str], Entry] = field(default_factory=dict)
    keys: list[tuple[str, str]] = field(default_factory=list)  # sorted


@dataclass(frozen=True)
class Deny:
    verb: str  # get list watch create update patch delete, or "*"
    group: str
    plural: str
    namespace: str | None  # None = every namespace and the cluster scope


class ApiError(Exception):
    def __init__(self, code: int, reason: str, message: str, details: dict | None = None) -> None:
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details or {}

    def status(self) -> dict[str, Any]:
        body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": self.message, "reason": self.reason, "code": self.code}
        if self.details is not None:
            body["details"] = self.details
        return body


class FakeHub:
    """The state of a fake hub plus the HTTP server that serves it."""

    def __init__(
        self,
        *,
        types: Iterable[ResourceType] = DEFAULT_TYPES,
        openshift: bool = False,
        token: str | None = None,
        user: str = "system:serviceaccount:flower:tester",
        watch_timeout: float = 1800.0,  # longest watch request; clients resume from their last version
        bookmark_interval: float | None = None,
        history: int = 100_000,
    ) -> None:
        all_types = list(types) + ([ROUTE_TYPE] if openshift else [])
        self.types: dict[tuple[str, str, str], ResourceType] = {
            (t.group, t.version, t.plural): t for t in all_types
        }
        self.stores: dict[tuple[str, str], Store] = {}  # (group, plural) -> Store (one storage version)
        for t in all_types:
            self.stores.setdefault((t.group, t.plural), Store(t))
        self.token = token
        self.user = user
        self.watch_timeout = watch_timeout
        self.bookmark_interval = bookmark_interval
        self.history = history
        self.denies: set[Deny] = set()
        self.rv = 1
        self.compacted_rv = 0
        self.events: list[Event] = []
        self.cond = threading.Condition()
        self.requests: list[tuple[str, str, dict[str, str]]] = []  # (method, path, query)
        self.record_requests = True
        self.delay: float = 0.0  # seconds added to every response (slow hub)
        self.open_watches = 0
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False

    # -- life cycle -------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        hub = self

        class Handler(_Handler):
            pass

        Handler.hub = hub
        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, name="fakehub", daemon=True)
        self._thread.start()
        return self.url

    @property
    def url(self) -> str:
        assert self._server is not None
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def stop(self) -> None:
        self._stopping = True
        with self.cond:
            self.cond.notify_all()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def kubeconfig(self, path, *, context: str = "fakehub", token: str | None = None) -> str:
        """Write a kubeconfig for this server to ``path``; returns its path as a string."""
        user: dict[str, Any] = {"token": token or self.token or "fake-token"}
        doc = {
            "apiVersion": "v1", "kind": "Config", "current-context": context,
            "clusters": [{"name": context, "cluster": {"server": self.url}}],
            "users": [{"name": context, "user": user}],
            "contexts": [{"name": context, "context": {"cluster": context, "user": context, "namespace": "default"}}],
        }
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(doc, fh)
        return str(path)

    # -- type lookup ------------------------------------------------------------------------

    def rtype_of(self, obj: dict[str, Any]) -> ResourceType:
        api_version, kind = obj["apiVersion"], obj["kind"]
        group, _, version = api_version.rpartition("/")
        for t in self.types.values():
            if t.group == group and t.version == version and t.kind == kind:
                return t
        raise KeyError(f"no resource type for {api_version} {kind}")

    def remove_group(self, group: str) -> None:
        """Make a whole API group disappear (its CRDs are not installed): 404 on every path."""
        for key in [k for k in self.types if k[0] == group]:
            del self.types[key]

    def deny(self, verb: str, plural: str, group: str = "", namespace: str | None = None) -> None:
        self.denies.add(Deny(verb, group, plural, namespace))

    # -- state changes (used by tests, and by the HTTP verbs) ---------------------------------

    def _store(self, t: ResourceType) -> Store:
        return self.stores[(t.group, t.plural)]

    def _key(self, t: ResourceType, obj: dict[str, Any]) -> tuple[str, str]:
        md = obj.setdefault("metadata", {})
        return (md.get("namespace", "") if t.namespaced else "", md["name"])

    def _emit(self, t: ResourceType, kind: str, key: tuple[str, str], entry: Entry, old_labels) -> None:
        self.events.append(Event(entry.rv, t, kind, key, entry, old_labels))
        if len(self.events) > self.history:
            drop = len(self.events) - self.history
            self.compacted_rv = self.events[drop - 1].rv
            del self.events[:drop]
        self.cond.notify_all()

    def create(self, obj: dict[str, Any], *, record: bool = True, copy_obj: bool = True) -> dict[str, Any]:
        t = self.rtype_of(obj)
        if copy_obj:
            obj = copy.deepcopy(obj)
        else:  # the caller hands the object over; only its metadata dict is written to
            obj = dict(obj, metadata=dict(obj.get("metadata") or {}))
        with self.cond:
            store = self._store(t)
            key = self._key(t, obj)
            if key in store.items:
                raise ApiError(409, "AlreadyExists", f'{t.gr} "{key[1]}" already exists',
                               {"name": key[1], "group": t.group, "kind": t.plural})
            self.rv += 1
            md = obj["metadata"]
            md["resourceVersion"] = str(self.rv)
            md.setdefault("uid", f"uid-{self.rv}")
            md.setdefault("creationTimestamp", "2026-06-01T00:00:00Z")
            md.setdefault("generation", 1)
            entry = Entry(obj, self.rv)
            store.items[key] = entry
            bisect.insort(store.keys, key)
            if record:
                self._emit(t, "ADDED", key, entry, None)
            return obj

    def create_many(self, objs: Iterable[dict[str, Any]]) -> None:
        """Bulk load (fleet set-up): no watch events, history compacted to now.

        The objects are handed over without a deep copy (sub-objects may be shared between them:
        nothing mutates stored objects in place)."""
        for obj in objs:
            self.create(obj, record=False, copy_obj=False)
        with self.cond:
            self.compacted_rv = self.rv
            self.events.clear()

    def get(self, api_version: str, kind: str, name: str, namespace: str = "") -> dict[str, Any]:
        t = self.rtype_of({"apiVersion": api_version, "kind": kind})
        with self.cond:
            entry = self._store(t).items.get((namespace if t.namespaced else "", name))
            if entry is None:
                raise KeyError(name)
            return copy.deepcopy(entry.obj)

    def replace(self, obj: dict[str, Any], *, check_rv: bool = False) -> dict[str, Any]:
        t = self.rtype_of(obj)
        obj = copy.deepcopy(obj)
        with self.cond:
            store = self._store(t)
            key = self._key(t, obj)
            old = store.items.get(key)
            if old is None:
                raise ApiError(404, "NotFound", f'{t.gr} "{key[1]}" not found',
                               {"name": key[1], "group": t.group, "kind": t.plural})
            sent_rv = obj["metadata"].get("resourceVersion")
            if check_rv and sent_rv and sent_rv != str(old.rv):
                raise ApiError(409, "Conflict", f'Operation cannot be fulfilled on {t.gr} "{key[1]}": '
                               "the object has been modified; please apply your changes to the latest "
                               "version and try again", {"name": key[1], "group": t.group, "kind": t.plural})
            self.rv += 1
            md = obj["metadata"]
            for k in ("uid", "creationTimestamp", "generation"):
                if k in old.obj["metadata"]:
                    md.setdefault(k, old.obj["metadata"][k])
            if obj.get("spec") != old.obj.get("spec"):
                md["generation"] = int(old.obj["metadata"].get("generation", 1)) + 1
            md["resourceVersion"] = str(self.rv)
            entry = Entry(obj, self.rv)
            store.items[key] = entry
            self._emit(t, "MODIFIED", key, entry, old.labels)
            return obj

    def patch(self, api_version: str, kind: str, name: str, patch: dict[str, Any], namespace: str = "") -> dict:
        with self.cond:
            current = self.get(api_version, kind, name, namespace)
            return self.replace(merge_patch(current, patch))

    def delete(self, api_version: str, kind: str, name: str, namespace: str = "") -> dict[str, Any]:
        t = self.rtype_of({"apiVersion": api_version, "kind": kind})
        with self.cond:
            store = self._store(t)
            key = (namespace if t.namespaced else "", name)
            old = store.items.pop(key, None)
            if old is None:
                raise ApiError(404, "NotFound", f'{t.gr} "{name}" not found',
                               {"name": name, "group": t.group, "kind": t.plural})
            store.keys.pop(bisect.bisect_left(store.keys, key))
            self.rv += 1
            obj = copy.deepcopy(old.obj)
            obj["metadata"]["resourceVersion"] = str(self.rv)
            entry = Entry(obj, self.rv)
            self._emit(t, "DELETED", key, entry, old.labels)
            return obj

    # -- request statistics -----------------------------------------------------------------

    def count(self, method: str = "GET", path_contains: str = "", **query: str) -> int:
        n = 0
        for m, p, q in list(self.requests):
            if m == method and path_contains in p and all(q.get(k) == v for k, v in query.items()):
                n += 1
        return n


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386 JSON merge patch."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for k, v in patch.items():
        if v is None:
            result.pop(k, None)
        else:
            result[k] = merge_patch(result.get(k), v)
    return result


def _encode_continue(rv: int, key: tuple[str, str]) -> str:
    raw = json.dumps({"rv": rv, "ns": key[0], "name": key[1]}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode()


def _decode_continue(token: str) -> tuple[int, tuple[str, str]]:
    try:
        data = json.loads(base64.urlsafe_b64decode(token.encode()))
        return int(data["rv"]), (str(data["ns"]), str(data["name"]))
    except Exception as exc:  # noqa: BLE001
        raise ApiError(400, "BadRequest", f"continue key is not valid: {exc}") from None


# --- HTTP ----------------------------------------------------------------------------------


VERB_OF_METHOD = {"POST": "create", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}


class _Handler(BaseHTTPRequestHandler):
    hub: FakeHub
    protocol_version = "HTTP/1.1"
    server_version = "fakehub/1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
        pass

    # entry points
    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    # plumbing
    def _send_json(self, code: int, body: bytes | dict[str, Any]) -> None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _read_body(self) -> Any:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        try:
            return json.loads(raw) if raw else {}
        except ValueError as exc:
            raise ApiError(400, "BadRequest", f"invalid JSON body: {exc}") from None

    def _dispatch(self, method: str) -> None:
        hub = self.hub
        parsed = urllib.parse.urlsplit(self.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parsed.query, keep_blank_values=True).items()}
        self._streaming = False
        if hub.record_requests:
            hub.requests.append((method, parsed.path, query))
        if hub.delay:
            time.sleep(hub.delay)
        try:
            if hub.token is not None and self.headers.get("Authorization") != f"Bearer {hub.token}":
                raise ApiError(401, "Unauthorized", "Unauthorized", None)
            self._route(method, parsed.path, query)
        except ApiError as err:
            if method != "GET" or not getattr(self, "_streaming", False):
                self._send_json(err.code, err.status())
        except (BrokenPipeError, ConnectionResetError):
            pass

    def _route(self, method: str, path: str, query: dict[str, str]) -> None:
        hub = self.hub
        parts = [urllib.parse.unquote(p) for p in path.strip("/").split("/") if p]
        if method == "GET" and parts == ["version"]:
            return self._send_json(200, {"major": "1", "minor": "33", "gitVersion": "v1.33.0-fakehub",
                                         "gitCommit": "0" * 40, "gitTreeState": "clean",
                                         "buildDate": "2026-06-01T00:00:00Z", "goVersion": "go1.24.0",
                                         "compiler": "gc", "platform": "linux/amd64"})
        if method == "GET" and parts == ["api"]:
            return self._send_json(200, {"kind": "APIVersions", "versions": ["v1"],
                                         "serverAddressByClientCIDRs": []})
        if method == "GET" and parts == ["apis"]:
            return self._send_json(200, self._group_list())
        # /api/v1/... or /apis/<group>/<version>/...
        if parts[:1] == ["api"] and len(parts) >= 2:
            group, version, rest = "", parts[1], parts[2:]
        elif parts[:1] == ["apis"] and len(parts) >= 3:
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            raise _not_found_path()
        if not rest:
            if method != "GET":
                raise _not_found_path()
            return self._send_json(200, self._resource_list(group, version))
        namespace = ""
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        plural, name, sub = rest[0], rest[1] if len(rest) > 1 else "", rest[2] if len(rest) > 2 else ""
        t = hub.types.get((group, version, plural))
        if t is None or len(rest) > 3 or (sub and sub != "status"):
            raise _not_found_path()
        if namespace and not t.namespaced:
            raise _not_found_path()
        watching = query.get("watch") in ("true", "1")
        verb = ("watch" if watching else "list" if not name else "get") if method == "GET" else VERB_OF_METHOD[method]
        self._authorize(verb, t, namespace)
        if method == "GET" and not name:
            if watching:
                return self._watch(t, namespace, query)
            return self._list(t, namespace, query)
        if method == "GET":
            return self._get(t, namespace, name)
        if method == "POST" and not name:
            body = self._read_body()
            body.setdefault("metadata", {})
            if t.namespaced:
                body["metadata"]["namespace"] = namespace
            body.setdefault("apiVersion", t.api_version)
            body.setdefault("kind", t.kind)
            return self._send_json(201, hub.create(body))
        if not name:
            raise ApiError(405, "MethodNotAllowed", f"the server does not allow this method on the requested resource")
        key = (namespace if t.namespaced else "", name)
        if method == "DELETE":
            return self._send_json(200, hub.delete(t.api_version, t.kind, name, key[0]))
        with hub.cond:
            current = hub._store(t).items.get(key)
            if current is None:
                raise ApiError(404, "NotFound", f'{t.gr} "{name}" not found',
                               {"name": name, "group": t.group, "kind": t.plural})
            body = self._read_body()
            if method == "PATCH":
                ctype = self.headers.get("Content-Type", "")
                if "json-patch" in ctype and "merge" not in ctype:
                    raise ApiError(415, "UnsupportedMediaType", f"the body of the request was in an unknown format - accepted media types include: application/merge-patch+json, application/strategic-merge-patch+json")
                patch = body
                if sub == "status":
                    patch = {"status": body.get("status")}
                new = merge_patch(copy.deepcopy(current.obj), patch)
                return self._send_json(200, hub.replace(new))
            # PUT
            body.setdefault("apiVersion", t.api_version)
            body.setdefault("kind", t.kind)
            body.setdefault("metadata", {})["name"] = name
            if t.namespaced:
                body["metadata"]["namespace"] = namespace
            if sub == "status":
                new = copy.deepcopy(current.obj)
                new["status"] = body.get("status")
                new["metadata"]["resourceVersion"] = body["metadata"].get("resourceVersion")
                body = new
            else:
                body["status"] = copy.deepcopy(current.obj.get("status")) if "status" in current.obj else body.get("status")
            return self._send_json(200, hub.replace(body, check_rv=True))

    def _authorize(self, verb: str, t: ResourceType, namespace: str) -> None:
        for d in self.hub.denies:
            if (d.verb in (verb, "*") and d.group == t.group and d.plural in (t.plural, "*")
                    and (d.namespace is None or d.namespace == namespace)):
                where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
                group = f'in API group "{t.group}"'
                raise ApiError(
                    403, "Forbidden",
                    f'{t.gr} is forbidden: User "{self.hub.user}" cannot {verb} resource "{t.plural}" {group} {where}',
                    {"group": t.group, "kind": t.plural},
                )

    def _group_list(self) -> dict[str, Any]:
        groups: dict[str, list[str]] = {}
        for g, v, _ in self.hub.types:
            if g:
                groups.setdefault(g, [])
                if v not in groups[g]:
                    groups[g].append(v)
        return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [
            {"name": g, "versions": [{"groupVersion": f"{g}/{v}", "version": v} for v in vs],
             "preferredVersion": {"groupVersion": f"{g}/{vs[0]}", "version": vs[0]}}
            for g, vs in sorted(groups.items())]}

    def _resource_list(self, group: str, version: str) -> dict[str, Any]:
        ts = [t for (g, v, _), t in self.hub.types.items() if g == group and v == version]
        if not ts:
            raise _not_found_path()
        return {"kind": "APIResourceList", "apiVersion": "v1",
                "groupVersion": f"{group}/{version}" if group else version,
                "resources": [{"name": t.plural, "singularName": t.kind.lower(), "namespaced": t.namespaced,
                               "kind": t.kind, "verbs": ["create", "delete", "get", "list", "patch", "update",
                                                         "watch"]} for t in ts]}

    def _get(self, t: ResourceType, namespace: str, name: str) -> None:
        with self.hub.cond:
            entry = self.hub._store(t).items.get((namespace if t.namespaced else "", name))
            if entry is None:
                raise ApiError(404, "NotFound", f'{t.gr} "{name}" not found',
                               {"name": name, "group": t.group, "kind": t.plural})
            data = self._versioned(t, entry)
        self._send_json(200, data)

    def _versioned(self, t: ResourceType, entry: Entry) -> bytes:
        """The stored object as served at the requested version (apiVersion rewritten)."""
        if entry.obj.get("apiVersion") == t.api_version:
            return entry.data()
        obj = dict(entry.obj)
        obj["apiVersion"] = t.api_version
        return json.dumps(obj, separators=(",", ":")).encode()

    def _selectors(self, query: dict[str, str]):
        try:
            return (parse_label_selector(query.get("labelSelector", "")),
                    parse_field_selector(query.get("fieldSelector", "")))
        except SelectorError as exc:
            raise ApiError(400, "BadRequest", str(exc)) from None

    def _list(self, t: ResourceType, namespace: str, query: dict[str, str]) -> None:
        hub = self.hub
        label_ok, field_ok = self._selectors(query)
        limit = int(query.get("limit") or 0)
        token = query.get("continue") or ""
        items: list[bytes] = []
        next_token = ""
        remaining = None
        with hub.cond:
            store = hub._store(t)
            list_rv = hub.rv
            keys = store.keys
            start = 0
            if token:
                token_rv, after = _decode_continue(token)
                if token_rv < hub.compacted_rv:
                    raise ApiError(410, "Expired", "The provided continue parameter is too old to display a "
                                   "consistent list result. You can start a new list without the continue "
                                   "parameter.")
                list_rv = token_rv
                start = bisect.bisect_right(keys, after)
            elif namespace:
                start = bisect.bisect_left(keys, (namespace, ""))
            last_key = None
            for i in range(start, len(keys)):
                key = keys[i]
                if namespace and key[0] != namespace:
                    break
                entry = store.items[key]
                if not field_ok(key) or not label_ok(entry.labels):
                    continue
                if limit and len(items) == limit:
                    next_token = _encode_continue(list_rv, last_key)
                    # like the API server: an estimate of the remaining items
                    remaining = sum(1 for k in keys[i:] if (not namespace or k[0] == namespace)
                                    and field_ok(k) and label_ok(store.items[k].labels))
                    break
                items.append(self._versioned(t, entry))
                last_key = key
        meta: dict[str, Any] = {"resourceVersion": str(list_rv)}
        if next_token:
            meta["continue"] = next_token
            meta["remainingItemCount"] = remaining
        head = json.dumps({"kind": f"{t.kind}List", "apiVersion": t.api_version, "metadata": meta},
                          separators=(",", ":")).encode()
        self._send_json(200, head[:-1] + b',"items":[' + b",".join(items) + b"]}")

    # -- watch ------------------------------------------------------------------------------

    def _client_gone(self) -> bool:
        """The client closed its end (the API server cancels the watch then)."""
        import select
        import socket

        try:
            readable, _, _ = select.select([self.connection], [], [], 0)
            if not readable:
                return False
            return self.connection.recv(1, socket.MSG_PEEK) == b""
        except OSError:
            return True

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()

    def _event(self, kind: str, obj_raw: bytes) -> None:
        self._chunk(b'{"type":"' + kind.encode() + b'","object":' + obj_raw + b"}\n")

    def _watch(self, t: ResourceType, namespace: str, query: dict[str, str]) -> None:
        hub = self.hub
        label_ok, field_ok = self._selectors(query)
        # Like the API server, the server caps how long one watch request lasts.
        timeout = min(float(query.get("timeoutSeconds") or hub.watch_timeout), hub.watch_timeout)
        deadline = time.monotonic() + timeout
        bookmarks = query.get("allowWatchBookmarks") in ("true", "1") and hub.bookmark_interval
        rv_param = query.get("resourceVersion", "")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        self._streaming = True

        def matches(key, labels) -> bool:
            return (not namespace or key[0] == namespace) and field_ok(key) and label_ok(labels)

        with hub.cond:
            hub.open_watches += 1
            store = hub._store(t)
            if rv_param in ("", "0"):
                initial = [self._versioned(t, store.items[k]) for k in store.keys
                           if matches(k, store.items[k].labels)]
                cursor = hub.rv
            else:
                try:
                    cursor = int(rv_param)
                except ValueError:
                    cursor = -1
                initial = None
                if cursor < hub.compacted_rv:
                    gone = ApiError(410, "Expired", f"too old resource version: {rv_param} ({hub.compacted_rv})")
                    hub.open_watches -= 1
                    try:
                        self._event("ERROR", json.dumps(gone.status()).encode())
                        self._chunk(b"")
                    except (BrokenPipeError, ConnectionResetError):
                        pass
                    return
        try:
            for raw in initial or ():
                self._event("ADDED", raw)
            next_bookmark = time.monotonic() + (hub.bookmark_interval or 0)
            while not hub._stopping:
                with hub.cond:
                    batch = hub.events[bisect.bisect_right(hub.events, cursor, key=_event_rv):]
                    if not batch:
                        wait = min(deadline - time.monotonic(), 0.2)  # 0.2: notice a client that left
                        if bookmarks:
                            wait = min(wait, next_bookmark - time.monotonic())
                        if wait > 0:
                            hub.cond.wait(timeout=wait)
                        batch = hub.events[bisect.bisect_right(hub.events, cursor, key=_event_rv):]
                    top_rv = hub.rv
                for ev in batch:
                    cursor = ev.rv
                    if ev.rtype.group != t.group or ev.rtype.plural != t.plural:
                        continue
                    now_ok = matches(ev.key, ev.entry.labels)
                    was_ok = ev.old_labels is not None and matches(ev.key, ev.old_labels)
                    kind = ev.kind
                    if kind == "MODIFIED" and now_ok and not was_ok:
                        kind = "ADDED"
                    elif kind == "MODIFIED" and was_ok and not now_ok:
                        kind = "DELETED"
                    elif (kind == "DELETED" and not was_ok) or (kind != "DELETED" and not now_ok):
                        continue
                    self._event(kind, self._versioned(t, ev.entry))
                if not batch:
                    cursor = max(cursor, top_rv)
                    if self._client_gone():
                        self.close_connection = True
                        return
                now = time.monotonic()
                if now >= deadline:
                    break
                if bookmarks and now >= next_bookmark:
                    bm = {"kind": t.kind, "apiVersion": t.api_version,
                          "metadata": {"resourceVersion": str(cursor)}}
                    self._event("BOOKMARK", json.dumps(bm).encode())
                    next_bookmark = now + hub.bookmark_interval
            self._chunk(b"")
        except (BrokenPipeError, ConnectionResetError, OSError):
            self.close_connection = True
        finally:
            with hub.cond:
                hub.open_watches -= 1


def _event_rv(event: Event) -> int:
    return event.rv


def _not_found_path() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


# --- standalone ----------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fleet", type=int, default=10_000, help="number of managed clusters")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
    import fleetgen

    hub = FakeHub()
    hub.record_requests = False
    fleetgen.load(hub, fleetgen.big_fleet(args.fleet))
    url = hub.start(port=args.port)
    print(url, flush=True)
    try:
        sys.stdin.read()  # until the parent closes our stdin
    finally:
        hub.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
