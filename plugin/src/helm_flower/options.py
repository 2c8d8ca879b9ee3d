"""Command-line conventions shared by every subcommand, following helm's.

Helm strips its global flags (--debug, -n/--namespace, --kube-context, --kubeconfig, ...) from a
plugin's arguments and passes them as HELM_* environment variables, so every flag here also
defaults from its variable; run directly (python -m helm_flower) the flags work as well.
"""

from __future__ import annotations

import argparse
import os

TYPE_CHECKING = False  # typing is not imported at run time: `--help` stays fast
if TYPE_CHECKING:
    from typing import Any

FORMATS = ("table", "json", "yaml")

_TRUE = ("1", "true", "yes", "on")


class Formatter(argparse.RawDescriptionHelpFormatter):
    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=32, width=min(100, _columns()))


def _columns() -> int:
    try:
        return int(os.environ.get("COLUMNS", "")) or 100
    except ValueError:
        return 100


def global_options() -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    group = parent.add_argument_group("global flags (helm passes them to plugins as HELM_* variables)")
    group.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                       help="show tracebacks of internal errors ($HELM_DEBUG)")
    group.add_argument("-n", "--namespace", default=argparse.SUPPRESS, metavar="NS",
                       help="release namespace ($HELM_NAMESPACE, else default)")
    group.add_argument("--kube-context", default=argparse.SUPPRESS, metavar="NAME",
                       help="kubeconfig context of the hub ($HELM_KUBECONTEXT)")
    group.add_argument("--kubeconfig", default=argparse.SUPPRESS, metavar="FILE",
                       help="kubeconfig file ($KUBECONFIG)")
    return parent


def new_command(subparsers: Any, name: str, *, summary: str, description: str = "",
                epilog: str = "") -> argparse.ArgumentParser:
    """A subcommand parser with helm's global flags; commands call this from add_parser()."""
    return subparsers.add_parser(name, help=summary, description=description or summary, epilog=epilog,
                                 formatter_class=Formatter, parents=[global_options()])


def add_values_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("values (helm's syntax and precedence)")
    group.add_argument("-f", "--values", action="append", default=[], metavar="FILE",
                       help="values file (repeatable or comma-separated; later files win; - reads stdin)")
    group.add_argument("--set", action="append", default=[], metavar="K=V",
                       help="set values: a.b=c,list[0]=x,l={a,b}; \\, and \\. escape (repeatable; "
                            "wins over -f; types: ints, true/false, null)")
    group.add_argument("--set-string", action="append", default=[], metavar="K=V",
                       help="like --set but every value is a string (applied after all --set)")


def add_output_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", choices=FORMATS, default=None,
                        help="output format (default: table on a terminal, plain lines otherwise)")


def resolve_globals(args: argparse.Namespace) -> None:
    """Fill the global flags from helm's environment where the command line left them out."""
    env = os.environ
    args.debug = bool(getattr(args, "debug", False)) or env.get("HELM_DEBUG", "").lower() in _TRUE
    args.namespace = getattr(args, "namespace", None) or env.get("HELM_NAMESPACE") or "default"
    args.kube_context = getattr(args, "kube_context", None) or env.get("HELM_KUBECONTEXT") or None
    args.kubeconfig = getattr(args, "kubeconfig", None) or env.get("KUBECONFIG") or None


def debug_requested(argv: list[str]) -> bool:
    return "--debug" in argv or os.environ.get("HELM_DEBUG", "").lower() in _TRUE
