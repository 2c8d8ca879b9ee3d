#!/usr/bin/env python3
"""Benchmark: wall time of `helm flower rehearse` next to a plain hand-started federation.

Both run flower-apps/digits for 3 rounds over the same processes on 127.0.0.1: SuperLink,
ServerApp SuperExec, 3 SuperNodes (the 3 clusters the sample fleet places) and 3 ClientApp
SuperExecs, TLS on.
  rehearsal  python -m helm_flower.rehearse charts/flower-federation --fleet examples/fleet.yaml
             --app flower-apps/digits --rounds 3 (render, placement preview, start, run, teardown)
  plain      python tests/apps/local_federation.py flower-apps/digits --nodes 3 --tls (no chart)
Each is timed from outside (process start to exit). Runs alternate (plain, rehearsal, rehearsal,
plain, ...) so that drifting machine load hits both alike. Prints the medians and their ratio
(goal <= 1.15); asserts nothing. Run: make bench, or python bench/bench_rehearse.py [--pairs N].
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = ROOT / ".tools" / "venv" / "bin" / "python"
APP = ROOT / "flower-apps" / "digits"
GOAL = 1.15


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "plugin" / "src"), env.get("PYTHONPATH")]))
    env["PATH"] = os.pathsep.join([str(ROOT / ".tools" / "bin"), str(PY.parent), env.get("PATH", "")])
    env["FLWR_TELEMETRY_ENABLED"] = "0"
    env["FLWR_DISABLE_UPDATE_CHECK"] = "1"
    return env


def run_rehearsal() -> dict:
    cmd = [str(PY), "-m", "helm_flower.rehearse", str(ROOT / "charts" / "flower-federation"),
           "--fleet", str(ROOT / "examples" / "fleet.yaml"), "--app", str(APP), "--rounds", "3", "-o", "json"]
    start = time.monotonic()
    proc = subprocess.run(cmd, env=_env(), cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        data = {}
    timings = data.get("timings", {})
    return {
        "ok": proc.returncode == 0 and data.get("ok", False),
        "wall": wall,
        "startup": timings.get("startup"),
        "run": timings.get("run"),
        "accuracy": (data.get("accuracy") or [None])[-1],
        "error": None if proc.returncode == 0 else proc.stderr.strip().splitlines()[-3:],
    }


def run_plain() -> dict:
    cmd = [str(PY), str(ROOT / "tests" / "apps" / "local_federation.py"), str(APP), "--nodes", "3", "--tls"]
    start = time.monotonic()
    proc = subprocess.run(cmd, env=_env(), cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.monotonic() - start
    try:
        data = json.loads(proc.stdout)
    except ValueError:
        data = {}
    return {
        "ok": proc.returncode == 0 and data.get("finished", False),
        "wall": wall,
        "startup": data.get("startup_seconds"),
        "run": data.get("wall_seconds"),
        "accuracy": (data.get("accuracies") or [None])[-1],
        "error": None if proc.returncode == 0 else proc.stderr.strip().splitlines()[-3:],
    }


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:7.1f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=2, help="plain+rehearsal pairs (default 2)")
    args = parser.parse_args()
    order: list[str] = []
    for i in range(args.pairs):
        order += ["plain", "rehearsal"] if i % 2 == 0 else ["rehearsal", "plain"]
    print(f"bench_rehearse: flower-apps/digits, 3 rounds, 3 SuperNodes + 3 ClientApp SuperExecs, TLS on; "
          f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}", flush=True)
    print(f"{'#':>2}  {'kind':<10} {'wall s':>7} {'start-up s':>10} {'flwr run s':>10}  final accuracy", flush=True)
    results: dict[str, list[dict]] = {"plain": [], "rehearsal": []}
    for i, kind in enumerate(order, 1):
        result = run_plain() if kind == "plain" else run_rehearsal()
        results[kind].append(result)
        acc = "-" if result["accuracy"] is None else f"{result['accuracy']:.4f}"
        status = "" if result["ok"] else f"  FAILED {result['error']}"
        print(f"{i:>2}  {kind:<10} {_fmt(result['wall'])} {_fmt(result['startup']):>10} {_fmt(result['run']):>10}  {acc}{status}",
              flush=True)
    ok = {k: [r["wall"] for r in v if r["ok"]] for k, v in results.items()}
    if not ok["plain"] or not ok["rehearsal"]:
        print("no successful run of one kind: no ratio")
        return 0
    plain, rehearsal = statistics.median(ok["plain"]), statistics.median(ok["rehearsal"])
    ratio = rehearsal / plain
    verdict = "meets" if ratio <= GOAL else "misses"
    print(f"median wall: plain {plain:.1f}s, rehearsal {rehearsal:.1f}s; ratio {ratio:.2f} ({verdict} the goal <= {GOAL}); "
          f"load now {os.getloadavg()[0]:.1f}")
    print("note: the rehearsal runs the chart's configuration (SuperExec auth secrets, SuperNode Runtime API TLS, "
          "file DB), the plain federation only TLS to the SuperLink")
    return 0


if __name__ == "__main__":
    sys.exit(main())
