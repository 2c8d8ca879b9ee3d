#!/usr/bin/env python3
"""Chart READMEs made by helm-docs (pinned in hack/go/helm-docs) with hack/helm-docs/README.md.gotmpl.

helm-docs reads each chart's Chart.yaml and values.yaml (`# --` comments, `# @default --`) and renders
the template. This script does only what helm-docs cannot:
 1. types from values.schema.json: helm-docs infers a key's type from its default ("string" for null);
    its own way to say more is a `(type)` hint in each values.yaml comment;
 2. a subchart README naming its umbrella chart and its values key there: a helm-docs template sees
    only its own chart's directory;
 3. the library chart flower-common has no values.yaml, and helm-docs skips such a chart;
 4. failing: helm-docs reports template and parsing errors as log lines, exits 0 and leaves a partial
    README. helm-docs runs on a copy of charts/ in a temporary directory (1-3 are files written into
    that copy) and the READMEs are copied back only when it reported nothing;
 5. the values-documented check: every values.yaml key has a `# --` description or is a section
    whose keys have one. helm-docs lists the other keys with an empty description; its strict mode
    cannot check this (it counts only `# key.path --` comments and wants every nested key documented).

    python hack/gen_chart_docs.py                 # write charts/**/README.md
    python hack/gen_chart_docs.py --check         # exit 1 when a README is out of date
    python hack/gen_chart_docs.py --undocumented  # the values-documented check only
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CHARTS_DIR = ROOT / "charts"
TEMPLATE = ROOT / "hack" / "helm-docs" / "README.md.gotmpl"
ROWS_TEMPLATE = ROOT / "hack" / "helm-docs" / "rows.json.gotmpl"
EXTRA = ".helm-docs.json"  # read by the template (.Files.Get)


class DocError(Exception):
    pass


def helm_docs() -> Path:
    tools = Path(os.environ.get("TOOLS", ROOT / ".tools"))
    binary = tools / "bin" / "helm-docs"
    if not binary.exists():
        raise DocError(f"{binary} is missing: run `make tools` (hack/install-go-tools.sh helm-docs)")
    return binary


def chart_dirs(charts_dir: Path = CHARTS_DIR) -> list[Path]:
    return sorted(p.parent for p in charts_dir.rglob("Chart.yaml") if "templates" not in p.parts)


# --------------------------------------------------------------------------- values.schema.json types
def resolve(schema: dict, node: dict) -> dict:
    """Follow $ref (local '#/...') and merge allOf branches' properties into one node."""
    seen = 0
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        if not ref.startswith("#/"):
            raise DocError(f"unsupported $ref {ref!r}")
        target = schema
        for part in ref[2:].split("/"):
            target = target[part.replace("~1", "/").replace("~0", "~")]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
        seen += 1
        if seen > 50:
            raise DocError(f"$ref loop at {ref}")
    if isinstance(node, dict) and "allOf" in node:
        merged = {k: v for k, v in node.items() if k != "allOf"}
        for branch in node["allOf"]:
            branch = resolve(schema, branch)
            if "properties" in branch:
                merged["properties"] = {**branch["properties"], **merged.get("properties", {})}
            for key in ("type", "additionalProperties", "items", "patternProperties", "enum"):
                if key in branch and key not in merged:
                    merged[key] = branch[key]
        node = merged
    return node


def schema_child(schema: dict, node: dict, key: str) -> dict | None:
    """The schema of property `key` of an object node; None when the node does not declare it."""
    node = resolve(schema, node)
    if key in node.get("properties", {}):
        return resolve(schema, node["properties"][key])
    for pattern, sub in node.get("patternProperties", {}).items():
        if re.search(pattern, key):
            return resolve(schema, sub)
    additional = node.get("additionalProperties", None)
    if isinstance(additional, dict):
        return resolve(schema, additional)
    if additional is None and not node.get("properties") and not node.get("patternProperties"):
        return {}  # a free-form object (e.g. affinity): any key
    return None


def schema_at(schema: dict, path: tuple[str, ...]) -> dict | None:
    node = resolve(schema, schema)
    for key in path:
        node = schema_child(schema, node, key)
        if node is None:
            return None
    return node


def schema_type(schema: dict, path: tuple[str, ...]) -> str | None:
    """`int or null` for a schema type [integer, null]; None when the schema gives no type."""
    node = schema_at(schema, path) if schema else None
    kind = node.get("type") if node else None
    if not kind:
        return None
    names = {"array": "list", "boolean": "bool", "integer": "int"}
    return " or ".join(names.get(k, k) for k in (kind if isinstance(kind, list) else [kind]))


def helm_docs_key(path: tuple[str, ...]) -> str:
    """A values path as helm-docs writes it (segments with a dot or a space in double quotes)."""
    return ".".join(f'"{p}"' if ("." in p or " " in p) else p for p in path)


def mapping_paths(values, prefix: tuple[str, ...] = ()):
    if isinstance(values, dict):
        for key, value in values.items():
            yield prefix + (str(key),)
            yield from mapping_paths(value, prefix + (str(key),))


def load_yaml(path: Path):
    return (yaml.safe_load(path.read_text()) or {}) if path.exists() else {}


def dependencies(chart: Path) -> list[tuple[str, Path]]:
    """(values key, chart directory) of each subchart embedded in charts/."""
    meta = load_yaml(chart / "Chart.yaml")
    return [(d.get("alias") or d["name"], chart / "charts" / d["name"]) for d in meta.get("dependencies") or []]


