"""Fleet inventory: an offline description of the ManagedClusters of an OCM hub.

The format is documented by ``schemas/fleet.schema.json`` (example:
``examples/fleet.yaml``). :func:`load_fleet` reads and validates a file and
returns :class:`Fleet`; every problem is reported as a :class:`FleetError`
whose message names the file and the JSON path of the offending value.
"""

from __future__ import annotations

import datetime
import json
import os
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema
import yaml

API_VERSION = "flower.ai/v1alpha1"
KIND = "Fleet"
DEFAULT_CLUSTER_SET = "default"
SCHEMA_FILE = "fleet.schema.json"
SCHEMA_DIR_ENV = "HELM_FLOWER_SCHEMA_DIR"


class FleetError(Exception):
    """A fleet file that cannot be used; the message names file and JSON path."""

    def __init__(self, message: str, *, source: str = "", json_path: str = "") -> None:
        super().__init__(message)
        self.source = source
        self.json_path = json_path


@dataclass(frozen=True)
class Taint:
    """A ManagedCluster taint (spec.taints[])."""

    key: str
    effect: str
    value: str = ""
    time_added: str | None = None


@dataclass(frozen=True)
class Cluster:
    """A ManagedCluster: labels, cluster claims, cluster sets and taints."""

    name: str
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    claims: Mapping[str, str] = field(default_factory=dict, hash=False)
    cluster_sets: tuple[str, ...] = (DEFAULT_CLUSTER_SET,)
    taints: tuple[Taint, ...] = ()


@dataclass(frozen=True)
class Fleet:
    """The clusters of a hub and the ManagedClusterSets that exist on it."""

    clusters: tuple[Cluster, ...]
    cluster_sets: tuple[str, ...]
    source: str = ""

    def cluster(self, name: str) -> Cluster | None:
        return next((c for c in self.clusters if c.name == name), None)

    def members(self, cluster_set: str) -> tuple[Cluster, ...]:
        return tuple(c for c in self.clusters if cluster_set in c.cluster_sets)


def load_fleet(path: str | os.PathLike[str]) -> Fleet:
    """Read, validate and convert a fleet file; raise FleetError on any problem."""
    source = str(path)
    document = _read_yaml(Path(path), source)
    return fleet_from_document(document, source=source)


def fleet_from_document(document: Any, *, source: str = "<fleet>") -> Fleet:
    """Validate an already parsed fleet document and convert it to a Fleet."""
    _validate(document, source)
    _check_unique_names(document, source)
    _check_declared_sets(document, source)
    return _build(document, source)


def schema_path() -> Path:
    """Locate fleet.schema.json: $HELM_FLOWER_SCHEMA_DIR, else a schemas/ dir above this file."""
    override = os.environ.get(SCHEMA_DIR_ENV)
    if override:
        return Path(override) / SCHEMA_FILE
    for parent in Path(__file__).resolve().parents:
        candidate = parent / "schemas" / SCHEMA_FILE
        if candidate.is_file():
            return candidate
    raise FleetError(f"cannot find schemas/{SCHEMA_FILE}; set {SCHEMA_DIR_ENV} to its directory")


def load_schema() -> dict[str, Any]:
    path = schema_path()
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise FleetError(f"{path}: cannot read the fleet schema: {exc}", source=str(path)) from None


