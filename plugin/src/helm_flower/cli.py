"""Entry point of `helm flower` (console script helm-flower, python -m helm_flower).

Exit codes: 0 ok, 1 findings, 2 usage or input errors (and internal errors: one line on
stderr; the traceback only with --debug or HELM_DEBUG).
"""

from __future__ import annotations

import argparse
import sys

from . import __version__, commands
from .errors import UsageError
from .options import Formatter, debug_requested, global_options, resolve_globals

TYPE_CHECKING = False  # typing is not imported at run time: `--help` stays fast
if TYPE_CHECKING:
    from typing import Any

DESCRIPTION = """\
Flower federated learning on Open Cluster Management fleets.

Charts: charts/flower-federation (SuperLink on the hub, SuperNodes through an OCM addon,
ClientApps through ManifestWorkReplicaSets). This plugin checks and operates them."""

EPILOG = """\
Exit codes: 0 ok, 1 findings (errors; warnings too with --strict), 2 usage or input errors.
Run `helm flower COMMAND --help` for the flags of a command."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse exits 2 on usage errors, like we want
        self.print_usage(sys.stderr)
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="helm flower", description=DESCRIPTION, epilog=EPILOG,
                     formatter_class=Formatter, parents=[global_options()])
    parser.add_argument("--version", action="version", version=f"helm-flower {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND", parser_class=_Parser)
    commands.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    debug = debug_requested(argv)
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if not hasattr(args, "_run"):
            parser.print_help()
            return 0
        resolve_globals(args)
        return int(args._run(args))
    except SystemExit as exc:  # argparse: --help (0) and usage errors (2)
        return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    except UsageError as exc:
        print(f"helm flower: {exc.message}", file=sys.stderr)
        if exc.hint:
            print(f"  hint: {exc.hint}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("helm flower: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except BaseException as exc:  # noqa: BLE001 - the one place that turns surprises into exit 2
        if debug:
            import traceback  # noqa: PLC0415

            traceback.print_exc()
        reason = " ".join(str(exc).split())[:300]
        print(f"helm flower: internal error: {type(exc).__name__}: {reason} "
              "(run with --debug for details)", file=sys.stderr)
        return 2
