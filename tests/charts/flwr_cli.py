"""The real argument parsers of the flwr console scripts, for every supported Flower release.

They are found through the console-script entry points (flower-superlink, flower-supernode,
flower-superexec), so the tests follow whatever function the installed binaries run:
flwr.superlink.cli.flower_superlink._parse_args_run_superlink,
flwr.supernode.cli.flower_supernode._parse_args_run_supernode and
flwr.supercore.cli.flower_superexec._parse_args in 1.41.0 and 1.42.0.

Two ways to reach them:

- ``load()``: in-process, the flwr of the running Python (the main venv, .tools/venv).
- ``load_release("1.41.0")``: through that release's own venv, .tools/flwr/<release> (made by
  ``make tools-test`` from plugin/src/helm_flower/flower_locks/flwr-<release>.lock). This file is also the program that runs
  there (``python -I flwr_cli.py --serve``): ONE process per release, which reads JSON batches of
  cases from stdin (one batch per line: ``[["parse", program, [args...]], ["node-config", text],
  ...]``) and answers each batch with one line of JSON results. It imports only the standard
  library and flwr, so the release's venv needs nothing else.

Both return an object with the same ``parse``, ``parse_node_config`` and ``version``.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import importlib.metadata
import inspect
import io
import json
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

PARSER_BUILDERS = {
    "flower-superlink": "_parse_args_run_superlink",
    "flower-supernode": "_parse_args_run_supernode",
    "flower-superexec": "_parse_args",
}

ROOT = Path(__file__).resolve().parents[2]
RELEASE_VENVS = ROOT / ".tools" / "flwr"
# make flwr-nightly sets it to the python of a flwr-nightly venv: the tests then run once more, as
# release "nightly" (an early warning, not a supported release).
NIGHTLY_PYTHON_ENV = "FLWR_NIGHTLY_PYTHON"
NIGHTLY = "nightly"


class ArgsRejected(AssertionError):
    """argparse refused the arguments (it would exit 2); carries argparse's message."""


class NodeConfigRejected(ValueError):
    """flower-supernode's parse_config_args refused a --node-config (a click.ClickException in flwr)."""


@dataclass
class FlwrCli:
    version: str
    builders: dict[str, Callable[[], argparse.ArgumentParser]]
    parse_node_config: Callable[[str], dict]

    def parse(self, program: str, args: list[str]) -> argparse.Namespace:
        parser = self.builders[program]()
        err = io.StringIO()
        with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
            try:
                return parser.parse_args([str(a) for a in args])
            except SystemExit as exc:
                raise ArgsRejected(f"{program} {' '.join(map(str, args))}\n  -> exit {exc.code}: {err.getvalue().strip()}") from None


def load() -> FlwrCli:
    os.environ.setdefault("FLWR_TELEMETRY_ENABLED", "0")
    os.environ.setdefault("FLWR_DISABLE_UPDATE_CHECK", "1")
    scripts = {ep.name: ep for ep in importlib.metadata.entry_points(group="console_scripts")}
    builders = {}
    modules = {}
    for program, builder_name in PARSER_BUILDERS.items():
        if program not in scripts:
            raise AssertionError(f"flwr installs no console script {program}")
        module = inspect.getmodule(scripts[program].load())
        builder = getattr(module, builder_name, None)
        if builder is None:
            raise AssertionError(f"{module.__name__} has no {builder_name}: the flwr CLI changed, update tests/charts/flwr_cli.py")
        builders[program] = builder
        modules[program] = module
    # flower-supernode turns --node-config into context.node_config with this function.
    parse_config_args = getattr(modules["flower-supernode"], "parse_config_args")
    return FlwrCli(_installed_flwr_version(), builders, lambda s: parse_config_args([s]))


def _installed_flwr_version() -> str:
    """flwr's version; the nightly builds install the same package under the name flwr-nightly."""
    for dist in ("flwr", "flwr-nightly"):
        try:
            return importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    raise AssertionError("neither flwr nor flwr-nightly is installed")


# ----------------------------------------------------------------------------- one venv per release


def release_python(release: str) -> Path:
    if release == NIGHTLY:
        return Path(os.environ[NIGHTLY_PYTHON_ENV])
    return RELEASE_VENVS / release / "bin" / "python"


class MissingReleaseVenv(AssertionError):
    pass


