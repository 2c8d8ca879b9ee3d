"""``helm flower images APP_DIR...``: the image values of Flower apps for the flower-federation chart.

Reads each app's pyproject.toml (``[project]`` and ``[tool.flwr.app]``), checks that its ``flwr``
requirement admits the chart's ``global.flower.version`` and pins its major.minor, and writes
(or merges into ``-o FILE``) a values fragment: ``superlink.serverApp.image`` / ``appLabels``
and one ``clientApp.apps`` entry per app and variant (image, placements, identity labels).
``--containerfile`` also writes a reproducible multi-stage Containerfile per image and prints
the docker buildx / podman commands to build, push and read back the digest. ``--check``
compares ``-o FILE`` with what would be written (unified diff, exit 1 on drift).

Exit codes: 0 ok (or no drift), 1 findings (Flower version mismatch, drift), 2 usage / input.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from ..options import add_values_options, new_command

# Kept here (not imported from helm_flower.images) so that building --help stays cheap.
DEFAULT_REGISTRY = "docker.io"
DEFAULT_PLATFORM = "linux/amd64"
TAG_SOURCES = ("version", "git", "digest")
EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2

SUMMARY = "generate the image values (and Containerfiles) of Flower apps for the chart"
DESCRIPTION = """\
Generate the image values of Flower apps for the flower-federation chart, in order:
  1. read each APP_DIR/pyproject.toml ([project] name, version, dependencies;
     [tool.flwr.app] publisher and components serverapp/clientapp);
  2. check that the app's flwr requirement admits the chart's global.flower.version and
     pins its major.minor (a SuperExec of another major.minor is refused by the SuperLink);
  3. write superlink.serverApp.image/appLabels and one clientApp.apps entry per app and
     variant (image, placements, identity labels), merged into -o FILE (comments and your
     other keys stay), checked against the chart's values.schema.json.
With --containerfile also a reproducible multi-stage Containerfile per image, and the
docker buildx / podman commands to build, push and read back the digest.
-f/--set/--set-string name the values you install with: they are read (with -o FILE) for
global.flower.version and hubAddon.placements, never written."""

EPILOG = """\
image names:  <registry>/[<registry path>/]<publisher>/<app>[-<variant>]:<tag>
              (publisher from [tool.flwr.app]; registry host goes to image.registry, so
              global.imageRegistry mirrors work)
labels:       flower.ai/app-name, flower.ai/app-version, flower.ai/app-publisher,
              flower.ai/flower-version, flower.ai/variant (variants only)
placements:   an entry without --placement-map gets every hubAddon.placements name not
              mapped to another image of the same app (default: all of them)

exit codes: 0 ok (no drift), 1 findings (Flower version mismatch, drift under --check),
2 usage or input errors.

examples:
  helm flower images flower-apps/digits --registry ghcr.io/acme -o values-images.yaml
  helm flower images apps/a apps/b --serverapp b --registry reg.example.com -o images.yaml
  helm flower images apps/a --variant gpu=gpu.Containerfile --placement-map a:gpu=gpu -o images.yaml
  helm flower images apps/a --containerfile --registry reg.example.com   # + build commands
  helm flower images apps/a --tag-from digest --digest a=sha256:... -o images.yaml
  helm flower images apps/a --registry reg.example.com -o images.yaml --check   # CI
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    p = new_command(subparsers, "images", summary=SUMMARY, description=DESCRIPTION, epilog=EPILOG)
    p.add_argument("app_dirs", nargs="+", metavar="APP_DIR", help="directory of a Flower app (pyproject.toml)")
    p.add_argument("--chart", default=None, metavar="CHART",
                   help="the flower-federation chart, directory or .tgz (default: charts/flower-federation of "
                        "the checkout you run in)")
    add_values_options(p)  # read for hubAddon.placements and global.flower.version; never written
    p.add_argument("--registry", default=DEFAULT_REGISTRY, metavar="REG",
                   help=f"registry host[:port][/path] of the app images (default: {DEFAULT_REGISTRY})")
    p.add_argument("--tag-from", choices=TAG_SOURCES, default="version",
                   help="image tag: the [project] version (default), the app's git commit (12 hex digits), "
                        "or none (pin by --digest)")
    p.add_argument("--digest", dest="digests", action="append", default=[], metavar="APP[:VARIANT]=sha256:...",
                   help="pin an image by digest (repeatable; required for every image with --tag-from digest)")
    p.add_argument("--variant", dest="variants", action="append", default=[], metavar="[APP:]NAME=CONTAINERFILE",
                   help="an extra image of the app built from CONTAINERFILE (relative to the current directory or "
                        "APP_DIR), FROM a flwr/superexec image of the chart's major.minor (repeatable)")
    p.add_argument("--placement-map", dest="placement_maps", action="append", default=[],
                   metavar="APP[:VARIANT]=PLACEMENT[,...]",
                   help="hubAddon placements that get this image (repeatable)")
    p.add_argument("--serverapp", default=None, metavar="APP",
                   help="the app whose image runs the ServerApp (default: the first APP_DIR)")
    p.add_argument("-o", "--output-file", dest="output_file", default=None, metavar="FILE",
                   help="values file to merge into (created if missing); default (or -): print to stdout")
    p.add_argument("--check", action="store_true",
                   help="write nothing; exit 1 with a diff when -o FILE (and with --containerfile the "
                        "Containerfiles) differ from what would be written")
    p.add_argument("--containerfile", action="store_true",
                   help="also write APP_DIR/Containerfile (Containerfile.<variant> for variants) and print the "
                        "build, push and digest commands")
    p.add_argument("--platform", default=DEFAULT_PLATFORM,
                   help=f"platform in the printed build commands (default: {DEFAULT_PLATFORM})")
    p.add_argument("--force", action="store_true",
                   help="with --containerfile: replace Containerfiles that were not written by this command")
    p.add_argument("--dry-run", action="store_true",
                   help="write nothing; print every file that would be written (with a '# ==> PATH <==' header)")
    return p


