"""The command line: standalone (python -m helm_flower.rehearse) and as a `helm flower` subcommand."""

from __future__ import annotations

import argparse

import pytest

from helm_flower.commands import rehearse as command
from helm_flower.rehearse import cli, runner
from helm_flower.rehearse.helm import ValueArgs

ARGS = ["charts/flower-federation", "--fleet", "fleet.yaml", "--app", "flower-apps/digits",
        "-f", "a.yaml", "-f", "b.yaml", "--set", "x=1", "--set", "y={a,b}", "--set-string", "z=2",
        "--set-json", 'j={"k":1}', "--rounds", "3", "-n", "ns1", "--release", "r1", "-o", "json"]


@pytest.fixture()
def captured(monkeypatch):
    seen = {}

    def fake(options, reporter=None):
        seen["options"] = options
        return runner.Result(ok=True, options=options, marker="m")

    monkeypatch.setattr(runner, "rehearse", fake)
    return seen


def _check(options: runner.Options) -> None:
    assert options.chart == "charts/flower-federation"
    assert options.values == ValueArgs(files=("a.yaml", "b.yaml"), sets=("x=1", "y={a,b}"), set_strings=("z=2",),
                                       set_jsons=('j={"k":1}',))
    assert (options.fleet, options.app, options.rounds, options.namespace, options.release) == (
        "fleet.yaml", "flower-apps/digits", 3, "ns1", "r1")


def test_standalone_cli(captured, capsys) -> None:
    assert cli.main(ARGS) == 0
    _check(captured["options"])
    assert '"ok": true' in capsys.readouterr().out


def test_helm_flower_subcommand(captured, capsys) -> None:
    parser = argparse.ArgumentParser(prog="helm flower")
    subparsers = parser.add_subparsers()
    command.add_parser(subparsers)
    args = parser.parse_args(["rehearse", *ARGS])
    assert command.run(args) == 0
    _check(captured["options"])


def test_values_flags_reach_helm_in_helms_order() -> None:
    values = ValueArgs(files=("a.yaml",), sets=("x=1",), set_strings=("s=t",), set_files=("f=p",), set_jsons=("j=1",))
    assert values.helm_args() == ["--values", "a.yaml", "--set-json", "j=1", "--set", "x=1",
                                  "--set-string", "s=t", "--set-file", "f=p"]


def test_usage_errors_exit_2(capsys) -> None:
    assert cli.main(["--app", "x"]) == 2  # --fleet missing
    assert cli.main(["--fleet", "f", "--app", "a", "--rounds", "0"]) == 2
