#!/usr/bin/env python3
"""Benchmark: `helm template` of the umbrella chart at fleet scale, with both Helm versions.

Scenarios (each next to the same file ten times smaller, to show growth):
  placements  N placements, each with its own ClientApp
  manual      Manual install with N clusters, each with its own node-config
Prints median wall times; asserts nothing. Run: make bench (or python bench/bench_render.py).
"""
from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CHART = ROOT / "charts" / "flower-federation"
HELMS = {"4.1.4": ROOT / ".tools/bin/helm4", "3.17.3": ROOT / ".tools/bin/helm3"}
RUNS = 3


def placements_values(count: int) -> dict:
    placements = [
        {
            "name": f"p{i:03d}",
            "clusterSets": ["default"],
            "predicates": [{"requiredClusterSelector": {"labelSelector": {"matchLabels": {"site": f"s{i}"}}}}],
            "numberOfClusters": 5,
            "supernode": {"nodeConfig": {"placement": i}},
        }
        for i in range(count)
    ]
    apps = [{"name": f"app{i:03d}", "placements": [f"p{i:03d}"]} for i in range(count)]
    return {"hubAddon": {"placements": placements}, "clientApp": {"apps": apps}}


def manual_values(count: int) -> dict:
    clusters = [
        {"name": f"cluster-{i:04d}", "nodeConfig": {"partition-id": i, "num-partitions": count}}
        for i in range(count)
    ]
    return {
        "hubAddon": {"installStrategy": "Manual", "placements": [], "clusters": clusters},
        "clientApp": {"apps": [{"name": "digits", "placements": []}]},
    }


def time_render(helm: Path, values_file: Path) -> tuple[float, int]:
    times, objects = [], 0
    for _ in range(RUNS):
        start = time.perf_counter()
        out = subprocess.run(
            [str(helm), "template", "bench", str(CHART), "-n", "bench", "-f", str(values_file)],
            check=True, capture_output=True, text=True,
        ).stdout
        times.append(time.perf_counter() - start)
        objects = out.count("\nkind: ")
    return statistics.median(times), objects


def main() -> None:
    scenarios = [
        ("placements", 10, placements_values(10)),
        ("placements", 100, placements_values(100)),
        ("manual", 100, manual_values(100)),
        ("manual", 1000, manual_values(1000)),
    ]
    print(f"{'helm':<8} {'scenario':<11} {'size':>5} {'objects':>8} {'median s':>9} {'vs 10x smaller':>15}")
    with tempfile.TemporaryDirectory() as tmp:
        for version, helm in HELMS.items():
            previous = {}
            for name, size, values in scenarios:
                path = Path(tmp) / f"{name}-{size}.yaml"
                path.write_text(yaml.safe_dump(values))
                seconds, objects = time_render(helm, path)
                ratio = f"x{seconds / previous[name]:.2f}" if name in previous else ""
                previous[name] = seconds
                print(f"{version:<8} {name:<11} {size:>5} {objects:>8} {seconds:>9.3f} {ratio:>15}")
    print("goal: each under 2 s; growth no worse than linear (x10 size -> at most x10 time)")


if __name__ == "__main__":
    main()
