"""A null in the user's values deletes the chart's default (Helm's rule). For every section and flag
the chart sets by default, `--set <path>=null` either renders or is refused with a message (the
values schema, or a guard's `fail`/`required`); never a template crash such as "nil pointer
evaluating interface {}.host", which names no value to fix. The schema requires what the templates
read (schemas/values/, x-chart-root for a subchart's own sections)."""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml

from cases import CHART, HELM_VERSIONS

pytestmark = pytest.mark.helm

# Every subchart on, with ClientApps: every template reads its values.
VALUES = CHART / "ci" / "clientapps-values.yaml"
SUBCHARTS = {"superlink": "flower-superlink", "hubAddon": "flower-hub-addon", "clientApp": "flower-clientapp"}
# What Go's template engine says when a template, not a guard, fails (a guard says "execution error at").
TEMPLATE_CRASH = 'executing "'


def _paths(prefix: str, node: dict) -> list[str]:
    """The paths of the sections (maps) and flags (booleans) under ``node``: what templates dereference
    or branch on."""
    paths = []
    for key, value in node.items():
        if isinstance(value, (dict, bool)):
            paths.append(f"{prefix}.{key}")
        if isinstance(value, dict):
            paths += _paths(f"{prefix}.{key}", value)
    return paths


def default_paths() -> list[str]:
    paths = _paths("global", yaml.safe_load((CHART / "values.yaml").read_text())["global"])
    for alias, directory in SUBCHARTS.items():
        defaults = yaml.safe_load((CHART / "charts" / directory / "values.yaml").read_text()) or {}
        paths += _paths(alias, {k: v for k, v in defaults.items() if k != "global"})
    return paths


def test_the_sweep_covers_the_sections_that_crashed() -> None:
    paths = default_paths()
    assert {"superlink.exposure", "superlink.exposure.allApis", "global.tls.generate", "hubAddon.supernode.image",
            "clientApp.defaults.appLabels"} <= set(paths)
    assert len(paths) > 60, paths


@pytest.mark.parametrize("version", HELM_VERSIONS, ids=lambda v: f"helm{v}")
def test_a_null_default_renders_or_is_refused_with_a_message(helm_bins: dict[str, Path], version: str) -> None:
    def outcome(path: str) -> str | None:
        proc = subprocess.run([str(helm_bins[version]), "template", "null-test", str(CHART), "-f", str(VALUES),
                               "--set", f"{path}=null"], capture_output=True, text=True, timeout=120)
        if proc.returncode != 0 and TEMPLATE_CRASH in proc.stderr:
            return f"{path}=null: " + next(line for line in proc.stderr.splitlines() if TEMPLATE_CRASH in line)[-300:]
        return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        crashes = [c for c in pool.map(outcome, default_paths()) if c]
    assert crashes == [], "\n".join(crashes)
