#!/usr/bin/env python3
"""make mutation: mutmut over the plugin modules that decide things, in a scratch copy of the repository.

    hack/mutation/run.py [MODULE ...] [--workers N] [--keep]

MODULE is a key of MODULES (default: all of them). The repository is copied to a temporary directory
(this checkout's files are never touched); mutmut mutates the chosen modules there and runs, for each
mutant, only the fast unit tests of TESTS that reached the mutated function. It prints the score of each
module and overall and every surviving mutant's diff, and merges the scores into RESULT (bench/
bench_mutation.py reports them). Triaged survivors: hack/mutation/survivors.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "plugin" / "src" / "helm_flower"
RESULT = REPO / ".tools" / "mutation" / "result.json"
MUTMUT = Path(sys.executable).parent / "mutmut"

MODULES = {
    "rules": "rules.py",
    "strvals": "strvals.py",
    "values": "values.py",
    "placement_preview": "placement_preview.py",
    "nodeconfig": "nodeconfig.py",
    "hub.model": "hub/model.py",
    "hub.release": "hub/release.py",
}

# In-process unit tests of those modules: no helm binary, no Flower process, seconds in all. The
# hub tests serve their objects from the in-process fake Kubernetes API (tests/hub/fakehub.py).
TESTS = [
    "tests/plugin/test_validate_rules.py",
    "tests/plugin/test_validate_values.py",
    "tests/plugin/test_set_limits.py",
    "tests/plugin/test_nodeconfig.py",
    "tests/plugin/test_strvals.py",
    "tests/plugin/test_values_model.py",
    "tests/plugin/test_placement_preview.py",
    "tests/plugin/test_validate_corpus.py",
    "tests/plugin/test_validate_official_images.py",
    "tests/hub/test_hub_model.py",
    "tests/hub/test_hub_release_summary.py",
    "tests/hub/test_hub_status.py",
    "tests/hub/test_hub_nothing_chosen.py",
    "tests/hub/test_hub_version_skew.py",
    "tests/hub/test_hub_partitions.py",
    "tests/hub/test_hub_wait.py",
]
# Left out per mutant: the random-input "never crashes" fuzzers (seconds each, they assert no
# traceback, not a decision) and the 10,000-cluster and time-out tests (seconds of setup or waiting).
DESELECT = ("not helm and not e2e")
KEYWORDS = ("not never_crash and not big_fleet and not times_out and not does_not_stop")

# mutmut's exit codes (mutmut.stats.status_by_exit_code) grouped for the score.
KILLED = {1, 3, 36, -24, 24, 152, 255, 37}  # a failing test, a time-out, the type check
SURVIVED = {0}
NO_TESTS = {5, 33}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("modules", nargs="*", metavar="MODULE",
                        help=f"modules to mutate (default: all): {', '.join(MODULES)}")
    parser.add_argument("--workers", type=int, default=int(os.environ.get("MUTATION_WORKERS", "2")),
                        help="mutants tested at once (default 2, env MUTATION_WORKERS)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory and print its path")
    parser.add_argument("--minutes", type=float, default=float(os.environ.get("MUTATION_MINUTES", "0")) or None,
                        help="stop after this many minutes and score the mutants checked so far "
                             "(env MUTATION_MINUTES; default: no limit)")
    args = parser.parse_args(argv)
    unknown = [m for m in args.modules if m not in MODULES]
    if unknown:
        parser.error(f"unknown module(s) {', '.join(unknown)}; known: {', '.join(MODULES)}")
    if args.workers < 1:
        parser.error("--workers must be at least 1")
    args.modules = args.modules or list(MODULES)
    return args


# Not copied: tools and caches (the copy links to .tools), history, and the package, which mutmut copies.
_SKIPPED_AT_ROOT = {".git", ".tools", ".bench", "dist"}
_SKIPPED_ANYWHERE = {"__pycache__", ".hypothesis", ".pytest_cache", ".venv"}


def _not_copied(folder: str, names: list[str]) -> set[str]:
    here = Path(folder)
    skipped = {n for n in names if n in _SKIPPED_ANYWHERE}
    if here == REPO:
        skipped |= _SKIPPED_AT_ROOT & set(names)
    if here == PACKAGE.parent:
        skipped.add(PACKAGE.name)
    return skipped


def prepare(scratch: Path, modules: list[str]) -> None:
    """scratch/src/helm_flower: the sources mutmut reads; scratch/mutants: the repository the tests run in.

    mutmut imports the mutated package from mutants/src (one of the source roots it knows), so that
    is a link to mutants/plugin/src: the package keeps its place in the repository layout, where the
    tests and the plugin's own path lookups expect it."""
    shutil.copytree(PACKAGE, scratch / "src" / "helm_flower", ignore=shutil.ignore_patterns("__pycache__"))
    mutants = scratch / "mutants"
    shutil.copytree(REPO, mutants, symlinks=True, ignore=_not_copied)
    (mutants / ".tools").symlink_to(REPO / ".tools")  # helm binaries and CRDs, read only
    (mutants / "src").symlink_to("plugin/src")
    only = "\n".join(f"    src/helm_flower/{MODULES[m]}" for m in modules)
    tests = "\n".join(f"    {t}" for t in TESTS)
    (scratch / "setup.cfg").write_text(f"""[mutmut]
source_paths = src/helm_flower
only_mutate =
{only}
pytest_add_cli_args_test_selection =
{tests}
pytest_add_cli_args =
    -p
    no:xdist
    -m
    {DESELECT}
    -k
    {KEYWORDS}
use_git_change_detection = false
""", encoding="utf-8")


