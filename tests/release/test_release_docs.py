"""Chart READMEs, values.yaml, values.schema.json and Chart.yaml annotations agree (issue #8).

The README tables are parsed back from Markdown (not re-rendered) and compared with values.yaml
read by PyYAML; schemas are walked with a small resolver. Each check is a function returning a list
of problems, and a negative test feeds it a disagreeing input to show it catches it.
"""
from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT

UMBRELLA = ROOT / "charts" / "flower-federation"
CHARTS = sorted(p.parent for p in (ROOT / "charts").rglob("Chart.yaml"))
VALUED_CHARTS = [c for c in CHARTS if (c / "values.yaml").exists()]
UNDOCUMENTED = yaml.safe_load((ROOT / "hack" / "lint" / "values-undocumented.yaml").read_text()) or {}
ROW = re.compile(r"^\| `(?P<key>[^`]+)` \| (?P<type>[^|]*) \| (?P<default>(?:[^|\\]|\\.)*?) \| (?P<desc>.*) \|$")


def chart_id(path: Path) -> str:
    return path.name


def readme_rows(readme: Path) -> dict[str, dict]:
    rows = {}
    for line in readme.read_text().splitlines():
        match = ROW.match(line)
        if match:
            rows[match["key"]] = {k: match[k].replace("\\|", "|") for k in ("type", "default", "desc")}
    return rows


def unquote_code(cell: str) -> str | None:
    match = re.fullmatch(r"``? ?(.*?) ?``?", cell.strip())
    return match.group(1) if match else None


def load_values(chart: Path) -> dict:
    return yaml.safe_load((chart / "values.yaml").read_text()) or {}


def load_schema(chart: Path) -> dict:
    return json.loads((chart / "values.schema.json").read_text())


def dependencies(chart: Path) -> list[tuple[str, Path]]:
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    return [(d.get("alias", d["name"]), chart / "charts" / d["name"]) for d in meta.get("dependencies", [])]


# --------------------------------------------------------------------------- the checks
def readme_problems(docs_gen, chart: Path, rows: dict[str, dict]) -> list[str]:
    """Every documented key of the chart (and, for the umbrella, of its subcharts under their
    alias) is a README row with its default and its description."""
    expected = []  # (key, value path source chart, path, entry)
    for entry in docs_gen.rows_of(docs_gen.parse_values(chart / "values.yaml")):
        expected.append((entry.key, chart, entry))
    if chart == UMBRELLA:
        own = {key for key, _, _ in expected}
        for alias, sub in dependencies(chart):
            if not (sub / "values.yaml").exists():
                continue
            for entry in docs_gen.rows_of(docs_gen.parse_values(sub / "values.yaml")):
                key = f"{alias}.{entry.key}"
                if entry.path[0] != "global" and key not in own:
                    expected.append((key, sub, entry))
    problems = []
    for key, source, entry in expected:
        row = rows.get(key)
        if row is None:
            problems.append(f"{key}: documented in {source.name}/values.yaml, missing from the README table")
            continue
        value = docs_gen.value_at(load_values(source), entry.path)
        if entry.default_text is None and not entry.has_documented_descendants():
            shown = unquote_code(row["default"])
            if shown is None or json.loads(shown) != value:
                problems.append(f"{key}: README default {row['default']!r}, values.yaml has {json.dumps(value)}")
        words = re.findall(r"\w+", entry.description or "")
        if words and re.findall(r"\w+", row["desc"].replace("&lt;", "<").replace("&gt;", ">")) != words:
            problems.append(f"{key}: README description differs from values.yaml")
    extra = set(rows) - {key for key, _, _ in expected}
    problems += [f"{key}: in the README table, not documented in values.yaml" for key in sorted(extra)]
    return problems


def leaf_problems(docs_gen, schema: dict, values, path: tuple = ()) -> list[str]:
    """Every key set in values.yaml (at any depth, list items included) is declared by the schema."""
    problems = []
    node = docs_gen.schema_at(schema, path) if path else docs_gen.resolve(schema, schema)
    if node is None:
        return [".".join(map(str, path)) + ": not in the schema"]
    if isinstance(values, dict):
        for key, sub in values.items():
            if docs_gen.schema_child(schema, node, str(key)) is None:
                problems.append(".".join(map(str, path + (key,))) + ": not in the schema")
            else:
                problems += leaf_problems(docs_gen, schema, sub, path + (str(key),))
    elif isinstance(values, list):
        items = docs_gen.resolve(schema, node).get("items")
        for index, item in enumerate(values):
            if isinstance(item, (dict, list)):
                if not isinstance(items, dict):
                    problems.append(".".join(map(str, path)) + f"[{index}]: the schema declares no items")
                    continue
                problems += _item_problems(docs_gen, schema, docs_gen.resolve(schema, items), item,
                                           ".".join(map(str, path)) + f"[{index}]")
    return problems


