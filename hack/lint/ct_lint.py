#!/usr/bin/env python3
"""What `ct lint` (chart-testing) runs, with the tools that install here (ct itself is a Go binary
that no reachable registry ships). Settings come from ct.yaml:

 1. version bump: when a file under a chart directory (chart-dirs/*; embedded subcharts belong to
    their umbrella) differs from the merge base with the target branch (`<remote>/<target-branch>`
    when it exists, else `<target-branch>`), the chart's version must be greater (semver) than at
    the merge base. Working-tree changes and untracked files count, as with `git diff <merge-base>`;
 2. yamale: every Chart.yaml against `chart-yaml-schema`;
 3. yamllint with `lint-conf` on the chart directories (templates/ excluded), ct.yaml and .github/;
 4. `helm lint` of each chart with every ci/*-values.yaml (default values when there is none), with
    Helm 4 and Helm 3.

    python hack/lint/ct_lint.py [--no-version-check] [--repo DIR] [--helm PATH ...]
Exit code 1 when any check fails.
"""
from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

DEFAULT_ROOT = Path(__file__).resolve().parents[2]

SEMVER = re.compile(r"^v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")


def semver_key(version: str):
    """Sort key with semver precedence (build metadata ignored)."""
    match = SEMVER.match(str(version).strip())
    if not match:
        raise ValueError(f"not a semantic version: {version!r}")
    major, minor, patch, pre = match.groups()
    if pre is None:
        pre_key = (1,)  # a release sorts after all of its pre-releases
    else:
        pre_key = (0, tuple((0, int(p), "") if p.isdigit() else (1, 0, p) for p in pre.split(".")))
    return (int(major), int(minor), int(patch), pre_key)


def semver_greater(new: str, old: str) -> bool:
    return semver_key(new) > semver_key(old)


def git(root: Path, *args: str, check: bool = True) -> str:
    result = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)
    if check and result.returncode != 0:
        raise RuntimeError(f"git {' '.join(args)}: {result.stderr.strip()}")
    return result.stdout if result.returncode == 0 else ""


