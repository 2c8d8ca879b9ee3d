#!/usr/bin/env python3
"""Benchmark: `helm flower validate` on the chart's default values vs. `helm lint` of the same
chart, both through the same helm (goal: validate / lint <= 1.0).

The plugin is installed from plugin/ into an isolated helm home under .bench/ (the install hook
builds plugin/.venv once; later runs find it up to date). For each helm, the rounds interleave
the two commands so that machine load hits both alike; it prints the median (n=7) and min of
each and the ratio, plus `helm flower --help` and bare `helm version` for scale. Prints; asserts
nothing.

    .tools/venv/bin/python bench/bench_validate.py [--rounds 7] [--helm 4 --helm 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHART = REPO / "charts" / "flower-federation"
HELMS = {"4": REPO / ".tools" / "bin" / "helm4", "3": REPO / ".tools" / "bin" / "helm3"}


def helm_env(version: str) -> dict[str, str]:
    home = REPO / ".bench" / f"helm{version}-validate"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
    env.update({"HELM_DATA_HOME": str(home / "data"), "HELM_CONFIG_HOME": str(home / "config"),
                "HELM_CACHE_HOME": str(home / "cache"), "HELM_PLUGINS": str(home / "data" / "plugins")})
    return env


def ensure_plugin(version: str, env: dict[str, str]) -> None:
    helm = str(HELMS[version])
    listed = subprocess.run([helm, "plugin", "list"], capture_output=True, text=True, env=env, check=False)
    if any(line.split()[:1] == ["flower"] for line in listed.stdout.splitlines()[1:]):
        return
    print(f"installing the plugin into helm{version} (first run builds plugin/.venv) ...", flush=True)
    started = time.monotonic()
    proc = subprocess.run([helm, "plugin", "install", str(REPO / "plugin")], capture_output=True, text=True,
                          env=env, check=False)
    if proc.returncode != 0:
        raise SystemExit(f"helm{version} plugin install failed:\n{proc.stdout}{proc.stderr}")
    print(f"  installed in {time.monotonic() - started:.1f} s", flush=True)


def timed(command: list[str], env: dict[str, str], expect: tuple[int, ...]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=env, cwd=REPO, check=False)
    elapsed = time.perf_counter() - started
    if proc.returncode not in expect:
        raise SystemExit(f"{' '.join(command)} exited {proc.returncode}:\n{proc.stdout}{proc.stderr}")
    return elapsed


def bench(version: str, rounds: int) -> None:
    env = helm_env(version)
    ensure_plugin(version, env)
    helm = str(HELMS[version])
    commands = {
        "helm flower validate": ([helm, "flower", "validate", str(CHART)], (0,)),
        "helm lint": ([helm, "lint", str(CHART)], (0,)),
        "helm flower --help": ([helm, "flower", "--help"], (0,)),
        "helm version": ([helm, "version", "--short"], (0,)),
    }
    for command, expect in commands.values():  # warm caches (bytecode, page cache)
        timed(command, env, expect)
    times: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(rounds):
        for name, (command, expect) in commands.items():
            times[name].append(timed(command, env, expect))
    version_line = subprocess.run([helm, "version", "--short"], capture_output=True, text=True).stdout.strip()
    print(f"\nhelm {version_line} (n={rounds}, median / min)")
    for name, values in times.items():
        print(f"  {name:<22} {statistics.median(values) * 1000:7.0f} ms / {min(values) * 1000:5.0f} ms")
    ratio = statistics.median(times["helm flower validate"]) / statistics.median(times["helm lint"])
    print(f"  ratio validate / lint  {ratio:7.2f}  (goal <= 1.0)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--helm", action="append", choices=sorted(HELMS), default=None)
    args = parser.parse_args()
    for version in args.helm or ["4", "3"]:
        if not HELMS[version].is_file():
            print(f"skipping helm{version}: {HELMS[version]} missing (make tools)")
            continue
        bench(version, args.rounds)
    print(f"\nload average: {' '.join(f'{x:.1f}' for x in os.getloadavg())} on {os.cpu_count()} CPUs")
    return 0


if __name__ == "__main__":
    sys.exit(main())