def run(args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None) -> int:
    from ..images import ImagesError  # noqa: PLC0415 - heavy imports only when the command runs
    from ..safeyaml import InputProblem  # noqa: PLC0415

    out = out or sys.stdout
    err = err or sys.stderr
    try:
        return _run(args, out, err)
    except ImagesError as exc:
        for message in exc.messages:  # the plugin's error style: "helm flower: <message>" (+ "  hint: ...")
            err.write(("" if message.startswith(" ") else "helm flower: ") + message + "\n")
        return exc.exit_code
    except InputProblem as problem:
        err.write(f"helm flower: {problem}\n" + (f"  hint: {problem.hint}\n" if problem.hint else ""))
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return 130
    except BrokenPipeError:
        return EXIT_OK


def _run(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    from ..images import ImagesError, Options, Request, generate  # noqa: PLC0415
    from ..images.writer import atomic_write  # noqa: PLC0415

    output = args.output_file if args.output_file != "-" else None
    if args.check and not output:
        raise ImagesError("--check needs -o FILE: the values file to compare")
    if args.check and args.dry_run:
        raise ImagesError("--check and --dry-run: choose one")
    if args.force and not args.containerfile:
        raise ImagesError("--force only applies with --containerfile")
    request = Request(
        app_dirs=list(args.app_dirs),
        chart=args.chart,
        output=output,
        values_files=list(getattr(args, "values", [])),
        set_values=list(getattr(args, "set", [])),
        set_strings=list(getattr(args, "set_string", [])),
        options=Options(registry=args.registry, tag_from=args.tag_from, digests=list(args.digests),
                        variants=list(args.variants), placement_maps=list(args.placement_maps),
                        serverapp=args.serverapp, platform=args.platform),
        containerfile=args.containerfile,
        force=args.force,
    )
    result = generate(request)
    for warning in result.warnings:
        err.write(f"warning: {warning}\n")

    if args.check:
        drifted = [o for o in (result.values, *result.containerfiles) if o.changed]
        for o in drifted:
            out.write(o.diff())
        if drifted:
            names = ", ".join(o.path or "values" for o in drifted)
            err.write(f"drift: {names} differ from what `helm flower images` generates; re-run it without "
                      "--check to update\n")
            return EXIT_FINDINGS
        err.write(f"{output}: up to date\n")
        return EXIT_OK

    if args.dry_run:
        for path in result.refused:
            err.write(f"warning: {path}: exists and was not written by `helm flower images`: writing it needs "
                      "--force\n")
        if output:
            out.write(f"# ==> {output} <==\n")
        out.write(result.values.new)
        for o in result.containerfiles:
            out.write(f"\n# ==> {o.path} <==\n{o.new}")
        if result.commands:
            out.write("\n" + result.commands)
        return EXIT_OK

    # Everything is computed: write (each file atomically).
    if result.refused:
        raise result.refusal()
    if output:
        changed = atomic_write(output, result.values.new)
        err.write(f"{output}: {'written' if changed else 'up to date'} ({_summary(result)})\n")
    elif not args.containerfile:
        out.write(result.values.new)
    else:
        err.write("values not written: pass -o FILE to write them (stdout carries the build commands)\n")
    for o in result.containerfiles:
        assert o.path is not None
        changed = atomic_write(o.path, o.new)
        err.write(f"{o.path}: {'written' if changed else 'up to date'}\n")
    if result.commands:
        out.write(result.commands)
    return EXIT_OK


def _summary(result: Any) -> str:
    plan = result.plan
    apps = ", ".join(f"{e.name} -> {','.join(e.placements) or 'every SuperNode cluster'}" for e in plan.entries)
    return f"serverApp {plan.server.name}; clientApp.apps {apps}"