class Linter:
    def __init__(self, root: Path, helms: list[Path]):
        self.root = root
        self.config = yaml.safe_load((root / "ct.yaml").read_text()) or {}
        self.helms = helms
        self.failures: list[str] = []

    quiet = False

    def report(self, name: str, ok: bool, detail: str = "") -> None:
        if ok and self.quiet:
            return
        print(f"[lint] {'ok  ' if ok else 'FAIL'} {name}", flush=True)
        if detail.strip():
            print("       " + detail.strip().replace("\n", "\n       "), flush=True)
        if not ok:
            self.failures.append(name)

    def charts(self) -> list[Path]:
        found = []
        for chart_dir in self.config.get("chart-dirs", ["charts"]):
            found += sorted(p.parent for p in (self.root / chart_dir).glob("*/Chart.yaml"))
        excluded = set(self.config.get("excluded-charts") or [])
        return [c for c in found if c.name not in excluded]

    # 1 --------------------------------------------------------------- version increment
    def base_ref(self) -> str:
        remote = self.config.get("remote", "origin")
        target = self.config.get("target-branch", "main")
        for ref in (f"{remote}/{target}", target):
            if git(self.root, "rev-parse", "--verify", "-q", f"{ref}^{{commit}}", check=False).strip():
                return ref
        raise RuntimeError(f"neither {remote}/{target} nor {target} exists: cannot check version increments "
                           "(fetch the target branch, or run with --no-version-check)")

    def check_versions(self) -> None:
        try:
            base = self.base_ref()
            merge_base = git(self.root, "merge-base", base, "HEAD").strip()
        except RuntimeError as err:
            self.report("version increment", False, str(err))
            return
        for chart in self.charts():
            rel = chart.relative_to(self.root).as_posix()
            changed = git(self.root, "diff", "--find-renames", "--name-only", merge_base, "--", rel).splitlines()
            changed += git(self.root, "ls-files", "--others", "--exclude-standard", "--", rel).splitlines()
            name = f"version increment {rel} (vs merge base {merge_base[:12]} with {base})"
            if not changed:
                self.report(name, True, "no changes")
                continue
            old_text = git(self.root, "show", f"{merge_base}:{rel}/Chart.yaml", check=False)
            new_version = str(yaml.safe_load((chart / "Chart.yaml").read_text())["version"])
            if not old_text:
                self.report(name, True, f"new chart {new_version}")
                continue
            old_version = str(yaml.safe_load(old_text)["version"])
            try:
                ok = semver_greater(new_version, old_version)
            except ValueError as err:
                self.report(name, False, str(err))
                continue
            files = ", ".join(sorted(set(changed))[:5]) + (" ..." if len(set(changed)) > 5 else "")
            self.report(name, ok, f"version {old_version} -> {new_version}; changed: {files}" if ok else
                        f"chart changed ({files}) but version {new_version} is not greater than {old_version} "
                        f"at the merge base: bump `version` in {rel}/Chart.yaml")

    # 2 --------------------------------------------------------------- Chart.yaml schema
    def check_chart_yaml(self) -> None:
        import yamale

        schema = yamale.make_schema(str(self.root / self.config.get("chart-yaml-schema", "hack/lint/chart_schema.yaml")))
        for path in sorted(p for c in self.charts() for p in c.rglob("Chart.yaml")):
            try:
                yamale.validate(schema, yamale.make_data(str(path)))
                ok, detail = True, ""
            except yamale.YamaleError as err:
                ok, detail = False, "\n".join(str(e) for r in err.results for e in r.errors)
            self.report(f"yamale {path.relative_to(self.root)}", ok, detail)

    # 3 --------------------------------------------------------------- yamllint
    def check_yamllint(self) -> None:
        conf = self.root / self.config.get("lint-conf", "hack/lint/yamllint.yaml")
        targets = [c.relative_to(self.root).as_posix() for c in self.charts()] + ["ct.yaml"]
        if (self.root / ".github").is_dir():
            targets.append(".github")
        result = subprocess.run([sys.executable, "-m", "yamllint", "--strict", "-f", "parsable", "-c", str(conf), *targets],
                                capture_output=True, text=True, cwd=self.root)
        self.report(f"yamllint {' '.join(targets)}", result.returncode == 0, result.stdout + result.stderr)

    # 4 --------------------------------------------------------------- helm lint
    def check_helm_lint(self) -> None:
        extra = (self.config.get("helm-lint-extra-args") or "").split()
        jobs = []
        for chart in self.charts():
            values = sorted((chart / "ci").glob("*-values.yaml")) or [None]
            for helm in self.helms:
                for value in values:
                    jobs.append((helm, chart, value))

        def lint(job):
            helm, chart, value = job
            cmd = [str(helm), "lint", str(chart), *extra] + (["--values", str(value)] if value else [])
            return job, subprocess.run(cmd, capture_output=True, text=True, cwd=self.root)

        with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as pool:
            for (helm, chart, value), result in pool.map(lint, jobs):
                label = value.name if value else "default values"
                self.report(f"{helm.name} lint {chart.relative_to(self.root)} --values {label}",
                            result.returncode == 0,
                            "" if result.returncode == 0 else result.stdout + result.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo", type=Path, default=DEFAULT_ROOT, help="repository root (default: this one)")
    parser.add_argument("--no-version-check", action="store_true",
                        help="skip the version-increment check (the release checks the registry instead)")
    parser.add_argument("--helm", action="append", type=Path,
                        help="Helm binary to lint with (repeatable; default .tools/bin/helm4 and helm3)")
    parser.add_argument("--quiet", action="store_true", help="print failures and the summary only")
    args = parser.parse_args(argv)
    root = args.repo.resolve()
    tools = Path(os.environ.get("TOOLS", root / ".tools"))
    helms = args.helm or [tools / "bin" / "helm4", tools / "bin" / "helm3"]
    linter = Linter(root, helms)
    linter.quiet = args.quiet
    if not args.no_version_check:
        linter.check_versions()
    linter.check_chart_yaml()
    linter.check_yamllint()
    linter.check_helm_lint()
    if linter.failures:
        print(f"[lint] {len(linter.failures)} check(s) failed: " + "; ".join(linter.failures), file=sys.stderr)
        return 1
    print("[lint] all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
