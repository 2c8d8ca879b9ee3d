"""The command in the plugin's CLI framework: registration, --help, usage errors, helm-style
values flags, cheap imports, and every app shipped in flower-apps/."""

from __future__ import annotations

import io
import subprocess
import sys

import pytest
import yaml

from images_helpers import CHART, DIGITS, REPO, run_images
from helm_flower import cli, commands
from helm_flower.commands import images as images_cmd
from helm_flower.images import plan


def test_registered_like_every_command(monkeypatch, tmp_path, capsys):
    """`images` is registered in helm_flower.commands.COMMANDS and runs as `helm flower images ...`."""
    assert "images" in commands.COMMANDS
    out = tmp_path / "values.yaml"
    assert cli.main(["images", str(DIGITS), "--chart", str(CHART), "-o", str(out)]) == 0
    assert yaml.safe_load(out.read_text())["clientApp"]["apps"][0]["name"] == "digits"
    assert cli.main(["images", str(DIGITS), "--chart", str(CHART), "-o", str(out), "--check"]) == 0
    assert cli.main(["images"]) == 2  # APP_DIR is required
    assert cli.main(["images", str(DIGITS), "--tag-from", "nope"]) == 2
    capsys.readouterr()
    assert cli.main(["images", "--help"]) == 0
    help_text = capsys.readouterr().out
    for text in ("APP_DIR", "--placement-map", "--containerfile", "--check", "-f FILE, --values FILE", "--set",
                 "<registry>/[<registry path>/]<publisher>/<app>[-<variant>]:<tag>", "flower.ai/app-name",
                 "--kube-context"):
        assert text in help_text, text


def test_defaults_in_the_parser_match_the_planner():
    assert images_cmd.DEFAULT_REGISTRY == plan.DEFAULT_REGISTRY
    assert images_cmd.DEFAULT_PLATFORM == plan.DEFAULT_PLATFORM
    assert images_cmd.TAG_SOURCES == plan.TAG_SOURCES


def test_command_module_imports_stay_cheap():
    code = ("import sys; import helm_flower.commands.images; "
            "heavy = [m for m in ('ruamel.yaml', 'jsonschema', 'packaging.requirements', 'yaml', "
            "'helm_flower.images.generate') if m in sys.modules]; print(heavy)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                          env={"PYTHONPATH": str(REPO / "plugin" / "src")})
    assert proc.stdout.strip() == "[]"


def test_set_flags_and_stdin_values(tmp_path, monkeypatch):
    result = run_images(DIGITS, "--chart", CHART, "--set", "hubAddon.installStrategy=Manual")
    assert result.rc == 0, result.err
    assert yaml.safe_load(result.out)["clientApp"]["apps"][0]["placements"] == []
    result = run_images(DIGITS, "--chart", CHART, "--set", "hubAddon.placements[0].name=edge")
    assert yaml.safe_load(result.out)["clientApp"]["apps"][0]["placements"] == ["edge"]
    result = run_images(DIGITS, "--chart", CHART, "--set", "a[=1")
    assert result.rc == 2 and "--set a[=1" in result.err
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"hubAddon:\n  placements: [{name: s1}]\n")))
    result = run_images(DIGITS, "--chart", CHART, "-f", "-")
    assert result.rc == 0, result.err
    assert yaml.safe_load(result.out)["clientApp"]["apps"][0]["placements"] == ["s1"]


def test_bad_values_file_and_chart_are_input_errors(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [\n")
    result = run_images(DIGITS, "--chart", CHART, "-f", bad)
    assert result.rc == 2 and str(bad) in result.err
    result = run_images(DIGITS, "--chart", tmp_path)
    assert result.rc == 2 and "Chart.yaml" in result.err


def test_default_chart_is_found_from_the_checkout(monkeypatch):
    monkeypatch.chdir(REPO)
    result = run_images("flower-apps/digits")
    assert result.rc == 0, result.err


@pytest.mark.parametrize("app", sorted(p.parent.name for p in (REPO / "flower-apps").glob("*/pyproject.toml")))
def test_every_shipped_app_generates_values(app):
    result = run_images(REPO / "flower-apps" / app, "--chart", CHART)
    assert result.rc == 0, result.err
    values = yaml.safe_load(result.out)
    assert values["clientApp"]["apps"][0]["appLabels"]["flower.ai/flower-version"] == "1.42.0"
