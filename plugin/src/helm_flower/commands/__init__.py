"""Subcommands of `helm flower`, one module each.

A command module exposes ``add_parser(subparsers) -> argparse.ArgumentParser`` (build it with
``helm_flower.options.new_command`` to get helm's global flags) and ``run(args) -> int`` (exit code:
0 ok, 1 findings, 2 usage or input errors). Keep module-level imports to the standard library
and cheap helm_flower modules: every command module is imported to build ``--help``; import
heavy libraries (jsonschema, kubernetes, rich) inside ``run``.

To add a command, add its module name to COMMANDS.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # typing is not imported at run time: `--help` stays fast
if TYPE_CHECKING:
    from typing import Any

COMMANDS: tuple[str, ...] = (
    "validate",
    "rehearse",
    "images",
    "status",
    "partitions",
    "connect",
)


def register(subparsers: Any) -> None:
    for name in COMMANDS:
        module = importlib.import_module(f"{__name__}.{name}")
        parser = module.add_parser(subparsers)
        parser.set_defaults(_run=module.run, _command=name)
