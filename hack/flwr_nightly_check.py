#!/usr/bin/env python3
"""Run the Flower arguments the chart renders through the parsers of another flwr (a venv's python),
print every argument list it rejects; exit 1 if any. Used by hack/flwr-nightly.sh (make flwr-nightly).

    .tools/venv/bin/python hack/flwr_nightly_check.py --python .tools/flwr-nightly/bin/python

Renders the chart's defaults and every ci/*-values.yaml with Helm 4 (tests/charts/cases.py) and asks
the venv's flower-superlink/-supernode/-superexec parsers in one process, one batch
(tests/charts/flwr_cli.py), as tests/charts/test_flwr_args.py does for the supported releases.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "charts"))

import flwr_cli  # noqa: E402
import kube as k  # noqa: E402
import render as r  # noqa: E402
from cases import CASES, render_case  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--python", required=True, help="the python of the venv whose flwr to check")
    parser.add_argument("--helm", default=str(ROOT / ".tools" / "bin" / "helm4"))
    opts = parser.parse_args()
    try:
        cli = flwr_cli.ReleaseFlwrCli("nightly", Path(opts.python))
    except AssertionError as exc:  # flwr did not even import: its parsers cannot be reached
        print(f"BROKEN: {exc}")
        return 1
    print(f"flwr {cli.version} ({opts.python})")
    cases = []
    for case in CASES:
        for pod, c, program in k.flower_containers(r.all_objects(render_case(Path(opts.helm), case))):
            cases.append((case.id, f"{pod.owner} container {c['name']}", program, [str(a) for a in c.get("args") or []]))
    results = cli.batch([["parse", program, args] for _id, _where, program, args in cases])
    broken = [(cid, where, res["error"]) for (cid, where, _p, _a), res in zip(cases, results, strict=True) if "error" in res]
    cli.close()
    for cid, where, error in broken:
        print(f"BROKEN [{cid}] {where}:\n  {error}")
    print(f"{len(cases) - len(broken)}/{len(cases)} rendered Flower argument lists accepted by flwr {cli.version}")
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main())
