"""Command line of ``helm flower rehearse`` (also ``python -m helm_flower.rehearse``)."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from .errors import EXIT_REFUSED

DESCRIPTION = """\
Rehearse a release on this machine before installing it on a hub: render the chart with
`helm template`, preview which managed clusters of a fleet file get a SuperNode and which
ClientApps, start exactly those Flower processes locally on 127.0.0.1 (the rendered
containers' commands; only hosts, ports and mounted files are mapped, TLS material is the
chart's), run a Flower app through them with `flwr run --stream`, show progress and a summary,
and tear everything down."""

EPILOG = """\
exit codes: 0 the run finished; 1 a component or the run failed (its name and last log lines
are printed); 2 refused (e.g. the --flwr-venv flwr differs from the chart's global.flower.version);
130/143 interrupted.

Flower binaries: --flwr-venv DIR; else the chart's Flower version next to python or on PATH; else a
venv of that release provisioned on first use (uv, hash-locked by the plugin, progress on stderr)
into $HELM_CACHE_HOME/helm-flower/flwr/<release>-<key> and reused after (`helm env HELM_CACHE_HOME`;
delete the directory to reclaim the space)."""


def add_arguments(parser: argparse.ArgumentParser, *, namespace: bool = True, helm_values: bool = True) -> None:
    """The flags of the command. ``namespace``/``helm_values``: also add -n and -f/--set/--set-string
    (``helm flower`` adds those itself, with helm's conventions)."""
    parser.add_argument("chart", nargs="?", metavar="CHART", help="chart directory or archive (default: charts/flower-federation)")
    if helm_values:
        parser.add_argument("-f", "--values", dest="values", action="append", default=[], metavar="FILE",
                            help="values file, as for helm (repeatable)")
        parser.add_argument("--set", dest="set", action="append", default=[], metavar="KEY=VAL",
                            help="set a value, as for helm (repeatable)")
        parser.add_argument("--set-string", dest="set_string", action="append", default=[], metavar="KEY=VAL")
    parser.add_argument("--set-file", dest="set_file", action="append", default=[], metavar="KEY=PATH")
    parser.add_argument("--set-json", dest="set_json", action="append", default=[], metavar="KEY=JSON")
    parser.add_argument("--fleet", required=True, metavar="FILE", help="fleet inventory (format: schemas/fleet.schema.json)")
    parser.add_argument("--app", required=True, metavar="DIR", help="Flower app directory to run (e.g. flower-apps/digits)")
    parser.add_argument("--release", default="rehearsal", help="release name to render with (default: rehearsal)")
    if namespace:
        parser.add_argument("-n", "--namespace", default=os.environ.get("HELM_NAMESPACE") or "default",
                            help="release namespace (default: $HELM_NAMESPACE or default)")
    parser.add_argument("--rounds", type=_positive_int, metavar="N", help="override the app's num-server-rounds")
    parser.add_argument("-o", "--output", choices=("table", "json"), default="table", help="summary format")
    parser.add_argument("--keep-logs", metavar="DIR", help="keep every process log (and commands.txt) in DIR")
    parser.add_argument("--no-partitions", dest="add_partitions", action="store_false",
                        help="do not add partition-id/num-partitions to node-configs that lack them")
    parser.add_argument("--startup-timeout", type=float, default=60.0, metavar="SECONDS",
                        help="per start-up step: /health, registration (default 60)")
    parser.add_argument("--run-timeout", type=float, default=1800.0, metavar="SECONDS", help="for flwr run (default 1800)")
    parser.add_argument("--flwr-venv", metavar="DIR",
                        help="a venv (or its bin directory) with flwr of the chart's Flower version (default: "
                             "that flwr next to python or on PATH, else a venv provisioned once into "
                             "$HELM_CACHE_HOME/helm-flower/flwr)")
    parser.add_argument("--flwr-bin", dest="flwr_venv", help=argparse.SUPPRESS)  # the former name
    parser.add_argument("-v", "--verbose", action="store_true", help="print every local command line")


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be >= 1")
    return value


def run(args: argparse.Namespace) -> int:
    """Run a rehearsal from parsed arguments; return the exit code."""
    from .display import Reporter, print_result  # pylint: disable=import-outside-toplevel
    from .helm import ValueArgs  # pylint: disable=import-outside-toplevel
    from .runner import Options, rehearse  # pylint: disable=import-outside-toplevel

    output = getattr(args, "output", "table") or "table"
    options = Options(
        chart=args.chart,
        values=ValueArgs(
            files=tuple(getattr(args, "values", None) or []),
            sets=tuple(getattr(args, "set", None) or []),
            set_strings=tuple(getattr(args, "set_string", None) or []),
            set_files=tuple(getattr(args, "set_file", None) or []),
            set_jsons=tuple(getattr(args, "set_json", None) or []),
        ),
        fleet=args.fleet,
        app=args.app,
        release=args.release,
        namespace=getattr(args, "namespace", None) or os.environ.get("HELM_NAMESPACE") or "default",
        rounds=args.rounds,
        keep_logs=args.keep_logs,
        startup_timeout=args.startup_timeout,
        run_timeout=args.run_timeout,
        add_partitions=args.add_partitions,
        flwr_venv=args.flwr_venv,
    )
    human = sys.stdout if output == "table" else sys.stderr
    reporter = Reporter(human, verbose=getattr(args, "verbose", False))
    result = rehearse(options, reporter)
    print_result(result, output=output, stdout=sys.stdout, stderr=sys.stderr)
    return result.exit_code


def build_parser(prog: str = "helm flower rehearse") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description=DESCRIPTION, epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None, prog: str = "helm flower rehearse") -> int:
    parser = build_parser(prog)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse: usage errors exit 2
        return int(exc.code or 0) if exc.code not in (None, 0) else 0
    return run(args)


__all__ = ["DESCRIPTION", "EPILOG", "EXIT_REFUSED", "add_arguments", "build_parser", "main", "run"]
