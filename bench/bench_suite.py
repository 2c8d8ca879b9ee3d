#!/usr/bin/env python3
"""Benchmark: the test suite's own figures (issue 13: a newcomer's clone passes `make test`, and the
suite gives its answer in under 6 minutes).

  warm   `make test` in this checkout, with every tool already installed: wall time, the pytest
         summary (tests passed/failed/...) and the number of xdist workers it used.
  cold   the tools `make test` installs first (`make tools-test`), in a fresh `git clone` of this
         checkout's HEAD into a temporary directory: an empty .tools/, so Helm, both venvs (runtime
         and test packages, checkov), the OCM CRDs and the other Go tools are installed from
         scratch. Not cold: the package managers' own caches (npm, uv, pip, Go's module and build
         caches) may be warm, and Debian packages already on the machine are kept; with all of
         them cold, the Go builds alone take far longer (see hack/install-go-tools.sh).

Prints figures; asserts nothing (a failing suite is reported, not hidden).

    .tools/venv/bin/python bench/bench_suite.py [--skip-warm] [--skip-cold] [--workers N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SUMMARY = re.compile(r"^=*\s*(?P<body>\d+ (passed|failed|errors?|skipped|deselected)\b.*?) in [\d.]+s", re.M)


def clean_env() -> dict[str, str]:
    """The caller's environment without what `make` itself exports (a nested make recomputes it)."""
    return {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "PYTHONPATH")}


def warm(workers: str | None) -> int:
    print("warm `make test` (tools installed; every test, real Flower federations included) ...", flush=True)
    command = ["make", "--no-print-directory", "-C", str(REPO), "test"]
    if workers:
        command.append(f"TEST_WORKERS={workers}")
    used = subprocess.run(["make", "--no-print-directory", "-s", "-C", str(REPO), "-n", "test", *command[5:]],
                          capture_output=True, text=True, env=clean_env(), check=False).stdout
    started = time.monotonic()
    proc = subprocess.run(command, capture_output=True, text=True, env=clean_env(), check=False)
    seconds = time.monotonic() - started
    match = SUMMARY.search(proc.stdout)
    summary = match.group("body") if match else "no pytest summary (see below)"
    n = re.search(r" -n (\S+)", used)
    print(f"  make test: {seconds:6.1f} s wall ({seconds / 60:.1f} min), exit {proc.returncode}, "
          f"{n.group(1) if n else '?'} xdist workers on {os.cpu_count()} cores: {summary}")
    if proc.returncode != 0:
        failed = [line for line in proc.stdout.splitlines() if line.startswith(("FAILED ", "ERROR "))]
        print("\n".join(f"    {line}" for line in failed[:30]) or proc.stdout[-3000:] + proc.stderr[-2000:])
    return 0


def step(name: str, command: list[str], cwd: Path) -> float | None:
    started = time.monotonic()
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=clean_env(), check=False)
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        print(f"  {name:<44} FAILED after {seconds:.1f} s (exit {proc.returncode}):\n"
              f"{proc.stdout[-2000:]}{proc.stderr[-3000:]}")
        return None
    print(f"  {name:<44} {seconds:6.1f} s", flush=True)
    return seconds


def recipe_lines(clone: Path) -> list[str]:
    """The commands of `make tools-test` in the clone (the Makefile's own recipe, as committed)."""
    out = subprocess.run(["make", "--no-print-directory", "-n", "-C", str(clone), "tools-test"],
                         capture_output=True, text=True, env=clean_env(), check=True).stdout
    return [line.strip() for line in out.splitlines() if line.strip().startswith("bash ")]


def cold() -> int:
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True, check=True).stdout.strip()
    print(f"cold tool install: `make tools-test` in a fresh clone of HEAD ({head}), empty .tools/ "
          "(npm/uv/pip/Go caches may be warm) ...", flush=True)
    work = Path(tempfile.mkdtemp(prefix="flower-ocm-cold-"))
    try:
        clone = work / "flower-ocm"
        subprocess.run(["git", "clone", "--quiet", str(REPO), str(clone)], check=True)
        total = 0.0
        for line in recipe_lines(clone):
            seconds = step(line, ["bash", "-c", line], clone)
            if seconds is None:
                return 1
            total += seconds
        again = step("again (everything installed: idempotent)", ["make", "--no-print-directory", "tools-test"], clone)
        print(f"  {'total (cold)':<44} {total:6.1f} s ({total / 60:.1f} min)")
        return 0 if again is not None else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-warm", action="store_true", help="do not run `make test`")
    parser.add_argument("--skip-cold", action="store_true", help="do not time the tool install in a fresh clone")
    parser.add_argument("--workers", help="TEST_WORKERS for `make test` (default: the Makefile's)")
    args = parser.parse_args()
    status = 0
    if not args.skip_cold:
        status |= cold()
    if not args.skip_warm:
        status |= warm(args.workers)
    return status


if __name__ == "__main__":
    sys.exit(main())