# --- reading -----------------------------------------------------------------


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that rejects duplicate mapping keys instead of keeping the last."""


def _construct_unique_mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *anchor` merges are resolved by construct_mapping
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, Hashable) and key in seen:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        if isinstance(key, Hashable):
            seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_unique_mapping
)


def _read_yaml(path: Path, source: str) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FleetError(f"{source}: fleet file not found", source=source) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FleetError(f"{source}: cannot read fleet file: {_reason(exc)}", source=source) from None
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        message = f"{source}{_yaml_position(exc)}: invalid YAML: {_yaml_problem(exc)}"
        raise FleetError(message, source=source) from None


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or str(exc)


def _yaml_position(exc: yaml.YAMLError) -> str:
    mark = getattr(exc, "problem_mark", None)
    return f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""


def _yaml_problem(exc: yaml.YAMLError) -> str:
    parts = [getattr(exc, "context", None), getattr(exc, "problem", None)]
    text = ", ".join(p for p in parts if p)
    return text or str(exc)


# --- validation --------------------------------------------------------------


def _validate(document: Any, source: str) -> None:
    validator = jsonschema.Draft202012Validator(
        load_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )
    errors = sorted(validator.iter_errors(document), key=_error_order)
    if not errors:
        return
    lines = [f"{source}: {json_path(_error_path(e))}: {_schema_message(e)}" for e in errors]
    raise FleetError("\n".join(lines), source=source, json_path=json_path(_error_path(errors[0])))


def _error_path(error: jsonschema.ValidationError) -> list[Any]:
    """The path of the offending value; for a bad mapping key, the key itself."""
    path = list(error.absolute_path)
    return path + [error.instance] if "propertyNames" in error.schema_path else path


def _error_order(error: jsonschema.ValidationError) -> tuple[Any, ...]:
    """Document order: array indexes numerically, then keys, then message."""
    path = tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in _error_path(error))
    return path, error.message


def json_path(parts: Any) -> str:
    """Render a path such as ['clusters', 0, 'labels', 'flower.ai/enabled'] as JSONPath."""
    text = "$"
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        elif str(part).replace("_", "").replace("-", "").isalnum():
            text += f".{part}"
        else:
            text += f"[{json.dumps(str(part))}]"
    return text


def _schema_message(error: jsonschema.ValidationError) -> str:
    message = error.message
    if "propertyNames" in error.schema_path:
        return f"invalid key: {message}"
    if error.validator == "type" and error.instance is None and not error.absolute_path:
        return "the fleet document is empty; expected a mapping with apiVersion, kind and clusters"
    if error.validator == "type" and isinstance(error.instance, (bool, int, float, datetime.date)):
        message += ' (quote YAML booleans, numbers and dates, e.g. "true")'
    return message


def _check_unique_names(document: Mapping[str, Any], source: str) -> None:
    first_index: dict[str, int] = {}
    for index, entry in enumerate(document["clusters"]):
        name = entry["name"]
        if name in first_index:
            path = json_path(["clusters", index, "name"])
            raise FleetError(
                f"{source}: {path}: duplicate cluster name {name!r} (first at "
                f"{json_path(['clusters', first_index[name], 'name'])})",
                source=source,
                json_path=path,
            )
        first_index[name] = index


def _check_declared_sets(document: Mapping[str, Any], source: str) -> None:
    if "clusterSets" not in document:
        return
    declared = set(document["clusterSets"])
    for index, entry in enumerate(document["clusters"]):
        for set_index, name in enumerate(entry.get("clusterSets", [DEFAULT_CLUSTER_SET])):
            if name not in declared:
                path = json_path(["clusters", index, "clusterSets", set_index])
                raise FleetError(
                    f"{source}: {path}: cluster set {name!r} is not listed in $.clusterSets",
                    source=source,
                    json_path=path,
                )


# --- conversion --------------------------------------------------------------


def _build(document: Mapping[str, Any], source: str) -> Fleet:
    clusters = tuple(_build_cluster(entry) for entry in document["clusters"])
    if "clusterSets" in document:
        sets = tuple(document["clusterSets"])
    else:
        sets = tuple(sorted({name for c in clusters for name in c.cluster_sets}))
    return Fleet(clusters=clusters, cluster_sets=sets, source=source)


def _build_cluster(entry: Mapping[str, Any]) -> Cluster:
    return Cluster(
        name=entry["name"],
        labels=dict(entry.get("labels", {})),
        claims=dict(entry.get("claims", {})),
        cluster_sets=tuple(entry.get("clusterSets", [DEFAULT_CLUSTER_SET])),
        taints=tuple(_build_taint(t) for t in entry.get("taints", [])),
    )


def _build_taint(entry: Mapping[str, Any]) -> Taint:
    return Taint(
        key=entry["key"],
        effect=entry["effect"],
        value=entry.get("value", ""),
        time_added=entry.get("timeAdded"),
    )
