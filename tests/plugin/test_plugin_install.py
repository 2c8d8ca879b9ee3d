"""The plugin installed into the real Helm 4.1.4 and 3.17.3 (isolated HELM_DATA_HOME,
HELM_CONFIG_HOME, HELM_CACHE_HOME, HELM_PLUGINS), from the directory and from the packaged
archive, then used through helm: help, the example values files, the corpus of broken values
files, rendered validation, helm's global flags, and a rehearsal that provisions its own Flower.

Each install runs the install hook, which builds the plugin's virtual environment (pip installs
the locked uv wheel, uv the rest): it is done once per helm version and install mode per session,
the three venv builds in parallel. The tests that use those installs form one pytest-xdist group
(tests/conftest.py): one worker builds them, once, instead of every worker that gets one of them."""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from helm_flower import __version__, flower_versions
from helm_flower.rehearse.processes import marked_pids

REPO = Path(__file__).resolve().parents[2]
PLUGIN = REPO / "plugin"
CHART = REPO / "charts" / "flower-federation"
CI = sorted((CHART / "ci").glob("*-values.yaml"))
CORPUS = sorted((Path(__file__).resolve().parent / "broken-values").glob("*.yaml"))
HELMS = {"4": REPO / ".tools" / "bin" / "helm4", "3": REPO / ".tools" / "bin" / "helm3"}
INSTALLS = [("4", "dir"), ("4", "archive"), ("3", "dir"), ("3", "archive")]
INSTALL_TIMEOUT = 1200
# Values files the chart's own examples get wrong (found by validate): strict xfail, so the
# test says so when the example is fixed.
KNOWN_BAD_CI: dict[str, str] = {}

pytestmark = pytest.mark.helm


# --- building blocks ------------------------------------------------------------------------------


def _copy_plugin(target: Path) -> Path:
    ignore = shutil.ignore_patterns(".venv", ".venv.tmp.*", ".venv.req.*", "__pycache__", "*.pyc")
    shutil.copytree(PLUGIN, target, ignore=ignore)
    return target


