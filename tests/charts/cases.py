"""The value sets the chart tests run over (the chart's defaults and every ci/*-values.yaml),
what Helm sees for each, and how to lint/render one."""

from __future__ import annotations

import copy
import functools
from dataclasses import dataclass
from pathlib import Path

import yaml

import render as r

_HERE = Path(__file__).resolve().parent

CHART = _HERE.parents[1] / "charts" / "flower-federation"
TEST_VALUES = _HERE / "values"  # values files of single tests (not examples)
HELM_VERSIONS = ("4", "3")
# Every test renders release "a"; the two-release test adds "b" in the same namespace.
RELEASE, OTHER_RELEASE, NAMESPACE = "a", "b", "flower-system"
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True)
class Case:
    """One set of values: the chart defaults or a ci/*-values.yaml file (+ simple --set)."""

    id: str
    values_files: tuple[Path, ...] = ()
    set_values: tuple[str, ...] = ()

    def values(self) -> dict:
        """The values Helm sees (cached: treat as read-only)."""
        return _case_values(self.values_files, self.set_values)

    def get(self, dotted: str, default=None):
        node = self.values()
        for part in dotted.split("."):
            if not isinstance(node, dict) or part not in node:
                return default
            node = node[part]
        return node


def _load(path: Path) -> dict:
    return yaml.load(path.read_text(), Loader=_Loader) or {}


@functools.cache
def _case_values(values_files: tuple[Path, ...], set_values: tuple[str, ...]) -> dict:
    """Umbrella defaults, subchart defaults, the files, then --set: merged like Helm does
    (maps deep, everything else replaced)."""
    merged = _load(CHART / "values.yaml")
    for alias, sub in (("superlink", "flower-superlink"), ("hubAddon", "flower-hub-addon"), ("clientApp", "flower-clientapp")):
        defaults = _load(CHART / "charts" / sub / "values.yaml")
        defaults.pop("global", None)
        merged[alias] = _merge(defaults, merged.get(alias) or {})
    for f in values_files:
        merged = _merge(merged, _load(f))
    for assignment in set_values:
        key, _, raw = assignment.partition("=")
        assert "[" not in key, f"Case.values() models only plain --set a.b.c=value, not {assignment}"
        over: dict = {}
        node = over
        *parents, leaf = key.split(".")
        for part in parents:
            node = node.setdefault(part, {})
        node[leaf] = _set_value(raw)
        merged = _merge(merged, over)
    return merged


def _set_value(raw: str):
    if raw.startswith("{") and raw.endswith("}"):
        return [_set_value(x) for x in raw[1:-1].split(",") if x]
    if raw in ("true", "false"):
        return raw == "true"
    return int(raw) if raw.lstrip("-").isdigit() else raw


def _merge(base: dict, over: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else copy.deepcopy(v)
    return out


CI_FILES = sorted((CHART / "ci").glob("*-values.yaml"))
CASES = [Case("defaults")] + [Case(f.name.removesuffix("-values.yaml"), (f,)) for f in CI_FILES]
CASE = {c.id: c for c in CASES}

# Values of single tests (the defaults plus --set or a tests/charts/values file). Test modules
# declare them at import time, so the session can start their renders early (conftest.py).
VARIANTS: list[Case] = []


def variant(id: str, *set_values: str, values: tuple[Path, ...] = ()) -> Case:
    case = Case(id, tuple(values), tuple(set_values))
    VARIANTS.append(case)
    return case


def lint_args(helm: Path, case: Case) -> tuple[str, ...]:
    args = [str(helm), "lint", "--strict", str(CHART)]
    for f in case.values_files:
        args += ["--values", str(f)]
    for s in case.set_values:
        args += ["--set", s]
    return tuple(args)


def render_case(helm: Path, case: Case, release: str = RELEASE, namespace: str = NAMESPACE) -> list[dict]:
    return r.render(helm, CHART, case.values_files, case.set_values, release, namespace)
