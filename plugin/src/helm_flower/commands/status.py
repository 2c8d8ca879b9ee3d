"""``helm flower status RELEASE``: is the federation up on the fleet?

Reads the release's Placements, all their PlacementDecisions, the ManagedClusterAddOns of its
addon, its ManifestWorkReplicaSets and their ManifestWorks (paged lists, see
:mod:`helm_flower.hub.release`) and prints one table per placement (cluster, decision group,
SuperNode state, ClientApp state, reason) and a verdict. ``--wait`` watches until at least
``--min-clusters`` chosen clusters are ready, or ``--timeout`` passes.

Exit codes: 0 ready, 1 not ready (or --wait timed out), 2 usage / hub errors.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..hub.cliargs import add_hub_options, opt, run_guarded
from ..hub.errors import EXIT_NOT_READY, EXIT_OK, EXIT_USAGE, HubError
from ..options import add_output_option, new_command

SUMMARY = "show whether the federation's SuperNodes and ClientApps are up on the chosen clusters"
DESCRIPTION = """\
Read the release's Placements, ALL their PlacementDecisions (paged), the ManagedClusterAddOns of
its addon (one cluster-wide paged list), its ManifestWorkReplicaSets and their ManifestWorks, and
print one table per SuperNode placement: cluster, decision group, SuperNode state, ClientApp
state, reason; then a verdict. --wait watches the hub (no polling) until at least --min-clusters
chosen clusters have an available SuperNode and ClientApps."""
EPILOG = """\
examples:
  helm flower status fed -n flower
  helm flower status fed -n flower --wait --min-clusters 3 --timeout 10m
  helm flower status fed -n flower -o json
  helm flower status fed -n flower --cluster hospital-7     # why is (or isn't) it in?

exit codes: 0 ready, 1 not ready (or --wait timed out), 2 usage or hub errors."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = new_command(subparsers, "status", summary=SUMMARY, description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("release", help="Helm release name")
    add_hub_options(p)
    add_output_option(p)
    p.add_argument("--wait", action="store_true",
                   help="watch until at least --min-clusters chosen clusters are ready (exit 1 on --timeout)")
    p.add_argument("--min-clusters", type=int, default=None, metavar="N",
                   help="clusters that must be ready (default: every chosen cluster)")
    p.add_argument("--timeout", default="10m", metavar="DURATION",
                   help="how long --wait waits, e.g. 90s, 10m, 1h (default: 10m)")
    p.add_argument("--addon-name", default=None,
                   help="the release's OCM addon name (default: from its ClusterManagementAddOn, else flower-RELEASE-NAMESPACE)")
    p.add_argument("--cluster", default=None, metavar="NAME",
                   help="also explain why managed cluster NAME is or is not in the federation (the placement "
                        "scheduler's rules applied to its labels, claims, cluster sets and taints)")
    p.add_argument("--max-rows", type=int, default=50, metavar="N",
                   help="rows per placement table, not-ready clusters first (0 = all; default 50)")
    p.add_argument("--page-size", type=int, default=500, metavar="N", help=argparse.SUPPRESS)
    return p


def run(args: argparse.Namespace) -> int:
    return run_guarded(lambda: _run(args))


def _run(args: argparse.Namespace, out: Any = None, err: Any = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    fmt = opt(args, "output", "table")
    if fmt not in ("table", "json", "yaml"):
        raise HubError(f"-o {fmt}: use table, json or yaml", EXIT_USAGE)
    if args.min_clusters is not None and args.min_clusters < 1:
        raise HubError("--min-clusters must be at least 1", EXIT_USAGE)
    timeout = None
    if args.wait:
        from ..hub.wait import parse_duration

        try:
            timeout = parse_duration(args.timeout)
        except ValueError as exc:
            raise HubError(f"--timeout: {exc}", EXIT_USAGE) from None
    elif args.min_clusters is None and args.timeout != "10m":
        pass  # --timeout without --wait is harmless

    from ..hub.kube import ConnectionSettings, Hub, resolve_namespace
    from ..hub.release import read_release
    from ..hub import render

    with Hub(ConnectionSettings.from_args(args)) as hub:
        namespace = resolve_namespace(opt(args, "namespace"), hub)
        state = read_release(hub, args.release, namespace, addon_name=args.addon_name,
                             page_size=max(1, args.page_size))
        if args.wait:
            from ..hub.wait import wait_until_ready

            def progress(s) -> None:
                if fmt == "table":
                    err.write(f"waiting: {s.ready_count}/{s.chosen} clusters ready (need {s.required})\n")

            summary = state.summarise(args.min_clusters)
            if fmt == "table" and not summary.ready:
                err.write(f"waiting up to {args.timeout} for {summary.required} ready clusters "
                          f"({summary.ready_count}/{summary.chosen} now)...\n")
            summary, _ = wait_until_ready(hub, state, min_clusters=args.min_clusters, timeout=timeout,
                                          on_progress=progress)
        else:
            summary = state.summarise(args.min_clusters)
        explained = None
        if args.cluster:
            from ..hub.explain import explain

            explained = render.cluster_explanation(summary, args.cluster, state.manual,
                                                   [] if state.manual else explain(hub, args.release, namespace,
                                                                                   args.cluster))
    data = summary.to_dict()
    if explained is not None:
        data["cluster"] = explained
    if fmt == "json":
        render.dump_json(data, out)
    elif fmt == "yaml":
        render.dump_yaml(data, out)
    else:
        render.render_table(summary, out, max_rows=args.max_rows)
        if explained is not None:
            out.write("\n" + explained["text"] + "\n")
        if args.wait and not summary.ready:
            err.write(f"timed out after {args.timeout}: {summary.verdict}\n")
            render.render_not_ready(summary, err)
    return EXIT_OK if summary.ready else EXIT_NOT_READY
