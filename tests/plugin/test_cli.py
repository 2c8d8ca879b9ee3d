"""Command-line conventions of `helm flower` (helm's): help, global flags from HELM_* variables,
-o table|json|yaml, colour only on a terminal, exit codes 0/1/2, one-line internal errors,
and no import of heavy libraries a command does not use."""

from __future__ import annotations

import contextlib
import io
import json
import os
import pty
import re
import select
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from helm_flower import __version__, chart as chart_module
from helm_flower.cli import main
from helm_flower.commands import validate as validate_command

REPO = Path(__file__).resolve().parents[2]
CHART = str(REPO / "charts" / "flower-federation")
SRC = REPO / "plugin" / "src"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
HOST = "superlink.exposure.host=fl.example.com"


def run(*args: str, env: dict | None = None, monkeypatch=None) -> tuple[int, str, str]:
    if env and monkeypatch:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(list(args))
    return code, out.getvalue(), err.getvalue()


def python(*args: str, env: dict | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(SRC), **(env or {})}
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, env=environment,
                          cwd=cwd or REPO, timeout=120, check=False)


# --- help and usage -------------------------------------------------------------------------------


def test_help_lists_commands():
    code, out, _ = run("--help")
    assert code == 0 and "usage: helm flower" in out and "validate" in out
    assert "--kube-context" in out and "HELM_" in out


def test_no_command_prints_help():
    code, out, _ = run()
    assert code == 0 and "usage: helm flower" in out


def test_command_help():
    code, out, _ = run("validate", "--help")
    assert code == 0
    for flag in ("-f FILE, --values FILE", "--set K=V", "--set-string K=V", "-o {table,json,yaml}",
                 "-n NS, --namespace NS", "--kube-context NAME", "--rendered", "--crds DIR", "--crds-from-cluster",
                 "--release NAME", "--strict"):
        assert flag in out, flag


def test_version():
    code, out, _ = run("--version")
    assert code == 0 and out.strip() == f"helm-flower {__version__}"


@pytest.mark.parametrize("args", [["nope"], ["validate", "--bogus"], ["validate", "-o", "xml"], ["validate", "-f"]])
def test_usage_errors_exit_2(args):
    code, _, err = run(*args)
    assert code == 2 and "usage: helm flower" in err and "error:" in err


def test_chart_is_required_outside_a_checkout(monkeypatch):
    monkeypatch.setattr(chart_module, "find_default_chart", lambda start=None: None)
    code, out, err = run("validate")
    assert code == 2 and out == "" and "CHART is required" in err


def test_chart_defaults_to_the_checkout(tmp_path, monkeypatch):
    monkeypatch.chdir(REPO / "plugin")
    code, out, _ = run("validate", "-o", "json", "--set", HOST)
    assert code == 0 and Path(json.loads(out)["chart"]).resolve() == Path(CHART)
    found = chart_module.find_default_chart(str(tmp_path))  # elsewhere: the checkout the plugin lives in
    assert found is not None and Path(found).resolve() == Path(CHART)


# --- helm's global flags --------------------------------------------------------------------------


def test_namespace_and_context_default_from_helm(monkeypatch):
    monkeypatch.setenv("HELM_NAMESPACE", "federation")
    code, out, _ = run("validate", CHART, "-o", "json", "--set", HOST)
    assert json.loads(out)["namespace"] == "federation"
    code, out, _ = run("validate", CHART, "-o", "json", "-n", "other", "--set", HOST)
    assert json.loads(out)["namespace"] == "other"


def test_namespace_reaches_the_rules(monkeypatch):
    namespace = "n" * 53  # too long for ClientApp names under OCM's label (FLW250)
    monkeypatch.setenv("HELM_NAMESPACE", namespace)
    _, out, _ = run("validate", CHART, "-o", "json", "--set", HOST)
    message = next(f["message"] for f in json.loads(out)["findings"] if f["rule"] == "FLW250")
    assert message.startswith(f"namespace {namespace!r} has 53 characters")


def test_global_flags_work_before_the_command():
    code, out, _ = run("-n", "early", "validate", CHART, "-o", "json", "--set", HOST)
    assert code == 0 and json.loads(out)["namespace"] == "early"


# --- output -----------------------------------------------------------------------------------------


def _broken_args() -> list[str]:
    return ["validate", CHART, "--set", "superlink.replicaCount=2", "--set", HOST]


def test_json_output():
    code, out, _ = run(*_broken_args(), "-o", "json")
    data = json.loads(out)
    assert code == 1 and data["summary"]["errors"] >= 1 and data["summary"]["exitCode"] == 1
    assert {"rule", "severity", "path", "message", "hint", "file"} <= set(data["findings"][0])


def test_yaml_output():
    code, out, _ = run(*_broken_args(), "-o", "yaml")
    data = yaml.safe_load(out)
    assert code == 1 and data["findings"][0]["rule"] == "FLW240"


def test_plain_output_when_not_a_terminal():
    code, out, _ = run(*_broken_args())
    assert code == 1 and not ANSI.search(out)
    assert "--set superlink.replicaCount=2: error FLW240 $.superlink.replicaCount:" in out
    assert out.rstrip().endswith("(chart %s, release flower)" % CHART)


