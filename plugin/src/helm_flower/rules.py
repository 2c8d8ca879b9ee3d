"""Semantic rules: what the chart's values mean for a running federation, beyond what a JSON
schema can say. Each finding has a stable rule id (catalogue in findings.RULES).

Every rule reads the merged values defensively: a value of the wrong type is the schema's
business (FLW100), so rules skip what they cannot interpret instead of failing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

from . import flower_versions, k8s, naming, nodeconfig
from .findings import WARNING, Report, json_path, truncate
from .values import Values, copy_data

Parts = tuple[Any, ...]
RuleFn = Callable[["Context"], None]
_RULES: list[RuleFn] = []

_PEM_CERT = "-----BEGIN CERTIFICATE-----"
MAX_RELEASE = 53
MAX_ADC_VALUE = 1024


def rule(fn: RuleFn) -> RuleFn:
    _RULES.append(fn)
    return fn


class Context:
    def __init__(self, values: Values, report: Report, release: str, namespace: str) -> None:
        self.merged = values
        self.v = values.values
        self.report = report
        self.release = release
        self.namespace = namespace
        self._seen: set[tuple[str, str, str]] = set()

    # -- reading --
    def get(self, *path: Any, default: Any = None) -> Any:
        node: Any = self.v
        for part in path:
            if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
                node = node[part]
            elif isinstance(part, str) and isinstance(node, dict) and part in node:
                node = node[part]
            else:
                return default
        return node

    def dict(self, *path: Any) -> dict[str, Any]:
        value = self.get(*path)
        return value if isinstance(value, dict) else {}

    def list(self, *path: Any) -> list[Any]:
        value = self.get(*path)
        return value if isinstance(value, list) else []

    def str(self, *path: Any, default: str = "") -> str:
        value = self.get(*path)
        return value if isinstance(value, str) else default

    def on(self, key: str) -> bool:
        if key in self.merged.enabled:
            return self.merged.enabled[key]
        return self.get(key, "enabled") is not False

    # -- writing --
    def add(self, rule_id: str, parts: Parts, message: str, hint: str = "",
            severity: str | None = None) -> None:
        path = json_path(parts) if parts else ""
        key = (rule_id, path, message)
        if key in self._seen:
            return
        self._seen.add(key)
        source = self.merged.source(tuple(parts)) if parts else ""
        self.report.add(rule_id, path, message, hint, source, severity)


def run_rules(values: Values, report: Report, release: str, namespace: str) -> None:
    ctx = Context(values, report, release, namespace)
    for fn in _RULES:
        fn(ctx)


# --- helpers --------------------------------------------------------------------------------


def sprig_merge(dst: dict[str, Any], src: dict[str, Any]) -> dict[str, Any]:
    """Sprig's ``merge`` (mergo): dst wins, except where dst is empty ("", 0, false, null, {}, [])."""
    for key, value in src.items():
        if value is None:
            continue
        current = dst.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            sprig_merge(current, value)
        elif key not in dst or _empty(current):
            dst[key] = copy_data(value)
    return dst


def _empty(value: Any) -> bool:
    return value is None or value is False or (not isinstance(value, bool) and value in ("", 0)) or (
        isinstance(value, (dict, list)) and not value)


def _version(tag: Any) -> tuple[int, int] | None:
    return flower_versions.parse(tag)


def _mm(version: tuple[int, int]) -> str:
    return flower_versions.mm(version)