def _item_problems(docs_gen, schema, node, value, label) -> list[str]:
    problems = []
    if isinstance(value, dict):
        for key, sub in value.items():
            child = docs_gen.schema_child(schema, node, str(key))
            if child is None:
                problems.append(f"{label}.{key}: not in the schema")
            else:
                problems += _item_problems(docs_gen, schema, child, sub, f"{label}.{key}")
    elif isinstance(value, list):
        items = node.get("items")
        for index, item in enumerate(value):
            if isinstance(item, (dict, list)) and isinstance(items, dict):
                problems += _item_problems(docs_gen, schema, docs_gen.resolve(schema, items), item, f"{label}[{index}]")
    return problems


def effective_values_and_levels(docs_gen, chart: Path) -> tuple[dict, set, dict]:
    """values.yaml (for the umbrella: merged over its subcharts' values under their aliases, as Helm
    does), the documented levels, and the allowed undocumented schema properties."""
    values = load_values(chart)
    levels = docs_gen.documented_levels(docs_gen.parse_values(chart / "values.yaml"))
    allowed = dict(UNDOCUMENTED.get(chart.name, {}) or {})
    if chart == UMBRELLA:
        merged = {}
        for alias, sub in dependencies(chart):
            if (sub / "values.yaml").exists():
                merged[alias] = load_values(sub)  # Helm also copies the umbrella's global there
                sub_levels = docs_gen.documented_levels(docs_gen.parse_values(sub / "values.yaml"))
                levels |= {(alias,) + level for level in sub_levels if level[:1] != ("global",)}
                for path, reason in (UNDOCUMENTED.get(sub.name, {}) or {}).items():
                    allowed[f"{alias}.{path}"] = reason
        values = _deep_merge(merged, values)
    return values, levels, allowed


def _deep_merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def level_problems(docs_gen, schema: dict, values: dict, levels: set, allowed: dict) -> list[str]:
    """Every schema property at a documented level of values.yaml is set there, or allowed."""
    problems = []
    for level in sorted(levels):
        node = docs_gen.schema_at(schema, level) if level else docs_gen.resolve(schema, schema)
        if node is None:
            problems.append(f"{'.'.join(level)}: documented level missing from the schema")
            continue
        present = docs_gen.value_at(values, level) if level else values
        for prop in docs_gen.resolve(schema, node).get("properties", {}):
            key = ".".join(level + (prop,))
            if prop not in (present or {}) and key not in allowed:
                problems.append(f"{key}: in the schema, not in values.yaml (document it, or list it in "
                                "hack/lint/values-undocumented.yaml with the reason)")
    return problems