def test_explicit_table_without_terminal_has_no_colour():
    code, out, _ = run(*_broken_args(), "-o", "table")
    assert code == 1 and "FLW240" in out and "Severity" in out and "┃" in out
    assert not ANSI.search(out)


def _on_terminal(args: list[str], env: dict) -> str:
    """Run the CLI on a pseudo-terminal and return what it printed."""
    primary, secondary = pty.openpty()
    environment = {**os.environ, "PYTHONPATH": str(SRC), "COLUMNS": "160", "TERM": "xterm-256color", **env}
    environment.pop("NO_COLOR", None) if "NO_COLOR" not in env else None
    proc = subprocess.Popen([sys.executable, "-m", "helm_flower", *args], stdin=secondary, stdout=secondary,
                            stderr=secondary, env=environment, cwd=REPO, close_fds=True)
    os.close(secondary)
    chunks = []
    while True:
        ready, _, _ = select.select([primary], [], [], 60)
        if not ready:
            proc.kill()
            break
        try:
            data = os.read(primary, 65536)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    proc.wait(timeout=60)
    os.close(primary)
    return b"".join(chunks).decode("utf-8", "replace")


def test_colour_table_on_a_terminal():
    out = _on_terminal(_broken_args(), {})
    assert "FLW240" in out and ANSI.search(out)


def test_no_color_is_respected():
    out = _on_terminal(_broken_args(), {"NO_COLOR": "1"})
    assert "FLW240" in out and not ANSI.search(out)


# --- exit codes -------------------------------------------------------------------------------------


def test_exit_codes(tmp_path):
    assert run("validate", CHART, "--set", HOST)[0] == 0
    assert run("validate", CHART, "--set", HOST, "--set", "superlink.replicaCount=2")[0] == 1
    assert run("validate", CHART, "-f", str(tmp_path / "missing.yaml"))[0] == 2
    assert run("validate", CHART, "--set", "superlink.port")[0] == 2


def test_strict_makes_warnings_fail():
    assert run("validate", CHART)[0] == 0  # the defaults only warn
    assert run("validate", CHART, "--strict")[0] == 1


def test_list_rules():
    code, out, _ = run("validate", "--list-rules")
    assert code == 0 and re.search(r"^FLW201\s+error\s+", out, re.M)
    code, out, _ = run("validate", "--list-rules", "-o", "json")
    assert {r["rule"] for r in json.loads(out)} >= {"FLW001", "FLW100", "FLW300"}


# --- internal errors --------------------------------------------------------------------------------


def test_internal_error_is_one_line_and_exit_2(monkeypatch):
    def boom(args):
        raise RuntimeError("something\nunexpected")

    monkeypatch.delenv("HELM_DEBUG", raising=False)
    monkeypatch.setattr(validate_command, "run", boom)
    code, out, err = run("validate", CHART)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "internal error: RuntimeError: something unexpected" in err
    assert "Traceback" not in err


@pytest.mark.parametrize("how", ["env", "flag"])
def test_debug_shows_the_traceback(monkeypatch, how):
    def boom(args):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(validate_command, "run", boom)
    args = ["validate", CHART]
    if how == "env":
        monkeypatch.setenv("HELM_DEBUG", "true")
    else:
        args.append("--debug")
    code, _, err = run(*args)
    assert code == 2 and "Traceback" in err and "kaboom" in err


def test_python_m_and_internal_errors_in_a_real_process(tmp_path):
    proc = python("-m", "helm_flower", "validate", CHART, "--set", HOST)
    assert proc.returncode == 0, proc.stderr
    proc = python("-m", "helm_flower", "validate", CHART, "-f", str(tmp_path), env={"HELM_DEBUG": "false"})
    assert proc.returncode == 2 and "Traceback" not in proc.stderr and "is a directory" in proc.stdout


# --- start-up cost ----------------------------------------------------------------------------------

HEAVY = ("jsonschema", "kubernetes", "kubernetes_validate", "rich", "referencing")


def _imported(*args: str) -> set[str]:
    proc = python("-X", "importtime", "-m", "helm_flower", *args)
    assert proc.returncode in (0, 1), proc.stderr[-2000:]
    return {line.split("|")[-1].strip().split(".")[0] for line in proc.stderr.splitlines()
            if line.startswith("import time:")}


def test_help_imports_nothing_heavy():
    assert not _imported("--help") & set(HEAVY)
    assert not _imported("validate", "--help") & set(HEAVY + ("yaml",))


def test_validate_imports_only_what_it_uses():
    imported = _imported("validate", CHART, "-o", "json", "--set", HOST)
    assert "jsonschema" in imported and not imported & {"kubernetes", "kubernetes_validate", "rich"}
    assert "rich" in _imported("validate", CHART, "-o", "table", "--set", HOST)


def test_values_files_may_be_comma_separated(tmp_path):
    one, two = tmp_path / "one.yaml", tmp_path / "two.yaml"
    one.write_text("superlink:\n  replicaCount: 2\n")
    two.write_text("superlink:\n  replicaCount: 1\n  exposure:\n    host: fl.example.com\n")
    code, out, _ = run("validate", CHART, "-f", f"{one},{two}", "-o", "json")
    assert code == 0 and json.loads(out)["valuesFiles"] == [str(one), str(two)]
    code, _, _ = run("validate", CHART, "-f", str(two), "-f", str(one))
    assert code == 1  # later files win
