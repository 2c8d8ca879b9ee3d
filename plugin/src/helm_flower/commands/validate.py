"""helm flower validate: check values before `helm install` (and optionally the rendered release)."""

from __future__ import annotations

import argparse
import atexit
import os

from ..errors import UsageError
from ..options import add_output_option, add_values_options, new_command

TYPE_CHECKING = False  # typing is not imported at run time: `--help` stays fast
if TYPE_CHECKING:
    from typing import Any

    from ..findings import Report

DESCRIPTION = """\
Check values for the flower-federation chart, in order:
  1. every values file parses (YAML errors with file:line:column, duplicate keys, size,
     depth and alias limits, UTF-8);
  2. the merged values (chart and subchart defaults, then each -f, then --set, --set-string)
     against the chart's values.schema.json: every error with its JSON path;
  3. semantic rules no schema can express (rule ids FLW2xx; --list-rules);
  4. with --rendered: `helm template` output, including the manifests OCM ships to managed
     clusters, against the Kubernetes schemas and the OCM CRD schemas.

CHART defaults to charts/flower-federation of the checkout you run in."""

EPILOG = """\
examples:
  helm flower validate -f my-values.yaml
  helm flower validate charts/flower-federation -f base.yaml -f prod.yaml --set superlink.exposure.host=fl.example.com
  helm flower validate -f my-values.yaml --rendered --crds ./ocm-crds -o json

exit codes: 0 ok (warnings allowed unless --strict), 1 findings, 2 unusable input."""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = new_command(subparsers, "validate", summary="check values (and rendered manifests) before installing",
                         description=DESCRIPTION, epilog=EPILOG)
    parser.add_argument("chart", nargs="?", metavar="CHART",
                        help="chart directory or packaged .tgz (default: the checkout's charts/flower-federation)")
    add_values_options(parser)
    parser.add_argument("--release", default="flower", metavar="NAME",
                        help="release name the objects are named after (default: flower)")
    add_output_option(parser)
    parser.add_argument("--strict", action="store_true", help="warnings fail too (exit code 1)")
    parser.add_argument("--schema", metavar="FILE",
                        help="JSON schema to use instead of the chart's values.schema.json")
    rendered = parser.add_argument_group("rendered manifests")
    rendered.add_argument("--rendered", action="store_true",
                          help="also render with `helm template` ($HELM_BIN) and validate every object")
    rendered.add_argument("--kube-version", default="1.33", metavar="VERSION",
                          help="Kubernetes version of the schemas (default: 1.33)")
    rendered.add_argument("--crds", action="append", default=[], metavar="DIR",
                          help="OCM CustomResourceDefinitions (files or directories) instead of the project's schemas")
    rendered.add_argument("--crds-from-cluster", action="store_true",
                          help="read the OCM CustomResourceDefinitions from the hub (--kube-context)")
    parser.add_argument("--list-rules", action="store_true", help="print the rule ids and exit")
    return parser


def run(args: argparse.Namespace) -> int:
    if args.list_rules:
        return _list_rules(args.output)
    import json  # noqa: PLC0415

    from .. import chart as chart_module  # noqa: PLC0415
    from ..findings import Report  # noqa: PLC0415
    from .. import output, safeyaml, values  # noqa: PLC0415

    chart_path = args.chart or chart_module.find_default_chart()
    if not chart_path:
        raise UsageError("CHART is required (no charts/flower-federation found around the current directory)",
                         "helm flower validate path/to/flower-federation -f values.yaml")
    if args.crds and args.crds_from_cluster:
        raise UsageError("--crds and --crds-from-cluster exclude each other")
    value_files = _split_files(args.values)
    report = Report(chart=chart_path, release=args.release, namespace=args.namespace,
                    files=value_files, strict=args.strict)

    def finish() -> int:
        report.findings.sort(key=lambda f: f.rule)  # stable: schema findings stay in path order
        output.emit(report, args.output)
        return report.exit_code()

    try:
        chart = chart_module.load_chart(chart_path)
    except safeyaml.InputProblem as problem:
        _input(report, problem)
        return finish()
    files: list[tuple[str, dict[str, Any]]] = []
    stdin_used = False
    for path in value_files:
        if path == "-":
            if stdin_used:
                raise UsageError("-f - (standard input) can be given only once")
            stdin_used = True
        try:
            label = "<stdin>" if path == "-" else path
            files.append((label, safeyaml.load_file(path, label)))
        except safeyaml.InputProblem as problem:
            _input(report, problem)
    override = None
    if args.schema:
        try:
            text = safeyaml.decode_text(safeyaml.read_bytes(args.schema), args.schema)
            schema = json.loads(text)
            if not isinstance(schema, dict):
                raise ValueError("a JSON schema must be an object")
            override = (args.schema, schema)
        except safeyaml.InputProblem as problem:
            _input(report, problem)
        except ValueError as exc:
            report.add("FLW011", "", f"not a JSON schema: {exc}", "", args.schema)
    if report.findings:
        return finish()
    try:
        user, layers = values.user_values(files, args.set, args.set_string)
    except values.SetError as exc:
        report.add("FLW012", "", f"{exc.flag} {exc.text!r}: {exc.reason}",
                   "syntax: a.b=c,list[0]=x,list={a,b}; escape , and . with \\", exc.flag)
        return finish()
    merged = values.compute(chart, user, layers)

    from .. import rules, schemacheck  # noqa: PLC0415

    schemacheck.check(report, chart, merged, override)
    rules.run_rules(merged, report, args.release, args.namespace)
    if args.rendered:
        _rendered(report, args, chart_path, merged)
    return finish()


