"""The values Helm would render with, computed the way Helm computes them.

User values: the -f files merged in order (maps merge deeply, anything else is replaced),
then every --set, then every --set-string (helm.sh/helm/v3/pkg/cli/values). Chart values:
the chart's values.yaml, every enabled subchart's values.yaml under its alias, and the
umbrella's globals copied into each subchart (chartutil.CoalesceValues). A null in the
user values deletes the key from the defaults. Subcharts whose condition is false are
left out, as Helm does.

Every value keeps its provenance, so a finding can name the file that set it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import strvals
from .chart import Chart

Path_ = tuple[Any, ...]


def copy_data(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: copy_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_data(v) for v in value]
    return value


def merge_maps(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Helm's mergeMaps for -f files: later files win, maps merge, lists are replaced."""
    out = dict(base)
    for key, value in override.items():
        current = out.get(key)
        if isinstance(value, dict) and isinstance(current, dict):
            out[key] = merge_maps(current, value)
        else:
            out[key] = value
    return out


@dataclass
class Layer:
    label: str
    data: dict[str, Any]


@dataclass
class Values:
    values: dict[str, Any]
    user: dict[str, Any]
    layers: list[Layer]  # user layers, lowest precedence first
    defaults: list[Layer]  # chart values files, highest precedence first (umbrella first)
    enabled: dict[str, bool] = field(default_factory=dict)  # subchart key path -> enabled
    problems: list[tuple[str, str]] = field(default_factory=list)  # (json-ish key, message)

    def source(self, path: Path_) -> str:
        """The file (or --set flag) that set the value at ``path`` (or its nearest parent)."""
        for layer in reversed(self.layers):
            if _contains(layer.data, path):
                return layer.label
        for layer in self.defaults:
            if _contains(layer.data, path):
                return layer.label
        for depth in range(len(path) - 1, 0, -1):
            prefix = path[:depth]
            for layer in reversed(self.layers):
                if _contains(layer.data, prefix):
                    return layer.label
            for layer in self.defaults:
                if _contains(layer.data, prefix):
                    return layer.label
        return ""


def _contains(data: Any, path: Path_) -> bool:
    node = data
    for part in path:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
        else:
            return False
    return True


class SetError(ValueError):
    def __init__(self, flag: str, text: str, reason: str) -> None:
        super().__init__(f"{flag} {text}: {reason}")
        self.flag, self.text, self.reason = flag, text, reason


def user_values(files: list[tuple[str, dict[str, Any]]], sets: list[str],
                set_strings: list[str]) -> tuple[dict[str, Any], list[Layer]]:
    base: dict[str, Any] = {}
    layers: list[Layer] = []
    for label, data in files:
        base = merge_maps(base, data)
        layers.append(Layer(label, data))
    base = copy_data(base)  # --set edits in place: keep the files' own data intact for provenance
    for flag, items, as_string in (("--set", sets, False), ("--set-string", set_strings, True)):
        for text in items:
            try:
                strvals.parse_into(text, base, string_values=as_string)
                alone = strvals.parse(text, string_values=as_string)
            except strvals.StrvalsError as exc:
                raise SetError(flag, text, str(exc)) from None
            layers.append(Layer(f"{flag} {text}", alone))
    return base, layers


def compute(chart: Chart, user: dict[str, Any], layers: list[Layer]) -> Values:
    problems: list[tuple[str, str]] = []
    everything = _coalesce_top(chart, copy_data(user), None, [])
    enabled: dict[str, bool] = {}
    _decide(chart, everything, "", enabled)
    final = _coalesce_top(chart, copy_data(user), enabled, problems)
    defaults = [Layer(chart.values_file, chart.values)]
    _default_layers(chart, (), enabled, "", defaults)
    return Values(final, user, layers, defaults, enabled, problems)


def _default_layers(chart: Chart, prefix: Path_, enabled: dict[str, bool], key_prefix: str,
                    out: list[Layer]) -> None:
    for dep in chart.dependencies:
        key = key_prefix + dep.key
        if dep.chart is None or not enabled.get(key, True):
            continue
        nested: Any = dep.chart.values
        for part in reversed((*prefix, dep.key)):
            nested = {part: nested}
        out.append(Layer(dep.chart.values_file, nested))
        _default_layers(dep.chart, (*prefix, dep.key), enabled, key + ".", out)


def _decide(chart: Chart, values: dict[str, Any], prefix: str, enabled: dict[str, bool]) -> None:
    for dep in chart.dependencies:
        on = True
        for condition in (dep.condition or "").split(","):
            condition = condition.strip()
            if not condition:
                continue
            found, value = path_value(values, prefix + condition)
            if found and isinstance(value, bool):
                on = value
                break
        enabled[prefix + dep.key] = on
        if dep.chart is not None:
            _decide(dep.chart, values, prefix + dep.key + ".", enabled)


def path_value(values: Any, dotted: str) -> tuple[bool, Any]:
    node = values
    for part in dotted.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def _coalesce_top(chart: Chart, dest: dict[str, Any], enabled: dict[str, bool] | None,
                  problems: list[tuple[str, str]]) -> dict[str, Any]:
    _coalesce(chart, dest, False, enabled, "", problems)
    return dest


def _coalesce(chart: Chart, dest: dict[str, Any], merge: bool, enabled: dict[str, bool] | None,
              prefix: str, problems: list[tuple[str, str]]) -> None:
    dep_keys = {d.key for d in chart.dependencies}
    for key, default in copy_data(chart.values).items():
        if key in dest:
            value = dest[key]
            if value is None and not merge:
                del dest[key]
            elif isinstance(value, dict) and isinstance(default, dict):
                _coalesce_tables(value, default, merge or key in dep_keys)
        else:
            dest[key] = default
    for dep in chart.dependencies:
        key = dep.key
        if dep.chart is None or (enabled is not None and not enabled.get(prefix + key, True)):
            continue
        if key not in dest:
            dest[key] = {}
        elif not isinstance(dest[key], dict):
            problems.append((prefix + key, f"type mismatch on {key}: a subchart's values must be a map"))
            continue
        sub = dest[key]
        _coalesce_globals(sub, dest)
        _coalesce(dep.chart, sub, merge, enabled, prefix + key + ".", problems)


def _coalesce_tables(dest: dict[str, Any], src: dict[str, Any], merge: bool) -> None:
    for key, value in src.items():
        if key in dest:
            current = dest[key]
            if current is None and not merge:
                del dest[key]
            elif isinstance(value, dict) and isinstance(current, dict):
                _coalesce_tables(current, value, merge)
        else:
            dest[key] = value


def _coalesce_globals(dest: dict[str, Any], src: dict[str, Any]) -> None:
    dest_globals = dest.get("global", {})
    if not isinstance(dest_globals, dict):
        return
    src_globals = src.get("global", {})
    if not isinstance(src_globals, dict):
        return
    for key, value in src_globals.items():
        if isinstance(value, dict):
            copied = copy_data(value)
            current = dest_globals.get(key)
            if current is None and key not in dest_globals:
                dest_globals[key] = copied
            elif isinstance(current, dict):
                _coalesce_tables(copied, current, True)
                dest_globals[key] = copied
        elif isinstance(dest_globals.get(key), dict):
            continue
        else:
            dest_globals[key] = value
    dest["global"] = dest_globals
