"""The chart's object names, computed the way charts/flower-federation does it (flower-common
templates/_names.tpl): the plugin finds, checks and explains objects under exactly the names the
chart gives them. tests/charts/test_names.py renders the chart's templates for many inputs and
compares.

Every name is readable first ("<release>-<item>"; "flower-<release>-<namespace>" for names unique on
the whole hub and every managed cluster). A name longer than its limit keeps its first characters
and ends in "-" and 8 hex digits of sha256("<namespace>/<release>/<item>"): deterministic, stable
across upgrades, unique per (namespace, release, item).
"""

from __future__ import annotations

import hashlib

MAX_NAME = 63  # DNS-1123 label: Services, Namespaces, label values, most names
MAX_ADDON = 57  # feature.open-cluster-management.io/addon-<addon>: the key's name part allows 63
HASH_LENGTH = 8
MIN_SHORTENED = HASH_LENGTH + 2  # a prefix of one character, "-" and the hash
MWRS_LABEL = "work.open-cluster-management.io/manifestworkreplicaset"  # value <namespace>.<name>
MAX_LABEL_VALUE = 63
# The longest release namespace in which a ClientApp's ManifestWorkReplicaSet name still fits
# OCM's label (<namespace>.<name> <= 63 with a name of at least MIN_SHORTENED characters).
MAX_CLIENTAPP_NAMESPACE = MAX_LABEL_VALUE - 1 - MIN_SHORTENED


class NameTooShortError(ValueError):
    """max leaves no room for a shortened name (the chart's flower.fitName fails alike)."""


def fit(name: str, limit: int, key: str) -> str:
    """flower.fitName: the name when it fits, else its first limit-9 characters (one trailing
    "-" dropped), "-" and the first 8 hex digits of sha256(key)."""
    if len(name) <= limit:
        return name
    if limit < MIN_SHORTENED:
        raise NameTooShortError(f"name {name!r} cannot be shortened to {limit} characters (a shortened name "
                                f"needs at least {MIN_SHORTENED}: a prefix, '-' and an 8-digit hash)")
    prefix = name[:limit - HASH_LENGTH - 1].removesuffix("-")
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:HASH_LENGTH]}"


def key(namespace: str, release: str, item: str) -> str:
    """flower.nameKey: what a shortened name's hash is taken of."""
    return f"{namespace}/{release}/{item}"


def name(release: str, namespace: str, item: str) -> str:
    """flower.name: "<release>-<item>" (objects in the release namespace)."""
    return fit(f"{release}-{item}", MAX_NAME, key(namespace, release, item))


def _scoped(release: str, namespace: str, limit: int, item: str) -> str:
    return fit(f"flower-{release}-{namespace}", limit, key(namespace, release, item))


def addon(release: str, namespace: str, override: str | None = None) -> str:
    """flower.addonName: global.addon.name, else "flower-<release>-<namespace>" fitted to 57."""
    return override or _scoped(release, namespace, MAX_ADDON, "addon")


def agent_namespace(release: str, namespace: str, override: str | None = None) -> str:
    """flower.agentNamespace: global.managedCluster.namespace, else "flower-<release>-<namespace>"."""
    return override or _scoped(release, namespace, MAX_NAME, "agent-namespace")


def cluster_rbac(release: str, namespace: str, item: str, addon_override: str | None = None) -> str:
    """flower.clusterRbacName: the release's ClusterRole/ClusterRoleBinding "<addon>-<item>"."""
    base = addon_override or f"flower-{release}-{namespace}"
    return fit(f"{base}-{item}", MAX_NAME, key(namespace, release, f"cluster-{item}"))


def clientapp_room(namespace: str) -> int:
    """Characters OCM's ManifestWork label (<namespace>.<name> <= 63) leaves for the name."""
    return MAX_LABEL_VALUE - 1 - len(namespace)


def clientapp_work(release: str, namespace: str, app: str) -> str:
    """flower.clientAppWorkName: the ManifestWorkReplicaSet of ClientApp `app` (OCM names each
    cluster's ManifestWork after it). Raises NameTooShortError when the namespace leaves no room."""
    item = f"clientapp-{app}"
    room = clientapp_room(namespace)
    if room < MIN_SHORTENED:
        raise NameTooShortError(
            f"namespace {namespace!r} has {len(namespace)} characters: OCM labels the ManifestWorks of "
            f"ClientApp {app!r} with {MWRS_LABEL}=<namespace>.<name>, a label value of at most "
            f"{MAX_LABEL_VALUE} characters, which leaves {max(room, 0)} for the name, and a name needs at "
            f"least {MIN_SHORTENED}")
    return fit(f"{release}-{item}-{namespace}", room, key(namespace, release, item))


# --- the release's objects, by role -------------------------------------------------------------


def superlink_service(release: str, namespace: str) -> str:
    return name(release, namespace, "superlink")


def fleet_service(release: str, namespace: str) -> str:
    return name(release, namespace, "superlink-fleet")


def ca_bundle(release: str, namespace: str) -> str:
    return name(release, namespace, "ca-bundle")


def serverapp(release: str, namespace: str) -> str:
    return name(release, namespace, "serverapp")


def default_deployment_config(release: str, namespace: str) -> str:
    return name(release, namespace, "supernode")


def placement_deployment_config(release: str, namespace: str, placement: str) -> str:
    return name(release, namespace, f"supernode-{placement}")


def cluster_deployment_config(release: str, namespace: str, cluster: str) -> str:
    return name(release, namespace, f"supernode-cluster-{cluster}")


def placement(release: str, namespace: str, item: str) -> str:
    return name(release, namespace, item)


def clientapp_placement(release: str, namespace: str, item: str) -> str:
    return name(release, namespace, f"{item}-clientapp")


def cluster_placement(release: str, namespace: str, cluster: str) -> str:
    return name(release, namespace, f"cluster-{cluster}")


def all_supernodes_placement(release: str, namespace: str) -> str:
    return name(release, namespace, "supernodes")
