"""Runs inside checkov's own venv (.tools/scan-venv), called by scan.py: checkov's Kubernetes checks
on each directory given, one after another in this one process, printed as one JSON list.

checkov takes about 4 CPU-seconds to start; one process per example spent more on starting than on
checking. Each directory gets a fresh Runner (its own graph), so one example's objects never meet
another's in a graph check: the counts equal those of `checkov -d DIR --framework kubernetes`.
"""
from __future__ import annotations

import json
import sys

from checkov.kubernetes.runner import Runner
from checkov.runner_filter import RunnerFilter


def scan(directory: str) -> dict:
    report = Runner().run(root_folder=directory, runner_filter=RunnerFilter(framework=["kubernetes"]))
    return {
        "directory": directory,
        "passed": len(report.passed_checks),
        "failed": [{"check_id": c.check_id, "resource": c.resource, "check_name": c.check_name}
                   for c in report.failed_checks],
    }


if __name__ == "__main__":
    json.dump([scan(directory) for directory in sys.argv[1:]], sys.stdout)