class ReleaseFlwrCli:
    """The parsers of flwr ``release``, in its venv: one long-lived process, batches over a pipe."""

    def __init__(self, release: str, python: Path | None = None) -> None:
        self.release = release
        python = python or release_python(release)
        if not python.exists():
            raise MissingReleaseVenv(
                f"no venv for Flower {release}: {python} is missing; run `make tools-test` "
                f"(hack/install-tools.sh flwr-versions makes .tools/flwr/<release> from plugin/src/helm_flower/flower_locks/flwr-<release>.lock)")
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env.update(FLWR_TELEMETRY_ENABLED="0", FLWR_DISABLE_UPDATE_CHECK="1", PYTHONDONTWRITEBYTECODE="1")
        # -I: isolated (no script directory, PYTHONPATH or user site on sys.path): only the venv's packages.
        self._proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [str(python), "-I", str(Path(__file__).resolve()), "--serve"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        self._lock = threading.Lock()
        self._cache: dict[str, dict] = {}
        hello = self._read()
        self.version = hello["version"]

    def _read(self) -> dict | list:
        line = self._proc.stdout.readline()  # type: ignore[union-attr]
        if not line:
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
            err = self._proc.stderr.read()  # type: ignore[union-attr]
            raise AssertionError(f"the flwr {self.release} parser process ended (exit {self._proc.poll()}):\n{err[-3000:]}")
        return json.loads(line)

    def batch(self, cases: list[list]) -> list[dict]:
        """Results of many cases in one exchange (cached: a case asked twice is answered once)."""
        keys = [json.dumps(c) for c in cases]
        todo = list(dict.fromkeys(k for k in keys if k not in self._cache))
        if todo:
            with self._lock:
                self._proc.stdin.write(json.dumps([json.loads(k) for k in todo]) + "\n")  # type: ignore[union-attr]
                self._proc.stdin.flush()  # type: ignore[union-attr]
                results = self._read()
            self._cache.update(zip(todo, results, strict=True))
        return [self._cache[k] for k in keys]

    def parse(self, program: str, args: list[str]) -> argparse.Namespace:
        (res,) = self.batch([["parse", program, [str(a) for a in args]]])
        if "error" in res:
            raise ArgsRejected(res["error"])
        return argparse.Namespace(**res["namespace"])

    def parse_node_config(self, text: str) -> dict:
        (res,) = self.batch([["node-config", text]])
        if "error" in res:
            raise NodeConfigRejected(res["error"])
        return res["config"]

    def close(self) -> None:
        if self._proc.poll() is None:
            self._proc.stdin.close()  # type: ignore[union-attr]
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()


_RELEASES: dict[str, ReleaseFlwrCli] = {}


def load_release(release: str) -> ReleaseFlwrCli:
    """The release's parser process, started once per Python process and ended when it exits
    (pytest re-creates a parametrized session fixture whenever the parameter changes; this keeps
    a re-created fixture from starting flwr again)."""
    if release not in _RELEASES:
        _RELEASES[release] = ReleaseFlwrCli(release)
        atexit.register(_RELEASES[release].close)
    return _RELEASES[release]


def supported_releases() -> list[str]:
    """The releases of schemas/flower-versions.yaml, newest first (the default first of all)."""
    import yaml

    table = yaml.safe_load((ROOT / "schemas" / "flower-versions.yaml").read_text())
    releases = [m["release"] for m in table["minors"].values()]
    return sorted(releases, key=lambda r: r != table["default"])


def releases_under_test() -> list[str]:
    """The supported releases, and "nightly" when make flwr-nightly asks for it."""
    return supported_releases() + ([NIGHTLY] if os.environ.get(NIGHTLY_PYTHON_ENV) else [])


def default_release() -> str:
    import yaml

    return yaml.safe_load((ROOT / "schemas" / "flower-versions.yaml").read_text())["default"]


# ----------------------------------------------------------------------------- the server side


def _answer(cli: FlwrCli, case: list) -> dict:
    op = case[0]
    if op == "parse":
        try:
            ns = cli.parse(case[1], case[2])
        except ArgsRejected as exc:
            return {"error": str(exc)}
        return {"namespace": json.loads(json.dumps(vars(ns), default=str))}
    if op == "node-config":
        try:
            return {"config": cli.parse_node_config(case[1])}
        except Exception as exc:  # click.ClickException, ValueError  # pylint: disable=broad-except
            return {"error": f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"}
    return {"error": f"unknown operation {op!r}"}


def serve() -> None:
    import warnings

    out = sys.stdout  # the answers; whatever flwr itself prints goes nowhere
    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore", DeprecationWarning)  # click/typer noise while flwr imports
        cli = load()
    out.write(json.dumps({"version": cli.version}) + "\n")
    out.flush()
    for line in sys.stdin:
        if line.strip():
            with contextlib.redirect_stdout(io.StringIO()):
                answers = [_answer(cli, case) for case in json.loads(line)]
            out.write(json.dumps(answers, default=str) + "\n")
            out.flush()


if __name__ == "__main__":
    if sys.argv[1:] == ["--serve"]:
        serve()
    else:
        sys.exit("usage: python -I flwr_cli.py --serve  (JSON batches of cases on stdin, one per line)")