def run_mutmut(scratch: Path, workers: int, minutes: float | None) -> int:
    """mutmut in its own process group, stopped (SIGINT, then SIGKILL) after ``minutes``."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}  # this checkout's package must not load
    env.update(FLWR_TELEMETRY_ENABLED="0", FLWR_DISABLE_UPDATE_CHECK="1")
    proc = subprocess.Popen([str(MUTMUT), "run", "--max-children", str(workers)], cwd=scratch, env=env,
                            start_new_session=True)
    try:
        return proc.wait(timeout=minutes * 60 if minutes else None)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        print(f"\n[mutation] stopping mutmut (time limit of {minutes} min or Ctrl-C)", flush=True)
        _stop_group(proc)
        return 130


def _stop_group(proc: subprocess.Popen) -> None:
    for sig, grace in ((signal.SIGINT, 30), (signal.SIGKILL, 10)):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=grace)
            return


def _meta(scratch: Path, module: str) -> Path:
    """mutmut's record of a module's mutants and their exit codes (None: not checked yet)."""
    return scratch / "mutants" / "src" / "helm_flower" / (MODULES[module] + ".meta")


def collect(scratch: Path, modules: list[str]) -> dict[str, dict]:
    """Per module: counts, and the names of the surviving and untested mutants."""
    results = {}
    for module in modules:
        codes = json.loads(_meta(scratch, module).read_text(encoding="utf-8"))["exit_code_by_key"]
        survived = sorted(k for k, c in codes.items() if c in SURVIVED)
        no_tests = sorted(k for k, c in codes.items() if c in NO_TESTS)
        killed = sum(1 for c in codes.values() if c in KILLED)
        not_checked = sum(1 for c in codes.values() if c is None)  # an interrupted run
        other = sorted(f"{k} (exit {c})" for k, c in codes.items()
                       if c is not None and c not in KILLED | SURVIVED | NO_TESTS)
        results[module] = {"mutants": len(codes) - not_checked, "killed": killed, "survived": survived,
                           "no_tests": no_tests, "other": other, "not_checked": not_checked}
    return results


def score(killed: int, mutants: int) -> str:
    return f"{100 * killed / mutants:.1f}%" if mutants else "n/a"


def diffs(scratch: Path, names: list[str]) -> dict[str, str]:
    """mutmut's diff of each mutant (mutmut reads its config from the current directory)."""
    if not names:
        return {}
    os.chdir(scratch)
    from mutmut.__main__ import find_mutant, get_diff_for_mutant
    return {name: get_diff_for_mutant(name, path=find_mutant(name).path) for name in names}


def report(results: dict[str, dict], scratch: Path) -> None:
    undetected = [n for r in results.values() for n in r["survived"] + r["no_tests"]]
    for name, diff in diffs(scratch, undetected).items():
        print(f"\n# {name}\n{diff}")
    print(f"\n{'module':<20}{'mutants':>8}{'killed':>8}{'survived':>9}{'no tests':>9}{'other':>7}{'score':>8}")
    for module, r in results.items():
        print(f"{module:<20}{r['mutants']:>8}{r['killed']:>8}{len(r['survived']):>9}{len(r['no_tests']):>9}"
              f"{len(r['other']):>7}{score(r['killed'], r['mutants']):>8}")
    for module, r in results.items():
        if r["not_checked"]:
            print(f"  {module}: PARTIAL, {r['not_checked']} mutants not checked (the score is of the checked ones)")
        for line in r["other"]:
            print(f"  {module}: neither killed nor survived: {line}")


def save(results: dict[str, dict], seconds: float, workers: int) -> None:
    """Merge into RESULT: a run of some modules keeps the others' last scores."""
    saved = json.loads(RESULT.read_text(encoding="utf-8")) if RESULT.is_file() else {"modules": {}}
    stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    for module, r in results.items():
        if r["mutants"]:  # a run stopped before its first mutant keeps the last score
            saved["modules"][module] = {**r, "finished": stamp, "run_seconds": round(seconds), "workers": workers}
    RESULT.parent.mkdir(parents=True, exist_ok=True)
    RESULT.write_text(json.dumps(saved, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    if not MUTMUT.is_file():
        sys.exit(f"mutmut not found at {MUTMUT}: run make tools-test (hack/requirements-test.lock pins it)")
    scratch = Path(tempfile.mkdtemp(prefix="flower-mutation-"))
    start = time.monotonic()
    try:
        prepare(scratch, args.modules)
        print(f"[mutation] {', '.join(args.modules)} in {scratch} with {args.workers} worker(s)", flush=True)
        status = run_mutmut(scratch, args.workers, args.minutes)  # a stopped run still scores what it checked
        seconds = time.monotonic() - start
        if status != 0 and not all(_meta(scratch, m).is_file() for m in args.modules):
            print("[mutation] mutmut failed before testing mutants (see above); no score recorded", file=sys.stderr)
            return 1
        results = collect(scratch, args.modules)
        report(results, scratch)
        save(results, seconds, args.workers)
        print(f"[mutation] {round(seconds)} s; scores saved to {RESULT.relative_to(REPO)}")
        return 0 if status == 0 else 1
    finally:
        if args.keep:
            print(f"[mutation] scratch copy kept: {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
