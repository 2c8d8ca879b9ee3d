"""What the chart (and the values it will be installed with) say about images: the Flower
version every SuperExec must match, the SuperNode placement names, the install strategy and the
schema a values fragment must pass.

Values are computed the way Helm computes them (:mod:`helm_flower.values`): the chart's
``values.yaml`` and its subcharts' defaults, then the values files the fragment is used with
(``-f`` files, then the ``-o`` file it merges into). So a values file that sets its own
``hubAddon.placements`` or ``global.flower.version`` is honoured.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from .. import values as values_mod
from ..chart import Chart
from .errors import EXIT_USAGE, ImagesError

_VERSION = re.compile(r"^[0-9]+\.[0-9]+\.[0-9]+([.-].+)?$")


@dataclass
class ChartContext:
    chart: Chart
    label: str  # where the chart is, for messages
    flower_version: str
    version_source: str
    placements: list[str]
    placements_source: str
    install_strategy: str
    files: list[str] = field(default_factory=list)


def _source(vals: values_mod.Values, path: tuple[str, ...], chart: Chart) -> str:
    return vals.source(path) or chart.values_file


def load_context(chart: Chart, files: list[tuple[str, dict[str, Any]]], sets: list[str] | None = None,
                 set_strings: list[str] | None = None) -> ChartContext:
    try:
        user, layers = values_mod.user_values(files, list(sets or []), list(set_strings or []))
    except values_mod.SetError as exc:
        raise ImagesError(f"{exc}", EXIT_USAGE) from None
    vals = values_mod.compute(chart, user, layers)
    final = vals.values
    found, version = values_mod.path_value(final, "global.flower.version")
    where = _source(vals, ("global", "flower", "version"), chart)
    if not found or not isinstance(version, str) or not _VERSION.match(version):
        raise ImagesError(f"{where}: global.flower.version: expected a Flower version such as \"1.41.0\", "
                          f"found {version!r}; is {chart.location} the flower-federation chart?", EXIT_USAGE)
    _, strategy = values_mod.path_value(final, "hubAddon.installStrategy")
    _, placements_raw = values_mod.path_value(final, "hubAddon.placements")
    names: list[str] = []
    for item in placements_raw if isinstance(placements_raw, list) else []:
        if isinstance(item, dict) and isinstance(item.get("name"), str) and item["name"] not in names:
            names.append(item["name"])
    return ChartContext(
        chart=chart,
        label=chart.location,
        flower_version=version,
        version_source=where,
        placements=names,
        placements_source=_source(vals, ("hubAddon", "placements"), chart),
        install_strategy=str(strategy or "Placements"),
        files=[label for label, _ in files],
    )


def schema_errors(chart: Chart, data: dict[str, Any]) -> list[str]:
    """``data`` merged with the chart's defaults, against the chart's values.schema.json
    (JSON Schema draft 7): one line per error, sorted by path."""
    if chart.schema is None:
        return []
    import jsonschema  # noqa: PLC0415 - only this step needs it

    user, layers = values_mod.user_values([("fragment", data)], [], [])
    merged = values_mod.compute(chart, user, layers).values
    validator = jsonschema.Draft7Validator(chart.schema)
    errors = []
    for error in validator.iter_errors(merged):
        path = ".".join(str(p) for p in error.absolute_path) or "(root)"
        errors.append(f"{path}: {error.message}")
    return sorted(errors)
