"""Which Flower binaries a rehearsal runs, and the per-release venv cache it provisions
(helm_flower.rehearse.flwr_venv). uv is replaced by a fake that makes a minimal venv (a
flower-superlink, a python, flwr's dist-info of the lock's version) and records every call, so these
tests say how often a venv is built; the real uv, through the installed plugin, is
tests/plugin/test_plugin_install.py's test_rehearse_provisions_flower_once_per_cache."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from rehearse_helpers import PYTHON, REPO

from helm_flower import flower_versions
from helm_flower.rehearse import flwr_venv
from helm_flower.rehearse.errors import EXIT_REFUSED, Refusal, RehearsalError

RELEASES = [flower_versions.table()["minors"][m]["release"] for m in flower_versions.supported_minors()]
DEFAULT = flower_versions.default_version()
OTHER = next(r for r in RELEASES if r != DEFAULT)

FAKE_UV = textwrap.dedent('''\
    #!{python}
    """Fake uv: `venv ... DIR` and `pip install --python DIR/bin/python ... -r LOCK`."""
    import os, re, sys, time
    from pathlib import Path
    args = sys.argv[1:]
    with open(os.environ["FAKE_UV_CALLS"], "a") as calls:
        calls.write(" ".join(args[:2]) + "\\n")
    time.sleep(float(os.environ.get("FAKE_UV_SLEEP", "0")))
    if args[0] == "venv":
        bin_dir = Path(args[-1]) / "bin"
        bin_dir.mkdir(parents=True)
        (bin_dir / "python").symlink_to(sys.executable)
        print("Creating virtual environment")
    else:
        if os.environ.get("FAKE_UV_FAIL"):
            print("error: Failed to download numpy")
            sys.exit(2)
        venv = Path(args[args.index("--python") + 1]).parent.parent
        release = re.search(r"^flwr==(\\S+)", Path(args[-1]).read_text(), re.M).group(1)
        (venv / "bin" / "flower-superlink").write_text("")
        (venv / "lib" / "python3.11" / "site-packages" / f"flwr-{{release}}.dist-info").mkdir(parents=True)
        print("Installed 59 packages in 1s")
        print(" + flwr==" + release)
''')


@pytest.fixture
def fake_uv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fake uv used by provision(); returns the file its calls are recorded in."""
    script = tmp_path / "fake-uv"
    script.write_text(FAKE_UV.format(python=sys.executable))
    script.chmod(0o755)
    calls = tmp_path / "uv-calls.txt"
    calls.write_text("")
    monkeypatch.setattr(flwr_venv, "find_uv", lambda: str(script))
    monkeypatch.setenv("FAKE_UV_CALLS", str(calls))
    monkeypatch.setenv("HELM_CACHE_HOME", str(tmp_path / "helm-cache"))
    monkeypatch.delenv(flwr_venv.FLWR_BIN_ENV, raising=False)
    return calls


def _uv_calls(calls: Path) -> list[str]:
    return calls.read_text().splitlines()


def _cache(tmp_path: Path) -> Path:
    return tmp_path / "helm-cache" / "helm-flower" / "flwr"


# --- where the cache lives --------------------------------------------------------------------------------


