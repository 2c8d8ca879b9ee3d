"""What an OCM hub does with the addon objects of a release, re-done offline.

* :func:`substitute` is the addon manager's variable substitution: the AddOnTemplate's
  manifests are serialized to JSON and every ``{{NAME}}`` is replaced in ONE pass over that
  raw text (valyala/fasttemplate ``ExecuteString``): values are inserted verbatim (a
  ``{{X}}`` inside a value stays literal), unknown names become the empty string.
* :func:`addon_variables` builds the values: the AddOnDeploymentConfig's
  ``customizedVariables``, then the built-ins ``CLUSTER_NAME`` and ``INSTALL_NAMESPACE``,
  which cannot be overridden (open-cluster-management-io/ocm pkg/addon/templateagent).
* :func:`resolve_config` picks the config in effect for a cluster: a ManagedClusterAddOn's
  ``spec.configs`` beat the ClusterManagementAddOn's ``installStrategy.placements[].configs``
  (of the last placement that chose the cluster), which beat ``supportedConfigs[].defaultConfig``.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

ADDON_GROUP = "addon.open-cluster-management.io"
ADC_RESOURCE = "addondeploymentconfigs"
TEMPLATE_RESOURCE = "addontemplates"
ADDON_AVAILABLE_LABEL_PREFIX = "feature.open-cluster-management.io/addon-"
DEFAULT_INSTALL_NAMESPACE = "open-cluster-management-agent-addon"
HUB_KUBECONFIG_PATH = "/managed/hub-kubeconfig/kubeconfig"
_START, _END = "{{", "}}"


class SubstitutionError(ValueError):
    """A manifest OCM could not render (an unterminated ``{{``, or invalid JSON after substitution)."""


# --- substitution ------------------------------------------------------------


def template_tags(text: str) -> list[str]:
    """The tag names in ``text`` in order, parsed like fasttemplate (no trimming)."""
    tags = []
    rest = text
    while True:
        start = rest.find(_START)
        if start < 0:
            return tags
        rest = rest[start + len(_START) :]
        end = rest.find(_END)
        if end < 0:
            raise SubstitutionError(f"cannot find end tag {_END!r} after {rest[:40]!r}")
        tags.append(rest[:end])
        rest = rest[end + len(_END) :]


def substitute(text: str, values: Mapping[str, str]) -> str:
    """fasttemplate ``ExecuteString(text, "{{", "}}")``: one pass, unknown tags -> ""."""
    out: list[str] = []
    rest = text
    while True:
        start = rest.find(_START)
        if start < 0:
            out.append(rest)
            return "".join(out)
        out.append(rest[:start])
        rest = rest[start + len(_START) :]
        end = rest.find(_END)
        if end < 0:
            raise SubstitutionError(f"cannot find end tag {_END!r} after {rest[:40]!r}")
        out.append(str(values.get(rest[:end], "")))
        rest = rest[end + len(_END) :]


def render_manifest(manifest: Mapping[str, Any], values: Mapping[str, str]) -> dict[str, Any]:
    """Substitute into the manifest's raw JSON text and parse the result, as the hub does."""
    raw = json.dumps(manifest, separators=(",", ":"))
    text = substitute(raw, values)
    try:
        result = json.loads(text)
    except ValueError as exc:
        raise SubstitutionError(f"the substituted manifest is not valid JSON ({exc}): {text[:200]}") from None
    if not isinstance(result, dict):
        raise SubstitutionError("the substituted manifest is not a JSON object")
    return result


@dataclass(frozen=True)
class Variables:
    """The variables OCM uses for one cluster, plus what is worth telling the user."""

    values: dict[str, str]
    ordered_env: tuple[tuple[str, str], ...]  # env vars the hub adds to every container
    unknown: tuple[str, ...] = ()  # tags in the manifests with no value (rendered as "")
    nested: tuple[str, ...] = ()  # variables whose value holds a {{...}} that stays literal


def addon_variables(
    cluster: str,
    adc: Mapping[str, Any] | None,
    template: Mapping[str, Any] | None = None,
) -> Variables:
    """Values for ``cluster``: default values, ADC customizedVariables, then built-ins."""
    spec = (adc or {}).get("spec") or {}
    has_registration = bool(((template or {}).get("spec") or {}).get("registration"))
    defaults = {"HUB_KUBECONFIG": HUB_KUBECONFIG_PATH} if has_registration else {}
    values: dict[str, str] = dict(defaults)
    for variable in spec.get("customizedVariables") or []:
        values[str(variable.get("name", ""))] = str(variable.get("value", ""))
    builtins = {
        "CLUSTER_NAME": cluster,
        "INSTALL_NAMESPACE": spec.get("agentInstallNamespace") or DEFAULT_INSTALL_NAMESPACE,
    }
    values.update(builtins)
    ordered = tuple((k, values[k]) for k in [*sorted(defaults), *sorted(builtins)])
    tags: list[str] = []
    for manifest in _manifests(template):
        tags += template_tags(json.dumps(manifest, separators=(",", ":")))
    unknown = tuple(sorted({t for t in tags if t not in values}))
    nested = tuple(sorted(k for k, v in values.items() if _START in v and _END in v))
    return Variables(values, ordered, unknown, nested)


def _manifests(template: Mapping[str, Any] | None) -> list[Mapping[str, Any]]:
    spec = (template or {}).get("spec") or {}
    return list(((spec.get("agentSpec") or {}).get("workload") or {}).get("manifests") or [])


def template_manifests(template: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return _manifests(template)


# --- config precedence -------------------------------------------------------


@dataclass(frozen=True)
class ConfigRef:
    """A config chosen for a cluster and where the choice came from."""

    name: str
    namespace: str
    source: str  # "ManagedClusterAddOn", "placement <ns>/<name>" or "default"

    @property
    def key(self) -> str:
        return f"{self.namespace}/{self.name}" if self.namespace else self.name


def _matches(config: Mapping[str, Any], resource: str) -> bool:
    return (config.get("group") or ADDON_GROUP) == ADDON_GROUP and config.get("resource") == resource


def resolve_config(
    resource: str,
    cma: Mapping[str, Any],
    *,
    mca: Mapping[str, Any] | None = None,
    placements: Sequence[tuple[str, str]] = (),
) -> ConfigRef | None:
    """The ``resource`` config in effect for a cluster.

    ``mca``: the cluster's ManagedClusterAddOn (if any); ``placements``: (namespace, name)
    of the CMA install-strategy placements that chose the cluster. A later placement in the
    CMA's list overrides an earlier one (the API's documented rule).
    """
    for config in ((mca or {}).get("spec") or {}).get("configs") or []:
        if _matches(config, resource):
            return ConfigRef(config.get("name", ""), config.get("namespace", ""), "ManagedClusterAddOn")
    spec = cma.get("spec") or {}
    chosen = set(placements)
    strategy = spec.get("installStrategy") or {}
    for placement in reversed(strategy.get("placements") or []):
        ref = (placement.get("namespace", ""), placement.get("name", ""))
        if ref not in chosen:
            continue
        for config in placement.get("configs") or []:
            if _matches(config, resource):
                source = f"placement {ref[0]}/{ref[1]}"
                return ConfigRef(config.get("name", ""), config.get("namespace", ""), source)
    for supported in spec.get("supportedConfigs") or []:
        if _matches(supported, resource) and supported.get("defaultConfig"):
            default = supported["defaultConfig"]
            return ConfigRef(default.get("name", ""), default.get("namespace", ""), "default")
    return None


def addon_available_label(addon: str) -> str:
    return ADDON_AVAILABLE_LABEL_PREFIX + addon


def install_placements(cma: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(namespace, name) of the install-strategy placements, in the CMA's order (Placements type only)."""
    strategy = (cma.get("spec") or {}).get("installStrategy") or {}
    if strategy.get("type", "Manual") != "Placements":
        return []
    return [(p.get("namespace", ""), p.get("name", "")) for p in strategy.get("placements") or []]


# --- node-config -------------------------------------------------------------

# flwr.common.config.parse_config_args: key=value pairs, values TOML scalars, quotes allowed.
_PAIR = re.compile(r"(\S+?)=(\'[^\']*\'|\"[^\"]*\"|\S+)")


def parse_node_config(text: str) -> dict[str, Any]:
    """Parse a ``--node-config`` string the way Flower 1.41 does (raises ValueError if invalid)."""
    pairs = _PAIR.findall(text or "")
    toml = "\n".join(f"{k} = {v}" for k, v in pairs)
    try:
        return tomllib.loads(toml)
    except tomllib.TOMLDecodeError as exc:
        raise ValueError(f"invalid node-config {text!r}: {exc}") from None


def format_node_config_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))


def partition_assignment(clusters: Iterable[str]) -> dict[str, dict[str, int]]:
    """partition-id by sorted cluster name, num-partitions = number of clusters."""
    names = sorted(set(clusters))
    return {name: {"partition-id": i, "num-partitions": len(names)} for i, name in enumerate(names)}