def _walk(value: Any, parts: Parts = ()) -> Iterator[tuple[Parts, Any]]:
    """Every (path, value); Helm's copies of global inside subcharts are skipped."""
    yield parts, value
    if isinstance(value, dict):
        for key, item in value.items():
            if len(parts) == 1 and key == "global":
                continue
            yield from _walk(item, (*parts, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _walk(item, (*parts, index))


def _tls_mode(ctx: Context) -> str:
    return ctx.str("global", "tls", "mode", default="generate")


def _placements(ctx: Context) -> list[tuple[int, dict[str, Any]]]:
    return [(i, p) for i, p in enumerate(ctx.list("hubAddon", "placements")) if isinstance(p, dict)]


def _apps(ctx: Context) -> list[tuple[int, dict[str, Any]]]:
    return [(i, a) for i, a in enumerate(ctx.list("clientApp", "apps")) if isinstance(a, dict)]


def _clusters(ctx: Context) -> list[tuple[int, dict[str, Any]]]:
    return [(i, c) for i, c in enumerate(ctx.list("hubAddon", "clusters")) if isinstance(c, dict)]


def _placements_mode(ctx: Context) -> bool:
    # No default: as in the chart, a null (which removes the chart's "Placements") is neither mode.
    return ctx.get("hubAddon", "installStrategy") == "Placements"


# --- ClientApp placements -------------------------------------------------------------------


@rule
def clientapp_placements(ctx: Context) -> None:
    if not ctx.on("clientApp"):
        return
    apps = _apps(ctx)
    if not ctx.on("hubAddon"):
        # The chart refuses this (templates/checks.yaml), apps or not.
        ctx.add("FLW203", ("clientApp", "enabled"),
                "ClientApps are enabled but hubAddon is not: ClientApps ship only to clusters where this "
                "release's SuperNode runs, and the chart refuses to render them without it",
                "enable hubAddon, or disable clientApp")
        return
    names = [p.get("name") for _, p in _placements(ctx)]
    manual = not _placements_mode(ctx)
    for i, app in apps:
        refs = app.get("placements")
        if not isinstance(refs, list):
            continue
        for j, ref in enumerate(refs):
            if manual:
                ctx.add("FLW202", ("clientApp", "apps", i, "placements", j),
                        f"placement {truncate(ref)}: with hubAddon.installStrategy Manual there are no "
                        "SuperNode placements to name",
                        "leave placements empty: the app then runs on every cluster with a SuperNode")
            elif ref not in names:
                known = ", ".join(str(n) for n in names if isinstance(n, str)) or "none"
                ctx.add("FLW201", ("clientApp", "apps", i, "placements", j),
                        f"placement {truncate(ref)} is not a SuperNode placement (hubAddon.placements: {known})",
                        "name one of hubAddon.placements[].name, or leave placements empty for every "
                        "cluster with a SuperNode")


@rule
def duplicate_names(ctx: Context) -> None:
    groups = []
    if ctx.on("hubAddon"):
        groups.append((("hubAddon", "placements"), _placements(ctx), "placement"))
        groups.append((("hubAddon", "clusters"), _clusters(ctx), "cluster"))
    if ctx.on("clientApp"):
        groups.append((("clientApp", "apps"), _apps(ctx), "app"))
    for base, items, what in groups:
        seen: dict[Any, int] = {}
        for i, item in items:
            name = item.get("name")
            if not isinstance(name, str):
                continue
            if name in seen:
                ctx.add("FLW204", (*base, i, "name"),
                        f"{what} name {name!r} is used twice (first at index {seen[name]})",
                        "names become object names: make them unique")
            else:
                seen[name] = i


@rule
def cluster_placements(ctx: Context) -> None:
    """hubAddon.clusters[].placement names the placement whose overrides the cluster starts from."""
    if not ctx.on("hubAddon"):
        return
    names = [p.get("name") for _, p in _placements(ctx)]
    for i, cluster in _clusters(ctx):
        placement = cluster.get("placement")
        if not placement:
            continue
        if not _placements_mode(ctx):
            ctx.add("FLW206", ("hubAddon", "clusters", i, "placement"),
                    f"placement {truncate(placement)} is ignored with installStrategy Manual",
                    "remove it: in Manual mode a cluster's config starts from hubAddon.supernode", WARNING)
        elif placement not in names:
            known = ", ".join(str(n) for n in names if isinstance(n, str)) or "none"
            ctx.add("FLW206", ("hubAddon", "clusters", i, "placement"),
                    f"placement {truncate(placement)} is not one of hubAddon.placements ({known}): the "
                    "cluster's config would silently start from hubAddon.supernode",
                    "name the placement that chooses this cluster")


@rule
def no_supernodes(ctx: Context) -> None:
    if not ctx.on("hubAddon"):
        return
    if _placements_mode(ctx):
        if isinstance(ctx.get("hubAddon", "placements"), list) and not _placements(ctx):
            ctx.add("FLW205", ("hubAddon", "placements"),
                    "installStrategy Placements with no placements: no managed cluster gets a SuperNode",
                    "add a placement, or use installStrategy Manual with hubAddon.clusters")
    elif ctx.get("hubAddon", "installStrategy") != "Manual":
        ctx.add("FLW205", ("hubAddon", "installStrategy"),
                "hubAddon.installStrategy is neither Placements nor Manual (a null removes the chart's default): "
                "no managed cluster gets a SuperNode",
                "set hubAddon.installStrategy to Placements or Manual")
    elif not _clusters(ctx):
        ctx.add("FLW205", ("hubAddon", "clusters"),
                "installStrategy Manual with no clusters: no managed cluster gets a SuperNode",
                "list the managed clusters in hubAddon.clusters")


# --- versions -------------------------------------------------------------------------------


FLOWER_VERSION_LABEL = "flower.ai/flower-version"


def _official(image: dict[str, Any]) -> bool:
    """An official Flower image (docker.io/flwr/...), whose tag is the Flower version."""
    return flower_versions.is_official(str(image.get("repository") or ""))


@rule
def versions(ctx: Context) -> None:
    """SuperExec images must match the federation's Flower major.minor.

    The tag tells the Flower version only for the official images (flwr/superexec, ...): an app
    image's tag is the app's own version. App images declare their Flower version with the
    label flower.ai/flower-version in appLabels (what `helm flower images` writes)."""
    reference = _version(ctx.get("global", "flower", "version"))
    if reference is None:
        return
    ref = _mm(reference)
    superexec_hint = (f"build the app image FROM flwr/superexec:{ref}.x (the SuperLink and SuperNode refuse a "
                      "SuperExec of another major.minor), or change global.flower.version")

    def check(rule_id: str, image_parts: Parts, image: dict[str, Any], what: str, hint: str,
              severity: str | None = None, official_only: bool = False) -> None:
        if image.get("digest") or (official_only and not _official(image)):
            return
        found = _version(image.get("tag"))
        if found and found != reference:
            ctx.add(rule_id, (*image_parts, "tag"),
                    f"{what} tag {truncate(image.get('tag'))} is Flower {_mm(found)}, "
                    f"global.flower.version is {ref}", hint, severity)

    def check_label(labels_parts: Parts, labels: Any, what: str) -> None:
        if not isinstance(labels, dict):
            return
        found = _version(labels.get(FLOWER_VERSION_LABEL))
        if found and found != reference:
            ctx.add("FLW210", (*labels_parts, FLOWER_VERSION_LABEL),
                    f"{what} is built on Flower {_mm(found)} ({FLOWER_VERSION_LABEL}), "
                    f"global.flower.version is {ref}", superexec_hint)

    if ctx.on("superlink"):
        check("FLW211", ("superlink", "image"), ctx.dict("superlink", "image"), "SuperLink image",
              "leave superlink.image.tag empty (it follows global.flower.version) or set "
              "global.flower.version instead: every SuperExec must match the SuperLink's major.minor")
        if ctx.get("superlink", "serverApp", "enabled") is not False:
            check("FLW210", ("superlink", "serverApp", "image"), ctx.dict("superlink", "serverApp", "image"),
                  "ServerApp image", superexec_hint, official_only=True)
            check_label(("superlink", "serverApp", "appLabels"), ctx.get("superlink", "serverApp", "appLabels"),
                        "the ServerApp image")
    if ctx.on("clientApp"):
        defaults = ctx.dict("clientApp", "defaults")
        default_image = defaults.get("image") if isinstance(defaults.get("image"), dict) else {}
        for i, app in _apps(ctx):
            own = app.get("image") if isinstance(app.get("image"), dict) else {}
            image = sprig_merge(copy_data(own), default_image)
            name = app.get("name")
            if own.get("tag") or own.get("digest") or own.get("repository"):
                check("FLW210", ("clientApp", "apps", i, "image"), image, f"ClientApp {name!r} image",
                      superexec_hint, official_only=True)
            else:
                check("FLW210", ("clientApp", "defaults", "image"), default_image, "clientApp.defaults image",
                      superexec_hint, official_only=True)
            if isinstance(app.get("appLabels"), dict) and FLOWER_VERSION_LABEL in app["appLabels"]:
                check_label(("clientApp", "apps", i, "appLabels"), app["appLabels"], f"ClientApp {name!r}")
            else:
                check_label(("clientApp", "defaults", "appLabels"), defaults.get("appLabels"),
                            "clientApp.defaults")
    if ctx.on("hubAddon"):
        node_hint = (f"use the SuperNode image of Flower {ref} (ClientApp SuperExecs must match their "
                     "SuperNode's major.minor)")
        base = ctx.dict("hubAddon", "supernode", "image")
        check("FLW212", ("hubAddon", "supernode", "image"), base, "SuperNode image", node_hint)
        if _placements_mode(ctx):
            for i, placement in _placements(ctx):
                override = placement.get("supernode") if isinstance(placement.get("supernode"), dict) else {}
                image = override.get("image")
                if isinstance(image, dict) and (image.get("tag") or image.get("digest")):
                    check("FLW212", ("hubAddon", "placements", i, "supernode", "image"),
                          sprig_merge(copy_data(image), base),
                          f"SuperNode image of placement {placement.get('name')!r}", node_hint)


@rule
def supported_version(ctx: Context) -> None:
    """global.flower.version must be of a supported minor (flower_versions.json, the chart's table)."""
    version = ctx.get("global", "flower", "version")
    found = _version(version) if isinstance(version, str) else None
    if found is None:  # not a version at all: the schema's pattern (FLW100)
        return
    supported = flower_versions.supported_minors()
    if _mm(found) not in supported:
        ctx.add("FLW213", ("global", "flower", "version"),
                f"Flower {truncate(version)} is not supported by this chart; supported minors: "
                f"{', '.join(supported)}",
                f"set global.flower.version to a release of a supported minor "
                f"(e.g. {flower_versions.default_version()}); the chart refuses to render it")


def _supernode_minor(image: dict[str, Any], reference: tuple[int, int]) -> tuple[int, int] | None:
    """The Flower minor a SuperNode image runs: its tag (an empty tag follows global.flower.version);
    None when pinned by digest or when the tag names no version."""
    if image.get("digest"):
        return None
    tag = image.get("tag")
    return reference if _empty(tag) else _version(tag)


def _clientapp_minor(ctx: Context, app: dict[str, Any],
                     reference: tuple[int, int]) -> tuple[tuple[int, int] | None, Parts]:
    """The Flower minor of a ClientApp SuperExec and the value that says so: its
    flower.ai/flower-version label (own, else clientApp.defaults'), else the tag of an official
    image (an empty tag follows global.flower.version); (None, ()) when unknown."""
    defaults = ctx.dict("clientApp", "defaults")
    i = next(j for j, a in _apps(ctx) if a is app)
    for parts, labels in ((("clientApp", "apps", i, "appLabels"), app.get("appLabels")),
                          (("clientApp", "defaults", "appLabels"), defaults.get("appLabels"))):
        if isinstance(labels, dict) and FLOWER_VERSION_LABEL in labels:
            return _version(labels.get(FLOWER_VERSION_LABEL)), (*parts, FLOWER_VERSION_LABEL)
    own = app.get("image") if isinstance(app.get("image"), dict) else {}
    default_image = defaults.get("image") if isinstance(defaults.get("image"), dict) else {}
    image = sprig_merge(copy_data(own), default_image)
    parts = (("clientApp", "apps", i, "image", "tag") if own.get("tag") or own.get("repository")
             else ("clientApp", "defaults", "image", "tag"))
    if image.get("digest") or not _official(image):
        return None, ()
    tag = image.get("tag")
    return (reference if _empty(tag) else _version(tag)), parts


@rule
def cluster_version_skew(ctx: Context) -> None:
    """On every cluster, the ClientApp SuperExecs must run the SuperNode's Flower major.minor: the
    SuperNode's Runtime API refuses a SuperExec of another one (exit 606).

    SuperNode images come from hubAddon.supernode, a placement's supernode overrides, or (for a
    cluster with its own node-config, hubAddon.clusters[]) the overrides of clusters[].placement;
    ClientApps ship to the clusters of their placements (none: every SuperNode cluster)."""
    reference = _version(ctx.get("global", "flower", "version"))
    if reference is None or not ctx.on("hubAddon") or not ctx.on("clientApp"):
        return
    base = ctx.dict("hubAddon", "supernode")
    base_image = base.get("image") if isinstance(base.get("image"), dict) else {}
    placements = {p["name"]: (i, p) for i, p in _placements(ctx) if isinstance(p.get("name"), str)}

    def override_image(name: Any) -> tuple[dict[str, Any], Parts]:
        found = placements.get(name) if isinstance(name, str) else None
        if found is not None:
            override = found[1].get("supernode") if isinstance(found[1].get("supernode"), dict) else {}
            image = override.get("image") if isinstance(override.get("image"), dict) else {}
            if image.get("tag") or image.get("digest"):
                return sprig_merge(copy_data(image), base_image), (
                    "hubAddon", "placements", found[0], "supernode", "image", "tag")
        return base_image, ("hubAddon", "supernode", "image", "tag")

    # SuperNode groups: (description, placement item it belongs to or None = unknown, minor, path).
    groups: list[tuple[str, str | None, tuple[int, int] | None, Parts]] = []
    manual = not _placements_mode(ctx)
    if manual:
        groups.append(("hubAddon.clusters", None, _supernode_minor(base_image, reference),
                       ("hubAddon", "supernode", "image", "tag")))
    else:
        for name in placements:
            image, parts = override_image(name)
            groups.append((f"placement {name!r}", name, _supernode_minor(image, reference), parts))
    for _, cluster in _clusters(ctx):
        own = cluster.get("nodeConfig")
        if isinstance(own, dict) and own:  # its own AddOnDeploymentConfig: image of clusters[].placement
            image, parts = override_image(cluster.get("placement"))
            item = cluster.get("placement") if isinstance(cluster.get("placement"), str) else None
            groups.append((f"cluster {cluster.get('name')!r}", item,
                           _supernode_minor(image, reference), parts))
    for _, app in _apps(ctx):
        minor, app_parts = _clientapp_minor(ctx, app, reference)
        if minor is None:
            continue
        targets = app.get("placements") if isinstance(app.get("placements"), list) else []
        for what, item, node_minor, node_parts in groups:
            # Placements mode: an app with placements reaches a group of another placement not at all,
            # and a cluster of unknown placement only when the app goes everywhere.
            if not manual and targets and item not in targets:
                continue
            if node_minor is None or node_minor == minor:
                continue
            ctx.add("FLW214", app_parts,
                    f"ClientApp {app.get('name')!r} is Flower {_mm(minor)}, the SuperNode of {what} is Flower "
                    f"{_mm(node_minor)} ({json_path(node_parts)}): the SuperNode refuses the SuperExec "
                    "(Runtime API, exit 606)",
                    "give a cluster's SuperNode and ClientApps one major.minor: leave the image tags empty "
                    "(they follow global.flower.version) or change both together")


# --- TLS ------------------------------------------------------------------------------------


@rule
def tls(ctx: Context) -> None:
    mode = _tls_mode(ctx)
    bundle = ctx.get("global", "tls", "caBundle")
    issuer = ctx.get("global", "tls", "certManager", "issuerRef")
    has_issuer = isinstance(issuer, dict) and bool(issuer)
    if mode == "existingSecret" and not ctx.get("global", "tls", "existingSecret"):
        ctx.add("FLW220", ("global", "tls", "existingSecret"),
                "global.tls.mode is existingSecret but global.tls.existingSecret is empty",
                "name the Secret (tls.crt, tls.key) in the release namespace, or use mode generate")
    needs_bundle = mode == "existingSecret" or (mode == "certManager" and has_issuer)
    if needs_bundle and not bundle:
        why = "an existing Secret" if mode == "existingSecret" else "an external cert-manager issuer"
        ctx.add("FLW221", ("global", "tls", "caBundle"),
                f"global.tls.caBundle is empty: with {why} the chart cannot know the CA that SuperNodes must trust",
                "set global.tls.caBundle to the PEM CA certificate that signs the SuperLink certificate")
    if isinstance(bundle, str) and bundle and _PEM_CERT not in bundle:
        ctx.add("FLW222", ("global", "tls", "caBundle"),
                f"global.tls.caBundle is not a PEM certificate: {truncate(bundle, 40)}",
                "paste the certificate including the -----BEGIN CERTIFICATE----- line (not base64 of it)")
    if bundle and not needs_bundle and mode in ("generate", "certManager", "disabled"):
        ctx.add("FLW225", ("global", "tls", "caBundle"),
                f"global.tls.caBundle is ignored with mode {mode}"
                + (" without an issuerRef (the chart makes its own CA)" if mode == "certManager" else ""),
                "remove it, or use mode existingSecret / certManager with an issuerRef")
    if mode == "disabled":
        ctx.add("FLW223", ("global", "tls", "mode"),
                "TLS is disabled: Fleet, Control and Runtime APIs speak plaintext",
                "use mode generate (default) outside of throw-away test setups")
        if ctx.get("global", "nodeAuth", "enabled") is True:
            ctx.add("FLW224", ("global", "nodeAuth", "enabled"),
                    "SuperNode authentication needs TLS (the SuperLink refuses --enable-supernode-auth without it)",
                    "set global.tls.mode to generate, certManager or existingSecret")
    if ctx.get("global", "nodeAuth", "enabled") is True and ctx.on("hubAddon") and not ctx.on("superlink"):
        ctx.add("FLW226", ("global", "nodeAuth", "enabled"),
                "SuperNode authentication registers each SuperNode's key with this release's SuperLink, "
                "but superlink is disabled",
                "enable superlink, or disable global.nodeAuth")


# --- exposure and the SuperLink address ------------------------------------------------------


@rule
def exposure(ctx: Context) -> None:
    hub = ctx.on("hubAddon")
    if not ctx.on("superlink"):
        if hub:
            _superlink_elsewhere(ctx)
        return
    kind = ctx.get("superlink", "exposure", "type")
    host = ctx.get("superlink", "exposure", "host")
    if not isinstance(kind, str):
        return
    exposure_values = ctx.dict("superlink", "exposure")
    ranges = " (limited to loadBalancerSourceRanges)" if kind == "LoadBalancer" and ctx.list(
        "superlink", "exposure", "loadBalancerSourceRanges") else ""
    if "allApis" in exposure_values:
        # Charts with a path-routing gateway: only allApis exposes the Control and Runtime APIs.
        if kind != "ClusterIP" and exposure_values.get("allApis") is True:
            if exposure_values.get("acknowledgeUnauthenticatedControlApi") is not True:
                ctx.add("FLW236", ("superlink", "exposure", "allApis"),
                        "superlink.exposure.allApis exposes the unauthenticated Control API without "
                        "superlink.exposure.acknowledgeUnauthenticatedControlApi (the chart refuses to render)",
                        "keep allApis false (Fleet API only), or acknowledge the risk explicitly")
            else:
                ctx.add("FLW230", ("superlink", "exposure", "allApis"),
                        f"{kind} exposure with allApis: the Control API (no user authentication in OSS Flower) "
                        f"and the Runtime API are reachable from the managed clusters{ranges}",
                        "keep allApis false: the chart then lets only /v1/fleet/ and /health through")
    elif kind in ("NodePort", "LoadBalancer"):
        ctx.add("FLW230", ("superlink", "exposure", "type"),
                f"{kind} exposure forwards the SuperLink's one port: the Control API (no user authentication "
                "in OSS Flower) and the Runtime API become reachable from the managed clusters"
                + (", not only the Fleet API" if not ranges else ranges),
                "use type Ingress or Route: the chart routes only /v1/fleet/ and /health to the SuperLink")
    _ingress_controller_peers(ctx, kind, exposure_values)
    if kind in ("Ingress", "Route") and not host:
        ctx.add("FLW231", ("superlink", "exposure", "host"),
                f"{kind} exposure needs superlink.exposure.host (the DNS name SuperNodes dial)",
                "set superlink.exposure.host")
    elif kind in ("NodePort", "LoadBalancer") and not host and hub:
        ctx.add("FLW231", ("superlink", "exposure", "host"),
                f"{kind} exposure without superlink.exposure.host: SuperNodes are told to dial the in-hub "
                "Service name, which only resolves on the hub's own cluster",
                "set superlink.exposure.host to the load balancer's / node's DNS name or IP", WARNING)
    if kind == "ClusterIP" and hub:
        ctx.add("FLW232", ("superlink", "exposure", "type"),
                "ClusterIP exposure: only SuperNodes on the hub's own cluster (local-cluster) can reach the SuperLink",
                "use Ingress, Route or LoadBalancer (with exposure.host) for SuperNodes on other clusters")
    if kind == "NodePort":
        node_port = ctx.get("superlink", "exposure", "nodePort")
        if node_port is None and host and hub:
            ctx.add("FLW233", ("superlink", "exposure", "nodePort"),
                    "NodePort exposure with a host needs a fixed superlink.exposure.nodePort for SuperNodes to dial",
                    "pick a free port in 30000-32767")
        elif isinstance(node_port, (int, float)) and not isinstance(node_port, bool) and not (
                30000 <= node_port <= 32767):
            ctx.add("FLW233", ("superlink", "exposure", "nodePort"),
                    f"node port {truncate(node_port)} is outside Kubernetes' default range 30000-32767",
                    "pick a free port in 30000-32767")


def _ingress_controller_peers(ctx: Context, kind: str, exposure_values: dict[str, Any]) -> None:
    """Ingress (or a Route with allApis) reaches the SuperLink's one port through the ingress controller:
    the chart refuses a NetworkPolicy that does not name the controller's pods (it would admit any pod)."""
    policy = ctx.dict("superlink", "networkPolicy")
    if "ingressControllerFrom" not in policy:  # a chart without the value
        return
    proxied = kind == "Ingress" or (kind == "Route" and not _empty(exposure_values.get("allApis")))
    if proxied and not _empty(policy.get("enabled")) and _empty(policy.get("ingressControllerFrom")):
        ctx.add("FLW235", ("superlink", "networkPolicy", "ingressControllerFrom"),
                f"{kind} exposure with NetworkPolicies but no superlink.networkPolicy.ingressControllerFrom: "
                "the SuperLink's API port (which also serves the Control API) would admit any pod "
                "(the chart refuses to render)",
                "name the ingress controller's pods, e.g. a namespaceSelector for its namespace "
                "(kubernetes.io/metadata.name: ingress-nginx), or set superlink.networkPolicy.enabled=false")


def _superlink_elsewhere(ctx: Context) -> None:
    """hubAddon without the superlink subchart: the chart refuses it (templates/checks.yaml)."""
    ctx.add("FLW234", ("superlink", "enabled"),
            "superlink is disabled but hubAddon is enabled: SuperNodes dial this release's SuperLink, and the "
            "chart refuses to render without it (a SuperLink run elsewhere is not supported yet)",
            "enable superlink, or disable hubAddon")


# --- SuperLink state ---------------------------------------------------------------------------


@rule
def persistence(ctx: Context) -> None:
    if not ctx.on("superlink"):
        return
    replicas = ctx.get("superlink", "replicaCount")
    persistent = ctx.get("superlink", "persistence", "enabled") is True
    strategy = ctx.get("superlink", "updateStrategy", "type")
    many = isinstance(replicas, (int, float)) and not isinstance(replicas, bool) and replicas > 1
    if persistent and many:
        ctx.add("FLW240", ("superlink", "replicaCount"),
                f"superlink.replicaCount is {truncate(replicas)} with persistence: the SuperLink's state is one "
                "SQLite file on one volume; a second pod cannot share it",
                "keep replicaCount 1")
    elif many:
        ctx.add("FLW242", ("superlink", "replicaCount"),
                f"superlink.replicaCount is {truncate(replicas)}: every SuperLink pod has its own state, so "
                "SuperNodes and runs would be split between them", "keep replicaCount 1")
    if persistent and strategy == "RollingUpdate":
        ctx.add("FLW241", ("superlink", "updateStrategy", "type"),
                "RollingUpdate starts the new SuperLink pod while the old one still holds the SQLite "
                "database (and a ReadWriteOnce volume)",
                "use updateStrategy.type Recreate")


# --- names ----------------------------------------------------------------------------------


@rule
def names(ctx: Context) -> None:
    """The limits that remain: the chart shortens every name it makes (helm_flower.naming), so only
    what the user names (release, namespace, overrides, items) and OCM's ManifestWork label can fail."""
    release = ctx.release
    release_error = k8s.dns_label_error(release, "release name")
    if release_error is None and len(release) > MAX_RELEASE:
        release_error = f"release name {release!r} has {len(release)} characters, Helm allows {MAX_RELEASE}"
    if release_error is None and ctx.on("superlink"):
        release_error = k8s.dns_1035_error(naming.superlink_service(release, ctx.namespace), "Service name")
    if release_error:
        ctx.add("FLW253", (), release_error, f"choose a release name of at most {MAX_RELEASE} lowercase letters, "
                "digits and '-', starting with a letter (--release)")
    namespace_error = k8s.dns_label_error(ctx.namespace, "release namespace")
    if namespace_error:
        ctx.add("FLW253", (), namespace_error, "install into a namespace whose name is a DNS-1123 label (-n)")
    if ctx.on("hubAddon"):
        placements = _placements(ctx) if _placements_mode(ctx) else []
        for i, placement in placements:
            _item_name(ctx, ("hubAddon", "placements", i, "name"), placement.get("name"), "placement")
        for i, cluster in _clusters(ctx):
            name = cluster.get("name")
            if isinstance(name, str):
                error = k8s.dns_label_error(name, "managed cluster name")
                if error:
                    ctx.add("FLW253", ("hubAddon", "clusters", i, "name"), error,
                            "use the ManagedCluster's name (it is also its namespace on the hub)")
        addon = ctx.get("global", "addon", "name")
        if isinstance(addon, str) and addon:
            error = k8s.dns_label_error(addon, "global.addon.name")
            if error is None and len(addon) > naming.MAX_ADDON:
                error = (f"global.addon.name {addon!r} has {len(addon)} characters: OCM labels clusters with "
                         f"feature.open-cluster-management.io/addon-<name>, whose name part allows 63, so the "
                         f"name at most {naming.MAX_ADDON}")
            if error:
                ctx.add("FLW251", ("global", "addon", "name"), error,
                        f"shorten it to at most {naming.MAX_ADDON} characters, or leave it empty: the default "
                        "(flower-<release>-<namespace>, shortened to fit) is unique per release")
    if ctx.on("hubAddon") or ctx.on("clientApp"):
        override = ctx.get("global", "managedCluster", "namespace")
        if isinstance(override, str) and override:
            error = k8s.dns_label_error(override, "global.managedCluster.namespace")
            if error is None and system_namespace(override):
                error = (f"global.managedCluster.namespace {override!r} is a system namespace of the managed "
                         "clusters; the SuperNode's namespace is created and deleted with the addon")
            if error:
                ctx.add("FLW252", ("global", "managedCluster", "namespace"), error,
                        "choose a DNS label of at most 63 characters of its own, or leave it empty: the default "
                        "(flower-<release>-<namespace>, shortened to fit) is unique per release")
    if ctx.on("clientApp"):
        apps = _apps(ctx)
        for i, app in apps:
            _item_name(ctx, ("clientApp", "apps", i, "name"), app.get("name"), "app")
        room = naming.clientapp_room(ctx.namespace)
        if apps and namespace_error is None and room < naming.MIN_SHORTENED:
            ctx.add("FLW250", ("clientApp", "apps"),
                    f"namespace {ctx.namespace!r} has {len(ctx.namespace)} characters: OCM labels the ManifestWorks "
                    f"of every ClientApp with {naming.MWRS_LABEL}=<namespace>.<name>, a label value of at most "
                    f"{naming.MAX_LABEL_VALUE} characters, which leaves {max(room, 0)} for the name, and a name "
                    f"needs at least {naming.MIN_SHORTENED}",
                    f"install the release into a namespace of at most {naming.MAX_CLIENTAPP_NAMESPACE} characters "
                    f"(shorten it by {len(ctx.namespace) - naming.MAX_CLIENTAPP_NAMESPACE}), or disable clientApp")


SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")


def system_namespace(name: str) -> bool:
    """What the chart refuses as the agent namespace (checks.yaml): it is created and deleted with the addon."""
    return name in SYSTEM_NAMESPACES or name.startswith(("kube-", "open-cluster-management"))


def _item_name(ctx: Context, parts: Parts, name: Any, what: str) -> None:
    if not isinstance(name, str):
        return
    error = k8s.dns_label_error(name, f"{what} name")
    if error:
        ctx.add("FLW253", parts, error, f"{what} names become object names and label values: "
                "lowercase letters, digits and '-'")


# --- resources ------------------------------------------------------------------------------


@rule
def resources(ctx: Context) -> None:
    for parts, value in _walk(ctx.v):
        if not parts or parts[-1] != "resources" or not isinstance(value, dict):
            continue
        for kind in ("requests", "limits"):
            amounts = value.get(kind)
            if not isinstance(amounts, dict):
                continue
            for name, amount in amounts.items():
                where = (*parts, kind, name)
                error = k8s.resource_name_error(name)
                if error:
                    ctx.add("FLW262", where, error, "use cpu, memory, ephemeral-storage or <domain>/<name>")
                error = k8s.quantity_error(amount)
                if error:
                    ctx.add("FLW260", where, error, 'e.g. cpu: 500m, memory: 512Mi (quote it: "1.5")')
                elif k8s.parse_quantity(amount) < 0:
                    ctx.add("FLW260", where, f"{truncate(amount)} is negative", "resources cannot be negative")
        _compare(ctx, value, parts, parts)
    size = ctx.get("superlink", "persistence", "size")
    if ctx.on("superlink") and ctx.get("superlink", "persistence", "enabled") is True and size is not None:
        error = k8s.quantity_error(size)
        if error:
            ctx.add("FLW260", ("superlink", "persistence", "size"), error, "e.g. 1Gi")
    # Effective resources of merged items (placement overrides over hubAddon.supernode,
    # apps over clientApp.defaults): a request from one file can exceed a limit from another.
    if ctx.on("hubAddon") and _placements_mode(ctx):
        base = ctx.dict("hubAddon", "supernode", "resources")
        for i, placement in _placements(ctx):
            override = (placement.get("supernode") or {}) if isinstance(placement.get("supernode"), dict) else {}
            own = override.get("resources") if isinstance(override.get("resources"), dict) else {}
            merged = sprig_merge(copy_data(own), base)
            _compare(ctx, merged, ("hubAddon", "placements", i, "supernode", "resources"),
                     ("hubAddon", "supernode", "resources"), own)
    if ctx.on("clientApp"):
        base = ctx.dict("clientApp", "defaults", "resources")
        for i, app in _apps(ctx):
            own = app.get("resources") if isinstance(app.get("resources"), dict) else {}
            merged = sprig_merge(copy_data(own), base)
            _compare(ctx, merged, ("clientApp", "apps", i, "resources"), ("clientApp", "defaults", "resources"), own)


def _compare(ctx: Context, resources: dict[str, Any], parts: Parts, fallback: Parts,
             own: dict[str, Any] | None = None) -> None:
    requests = resources.get("requests") if isinstance(resources.get("requests"), dict) else {}
    limits = resources.get("limits") if isinstance(resources.get("limits"), dict) else {}
    own = resources if own is None else own

    def where(kind: str, name: str) -> Parts:
        mine = own.get(kind) if isinstance(own.get(kind), dict) else {}
        return (*(parts if name in mine else fallback), kind, name)

    for name, request in requests.items():
        wanted: Decimal | None = k8s.parse_quantity(request)
        if wanted is None:
            continue
        limit = limits.get(name)
        cap = k8s.parse_quantity(limit) if limit is not None else None
        extended = "/" in str(name) and not str(name).startswith(("kubernetes.io/", "requests."))
        if cap is not None and wanted > cap:
            ctx.add("FLW261", where("requests", name),
                    f"request {name}={truncate(request)} is greater than its limit {truncate(limit)}"
                    + ("" if where("requests", name)[:-2] == where("limits", name)[:-2]
                       else f" (limit from {json_path(where('limits', name))})"),
                    "raise the limit or lower the request")
        elif extended and (cap is None or cap != wanted):
            ctx.add("FLW262", where("requests", name),
                    f"extended resource {name} has request {truncate(request)} but "
                    + ("no limit" if cap is None else f"limit {truncate(limit)}")
                    + ": Kubernetes requires request == limit for extended resources",
                    "set only limits (the request defaults to it), or make both equal")


# --- labels and selectors -------------------------------------------------------------------

_LABEL_MAPS = frozenset({"matchLabels", "nodeSelector", "podLabels", "appLabels", "labels", "commonLabels"})
_ANNOTATION_MAPS = frozenset({"annotations", "podAnnotations"})


@rule
def labels(ctx: Context) -> None:
    for parts, value in _walk(ctx.v):
        if not parts or not isinstance(parts[-1], str):
            continue
        key = parts[-1]
        if key in _LABEL_MAPS and isinstance(value, dict) and "nodeSelectorTerms" not in value:
            for label, label_value in value.items():
                error = k8s.qualified_name_error(label)
                if error:
                    ctx.add("FLW270", (*parts, label), f"label key {error}",
                            "label keys are [prefix/]name: name <= 63 alphanumerics, '-', '_', '.'")
                error = k8s.label_value_error(label_value)
                if error:
                    ctx.add("FLW270", (*parts, label), f"label value {error}",
                            'quote booleans and numbers ("true"); at most 63 characters')
        elif key in _ANNOTATION_MAPS and isinstance(value, dict):
            for name, text in value.items():
                error = k8s.qualified_name_error(name)
                if error:
                    ctx.add("FLW272", (*parts, name), f"annotation key {error}", "")
                if not isinstance(text, str):
                    ctx.add("FLW272", (*parts, name),
                            f"annotation value {truncate(text)} is not a string", 'quote it, e.g. "true"')
        elif key in ("matchExpressions", "matchFields") and isinstance(value, list):
            node_selector = "nodeAffinity" in parts or key == "matchFields"
            operators = k8s.NODE_OPERATORS if node_selector else k8s.LABEL_OPERATORS
            for index, expression in enumerate(value):
                for sub, message in k8s.expression_error(expression, operators, check_values=not node_selector):
                    sub_parts: Parts = (*parts, index)
                    if sub.startswith("values["):
                        sub_parts = (*sub_parts, "values", int(sub[7:-1]))
                    elif sub:
                        sub_parts = (*sub_parts, sub)
                    rule_id = "FLW270" if sub == "key" or sub.startswith("values[") else "FLW271"
                    ctx.add(rule_id, sub_parts, message,
                            "operators: In/NotIn need values, Exists/DoesNotExist take none")


# --- AddOnDeploymentConfig variables ----------------------------------------------------------


@rule
def deployment_configs(ctx: Context) -> None:
    if not ctx.on("hubAddon"):
        return
    base = ctx.dict("hubAddon", "supernode")
    base_config = base.get("nodeConfig") if isinstance(base.get("nodeConfig"), dict) else {}
    default_adc = naming.default_deployment_config(ctx.release, ctx.namespace)
    configs: list[tuple[str, dict[str, Any], list[Parts]]] = [
        (default_adc, base_config, [("hubAddon", "supernode", "nodeConfig")])]
    images: list[tuple[str, Parts, dict[str, Any]]] = [(default_adc, ("hubAddon", "supernode", "image"), base)]
    if _placements_mode(ctx):
        for i, placement in _placements(ctx):
            override = placement.get("supernode") if isinstance(placement.get("supernode"), dict) else {}
            merged = sprig_merge(copy_data(override), base)
            config = merged.get("nodeConfig") if isinstance(merged.get("nodeConfig"), dict) else {}
            name = naming.placement_deployment_config(ctx.release, ctx.namespace, str(placement.get("name")))
            configs.append((name, config, [("hubAddon", "placements", i, "supernode", "nodeConfig"),
                                           ("hubAddon", "supernode", "nodeConfig")]))
            images.append((name, ("hubAddon", "placements", i, "supernode", "image"), merged))
    placements = {p["name"]: (i, p) for i, p in _placements(ctx) if isinstance(p.get("name"), str)}
    for i, cluster in _clusters(ctx):
        own = cluster.get("nodeConfig")
        if isinstance(own, dict) and own:
            # A cluster's config starts from its placement's overrides (clusters[].placement).
            start, start_parts = base, ("hubAddon", "supernode", "nodeConfig")
            found = placements.get(cluster["placement"]) if isinstance(cluster.get("placement"), str) else None
            if found is not None:
                override = found[1].get("supernode") if isinstance(found[1].get("supernode"), dict) else {}
                start = sprig_merge(copy_data(override), base)
                start_parts = ("hubAddon", "placements", found[0], "supernode", "nodeConfig")
            start_config = start.get("nodeConfig") if isinstance(start.get("nodeConfig"), dict) else {}
            config = sprig_merge(copy_data(own), start_config)
            adc = naming.cluster_deployment_config(ctx.release, ctx.namespace, str(cluster.get("name")))
            configs.append((adc, config,
                            [("hubAddon", "clusters", i, "nodeConfig"), start_parts,
                             ("hubAddon", "supernode", "nodeConfig")]))
    too_long: dict[Parts, tuple[list[str], int]] = {}
    for adc, config, sources in configs:
        problems = nodeconfig.problems(config)
        for key, message in problems.items():
            parts = next((c for c in sources if key and key in ctx.dict(*c)), sources[0])
            ctx.add("FLW281", (*parts, key) if key else parts, f"node-config {key!r} {message}" if key else message,
                    "node-config values are TOML scalars; keys are bare keys (letters, digits, '_', '-')")
        if problems:
            continue
        _, stored = nodeconfig.render(config)
        if len(stored) > MAX_ADC_VALUE:
            # blame the source that contributes the most text
            parts = max(sources, key=lambda p: len(nodeconfig.go_value(ctx.get(*p))) if ctx.get(*p) else -1)
            names, longest = too_long.get(parts, ([], 0))
            too_long[parts] = ([*names, adc], max(longest, len(stored)))
    for parts, (names, longest) in too_long.items():
        ctx.add("FLW280", parts,
                f"NODE_CONFIG of AddOnDeploymentConfig {', '.join(names)} is {longest} characters after JSON "
                f"escaping; OCM allows {MAX_ADC_VALUE}",
                "shorten node-config: keep large data on the managed cluster and pass a path or a name")
    registry = ctx.get("global", "imageRegistry")
    for adc, parts, supernode in images:
        image = supernode.get("image") if isinstance(supernode.get("image"), dict) else {}
        reference = _image_reference(image, registry, ctx.get("global", "flower", "version"))
        if len(reference) > MAX_ADC_VALUE:
            ctx.add("FLW280", parts, f"SUPERNODE_IMAGE of AddOnDeploymentConfig {adc} is {len(reference)} "
                    f"characters; OCM allows {MAX_ADC_VALUE}", "use a shorter image reference")
    host = ctx.get("superlink", "exposure", "host")
    if isinstance(host, str) and len(host) + 6 > MAX_ADC_VALUE:
        ctx.add("FLW280", ("superlink", "exposure", "host"),
                f"SUPERLINK_ADDRESS would be {len(host) + 6} characters; OCM allows {MAX_ADC_VALUE}",
                "use a shorter host name")


def _image_reference(image: dict[str, Any], registry: Any, version: Any) -> str:
    repo = str(image.get("repository") or "")
    reg = registry or image.get("registry") or ""
    ref = f"{reg}/{repo}" if reg else repo
    if image.get("digest"):
        return f"{ref}@{image.get('digest')}"
    return f"{ref}:{image.get('tag') or version or ''}"
