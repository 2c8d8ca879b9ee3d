#!/usr/bin/env python3
"""Benchmark: `helm plugin install` of plugin/ with Helm 4, i.e. its install hook building the plugin's
venv from plugin/requirements.lock: with uv (what the hook does) and with pip only (what it falls
back to where pip cannot install the locked uv wheel; here pip is made to refuse that wheel with a
constraint, exactly as tests/plugin/test_plugin_install.py does).

Each round installs a fresh copy of plugin/ into empty HELM_DATA_HOME/HELM_CONFIG_HOME/
HELM_CACHE_HOME homes; the two ways alternate so that machine load hits both alike. The package
caches (uv's, pip's) are the user's and warm after the first round. Prints the median and min wall
time of each; asserts nothing.

    .tools/venv/bin/python bench/bench_plugin_install.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HELM = REPO / ".tools" / "bin" / "helm4"


def install(pip_only: bool) -> float:
    with tempfile.TemporaryDirectory(prefix="bench-plugin-install-") as tmp:
        root = Path(tmp)
        plugin = root / "flower"
        shutil.copytree(REPO / "plugin", plugin,
                        ignore=shutil.ignore_patterns(".venv", ".venv.*", "__pycache__", "*.pyc"))
        env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
        env.update({"HELM_DATA_HOME": str(root / "data"), "HELM_CONFIG_HOME": str(root / "config"),
                    "HELM_CACHE_HOME": str(root / "cache"), "HELM_PLUGINS": str(root / "data" / "plugins")})
        if pip_only:
            (root / "no-uv.txt").write_text("uv==0.0.0\n")
            env["PIP_CONSTRAINT"] = str(root / "no-uv.txt")
        started = time.monotonic()
        proc = subprocess.run([str(HELM), "plugin", "install", str(plugin)], capture_output=True, text=True,
                              env=env, check=False)
        seconds = time.monotonic() - started
        want = "installed with pip" if pip_only else "installed with uv"
        if proc.returncode != 0 or want not in proc.stdout + proc.stderr:
            raise SystemExit(f"helm plugin install ({'pip' if pip_only else 'uv'}) did not do what was measured:\n"
                             f"{proc.stdout}{proc.stderr}")
        return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {"uv": [], "pip": []}
    for _ in range(args.rounds):
        for way in ("uv", "pip"):
            times[way].append(install(pip_only=way == "pip"))
    print(f"helm4 plugin install ./plugin, fresh homes, {args.rounds} rounds (warm uv/pip caches):")
    for way, label in (("uv", "uv (the hook's way)"), ("pip", "pip only (the fallback)")):
        print(f"  {label:<26} median {statistics.median(times[way]):5.1f} s   min {min(times[way]):5.1f} s")
    print(f"  pip / uv                   {statistics.median(times['pip']) / statistics.median(times['uv']):5.1f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