def _build_archive(output: Path) -> Path:
    proc = subprocess.run([str(PLUGIN / "build-archive.sh"), str(output)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    return Path(proc.stdout.strip())


class _GzipHandler(SimpleHTTPRequestHandler):
    def guess_type(self, path):  # Helm 3 detects an archive URL by its content type
        return "application/gzip" if str(path).endswith(".tgz") else super().guess_type(path)

    def log_message(self, *args):
        pass


class Helm:
    """One helm binary with its own isolated homes."""

    def __init__(self, version: str, mode: str, root: Path) -> None:
        self.version = version
        self.mode = mode
        self.binary = HELMS[version]
        data = root / "data"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
        self.env.update({"HELM_DATA_HOME": str(data), "HELM_CONFIG_HOME": str(root / "config"),
                         "HELM_CACHE_HOME": str(root / "cache"), "HELM_PLUGINS": str(data / "plugins")})
        self.env.pop("NO_COLOR", None)
        self.install_output = ""

    def command(self, *args: str) -> list[str]:
        return [str(self.binary), *args]

    def __call__(self, *args: str, env: dict | None = None, timeout: int = 300,
                 cwd: Path | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(self.command(*args), capture_output=True, text=True, timeout=timeout,
                              env={**self.env, **(env or {})}, cwd=cwd or REPO, check=False)

    def start(self, *args: str) -> subprocess.Popen:
        return subprocess.Popen(self.command(*args), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                env=self.env, cwd=REPO)


@pytest.fixture(scope="session")
def plugin_source(tmp_path_factory) -> Path:
    return _copy_plugin(tmp_path_factory.mktemp("source") / "flower")


@pytest.fixture(scope="session")
def archive(tmp_path_factory) -> Path:
    return _build_archive(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def archive_url(archive):
    handler = lambda *a, **k: _GzipHandler(*a, directory=str(archive.parent), **k)  # noqa: E731
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/{archive.name}"
    server.shutdown()
    server.server_close()


def _install(tmp_path_factory, keys, plugin_source, archive, archive_url) -> dict[tuple[str, str], Helm]:
    """A fresh helm home per (helm version, mode) in ``keys``, the plugin installed into each, in parallel."""
    # Helm 4 installs a local archive (unsigned: --verify=false); Helm 3 installs archives only from URLs.
    sources = {("4", "dir"): [str(plugin_source)], ("4", "archive"): [str(archive), "--verify=false"],
               ("3", "archive"): [archive_url], ("3", "dir"): [str(plugin_source)]}
    helms = {key: Helm(key[0], key[1], tmp_path_factory.mktemp(f"helm{key[0]}-{key[1]}")) for key in keys}
    started = {key: helm.start("plugin", "install", *sources[key]) for key, helm in helms.items()}
    for key, proc in started.items():
        out, _ = proc.communicate(timeout=INSTALL_TIMEOUT)
        helms[key].install_output = out
        assert proc.returncode == 0, f"helm{key[0]} plugin install ({key[1]}) failed:\n{out}"
    return helms


@pytest.fixture(scope="session")
def installed(tmp_path_factory, plugin_source, archive, archive_url) -> dict[tuple[str, str], Helm]:
    """helm (4|3) x (dir|archive) with the plugin installed; the venv builds run in parallel."""
    started = time.monotonic()
    helms = _install(tmp_path_factory, [("4", "dir"), ("4", "archive"), ("3", "archive")],
                     plugin_source, archive, archive_url)
    # The same source directory again: its venv is already built, the hook keeps it.
    helms |= _install(tmp_path_factory, [("3", "dir")], plugin_source, archive, archive_url)
    print(f"\n[plugin install] 4 installs (3 venv builds in parallel) in {time.monotonic() - started:.1f} s")
    return helms


@pytest.fixture(params=INSTALLS, ids=lambda k: f"helm{k[0]}-{k[1]}")
def helm(request, installed) -> Helm:
    return installed[request.param]


# --- installing -----------------------------------------------------------------------------------


def test_plugin_is_listed(helm):
    proc = helm("plugin", "list")
    assert proc.returncode == 0
    assert re.search(rf"^flower\s+{re.escape(__version__)}\s", proc.stdout, re.M), proc.stdout


def test_install_hook_built_a_private_venv(helm):
    plugins = Path(helm.env["HELM_DATA_HOME"]) / "plugins"
    folder = next(p for p in plugins.iterdir() if p.is_dir() and (p / "plugin.yaml").is_file())
    venv = folder.resolve() / ".venv"
    assert (venv / "bin" / "python").exists() and (venv / ".helm-flower-stamp").is_file()
    if (helm.version, helm.mode) == ("3", "dir"):
        assert "up to date" in helm.install_output  # reused the venv the helm 4 install built
    proc = subprocess.run([str(venv / "bin" / "python"), "-c", "import sys; print(sys.prefix)"],
                          capture_output=True, text=True, check=True)
    assert Path(proc.stdout.strip()).resolve() == venv.resolve()


def test_install_hook_is_idempotent(plugin_source, installed):
    started = time.monotonic()
    proc = subprocess.run([str(plugin_source / "scripts" / "install.sh")], capture_output=True, text=True,
                          env={**os.environ, "HELM_PLUGIN_DIR": str(plugin_source)}, timeout=120, check=False)
    assert proc.returncode == 0 and "up to date" in proc.stderr
    print(f"\n[install hook] up-to-date check took {time.monotonic() - started:.2f} s")


def _locked_uv_version() -> str:
    return _lock_pins()["uv"]


def _installers(venv: Path) -> dict[str, str]:
    """locked distribution -> the tool that installed it (the INSTALLER file of its .dist-info);
    what `python -m venv` put there itself (pip) is left out."""
    site = next((venv / "lib").glob("python3*/site-packages"))
    found = {re.sub(r"[-_.]+", "-", d.name.split("-")[0]).lower(): (d / "INSTALLER").read_text().strip()
             for d in site.glob("*.dist-info") if (d / "INSTALLER").is_file()}
    return {name: tool for name, tool in found.items() if name in _lock_pins()}


def _venv_of(helm: Helm) -> Path:
    plugins = Path(helm.env["HELM_DATA_HOME"]) / "plugins"
    return next(p for p in plugins.iterdir() if p.is_dir() and (p / "plugin.yaml").is_file()).resolve() / ".venv"


def test_install_hook_installs_the_lock_with_uv(helm):
    """pip installs only the locked uv wheel; uv installs every other locked package."""
    if (helm.version, helm.mode) != ("3", "dir"):  # that one reused the venv the helm 4 install built
        assert f"installed with uv {_locked_uv_version()}" in helm.install_output, helm.install_output
        assert "installing with pip instead" not in helm.install_output
    installers = _installers(_venv_of(helm))
    assert installers.pop("uv") == "pip"
    assert set(installers) == set(_lock_pins()) - {"uv"}
    assert set(installers.values()) == {"uv"}, installers


@pytest.mark.slow
def test_install_hook_falls_back_to_pip_where_uv_cannot_be_installed(tmp_path):
    """Where pip cannot install the locked uv wheel (here: pip is configured with a constraint
    that excludes that version, as a wheel source without uv for the platform would), the hook
    says so in one line and pip installs the rest of the lock, hash-checked as before."""
    copy = _copy_plugin(tmp_path / "flower")
    constraints = tmp_path / "constraints.txt"
    constraints.write_text("uv==0.0.0\n")
    env = {**os.environ, "HELM_PLUGIN_DIR": str(copy), "PIP_CONSTRAINT": str(constraints)}
    proc = subprocess.run([str(copy / "scripts" / "install.sh")], capture_output=True, text=True, env=env,
                          timeout=INSTALL_TIMEOUT, check=False)
    assert proc.returncode == 0, proc.stderr
    fallback = [line for line in proc.stderr.splitlines() if "uv cannot install here" in line]
    assert fallback == [
        f"helm flower: uv cannot install here (pip could not install the locked uv wheel: ERROR: Cannot install "
        f"uv=={_locked_uv_version()} because these package versions have conflicting dependencies.); "
        "installing with pip instead (slower)"], proc.stderr
    assert proc.stderr.rstrip().endswith("installed with pip)"), proc.stderr
    installers = _installers(copy / ".venv")
    assert set(installers) == set(_lock_pins()) - {"uv"}  # all but uv
    assert set(installers.values()) == {"pip"}, installers
    assert not list(copy.glob(".venv.*")), "the hook left its work files behind"
    run = subprocess.run([str(copy / "bin" / "helm-flower"), "--help"], capture_output=True, text=True,
                         env={**os.environ, "HELM_PLUGIN_DIR": str(copy)}, check=False)
    assert run.returncode == 0 and "usage: helm flower" in run.stdout, run.stderr


def test_launcher_without_venv_explains(tmp_path):
    copy = _copy_plugin(tmp_path / "flower")
    proc = subprocess.run([str(copy / "bin" / "helm-flower"), "--help"], capture_output=True, text=True,
                          env={**os.environ, "HELM_PLUGIN_DIR": str(copy)}, check=False)
    assert proc.returncode == 2 and "Python environment is missing" in proc.stderr


# --- using it through helm ------------------------------------------------------------------------


def test_help_through_helm(helm):
    proc = helm("flower", "--help")
    assert proc.returncode == 0 and "usage: helm flower" in proc.stdout and "validate" in proc.stdout
    proc = helm("flower", "validate", "--help")
    assert proc.returncode == 0 and "--set-string" in proc.stdout


def test_help_wall_time_is_python_start_up(helm):
    """Print (not assert) how `helm flower --help` compares with its parts."""
    plugins = Path(helm.env["HELM_DATA_HOME"]) / "plugins"
    folder = next(p for p in plugins.iterdir() if p.is_dir() and (p / "plugin.yaml").is_file()).resolve()
    python = folder / ".venv" / "bin" / "python"

    def median(command: list[str]) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            subprocess.run(command, capture_output=True, env=helm.env, check=False)
            times.append(time.perf_counter() - started)
        return statistics.median(times)

    total = median(helm.command("flower", "--help"))
    bare_helm = median(helm.command("version", "--short"))
    bare_python = median([str(python), "-I", "-c", "pass"])
    imports = median([str(python), "-I", "-c", "import helm_flower.cli"])
    print(f"\n[helm{helm.version}] helm flower --help {total * 1000:.0f} ms = helm {bare_helm * 1000:.0f} ms "
          f"+ python start-up {bare_python * 1000:.0f} ms + CLI imports {(imports - bare_python) * 1000:.0f} ms "
          f"(+ rest {(total - bare_helm - imports) * 1000:.0f} ms)")


def test_isolated_from_the_callers_python(helm, tmp_path):
    (tmp_path / "yaml.py").write_text("raise SystemExit('shadowed')\n")
    proc = helm("flower", "validate", str(CHART), "-o", "json", cwd=tmp_path,
                env={"PYTHONPATH": str(tmp_path), "PYTHONHOME": "/nonexistent"})
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["errors"] == 0


def test_chart_defaults_to_the_checkout_only(helm, tmp_path):
    proc = helm("flower", "validate", "-o", "json", cwd=REPO / "charts")
    assert proc.returncode == 0, proc.stderr
    assert (REPO / "charts" / json.loads(proc.stdout)["chart"]).resolve() == CHART
    proc = helm("flower", "validate", cwd=tmp_path)  # the installed plugin is not in a checkout
    assert proc.returncode == 2 and "CHART is required" in proc.stderr


def test_global_flags_through_helm(helm):
    namespace = "n" * 53  # too long for ClientApp names under OCM's label: FLW250 names it
    proc = helm("flower", "validate", str(CHART), "-o", "json", "-n", namespace, "--kube-context", "hub")
    assert proc.returncode == 1, proc.stderr
    data = json.loads(proc.stdout)
    assert data["namespace"] == namespace
    assert any(f["rule"] == "FLW250" and f["message"].startswith(f"namespace {namespace!r}") for f in data["findings"])


def test_debug_through_helm(helm, tmp_path):
    proc = helm("flower", "validate", str(CHART), "-f", str(tmp_path), "--debug")
    assert proc.returncode == 2 and "is a directory" in proc.stdout and "Traceback" not in proc.stderr


def _params(items, marks=None):
    marks = marks or {}
    return [pytest.param(p, id=p.name, marks=marks.get(p.name, ())) for p in items]


@pytest.mark.parametrize("values", _params(CI, {name: pytest.mark.xfail(reason=why, strict=True)
                                               for name, why in KNOWN_BAD_CI.items()}))
def test_ci_values_pass_through_helm(helm, values):
    proc = helm("flower", "validate", str(CHART), "-f", str(values))
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_corpus_through_helm(helm):
    def one(path: Path) -> str | None:
        lines = path.read_bytes().split(b"\n", 3)[:3]
        expect = lines[0].decode().removeprefix("# expect: ").strip()
        args = next((shlex.split(line.decode()[len("# args: "):]) for line in lines[1:]
                     if line.startswith(b"# args: ")), [])
        proc = helm("flower", "validate", str(CHART), "-f", str(path), *args, "-o", "json")
        want = 2 if expect.startswith("FLW0") else 1
        if "Traceback" in proc.stderr or proc.returncode != want:
            return f"{path.name}: exit {proc.returncode} (want {want}) {proc.stderr[-300:]}"
        findings = json.loads(proc.stdout)["findings"]
        if not any(expect in (f["rule"], f["path"]) for f in findings):
            return f"{path.name}: {expect} not reported: {[(f['rule'], f['path']) for f in findings]}"
        return None

    assert len(CORPUS) >= 25
    with ThreadPoolExecutor(max_workers=4) as pool:
        problems = [p for p in pool.map(one, CORPUS) if p]
    assert problems == []


def test_rendered_through_helm(helm, ocm_crds_dir):
    proc = helm("flower", "validate", str(CHART), "-f", str(CHART / "ci" / "placements-values.yaml"),
                "--rendered", "--crds", str(ocm_crds_dir), "-o", "json")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr
    notes = json.loads(proc.stdout)["notes"]
    assert any(n.startswith("validated ") for n in notes)


# --- rehearse from the installed plugin ---------------------------------------------------------------


def _rehearse(helm: Helm, cache: Path, *args: str) -> tuple[subprocess.CompletedProcess, dict]:
    """`helm flower rehearse` of the checkout's chart and digits app on the sample fleet, one round, with
    a PATH without flwr (nor python: only the plugin's own venv) and Helm's cache home ``cache``."""
    marker = f"test-plugin-rehearse-{uuid.uuid4().hex}"
    env = {"PATH": os.pathsep.join(["/usr/bin", "/bin"]), "HELM_CACHE_HOME": str(cache),
           "HELM_FLOWER_REHEARSAL_ID": marker}
    assert shutil.which("flower-superlink", path=env["PATH"]) is None
    proc = helm("flower", "rehearse", str(CHART), "--fleet", str(REPO / "examples" / "fleet.yaml"),
                "--app", str(REPO / "flower-apps" / "digits"), "--rounds", "1", "-o", "json", *args,
                env=env, timeout=900)
    assert marked_pids(marker) == [], "processes of the rehearsal survived"
    try:
        return proc, json.loads(proc.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"no JSON summary (exit {proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")


@pytest.mark.e2e
def test_rehearse_provisions_flower_once_per_cache(installed, tmp_path_factory):
    """The packaged plugin, installed in Helm 4 then used from Helm 3 with the same Helm cache home and
    no flwr anywhere: the first rehearsal provisions the chart's Flower release into
    $HELM_CACHE_HOME/helm-flower/flwr/<release>-<key> (uv, from the lock shipped in the plugin) and
    trains one round with it; the second finds it there, says nothing about provisioning, and resolves
    its binaries in a fraction of the time. --flwr-venv (an existing venv of another version) goes
    through Helm too and is refused, not replaced."""
    cache = tmp_path_factory.mktemp("helm-cache-rehearse")
    release = flower_versions.default_version()
    runs = {}
    for version in ("4", "3"):
        proc, summary = _rehearse(installed[(version, "archive")], cache)
        assert proc.returncode == 0 and summary["ok"], proc.stderr[-4000:]
        assert summary["status"] == "finished:completed" and summary["rounds_completed"] == 1
        assert summary["flwr_version"] == release
        runs[version] = (proc, summary)
    venvs = list((cache / "helm-flower" / "flwr").glob(f"{release}-*"))
    assert len(venvs) == 1 and (venvs[0] / "bin" / "flower-superlink").exists(), venvs
    assert not list((cache / "helm-flower" / "flwr").glob(".*.building-*"))
    cold, warm = runs["4"], runs["3"]
    assert f"helm flower: provisioning Flower {release} into {venvs[0]} " in cold[0].stderr, cold[0].stderr[-3000:]
    assert f"helm flower: Flower {release} ready in " in cold[0].stderr
    assert "provisioning" not in warm[0].stderr and "uv:" not in warm[0].stderr, warm[0].stderr[-3000:]
    for _, summary in runs.values():  # every Flower process ran from the cached venv
        programs = {Path(p["argv"][0]).parent for p in summary["processes"]}
        assert programs == {venvs[0] / "bin"}, programs
    cold_s, warm_s = cold[1]["timings"]["flwr"], warm[1]["timings"]["flwr"]
    print(f"\n[rehearse] Flower {release} binaries: provisioned in {cold_s:.1f} s (helm4), reused in {warm_s:.2f} s "
          f"(helm3); whole runs {cold[1]['wall_seconds']:.0f} s and {warm[1]['wall_seconds']:.0f} s")
    assert warm_s < 2 and warm_s * 5 < cold_s

    other = next(m["release"] for m in flower_versions.table()["minors"].values() if m["release"] != release)
    proc, summary = _rehearse(installed[("4", "archive")], cache, "--set", f"global.flower.version={other}",
                              "--flwr-venv", str(venvs[0]))
    assert proc.returncode == 2 and summary["error"]["component"] == "flwr version", proc.stderr[-3000:]
    assert f"Flower {other}" in summary["error"]["message"] and f"flwr {release}" in summary["error"]["message"]
    assert summary["processes"] == [] and "provisioning" not in proc.stderr


# --- packaging ------------------------------------------------------------------------------------


def test_archive_layout_and_reproducibility(tmp_path):
    archive = _build_archive(tmp_path / "one")
    again = _build_archive(tmp_path / "two")
    assert archive.read_bytes() == again.read_bytes()  # same sources, same bytes
    assert archive.name == f"helm-flower-{__version__}.tgz"
    digest = (archive.parent / f"{archive.name}.sha256").read_text().split()[0]
    assert digest == hashlib.sha256(archive.read_bytes()).hexdigest()
    with tarfile.open(archive) as tar:
        names = tar.getnames()
        modes = {m.name: m.mode for m in tar.getmembers()}
    for root in ("", "helm-flower/"):  # Helm 3 (URL) reads the root, Helm 4 (local file) helm-flower/
        assert f"{root}plugin.yaml" in names and f"{root}src/helm_flower/cli.py" in names
        locks = {n for n in names if n.startswith(f"{root}src/helm_flower/flower_locks/")}
        releases = [m["release"] for m in flower_versions.table()["minors"].values()]
        assert locks == {f"{root}src/helm_flower/flower_locks/flwr-{r}.lock" for r in releases}  # what rehearse provisions
        assert f"{root}schemas/fleet.schema.json" in names  # rehearse --fleet
        assert modes[f"{root}bin/helm-flower"] & 0o111 and modes[f"{root}scripts/install.sh"] & 0o111
    assert not [n for n in names if ".venv" in n or "__pycache__" in n or n.startswith(("/", "./"))]


def test_versions_agree():
    plugin_yaml = (PLUGIN / "plugin.yaml").read_text()
    pyproject = (PLUGIN / "pyproject.toml").read_text()
    assert re.search(rf"^version: {re.escape(__version__)}$", plugin_yaml, re.M)
    assert f'version = "{__version__}"' in pyproject
    assert 'helm-flower = "helm_flower.cli:main"' in pyproject
    assert re.search(r"^name: flower$", plugin_yaml, re.M)


def _lock_pins() -> dict[str, str]:
    text = (PLUGIN / "requirements.lock").read_text()
    return {re.sub(r"[-_.]+", "-", m.group(1)).lower(): m.group(2)
            for m in re.finditer(r"^([A-Za-z0-9._-]+)==(\S+) \\$", text, re.M)}


def test_lock_is_generated_from_the_project_lock():
    proc = subprocess.run([sys.executable, str(PLUGIN / "tools" / "make_lock.py"), "--check"],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    project = (REPO / "hack" / "requirements.lock").read_text()
    for name, version in _lock_pins().items():
        assert re.search(rf"^{re.escape(name)}=={re.escape(version)} ", project.replace("_", "-"), re.M | re.I)


def test_lock_is_closed_under_dependencies():
    """Every Requires-Dist (for this platform) of every locked package is locked too."""
    from packaging.markers import default_environment
    from packaging.requirements import Requirement

    pins = _lock_pins()
    environment = default_environment()
    missing = []
    for name in pins:
        for text in importlib.metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker and not requirement.marker.evaluate({**environment, "extra": ""}):
                continue
            if re.sub(r"[-_.]+", "-", requirement.name).lower() not in pins:
                missing.append(f"{name} -> {requirement}")
    assert missing == []
    pyproject = (PLUGIN / "pyproject.toml").read_text()
    direct = re.findall(r'^  "([A-Za-z0-9._-]+)', pyproject, re.M)
    assert {re.sub(r"[-_.]+", "-", d).lower() for d in direct} <= set(pins)
