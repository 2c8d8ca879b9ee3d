#!/usr/bin/env python3
"""Benchmark report: the last mutation score of each module `make mutation` tested (hack/mutation/run.py
writes .tools/mutation/result.json; this runs nothing). Triaged survivors: hack/mutation/survivors.md.

    .tools/venv/bin/python bench/bench_mutation.py
"""

from __future__ import annotations

import json
from pathlib import Path

RESULT = Path(__file__).resolve().parents[1] / ".tools" / "mutation" / "result.json"


def main() -> None:
    if not RESULT.is_file():
        print(f"no mutation run yet ({RESULT.name} missing): make mutation")
        return
    modules = json.loads(RESULT.read_text(encoding="utf-8"))["modules"]
    print(f"{'module':<20}{'mutants':>8}{'killed':>8}{'survived':>9}{'no tests':>9}{'score':>8}  finished (run s)")
    total = killed = 0
    for name, r in sorted(modules.items()):
        total, killed = total + r["mutants"], killed + r["killed"]
        print(f"{name:<20}{r['mutants']:>8}{r['killed']:>8}{len(r['survived']):>9}{len(r['no_tests']):>9}"
              f"{100 * r['killed'] / max(r['mutants'], 1):>7.1f}%  {r['finished']} ({r['run_seconds']})"
              + (f" PARTIAL: {r['not_checked']} not checked" if r.get("not_checked") else ""))
    print(f"{'all listed':<20}{total:>8}{killed:>8}{'':>18}{100 * killed / max(total, 1):>7.1f}%")


if __name__ == "__main__":
    main()
