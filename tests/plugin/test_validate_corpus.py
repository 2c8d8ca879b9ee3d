"""The corpus of broken values files (tests/plugin/broken-values/): each file's first line is
`# expect: <RULE-ID or $.json.path>`, optionally followed by `# args: <validate flags>`. The
expected finding must be reported, with exit code 2 for unusable input (FLW0xx) and 1 otherwise.
(test_plugin_install.py runs the same corpus through the real helm.)"""

from __future__ import annotations

import contextlib
import io
import json
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

from helm_flower.cli import main
from helm_flower.findings import RULES

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "flower-federation"
CORPUS = Path(__file__).resolve().parent / "broken-values"


@dataclass(frozen=True)
class Case:
    path: Path
    expect: str
    args: tuple[str, ...]

    @property
    def exit_code(self) -> int:
        return 2 if self.expect.startswith("FLW0") else 1

    def matched_by(self, findings: list[dict]) -> bool:
        return any(self.expect in (f["rule"], f["path"]) for f in findings)


def load_corpus() -> list[Case]:
    cases = []
    for path in sorted(CORPUS.glob("*.yaml")):
        head = path.read_bytes().split(b"\n", 3)[:3]
        lines = [line.decode("utf-8", "replace") for line in head]
        assert lines[0].startswith("# expect: "), f"{path.name}: first line must be '# expect: ...'"
        expect = lines[0][len("# expect: "):].strip()
        args = next((shlex.split(line[len("# args: "):]) for line in lines[1:] if line.startswith("# args: ")), [])
        cases.append(Case(path, expect, tuple(args)))
    return cases


CASES = load_corpus()


def test_corpus_is_big_and_covers_the_rules():
    assert len(CASES) >= 25
    rules = {c.expect for c in CASES if c.expect.startswith("FLW")}
    assert all(rule in RULES for rule in rules)
    assert {c.expect for c in CASES if c.expect.startswith("$.")}, "schema paths are covered too"
    assert len(rules) >= 25


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.path.stem)
def test_broken_values_are_reported(case):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", str(CHART), "-f", str(case.path), *case.args, "-o", "json"])
    assert "Traceback" not in err.getvalue()
    findings = json.loads(out.getvalue())["findings"]
    assert case.matched_by(findings), [(f["rule"], f["path"], f["message"]) for f in findings]
    assert code == case.exit_code
