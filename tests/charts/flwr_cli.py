"""The real argument parsers of the flwr 1.41.0 console scripts, called in-process.

They are found through the console-script entry points (flower-superlink, flower-supernode,
flower-superexec), so the test follows whatever function the installed binaries run:
flwr.superlink.cli.flower_superlink._parse_args_run_superlink,
flwr.supernode.cli.flower_supernode._parse_args_run_supernode and
flwr.supercore.cli.flower_superexec._parse_args in 1.41.0.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import inspect
import io
import os
from collections.abc import Callable
from dataclasses import dataclass

PARSER_BUILDERS = {
    "flower-superlink": "_parse_args_run_superlink",
    "flower-supernode": "_parse_args_run_supernode",
    "flower-superexec": "_parse_args",
}


class ArgsRejected(AssertionError):
    """argparse refused the arguments (it would exit 2); carries argparse's message."""


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
    return FlwrCli(importlib.metadata.version("flwr"), builders, lambda s: parse_config_args([s]))
