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


def run_checkov(checkov: str, directory: Path) -> dict:
    env = dict(os.environ, BC_SKIP_MAPPING="TRUE", CHECKOV_RUN_SCA_PACKAGE_SCAN_V2="false")
    proc = subprocess.run(
        [checkov, "-d", str(directory), "--framework", "kubernetes", "-o", "json", "--quiet",
         "--compact", "--skip-download", "--soft-fail"],
        capture_output=True, text=True, env=env,
    )
    start = proc.stdout.find("{")
    if start < 0:
        raise SystemExit(f"checkov printed no report:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    report = json.loads(proc.stdout[start:])
    return report[0] if isinstance(report, list) else report


def scan_one(checkov: str, helm: str, values: Path | None, exceptions: list[dict]) -> tuple[int, int, list[str]]:
    objects = with_embedded(render(helm, values))
    with tempfile.TemporaryDirectory() as tmp:
        for i, obj in enumerate(objects):
            (Path(tmp) / f"{i:03d}-{obj['kind']}.yaml").write_text(yaml.safe_dump(obj))
        report = run_checkov(checkov, Path(tmp))
    failed = report.get("results", {}).get("failed_checks", [])
    passed = report.get("summary", {}).get("passed", 0)
    values_name = values.name if values else "(defaults)"
    unexplained = sorted({
        f"{c['check_id']} {c['resource']}: {c.get('check_name', '')}"
        for c in failed if not excepted(c["check_id"], values_name, c["resource"], exceptions)
    })
    return passed, len(failed), unexplained


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkov", default=str(ROOT / ".tools/scan-venv/bin/checkov"))
    parser.add_argument("--helm", default=str(ROOT / ".tools/bin/helm"))
    args = parser.parse_args()
    exceptions = load_exceptions()
    problems = 0
    print(f"{'values':<34} {'passed':>7} {'failed':>7} {'unexplained':>12}")
    all_values = values_files()
    # One checkov process per example (checkov's graph checks must not see other examples'
    # objects), as many at a time as there are cores.
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        scans = pool.map(lambda values: scan_one(args.checkov, args.helm, values, exceptions), all_values)
        results = list(zip(all_values, scans))
    for values, (passed, failed, unexplained) in results:
        name = values.name if values else "(defaults)"
        print(f"{name:<34} {passed:>7} {failed:>7} {len(unexplained):>12}")
        for line in unexplained:
            print(f"  not in {EXCEPTIONS.name}: {line}")
        problems += len(unexplained)
    print(f"exceptions in force: {len(exceptions)} ({', '.join(sorted(map(describe, exceptions)))})")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