def _split_files(items: list[str]) -> list[str]:
    """-f takes comma-separated lists too, as helm's does (a CSV string slice)."""
    import csv  # noqa: PLC0415

    files: list[str] = []
    for item in items:
        try:
            files += [f for row in csv.reader([item]) for f in row if f] or [item]
        except csv.Error:
            files.append(item)
    return files


def _input(report: Report, problem: Any) -> None:
    report.add(problem.rule, "", problem.message, problem.hint, problem.file, line=problem.line,
               column=problem.column)


def _rendered(report: Report, args: argparse.Namespace, chart_path: str, merged: Any) -> None:
    from .. import rendered, schemas  # noqa: PLC0415

    ocm = None
    try:
        if args.crds:
            ocm = schemas.load_crd_dirs(args.crds)
        elif args.crds_from_cluster:
            ocm = schemas.load_from_cluster(args.kube_context, args.kubeconfig)
        else:
            ocm = schemas.load_project_schemas(rendered.default_search_paths(chart_path))
    except schemas.SchemaSourceError as exc:
        raise UsageError(str(exc), "check --crds / --crds-from-cluster") from None
    if ocm is not None:
        report.notes.append(f"OCM schemas from {ocm.source}")
    from .. import naming  # noqa: PLC0415

    agent_namespace = ((merged.values.get("global") or {}).get("managedCluster") or {}).get("namespace") \
        if isinstance(merged.values.get("global"), dict) else None
    options = rendered.RenderOptions(
        chart=chart_path, release=args.release, namespace=args.namespace,
        value_files=[p if p != "-" else _stdin_copy(merged) for p in _split_files(args.values)],
        sets=args.set, set_strings=args.set_string, kube_version=args.kube_version,
        agent_namespace=naming.agent_namespace(args.release, args.namespace,
                                               agent_namespace if isinstance(agent_namespace, str) else None))
    count = rendered.check(report, options, ocm)
    if count:
        report.notes.append(f"validated {count} rendered objects (embedded manifests included)")


def _stdin_copy(merged: Any) -> str:
    """helm template cannot read our already-consumed stdin: hand it the parsed layer."""
    import json  # noqa: PLC0415
    import tempfile  # noqa: PLC0415

    layer = next((layer for layer in merged.layers if layer.label == "<stdin>"), None)
    handle = tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="helm-flower-stdin-", delete=False)
    with handle:
        json.dump(layer.data if layer else {}, handle)
    _TEMP_FILES.append(handle.name)
    return handle.name


_TEMP_FILES: list[str] = []


def _cleanup() -> None:
    for path in _TEMP_FILES:
        try:
            os.unlink(path)
        except OSError:
            pass


atexit.register(_cleanup)


def _list_rules(fmt: str | None) -> int:
    import json  # noqa: PLC0415

    from ..findings import RULES  # noqa: PLC0415

    if fmt in ("json", "yaml"):
        data = [{"rule": rule, "severity": sev, "summary": text} for rule, (sev, text) in RULES.items()]
        if fmt == "json":
            print(json.dumps(data, indent=2))
        else:
            import yaml  # noqa: PLC0415

            print(yaml.safe_dump(data, sort_keys=False), end="")
        return 0
    for rule, (severity, text) in RULES.items():
        print(f"{rule}  {severity:<7}  {text}")
    return 0
