"""Chart READMEs, values.yaml, values.schema.json and Chart.yaml annotations agree (issue #8).

The READMEs are made by helm-docs (hack/gen_chart_docs.py, template hack/helm-docs/README.md.gotmpl):
a test regenerates them with helm-docs and compares. The README tables are also parsed back from
Markdown and compared with values.yaml read by PyYAML, with the keys and descriptions helm-docs reads
from values.yaml, and with the types values.schema.json gives; schemas are walked with the
generator's small resolver. Each check is a function returning a list of problems, and a negative
test feeds it a disagreeing input to show it catches it.
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
CHARTS = sorted(p.parent for p in (ROOT / "charts").rglob("Chart.yaml") if "templates" not in p.parts)
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


def key_path(key: str) -> tuple:
    """A helm-docs key (`a.b`, `"x.y".z`, `list[0].c`) as a path of keys and list indexes."""
    return tuple(int(index) if index else (quoted or plain)
                 for quoted, plain, index in re.findall(r'"([^"]*)"|([^."\[\]]+)|\[(\d+)\]', key))


def value_at(values, path: tuple):
    node = values
    for key in path:
        node = node[key]
    return node


@pytest.fixture(scope="module")
def helm_docs_rows(docs_gen, tmp_path_factory) -> dict[Path, list[dict]]:
    """Every chart's values rows as helm-docs reads them from this checkout's values.yaml."""
    staged = docs_gen.stage(tmp_path_factory.mktemp("helm-docs"))
    return {ROOT / "charts" / chart: rows for chart, rows in docs_gen.helm_docs_rows(staged).items()}


def documented_rows(docs_gen, rows: list[dict]) -> list[dict]:
    """The documented rows, with their path and whether documented keys lie below them."""
    documented = [row for row in rows if docs_gen.documented(row)]
    keys = [row["Key"] for row in documented]
    return [{**row, "path": key_path(row["Key"]), "description": row["Description"] or row["AutoDescription"],
             "parent": any(k.startswith(row["Key"] + ".") for k in keys)} for row in documented]


def documented_levels(docs_gen, rows: list[dict]) -> set[tuple]:
    """Mapping paths that hold at least one documented key (() is the top level)."""
    return {row["path"][:-1] for row in documented_rows(docs_gen, rows)}


# --------------------------------------------------------------------------- the checks
def readme_problems(docs_gen, chart: Path, rows: dict[str, dict], rows_by_chart: dict[Path, list[dict]]) -> list[str]:
    """Every documented key of the chart (and, for the umbrella, of its subcharts under their
    alias) is a README row with its default, its description and its schema type."""
    expected = [(row["Key"], chart, row) for row in documented_rows(docs_gen, rows_by_chart[chart])]
    if chart == UMBRELLA:
        own = {key for key, _, _ in expected}
        for alias, sub in dependencies(chart):
            for row in documented_rows(docs_gen, rows_by_chart[sub]):
                key = f"{alias}.{row['Key']}"
                if row["path"][0] != "global" and key not in own:
                    expected.append((key, sub, row))
    schema = load_schema(chart)
    problems = []
    for key, source, entry in expected:
        row = rows.get(key)
        if row is None:
            problems.append(f"{key}: documented in {source.name}/values.yaml, missing from the README table")
            continue
        if not entry["AutoDefault"] and not entry["parent"]:
            shown = unquote_code(row["default"])
            value = value_at(load_values(source), entry["path"])
            if shown is None or json.loads(shown) != value:
                problems.append(f"{key}: README default {row['default']!r}, values.yaml has {json.dumps(value)}")
        words = re.findall(r"\w+", entry["description"])
        if re.findall(r"\w+", row["desc"].replace("&lt;", "<").replace("&gt;", ">")) != words:
            problems.append(f"{key}: README description differs from values.yaml")
        kind = docs_gen.schema_type(schema, key_path(key)) or entry["Type"]
        if row["type"] != kind:
            problems.append(f"{key}: README type {row['type']!r}, the schema says {kind!r}")
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


def effective_values_and_levels(docs_gen, chart: Path, rows_by_chart: dict[Path, list[dict]]) -> tuple[dict, set, dict]:
    """values.yaml (for the umbrella: merged over its subcharts' values under their aliases, as Helm
    does), the documented levels, and the allowed undocumented schema properties."""
    values = load_values(chart)
    levels = documented_levels(docs_gen, rows_by_chart[chart])
    allowed = dict(UNDOCUMENTED.get(chart.name, {}) or {})
    if chart == UMBRELLA:
        merged = {}
        for alias, sub in dependencies(chart):
            if (sub / "values.yaml").exists():
                merged[alias] = load_values(sub)  # Helm also copies the umbrella's global there
                sub_levels = documented_levels(docs_gen, rows_by_chart[sub])
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
        present = value_at(values, level) if level else values
        for prop in docs_gen.resolve(schema, node).get("properties", {}):
            key = ".".join(level + (prop,))
            if prop not in (present or {}) and key not in allowed:
                problems.append(f"{key}: in the schema, not in values.yaml (document it, or list it in "
                                "hack/lint/values-undocumented.yaml with the reason)")
    return problems


# --------------------------------------------------------------------------- tests
def test_readmes_are_generated_by_helm_docs_and_current():
    result = subprocess.run([sys.executable, str(ROOT / "hack" / "gen_chart_docs.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    for chart in CHARTS:
        assert (chart / "README.md").read_text().startswith("<!-- Generated by helm-docs ")


def test_helm_docs_is_the_pinned_version():
    result = subprocess.run([ROOT / ".tools" / "bin" / "helm-docs", "--version"], capture_output=True, text=True)
    pinned = re.search(r"github.com/norwoodj/helm-docs v(\S+)", (ROOT / "hack/go/helm-docs/go.mod").read_text()).group(1)
    assert result.returncode == 0 and result.stdout.strip() == f"helm-docs version {pinned}", result.stdout


@pytest.mark.parametrize("chart", VALUED_CHARTS, ids=chart_id)
def test_every_documented_key_is_in_the_readme_with_its_default(docs_gen, helm_docs_rows, chart):
    assert readme_problems(docs_gen, chart, readme_rows(chart / "README.md"), helm_docs_rows) == []


@pytest.mark.parametrize("chart", VALUED_CHARTS, ids=chart_id)
def test_every_values_key_is_in_the_schema(docs_gen, chart):
    assert leaf_problems(docs_gen, load_schema(chart), load_values(chart)) == []


@pytest.mark.parametrize("chart", VALUED_CHARTS, ids=chart_id)
def test_every_schema_property_at_documented_levels_is_in_values(docs_gen, helm_docs_rows, chart):
    values, levels, allowed = effective_values_and_levels(docs_gen, chart, helm_docs_rows)
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
                value_at(values, parts)
                problems.append(f"{chart.name}: {path} is in values.yaml now: remove it from the list")
            except (KeyError, TypeError):
                pass
    assert problems == []


def test_every_values_key_is_documented_or_a_section(docs_gen, helm_docs_rows):
    assert set(helm_docs_rows) == set(CHARTS)
    assert docs_gen.undocumented({str(chart): rows for chart, rows in helm_docs_rows.items()}) == []


def test_subchart_readmes_name_their_umbrella_and_values_key():
    for alias, sub in dependencies(UMBRELLA):
        text = (sub / "README.md").read_text()
        library = yaml.safe_load((sub / "Chart.yaml").read_text()).get("type") == "library"
        assert "Part of [flower-federation](../../README.md): install the umbrella chart" in text
        assert (f"under the `{alias}` key" in text) is not library, sub.name


def test_library_readme_lists_every_named_template():
    common = UMBRELLA / "charts" / "flower-common"
    defined = {m for tpl in (common / "templates").glob("*.tpl")
               for m in re.findall(r'\{\{-?\s*define\s+"([^"]+)"', tpl.read_text())}
    listed = set(re.findall(r"^\| `([^`]+)` \|", (common / "README.md").read_text(), re.M))
    assert defined and listed == defined
    assert "| `flower.name` | flower.name: \"&lt;release&gt;-&lt;item&gt;\", at most 63 characters (shortened to fit)." in \
        (common / "README.md").read_text()


# Negative tests: the checks above catch each kind of disagreement.
def test_checks_catch_a_readme_that_disagrees(docs_gen, helm_docs_rows):
    chart = UMBRELLA / "charts" / "flower-superlink"
    rows = readme_rows(chart / "README.md")
    assert readme_problems(docs_gen, chart, rows, helm_docs_rows) == []
    broken = copy.deepcopy(rows)
    broken["port"]["default"] = "`9093`"
    broken["exposure.nodePort"]["type"] = "string"
    del broken["image.tag"]
    broken["notAKey"] = {"type": "string", "default": '`""`', "desc": "x"}
    problems = readme_problems(docs_gen, chart, broken, helm_docs_rows)
    assert any(p.startswith("port: README default") for p in problems)
    assert "exposure.nodePort: README type 'string', the schema says 'int or null'" in problems
    assert any(p.startswith("image.tag: documented") for p in problems)
    assert any(p.startswith("notAKey: in the README") for p in problems)


def test_checks_catch_values_missing_from_the_schema_and_schema_missing_from_values(docs_gen, helm_docs_rows):
    chart = UMBRELLA / "charts" / "flower-superlink"
    schema, values = load_schema(chart), load_values(chart)
    values["persistence"]["sizee"] = "1Gi"
    assert leaf_problems(docs_gen, schema, values) == ["persistence.sizee: not in the schema"]
    del values["persistence"]["size"]
    levels = documented_levels(docs_gen, helm_docs_rows[chart])
    assert any(p.startswith("persistence.size: in the schema")
               for p in level_problems(docs_gen, schema, values, levels, {}))


DEMO_VALUES = """# file header