def test_cache_is_under_helms_cache_home(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HELM_CACHE_HOME", str(tmp_path / "h"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert flwr_venv.cache_root() == tmp_path / "h" / "helm-flower" / "flwr"


def test_cache_outside_helm_is_helms_default(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HELM_CACHE_HOME", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "x"))
    assert flwr_venv.cache_root() == tmp_path / "x" / "helm" / "helm-flower" / "flwr"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setattr(sys, "platform", "linux")
    assert flwr_venv.cache_root() == tmp_path / "home" / ".cache" / "helm" / "helm-flower" / "flwr"


def test_venv_name_changes_with_the_lock_and_the_python(monkeypatch: pytest.MonkeyPatch) -> None:
    lock = flwr_venv.lock_text(DEFAULT)
    name = flwr_venv.venv_name(DEFAULT, lock)
    assert name.startswith(f"{DEFAULT}-") and name == flwr_venv.venv_name(DEFAULT, lock)
    assert flwr_venv.venv_name(DEFAULT, lock + b"\n# new pins\n") != name
    monkeypatch.setattr(sys, "version", "3.99.0 (other)")
    assert flwr_venv.venv_name(DEFAULT, lock) != name


# --- the shipped locks ------------------------------------------------------------------------------------


@pytest.mark.parametrize("release", RELEASES)
def test_every_supported_release_has_its_lock_in_the_package(release: str) -> None:
    text = flwr_venv.lock_text(release).decode()
    assert f"\nflwr=={release} \\\n    --hash=sha256:" in text
    assert flwr_venv.supported_releases() == RELEASES


@pytest.mark.parametrize("release", ["1.40.0", "1.42.1", "2.0.0", "latest"])
def test_an_unsupported_release_is_refused_listing_the_supported_ones(release: str, fake_uv: Path) -> None:
    with pytest.raises(Refusal) as info:
        flwr_venv.provision(release, log=lambda _: None)
    assert info.value.exit_code == EXIT_REFUSED
    assert f"Flower {release}" in info.value.message
    assert f"supports {', '.join(RELEASES)}" in info.value.message and "--flwr-venv" in info.value.message
    assert _uv_calls(fake_uv) == []


# --- provisioning -----------------------------------------------------------------------------------------


def test_provisions_once_then_reuses(fake_uv: Path, tmp_path: Path) -> None:
    logs: list[str] = []
    bin_dir = flwr_venv.provision(OTHER, log=logs.append)
    assert bin_dir.parent.parent == _cache(tmp_path) and bin_dir.parent.name.startswith(f"{OTHER}-")
    assert flwr_venv.installed_flwr_version(bin_dir) == OTHER
    assert _uv_calls(fake_uv) == ["venv --quiet", "pip install"]
    assert logs[0].startswith(f"provisioning Flower {OTHER} into {bin_dir.parent} ")
    assert logs[-1].startswith(f"Flower {OTHER} ready in ")
    assert "  uv: Installed 59 packages in 1s" in logs and not [line for line in logs if "+ flwr" in line]
    # Only the venv and its lock file are left in the cache: no build directory.
    assert sorted(p.name for p in _cache(tmp_path).iterdir()) == sorted([bin_dir.parent.name, f".{bin_dir.parent.name}.lock"])

    again: list[str] = []
    assert flwr_venv.provision(OTHER, log=again.append) == bin_dir
    assert again == [] and len(_uv_calls(fake_uv)) == 2


def test_an_interrupted_build_is_never_reused(fake_uv: Path, tmp_path: Path) -> None:
    """What a killed build leaves (a build directory; a venv without the completion stamp) is
    removed and built anew, never used."""
    name = flwr_venv.venv_name(OTHER, flwr_venv.lock_text(OTHER))
    cache = _cache(tmp_path)
    half = cache / f".{name}.building-killed" / "venv" / "bin"
    half.mkdir(parents=True)
    (half / "flower-superlink").write_text("")
    unstamped = cache / name / "bin"
    unstamped.mkdir(parents=True)
    (unstamped / "flower-superlink").write_text("")
    (unstamped / "python").symlink_to(sys.executable)
    bin_dir = flwr_venv.provision(OTHER, log=lambda _: None)
    assert bin_dir == unstamped and (cache / name / flwr_venv.STAMP).is_file()
    assert _uv_calls(fake_uv) == ["venv --quiet", "pip install"]
    assert not list(cache.glob(".*.building-*"))


def test_a_venv_whose_python_is_gone_is_rebuilt(fake_uv: Path, tmp_path: Path) -> None:
    bin_dir = flwr_venv.provision(OTHER, log=lambda _: None)
    (bin_dir / "python").unlink()
    (bin_dir / "python").symlink_to(tmp_path / "removed-python3.11")
    assert flwr_venv.provision(OTHER, log=lambda _: None) == bin_dir
    assert len(_uv_calls(fake_uv)) == 4 and (bin_dir / "python").resolve() == Path(sys.executable).resolve()


def test_a_failed_install_leaves_nothing_and_says_why(fake_uv: Path, tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FAKE_UV_FAIL", "1")
    with pytest.raises(RehearsalError) as info:
        flwr_venv.provision(OTHER, log=lambda _: None)
    assert info.value.component == "flwr provisioning" and "`uv pip` failed (exit 2)" in info.value.message
    assert "error: Failed to download numpy" in info.value.log_tail
    assert [p.name for p in _cache(tmp_path).iterdir()] == [f".{flwr_venv.venv_name(OTHER, flwr_venv.lock_text(OTHER))}.lock"]
    monkeypatch.delenv("FAKE_UV_FAIL")
    assert flwr_venv.installed_flwr_version(flwr_venv.provision(OTHER, log=lambda _: None)) == OTHER


def test_an_unwritable_cache_is_refused_with_its_path(fake_uv: Path, tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("HELM_CACHE_HOME", str(tmp_path / "file"))
    with pytest.raises(Refusal) as info:
        flwr_venv.provision(OTHER, log=lambda _: None)
    assert str(tmp_path / "file" / "helm-flower" / "flwr") in info.value.message
    assert "HELM_CACHE_HOME" in info.value.message


def test_two_rehearsals_at_once_build_one_venv(fake_uv: Path, tmp_path: Path) -> None:
    """Two processes provision the same release at once (each uv step takes 2 s): one builds, the
    other waits on the lock and uses the result."""
    script = (f"import sys; from helm_flower.rehearse import flwr_venv as m; m.find_uv = lambda: {str(tmp_path / 'fake-uv')!r}; "
              f"print(m.provision({OTHER!r}))")
    env = {**os.environ, "FAKE_UV_SLEEP": "2", "PYTHONPATH": str(REPO / "plugin" / "src")}
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert outs[0][0] == outs[1][0]
    assert _uv_calls(fake_uv) == ["venv --quiet", "pip install"]
    stderr = outs[0][1] + outs[1][1]
    assert stderr.count("provisioning Flower") == 1 and "waiting for another helm flower" in stderr
    assert "using the venv another run just provisioned" in stderr


# --- which binaries ---------------------------------------------------------------------------------------


def test_an_explicit_venv_or_its_bin_directory_is_used_as_given(fake_uv: Path) -> None:
    venv = PYTHON.parent.parent
    assert flwr_venv.flower_bin_dir(str(venv), OTHER) == venv / "bin"
    assert flwr_venv.flower_bin_dir(str(venv / "bin"), OTHER) == venv / "bin"
    assert _uv_calls(fake_uv) == []  # not provisioned: check_versions refuses a wrong version later


def test_the_environment_variable_is_an_explicit_venv(fake_uv: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(flwr_venv.FLWR_BIN_ENV, str(PYTHON.parent))
    assert flwr_venv.flower_bin_dir(None, OTHER) == PYTHON.parent


def test_an_explicit_directory_without_flower_is_refused(fake_uv: Path, tmp_path: Path) -> None:
    with pytest.raises(Refusal) as info:
        flwr_venv.flower_bin_dir(str(tmp_path), DEFAULT)
    assert info.value.message == (f"--flwr-venv {tmp_path}: no flower-superlink in {tmp_path / 'bin'} or {tmp_path}; "
                                  "expected a venv with flwr installed (or its bin directory)")


def test_the_flwr_next_to_python_is_used_when_it_is_the_charts_version(fake_uv: Path,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", str(PYTHON))
    assert flwr_venv.installed_flwr_version(PYTHON.parent) == DEFAULT
    assert flwr_venv.flower_bin_dir(None, DEFAULT, log=pytest.fail) == PYTHON.parent
    assert _uv_calls(fake_uv) == []


def test_another_version_next_to_python_or_on_path_is_passed_over_for_the_cache(
        fake_uv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "executable", str(PYTHON))
    monkeypatch.setenv("PATH", f"{PYTHON.parent}{os.pathsep}{os.environ['PATH']}")
    logs: list[str] = []
    bin_dir = flwr_venv.flower_bin_dir(None, OTHER, log=logs.append)
    assert bin_dir.parent.parent == _cache(tmp_path) and flwr_venv.installed_flwr_version(bin_dir) == OTHER
    assert logs[0] == f"flwr {DEFAULT} in {PYTHON.parent} is not the chart's Flower {OTHER}: using a venv of {OTHER}"


def test_flwr_bin_is_the_former_name_of_flwr_venv() -> None:
    from helm_flower.rehearse.cli import build_parser

    base = ["--fleet", "f.yaml", "--app", "a"]
    assert build_parser().parse_args([*base, "--flwr-bin", "/v/bin"]).flwr_venv == "/v/bin"
    assert build_parser().parse_args([*base, "--flwr-venv", "/v"]).flwr_venv == "/v"
    assert build_parser().parse_args(base).flwr_venv is None


def test_an_interrupt_during_the_build_kills_uv_and_leaves_nothing(fake_uv: Path, tmp_path: Path) -> None:
    """Ctrl-C while uv runs: uv is killed, the build directory removed, no venv in place."""
    # SIGINT raises KeyboardInterrupt in the child even where the suite runs with SIGINT ignored (a shell starts
    # background jobs so, and Python then leaves it ignored): the test must not depend on how it was started.
    script = (f"import signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
              f"from helm_flower.rehearse import flwr_venv as m; m.find_uv = lambda: {str(tmp_path / 'fake-uv')!r}; "
              f"m.provision({OTHER!r})")
    env = {**os.environ, "FAKE_UV_SLEEP": "30", "PYTHONPATH": str(REPO / "plugin" / "src")}
    proc = subprocess.Popen([sys.executable, "-c", script], env=env, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 20
    while not _uv_calls(fake_uv) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert _uv_calls(fake_uv) == ["venv --quiet"]
    proc.send_signal(signal.SIGINT)
    _, stderr = proc.communicate(timeout=20)
    assert proc.returncode != 0 and "KeyboardInterrupt" in stderr
    assert [p.name for p in _cache(tmp_path).iterdir()] == [f".{flwr_venv.venv_name(OTHER, flwr_venv.lock_text(OTHER))}.lock"]
    assert subprocess.run(["pgrep", "-f", str(tmp_path / "fake-uv")], capture_output=True, check=False).stdout == b""
