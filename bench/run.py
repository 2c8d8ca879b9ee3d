#!/usr/bin/env python3
"""Run the benchmarks in bench/ (bench_*.py) one after the other; each prints its own figures.

    bench/run.py                       every benchmark
    bench/run.py suite plugin_install  only these (names without bench_ and .py)
"""
import subprocess
import sys
from pathlib import Path

scripts = sorted(Path(__file__).parent.glob("bench_*.py"))
names = sys.argv[1:]
if names:
    known = {script.stem.removeprefix("bench_"): script for script in scripts}
    unknown = [name for name in names if name not in known]
    if unknown:
        sys.exit(f"unknown benchmark(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    scripts = [known[name] for name in names]

failed = 0
for script in scripts:
    print(f"\n== {script.name}", flush=True)
    failed |= subprocess.run([sys.executable, str(script)]).returncode != 0
sys.exit(1 if failed else 0)
