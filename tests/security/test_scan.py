"""`make scan`: checkov on every rendered example, embedded pod specs included, passes with only
the reviewed exceptions."""
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHECKOV = ROOT / ".tools" / "scan-venv" / "bin" / "checkov"

pytestmark = pytest.mark.helm


def test_every_exception_has_a_one_line_reason():
    entries = yaml.safe_load((ROOT / "hack" / "scan" / "exceptions.yaml").read_text())
    assert entries, "the exceptions file is empty: then this test should assert that instead"
    for entry in entries:
        assert set(entry) <= {"check", "reason", "values", "resource"} and {"check", "reason"} <= set(entry)
        assert entry["reason"].strip() and "\n" not in entry["reason"].strip()


@pytest.mark.slow
def test_scan_passes_on_every_example():
    assert CHECKOV.exists(), "checkov is missing: run `make tools`"
    result = subprocess.run(
        [sys.executable, str(ROOT / "hack" / "scan" / "scan.py"), "--checkov", str(CHECKOV)],
        capture_output=True, text=True,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "(defaults)" in result.stdout
