"""Helpers of the `helm flower images` tests: the command run in-process (its own add_parser, then
run()), git in temporary repositories, and `helm template` with the real Helm binaries."""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path

import yaml

from helm_flower import cli, options
from helm_flower.commands import images as images_cmd

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "flower-federation"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
DIGITS = REPO / "flower-apps" / "digits"
HELM_VERSIONS = ("4", "3")
RELEASE, NAMESPACE = "flower", "flower-system"


@dataclass
class CliResult:
    rc: int
    out: str
    err: str


def parser() -> argparse.ArgumentParser:
    """The top-level `helm flower` parser of helm_flower.cli, with this command registered the way
    helm_flower.commands.register() does it (until the lead adds "images" to COMMANDS)."""
    p = cli._Parser(prog="helm flower", parents=[options.global_options()])
    sub = p.add_subparsers(title="commands", metavar="COMMAND", parser_class=cli._Parser)
    images_cmd.add_parser(sub).set_defaults(_run=images_cmd.run, _command="images")
    return p


def run_images(*argv: str | os.PathLike) -> CliResult:
    err_capture = io.StringIO()
    try:
        with contextlib.redirect_stderr(err_capture):
            args = parser().parse_args(["images", *map(str, argv)])
    except SystemExit as exc:  # argparse usage errors (exit 2)
        return CliResult(int(exc.code or 0), "", err_capture.getvalue())
    options.resolve_globals(args)
    out, err = io.StringIO(), io.StringIO()
    rc = args._run(args, out=out, err=err)
    return CliResult(rc, out.getvalue(), err.getvalue())


def git(cwd: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.invalid",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.invalid",
           "GIT_AUTHOR_DATE": "2025-01-02T03:04:05Z", "GIT_COMMITTER_DATE": "2025-01-02T03:04:05Z",
           "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_SYSTEM": os.devnull}
    return subprocess.run(["git", *args], cwd=cwd, env=env, check=True, capture_output=True, text=True).stdout


def helm_template(helm: Path, *values_files: Path, release: str = RELEASE) -> list[dict]:
    args = [str(helm), "template", release, str(CHART), "--namespace", NAMESPACE]
    for f in values_files:
        args += ["--values", str(f)]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=120,
                          env={**os.environ, "HELM_DEBUG": "false"})
    if proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {proc.returncode}:\n{proc.stderr}")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    return [d for d in yaml.load_all(proc.stdout, Loader=loader) if isinstance(d, dict)]


def clientapp_images(objects: list[dict]) -> dict[str, dict]:
    """ManifestWorkReplicaSets -> {clientapp name: {image, placements (placementRefs names), labels}}."""
    found: dict[str, dict] = {}
    for obj in objects:
        if obj.get("kind") != "ManifestWorkReplicaSet":
            continue
        name = obj["metadata"]["labels"]["flower.ai/clientapp"]
        manifests = obj["spec"]["manifestWorkTemplate"]["workload"]["manifests"]
        deployments = [m for m in manifests if m.get("kind") == "Deployment"]
        assert len(deployments) == 1, name
        pod = deployments[0]["spec"]["template"]
        containers = [c for c in pod["spec"]["containers"] if c["name"] == "superexec"]
        assert len(containers) == 1, name
        found[name] = {
            "image": containers[0]["image"],
            "placements": [ref["name"] for ref in obj["spec"]["placementRefs"]],
            "labels": pod["metadata"]["labels"],
        }
    return found


def serverapp(objects: list[dict]) -> dict:
    deployments = [o for o in objects if o.get("kind") == "Deployment"
                   and o["metadata"]["name"] == f"{RELEASE}-serverapp"]
    assert len(deployments) == 1
    pod = deployments[0]["spec"]["template"]
    container = next(c for c in pod["spec"]["containers"] if c["name"] == "superexec")
    return {"image": container["image"], "labels": pod["metadata"]["labels"]}
