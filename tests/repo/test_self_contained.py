"""A clone is all a newcomer has: nothing in the project may reach outside the repository for data
(a sibling folder named shared once held the OCM CRDs, and CI passed only because CI had it)."""

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
OUTSIDE = re.compile(r"\.\./shared|parents\[\d\]\s*/\s*[\"']shared[\"']|parent\s*/\s*[\"']shared[\"']")


def tracked_files() -> list[str]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [name for name in out.decode().split("\0") if name]


def test_no_tracked_file_outside_docs_reaches_for_a_sibling_shared_folder():
    files = [f for f in tracked_files() if not f.startswith("docs/")]
    assert len(files) > 100, "git ls-files found too few files: is this a git checkout?"
    offenders = []
    for name in files:
        path = ROOT / name
        if not path.is_file():
            continue
        text = path.read_bytes().decode("utf-8", errors="replace")
        offenders += [f"{name}: {m.group(0)}" for m in OUTSIDE.finditer(text)]
    assert not offenders, f"files that read outside the repository: {offenders}"
