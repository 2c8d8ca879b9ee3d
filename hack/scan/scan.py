#!/usr/bin/env python3
"""`make scan`: render every example values file and scan the result with checkov.

checkov does not look inside custom resources, so the manifests embedded in AddOnTemplates
(OCM variables substituted as the hub would) and ManifestWorkReplicaSets are extracted and
scanned as objects of their own. Any failed check not listed in hack/scan/exceptions.yaml
(each with a one-line reason) fails the scan. Prints passed/failed counts per values file.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "plugin" / "src"))
# One implementation of OCM's variable substitution: the one `helm flower rehearse` runs.
from helm_flower.rehearse.ocm import render_manifest  # noqa: E402
CHART = ROOT / "charts" / "flower-federation"
EXCEPTIONS = Path(__file__).with_name("exceptions.yaml")
RELEASE, NAMESPACE = "scan", "flower"


def values_files() -> list[Path | None]:
    return [None, *sorted((CHART / "ci").glob("*-values.yaml"))]


def render(helm: str, values: Path | None) -> list[dict]:
    args = [helm, "template", RELEASE, str(CHART), "-n", NAMESPACE]
    if values:
        args += ["-f", str(values)]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def addon_variables(objects: list[dict]) -> dict[str, str]:
    """Variables of the first AddOnDeploymentConfig, plus OCM's built-in ones."""
    variables = {"CLUSTER_NAME": "cluster1", "INSTALL_NAMESPACE": f"flower-{RELEASE}"}
    for obj in objects:
        if obj["kind"] == "AddOnDeploymentConfig":
            for item in obj["spec"].get("customizedVariables", []):
                variables.setdefault(item["name"], item.get("value", ""))
            if obj["spec"].get("agentInstallNamespace"):
                variables["INSTALL_NAMESPACE"] = obj["spec"]["agentInstallNamespace"]
    return variables


def with_embedded(objects: list[dict]) -> list[dict]:
    variables = addon_variables(objects)
    result = []
    for obj in objects:
        result.append(obj)
        if obj["kind"] == "AddOnTemplate":
            manifests = obj["spec"]["agentSpec"]["workload"]["manifests"]
            result += [render_manifest(m, variables) for m in manifests]
        elif obj["kind"] == "ManifestWorkReplicaSet":
            result += obj["spec"]["manifestWorkTemplate"]["workload"]["manifests"]
    return result


def load_exceptions() -> list[dict]:
    """Reviewed exceptions: a check, optionally scoped to one example (`values`) and to the objects
    whose checkov resource id ends with `resource` (e.g. one Pod of the chart)."""
    entries = yaml.safe_load(EXCEPTIONS.read_text()) or []
    missing = [e for e in entries if not str(e.get("reason", "")).strip()]
    if missing:
        raise SystemExit(f"{EXCEPTIONS}: every exception needs a reason: {missing}")
    return entries


def excepted(check: str, values_name: str, resource: str, exceptions: list[dict]) -> bool:
    return any(e["check"] == check and e.get("values", values_name) == values_name
               and resource.endswith(e.get("resource", "")) for e in exceptions)


def describe(entry: dict) -> str:
    scope = [f"in {entry[key]}" for key in ("values", "resource") if key in entry]
    return " ".join([entry["check"], *scope])


def write_example(objects: list[dict], directory: Path) -> None:
    directory.mkdir()
    for i, obj in enumerate(objects):
        (directory / f"{i:03d}-{obj['kind']}.yaml").write_text(yaml.safe_dump(obj))


def run_checkov(checkov: str, directories: list[Path]) -> list[dict]:
    """checkov_batch.py in checkov's venv (the Python next to `checkov`): one report per directory."""
    python = Path(checkov).with_name("python")
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false")
    proc = subprocess.run([str(python), str(Path(__file__).with_name("checkov_batch.py")), *map(str, directories)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SystemExit(f"checkov failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout)


def scan_all(checkov: str, helm: str, all_values: list[Path | None]) -> list[dict]:
    """Render every example, then scan them: one checkov process per core, each on its share."""
    workers = min(os.cpu_count() or 2, len(all_values))
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(max_workers=workers) as pool:
        directories = [Path(tmp) / f"{i:02d}" for i in range(len(all_values))]
        renders = pool.map(lambda values: with_embedded(render(helm, values)), all_values)
        for objects, directory in zip(renders, directories):
            write_example(objects, directory)
        shares = [directories[i::workers] for i in range(workers)]
        reports = {r["directory"]: r for share in pool.map(lambda s: run_checkov(checkov, s), shares) for r in share}
        return [reports[str(directory)] for directory in directories]


def unexplained(report: dict, values_name: str, exceptions: list[dict]) -> list[str]:
    return sorted({f"{c['check_id']} {c['resource']}: {c['check_name']}" for c in report["failed"]
                   if not excepted(c["check_id"], values_name, c["resource"], exceptions)})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkov", default=str(ROOT / ".tools/scan-venv/bin/checkov"))
    parser.add_argument("--helm", default=str(ROOT / ".tools/bin/helm"))
    args = parser.parse_args()
    exceptions = load_exceptions()
    problems = 0
    print(f"{'values':<34} {'passed':>7} {'failed':>7} {'unexplained':>12}")
    all_values = values_files()
    for values, report in zip(all_values, scan_all(args.checkov, args.helm, all_values)):
        name = values.name if values else "(defaults)"
        lines = unexplained(report, name, exceptions)
        print(f"{name:<34} {report['passed']:>7} {len(report['failed']):>7} {len(lines):>12}")
        for line in lines:
            print(f"  not in {EXCEPTIONS.name}: {line}")
        problems += len(lines)
    print(f"exceptions in force: {len(exceptions)} ({', '.join(sorted(map(describe, exceptions)))})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