def effective_values(chart: Path) -> dict:
    """values.yaml, for an umbrella over its subcharts' values under their keys (as Helm merges them)."""
    merged = {key: load_yaml(sub / "values.yaml") for key, sub in dependencies(chart) if (sub / "values.yaml").exists()}

    def merge(base, override):
        out = dict(base)
        for key, value in override.items():
            out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
        return out

    return merge(merged, load_yaml(chart / "values.yaml"))


def key_types(chart: Path) -> dict[str, str]:
    schema_file = chart / "values.schema.json"
    if not schema_file.exists():
        return {}
    schema = json.loads(schema_file.read_text())
    types = {}
    for path in mapping_paths(effective_values(chart)):
        kind = schema_type(schema, path)
        if kind:
            types[helm_docs_key(path)] = kind
    return types


# --------------------------------------------------------------------------- running helm-docs
def stage(work: Path, charts_dir: Path = CHARTS_DIR) -> Path:
    """A copy of charts_dir with what helm-docs needs beside each chart; returns its root."""
    staged = work / "charts"
    shutil.copytree(charts_dir, staged, ignore=shutil.ignore_patterns("README.md", EXTRA))
    for chart in chart_dirs(staged):
        if not (chart / "values.yaml").exists():
            (chart / "values.yaml").write_text("")
        extra = {"types": key_types(chart)}
        umbrella = chart.parent.parent
        if chart.parent.name == "charts" and (umbrella / "Chart.yaml").exists():
            key = next((k for k, sub in dependencies(umbrella) if sub.name == chart.name), None)
            extra["parent"] = {"name": load_yaml(umbrella / "Chart.yaml")["name"], "key": key}
        (chart / EXTRA).write_text(json.dumps(extra, sort_keys=True))
    return staged


def run_helm_docs(staged: Path, template: Path, *args: str) -> str:
    result = subprocess.run(
        [str(helm_docs()), "--chart-search-root", str(staged), "--template-files", str(template),
         "--sort-values-order", "file", "--log-level", "warning", *args],
        capture_output=True, text=True, env={**os.environ, "NO_COLOR": "1"})
    problems = result.stderr.strip()
    if result.returncode != 0 or problems:
        raise DocError(f"helm-docs failed (exit {result.returncode}):\n{problems.replace(str(staged), 'charts')}")
    return result.stdout


def helm_docs_rows(staged: Path) -> dict[str, list[dict]]:
    """Every chart's values rows as helm-docs reads them: {chart path relative to charts/: rows}.
    A row: Key, Type, Default, AutoDefault (`@default --`), AutoDescription (`# --`), LineNumber."""
    out = run_helm_docs(staged, ROWS_TEMPLATE, "--dry-run")
    charts = {}
    for line in out.splitlines():
        if line.strip():
            doc = json.loads(line)
            charts[Path(doc["chart"]).relative_to(staged).as_posix()] = doc["rows"] or []
    return charts


def documented(row: dict) -> bool:
    return bool(row.get("Description") or row.get("AutoDescription"))


def undocumented(rows_by_chart: dict[str, list[dict]]) -> list[str]:
    """helm-docs lists a key without a description only when no enclosing key has one: each such
    row is a key that nothing documents."""
    return [f"{chart}/values.yaml:{row['LineNumber']}: `{row['Key']}` has no `# --` description"
            for chart, rows in sorted(rows_by_chart.items()) for row in rows if not documented(row)]


def render(work: Path, charts_dir: Path = CHARTS_DIR) -> dict[Path, str]:
    """{README path under charts_dir: text} for every chart."""
    staged = stage(work, charts_dir)
    problems = undocumented(helm_docs_rows(staged))
    if problems:
        raise DocError("undocumented values (describe them with a `# --` comment):\n  "
                       + "\n  ".join(f"{charts_dir.name}/{p}" for p in problems))
    run_helm_docs(staged, TEMPLATE, "--document-dependency-values")
    return {charts_dir / chart.relative_to(staged) / "README.md": (chart / "README.md").read_text()
            for chart in chart_dirs(staged)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--check", action="store_true", help="fail when a README is out of date")
    mode.add_argument("--undocumented", action="store_true", help="only check that every values key is documented")
    parser.add_argument("--charts", type=Path, default=CHARTS_DIR, help="directory of the charts (default: charts/)")
    args = parser.parse_args(argv)
    charts_dir = args.charts.resolve()
    if not charts_dir.is_dir() or not chart_dirs(charts_dir):
        print(f"gen_chart_docs: no chart (Chart.yaml) under {args.charts}", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="chart-docs-") as tmp:
        try:
            if args.undocumented:
                problems = undocumented(helm_docs_rows(stage(Path(tmp), charts_dir)))
                for problem in problems:
                    print(f"{charts_dir.name}/{problem}", file=sys.stderr)
                print(f"values documented: {'FAIL' if problems else 'ok'}")
                return 1 if problems else 0
            readmes = render(Path(tmp), charts_dir)
        except (DocError, OSError, yaml.YAMLError, json.JSONDecodeError) as err:
            print(f"gen_chart_docs: {err}", file=sys.stderr)
            return 1
    shown = {path: path.relative_to(charts_dir.parent).as_posix() for path in readmes}
    if args.check:
        stale = [shown[p] for p, text in readmes.items() if not p.exists() or p.read_text() != text]
        if stale:
            print("out of date (run: make docs): " + ", ".join(stale), file=sys.stderr)
            return 1
        return 0
    for path, text in readmes.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            print(f"wrote {shown[path]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