# --------------------------------------------------------------------------- tests
def test_readmes_are_generated_and_current():
    result = subprocess.run([sys.executable, str(ROOT / "hack" / "gen_chart_docs.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("chart", VALUED_CHARTS, ids=chart_id)
def test_every_documented_key_is_in_the_readme_with_its_default(docs_gen, chart):
    assert readme_problems(docs_gen, chart, readme_rows(chart / "README.md")) == []


@pytest.mark.parametrize("chart", VALUED_CHARTS, ids=chart_id)
def test_every_values_key_is_in_the_schema(docs_gen, chart):
    assert leaf_problems(docs_gen, load_schema(chart), load_values(chart)) == []


@pytest.mark.parametrize("chart", VALUED_CHARTS, ids=chart_id)
def test_every_schema_property_at_documented_levels_is_in_values(docs_gen, chart):
    values, levels, allowed = effective_values_and_levels(docs_gen, chart)
    assert level_problems(docs_gen, load_schema(chart), values, levels, allowed) == []


def test_undocumented_list_has_no_stale_entries(docs_gen):
    problems = []
    for chart in VALUED_CHARTS:
        schema, values = load_schema(chart), load_values(chart)
        for path in (UNDOCUMENTED.get(chart.name) or {}):
            parts = tuple(path.split("."))
            if docs_gen.schema_at(schema, parts) is None:
                problems.append(f"{chart.name}: {path} is not in the schema any more")
            try:
                docs_gen.value_at(values, parts)
                problems.append(f"{chart.name}: {path} is in values.yaml now: remove it from the list")
            except (KeyError, TypeError):
                pass
    assert problems == []


def test_every_values_key_is_documented_or_a_section(docs_gen):
    problems = []
    for chart in VALUED_CHARTS:
        problems += docs_gen.check_documented(docs_gen.parse_values(chart / "values.yaml"), chart / "values.yaml")
    assert problems == []


# Negative tests: the checks above catch each kind of disagreement.
def test_checks_catch_a_readme_that_disagrees(docs_gen):
    chart = UMBRELLA / "charts" / "flower-superlink"
    rows = readme_rows(chart / "README.md")
    assert readme_problems(docs_gen, chart, rows) == []
    broken = copy.deepcopy(rows)
    broken["port"]["default"] = "`9093`"
    del broken["image.tag"]
    broken["notAKey"] = {"type": "string", "default": '`""`', "desc": "x"}
    problems = readme_problems(docs_gen, chart, broken)
    assert any(p.startswith("port: README default") for p in problems)
    assert any(p.startswith("image.tag: documented") for p in problems)
    assert any(p.startswith("notAKey: in the README") for p in problems)


def test_checks_catch_values_missing_from_the_schema_and_schema_missing_from_values(docs_gen):
    chart = UMBRELLA / "charts" / "flower-superlink"
    schema, values = load_schema(chart), load_values(chart)
    values["persistence"]["sizee"] = "1Gi"
    assert leaf_problems(docs_gen, schema, values) == ["persistence.sizee: not in the schema"]
    del values["persistence"]["size"]
    levels = docs_gen.documented_levels(docs_gen.parse_values(chart / "values.yaml"))
    assert any(p.startswith("persistence.size: in the schema")
               for p in level_problems(docs_gen, schema, values, levels, {}))


def test_comment_parser_follows_helm_docs_conventions(docs_gen, tmp_path):
    values = tmp_path / "values.yaml"
    values.write_text(
        "# file header\n\n"
        "section:\n"
        "  # -- (int) A number,\n"
        "  # continued.\n"
        "  # @default -- computed\n"
        "  number: null\n"
        "  # a plain comment\n"
        "  plain: 1\n"
        "# -- Whole object.\n"
        "obj:\n"
        "  inner: 2\n")
    entries = docs_gen.flatten(docs_gen.parse_values(values))
    by_key = {e.key: e for e in entries}
    assert by_key["section"].description is None
    assert (by_key["section.number"].description, by_key["section.number"].type_hint,
            by_key["section.number"].default_text) == ("A number, continued.", "int", "computed")
    assert by_key["section.plain"].description is None
    assert [r.key for r in docs_gen.rows_of(docs_gen.parse_values(values))] == ["section.number", "obj"]
    monkey_root = docs_gen.ROOT
    try:
        docs_gen.ROOT = tmp_path
        problems = docs_gen.check_documented(docs_gen.parse_values(values), values)
    finally:
        docs_gen.ROOT = monkey_root
    assert problems == ["values.yaml:9: `section.plain` has no `# --` description"]


# --------------------------------------------------------------------------- Artifact Hub
def _default_images(values: dict, flower_version: str) -> set[str]:
    """registry/repository:tag of every image in the charts' default values (tag "" = Flower version)."""
    images = set()

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("repository"), str) and "registry" in node:
                tag = str(node.get("tag") or flower_version)
                images.add(f"{node['registry']}/{node['repository']}:{tag}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(values)
    return images


def test_artifacthub_images_are_the_default_images_at_the_flower_version():
    meta = yaml.safe_load((UMBRELLA / "Chart.yaml").read_text())
    flower_version = load_values(UMBRELLA)["global"]["flower"]["version"]
    annotated = yaml.safe_load(meta["annotations"]["artifacthub.io/images"])
    listed = {i["image"] for i in annotated}
    defaults = set()
    for chart in VALUED_CHARTS:
        defaults |= _default_images(load_values(chart), flower_version)
    assert listed == defaults
    flower_images = [i for i in annotated if "/flwr/" in i["image"]]
    assert flower_images, "no Flower image in artifacthub.io/images"
    assert {i["image"].rsplit(":", 1)[1] for i in flower_images} == {flower_version}


def test_artifacthub_annotations():
    meta = yaml.safe_load((UMBRELLA / "Chart.yaml").read_text())
    annotations = meta["annotations"]
    assert annotations["artifacthub.io/license"] == "Apache-2.0"
    assert annotations["artifacthub.io/containsSecurityUpdates"] in ("true", "false")
    is_prerelease = "-" in str(meta["version"]).split("+")[0]
    assert annotations["artifacthub.io/prerelease"] == ("true" if is_prerelease else "false")
    changes = yaml.safe_load(annotations["artifacthub.io/changes"])
    assert changes and all(c["kind"] in {"added", "changed", "deprecated", "removed", "fixed", "security"}
                           and c["description"] for c in changes)
    sign_key = yaml.safe_load(annotations["artifacthub.io/signKey"])
    assert re.fullmatch(r"[0-9A-F]{40}", sign_key["fingerprint"]) and sign_key["url"].startswith("https://")
    assert meta["icon"].startswith("https://")
    assert meta["kubeVersion"] and meta["keywords"]
