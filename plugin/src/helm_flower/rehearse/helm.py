"""Render a chart with the real ``helm template``.

The binary is ``$HELM_BIN`` (Helm sets it for plugins), else ``helm`` on ``PATH``, else
``.tools/bin/helm`` of this repository (found by walking up from this file).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from .errors import Refusal, RehearsalError

DEFAULT_CHART = Path("charts") / "flower-federation"


@dataclass(frozen=True)
class ValueArgs:
    """Helm's value flags, each list in command-line order."""

    files: tuple[str, ...] = ()
    sets: tuple[str, ...] = ()
    set_strings: tuple[str, ...] = ()
    set_files: tuple[str, ...] = ()
    set_jsons: tuple[str, ...] = ()

    def helm_args(self) -> list[str]:
        args: list[str] = []
        for flag, values in (
            ("--values", self.files),
            ("--set-json", self.set_jsons),
            ("--set", self.sets),
            ("--set-string", self.set_strings),
            ("--set-file", self.set_files),
        ):
            for value in values:
                args += [flag, value]
        return args


@dataclass
class Render:
    """The objects of one ``helm template`` run."""

    objects: list[dict[str, Any]]
    command: list[str]
    helm: str
    seconds: float = 0.0
    manifest: str = field(default="", repr=False)


def find_helm(env: dict[str, str] | None = None) -> str:
    env = dict(os.environ if env is None else env)
    if env.get("HELM_BIN"):
        return env["HELM_BIN"]
    found = shutil.which("helm", path=env.get("PATH"))
    if found:
        return found
    for parent in Path(__file__).resolve().parents:
        candidate = parent / ".tools" / "bin" / "helm"
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise Refusal("helm not found: set HELM_BIN, put helm on PATH, or run `make tools`", component="helm")


def default_chart(cwd: Path | None = None) -> Path:
    """``charts/flower-federation`` below the working directory or this repository."""
    starts = [Path.cwd() if cwd is None else cwd, *Path(__file__).resolve().parents]
    for base in starts:
        candidate = base / DEFAULT_CHART
        if (candidate / "Chart.yaml").is_file():
            return candidate
    raise Refusal("no CHART given and no charts/flower-federation found", component="helm")


def render(
    chart: str | os.PathLike[str],
    *,
    release: str,
    namespace: str,
    values: ValueArgs = ValueArgs(),
    helm: str | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 120.0,
) -> Render:
    """Run ``helm template`` and parse every document; raise RehearsalError with helm's stderr."""
    import time  # pylint: disable=import-outside-toplevel

    helm = helm or find_helm()
    command = [
        helm,
        "template",
        release,
        str(chart),
        "--namespace",
        namespace,
        *values.helm_args(),
        *extra_args,
    ]
    start = time.monotonic()
    try:
        proc = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, check=False,
            stdin=None if "-" in values.files else subprocess.DEVNULL,  # -f - reads stdin, as helm does
        )
    except FileNotFoundError:
        raise Refusal(f"cannot run {helm!r}: not found", component="helm template") from None
    except subprocess.TimeoutExpired:
        raise RehearsalError(f"helm template did not finish within {timeout:.0f}s", component="helm template") from None
    if proc.returncode != 0:
        raise RehearsalError(
            f"helm template failed (exit {proc.returncode})",
            component="helm template",
            log_tail=_tail(proc.stderr or proc.stdout),
        )
    objects = parse_manifest(proc.stdout)
    return Render(objects, command, helm, time.monotonic() - start, proc.stdout)


def parse_manifest(text: str) -> list[dict[str, Any]]:
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [doc for doc in yaml.load_all(text, Loader=loader) if isinstance(doc, dict)]  # noqa: S506


def _tail(text: str, lines: int = 20) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])