section:
  # -- (int) A number,
  # continued.
  # @default -- computed
  number: null
  # a plain comment
  plain: 1
# -- Whole object with <angle> brackets.
obj:
  inner: 2
"""


@pytest.fixture
def demo_charts(tmp_path) -> Path:
    charts = tmp_path / "charts"
    (charts / "demo").mkdir(parents=True)
    (charts / "demo" / "Chart.yaml").write_text("apiVersion: v2\nname: demo\nversion: 1.2.3\ndescription: A demo.\n")
    (charts / "demo" / "values.yaml").write_text(DEMO_VALUES)
    (charts / "demo" / "values.schema.json").write_text(json.dumps(
        {"type": "object", "properties": {"section": {"type": "object", "properties": {
            "plain": {"type": ["integer", "null"]}}}}}))
    return charts


def test_values_documented_check_follows_helm_docs_conventions(docs_gen, demo_charts, tmp_path):
    rows = docs_gen.helm_docs_rows(docs_gen.stage(tmp_path / "work", demo_charts))["demo"]
    documented = {row["Key"]: row for row in documented_rows(docs_gen, rows)}
    assert set(documented) == {"section.number", "obj"}  # obj.inner belongs to the documented obj
    number = documented["section.number"]
    assert (number["description"], number["Type"], number["AutoDefault"]) == ("A number, continued.", "int", "computed")
    assert docs_gen.undocumented({"demo": rows}) == ["demo/values.yaml:9: `section.plain` has no `# --` description"]


def test_docs_refuse_undocumented_values_then_render_and_check(docs_gen, demo_charts, capsys):
    readme = demo_charts / "demo" / "README.md"
    assert docs_gen.main(["--charts", str(demo_charts)]) == 1
    err = capsys.readouterr().err
    assert "charts/demo/values.yaml:9: `section.plain` has no `# --` description" in err and "Traceback" not in err
    assert not readme.exists()  # nothing half-written
    assert docs_gen.main(["--charts", str(demo_charts), "--undocumented"]) == 1

    values = demo_charts / "demo" / "values.yaml"
    values.write_text(values.read_text().replace("  # a plain comment\n", "  # -- A plain number.\n"))
    assert docs_gen.main(["--charts", str(demo_charts)]) == 0
    rows = readme_rows(readme)
    assert rows["section.number"] == {"type": "int", "default": "computed", "desc": "A number, continued."}
    assert rows["section.plain"] == {"type": "int or null", "default": "`1`", "desc": "A plain number."}  # the schema's type
    assert rows["obj"] == {"type": "object", "default": '`{"inner":2}`', "desc": "Whole object with &lt;angle&gt; brackets."}
    assert "**Version:** 1.2.3 · **Type:** application" in readme.read_text()
    assert docs_gen.main(["--charts", str(demo_charts), "--check"]) == 0
    readme.write_text(readme.read_text().replace("computed", "calculated"))
    capsys.readouterr()
    assert docs_gen.main(["--charts", str(demo_charts), "--check"]) == 1
    assert "out of date (run: make docs): charts/demo/README.md" in capsys.readouterr().err


def test_a_helm_docs_error_fails_the_docs(docs_gen, demo_charts, tmp_path):
    broken = tmp_path / "broken.gotmpl"
    broken.write_text("{{ .NoSuchField.Deeper }}\n")
    staged = docs_gen.stage(tmp_path / "work", demo_charts)
    with pytest.raises(docs_gen.DocError, match="(?s)helm-docs failed.*NoSuchField"):
        docs_gen.run_helm_docs(staged, broken)


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
