"""Every supported Flower release trains: the chart rendered with global.flower.version=<release>,
run as real local processes from that release's own venv (.tools/flwr/<release>, make tools-test)
by the rehearsal (helm flower rehearse --flwr-venv), 3 rounds of flower-apps/digits to central
accuracy >= 0.85. The default release is trained by test_e2e.py (main venv); this covers the others.
"""

from __future__ import annotations

import json
import subprocess
import time
import uuid
from pathlib import Path

import pytest
import yaml
from rehearse_helpers import CHART, DIGITS, FLEET, PYTHON, REPO, cli_env, leftover

pytestmark = [pytest.mark.e2e, pytest.mark.helm]

TABLE = yaml.safe_load((REPO / "schemas" / "flower-versions.yaml").read_text())
OTHER_RELEASES = [m["release"] for m in TABLE["minors"].values() if m["release"] != TABLE["default"]]


@pytest.mark.parametrize("release", OTHER_RELEASES, ids=lambda v: f"flwr{v}")
def test_release_trains_digits_three_rounds(release: str, tmp_path: Path) -> None:
    bin_dir = REPO / ".tools" / "flwr" / release / "bin"
    if not (bin_dir / "flower-superlink").exists():
        pytest.fail(f"no venv for Flower {release} ({bin_dir}): run `make tools-test`", pytrace=False)
    marker = f"test-versions-{uuid.uuid4().hex}"
    start = time.monotonic()
    proc = subprocess.run(
        [str(PYTHON), "-m", "helm_flower.rehearse", str(CHART), "--fleet", str(FLEET), "--app", str(DIGITS),
         "--set", f"global.flower.version={release}", "--flwr-venv", str(bin_dir), "--rounds", "3",
         "--keep-logs", str(tmp_path / "logs"), "-o", "json"],
        env=cli_env(marker), capture_output=True, text=True, timeout=900, check=False,
    )
    seconds = time.monotonic() - start
    assert proc.returncode == 0, proc.stderr[-4000:]
    summary = json.loads(proc.stdout)
    assert summary["ok"] and summary["status"] == "finished:completed", proc.stderr[-4000:]
    assert summary["flwr_version"] == release
    assert summary["rounds_total"] == 3 and summary["rounds_completed"] == 3
    accuracy = summary["accuracy"]
    assert len(accuracy) == 4 and accuracy[-1] >= 0.85 and accuracy[-1] > accuracy[0], accuracy
    # Every Flower process ran from the release's venv, none from the main one.
    roles = sorted(p["role"] for p in summary["processes"])
    assert roles == ["clientapp"] * 3 + ["serverapp", "superlink"] + ["supernode"] * 3
    logs = (tmp_path / "logs" / "commands.txt").read_text()
    assert str(bin_dir / "flower-superlink") in logs and str(REPO / ".tools" / "venv" / "bin" / "flower-") not in logs
    assert leftover(marker) == []
    print(f"Flower {release}: 3 rounds, accuracy {accuracy}, {seconds:.0f} s")
