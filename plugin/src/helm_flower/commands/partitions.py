"""``helm flower partitions RELEASE -o values.yaml``: partition ids for every chosen cluster.

Reads the PlacementDecisions of all the release's SuperNode placements (Manual mode: the
clusters holding its addon), numbers the distinct cluster names in sorted order and writes::

    hubAddon:
      clusters:
        - name: cluster-a
          nodeConfig: {partition-id: 0, num-partitions: 3}
        ...

for ``helm upgrade RELEASE CHART --reuse-values -f values.yaml`` (the chart renders one
AddOnDeploymentConfig per listed cluster). ``-f`` merges the other nodeConfig keys of an
existing values file. The file is written atomically (``-o -`` prints to stdout).

Note: ``-o`` is the output FILE here (the command writes a values file, not a report).

Exit codes: 0 written, 1 no cluster chosen (nothing written), 2 usage / hub errors.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ..hub.cliargs import add_hub_options, opt, run_guarded
from ..hub.errors import EXIT_NOT_READY, EXIT_OK, EXIT_USAGE, HubError
from ..options import new_command

SUMMARY = "assign partition-id/num-partitions to the chosen clusters and write them as Helm values"
DESCRIPTION = """\
Number the distinct clusters chosen by the release's SuperNode placements (all their
PlacementDecisions; Manual mode: the clusters holding its addon) in sorted name order and
write hubAddon.clusters[].nodeConfig {partition-id, num-partitions} for `helm upgrade`.
Deterministic and collision-free; a cluster chosen by two placements counts once.
Here -o is the values FILE to write (- = stdout); it is written atomically."""
EPILOG = """\
examples:
  helm flower partitions fed -n flower -o partitions.yaml
  helm upgrade fed charts/flower-federation -n flower --reuse-values -f partitions.yaml

exit codes: 0 written, 1 no cluster chosen (nothing written), 2 usage or hub errors."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = new_command(subparsers, "partitions", summary=SUMMARY, description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("release", help="Helm release name")
    add_hub_options(p)
    p.add_argument("-o", "--output", dest="output_file", default="-", metavar="FILE",
                   help="values file to write (default: - = stdout)")
    p.add_argument("-f", "--values", dest="values_file", default=None, metavar="FILE",
                   help="existing values file whose hubAddon.clusters nodeConfig keys are kept")
    p.add_argument("--addon-name", default=None, help=argparse.SUPPRESS)
    return p


def run(args: argparse.Namespace) -> int:
    return run_guarded(lambda: _run(args))


def _existing_clusters(path: str) -> list[dict[str, Any]]:
    import yaml

    try:
        with open(path, encoding="utf-8") as fh:
            doc = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        raise HubError(f"-f {path}: no such file", EXIT_USAGE) from None
    except (OSError, yaml.YAMLError) as exc:
        raise HubError(f"-f {path}: cannot read it as YAML: {exc}", EXIT_USAGE) from None
    clusters = ((doc.get("hubAddon") or {}) if isinstance(doc, dict) else {}).get("clusters") or []
    if not isinstance(clusters, list):
        raise HubError(f"-f {path}: hubAddon.clusters must be a list", EXIT_USAGE)
    return clusters


def _override_warnings(hub: Any, state: Any) -> list[str]:
    """Placement-level SuperNode settings that per-cluster configs do not inherit (chart behaviour)."""
    from ..hub.resources import (
        ADDON_DEPLOYMENT_CONFIGS,
        default_deployment_config,
        placement_deployment_config,
        release_selector,
    )

    try:
        configs = {}
        for items, _ in hub.list_pages(ADDON_DEPLOYMENT_CONFIGS, namespace=state.namespace,
                                       label_selector=release_selector(state.release)):
            for c in items:
                configs[c["metadata"]["name"]] = c.get("spec") or {}
    except HubError:
        return []
    base = configs.get(default_deployment_config(state.release, state.namespace))
    if base is None:
        return []
    out = []
    for p in sorted(state.placements.values(), key=lambda p: p.name):
        if p.role != "supernode" or not p.item:
            continue
        spec = configs.get(placement_deployment_config(state.release, state.namespace, p.item))
        if spec is None or spec == base:
            continue
        differs = sorted(k for k in set(spec) | set(base) if spec.get(k) != base.get(k))
        variables = lambda s: {v.get("name"): v.get("value") for v in s.get("customizedVariables") or []}  # noqa: E731
        vb, vs = variables(base), variables(spec)
        changed_vars = sorted(k for k in set(vb) | set(vs) if vb.get(k) != vs.get(k))
        what = ", ".join([d for d in differs if d != "customizedVariables"] + changed_vars)
        out.append(f"placement {p.item} has its own SuperNode settings ({what}) that the chart does not carry "
                   "into per-cluster configs: its clusters listed in hubAddon.clusters get the release-wide "
                   "SuperNode settings plus their nodeConfig")
    return out


def _run(args: argparse.Namespace, out: Any = None, err: Any = None) -> int:
    out = out or sys.stdout
    err = err or sys.stderr
    existing = _existing_clusters(args.values_file) if args.values_file else None

    from ..hub import partitions
    from ..hub.fileio import atomic_write
    from ..hub.kube import ConnectionSettings, Hub, resolve_namespace
    from ..hub.release import MANUAL, read_chosen

    with Hub(ConnectionSettings.from_args(args)) as hub:
        namespace = resolve_namespace(opt(args, "namespace"), hub)
        state = read_chosen(hub, args.release, namespace, addon_name=args.addon_name)
        tables = state.chosen()
        warnings = _override_warnings(hub, state) if not state.manual else []
    clusters = sorted({c for t in tables.values() for c in t})
    if not clusters:
        err.write(f"no cluster is chosen by the placements of release {args.release!r} in namespace {namespace}; "
                  "nothing written\n")
        return EXIT_NOT_READY
    assignment, notes = partitions.merge(partitions.assign(clusters), existing)
    partitions.check(assignment)
    sources = ", ".join(sorted(p.name for p in state.placements.values() if p.role == "supernode")) \
        if MANUAL not in tables else f"the ManagedClusterAddOns {state.addon} (installStrategy Manual)"
    header = [
        f"Written by `helm flower partitions {args.release} -n {namespace}` from {sources}:",
        f"{len(clusters)} clusters, partition-id in sorted cluster-name order.",
        f"Apply: helm upgrade {args.release} <chart> -n {namespace} --reuse-values -f <this file>",
    ]
    text = partitions.render(assignment, header)
    if args.output_file == "-":
        out.write(text)
    else:
        atomic_write(args.output_file, text)
        err.write(f"wrote {len(clusters)} clusters (num-partitions={len(clusters)}) to {args.output_file}\n")
    for w in notes + warnings:
        err.write(f"warning: {w}\n")
    return EXIT_OK
