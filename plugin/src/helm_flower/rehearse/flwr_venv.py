"""The Flower binaries a rehearsal runs (flower-superlink, flower-supernode, flower-superexec, flwr).

Where they come from, in order:

1. ``--flwr-venv DIR`` (or ``$HELM_FLOWER_FLWR_BIN``): a venv or its bin directory, used as given;
2. the flwr next to the running Python, or on PATH, when it is the chart's Flower version;
3. a venv of the chart's Flower release in the cache, provisioned on first use from the plugin's
   own hash lock (``helm_flower/flower_locks/flwr-<release>.lock``, flwr and the digits app's
   packages) with uv, and reused after.

The cache is ``$HELM_CACHE_HOME/helm-flower/flwr/<release>-<key>``: Helm exports HELM_CACHE_HOME to
plugins (``helm env``); run outside Helm it is Helm's default, ``${XDG_CACHE_HOME:-~/.cache}/helm``
(``~/Library/Caches/helm`` on macOS). ``<key>`` digests the lock and the Python the venv is made
with, so a new lock or Python gets a new venv and never a half-matching one. A venv is built in a
temporary directory beside it and renamed into place only once complete (rename is atomic), under
an exclusive file lock per venv: two rehearsals at once build it once, and a build that was
interrupted is never used (the next build removes its leftovers).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator
from importlib import resources
from pathlib import Path

from .. import flower_versions
from .errors import Refusal, RehearsalError

FLWR_BIN_ENV = "HELM_FLOWER_FLWR_BIN"
PROGRAM = "flower-superlink"  # the binary that tells a directory holds Flower's programs
STAMP = ".helm-flower-provisioned"

Log = Callable[[str], None]


def stderr_log(line: str) -> None:
    print(f"helm flower: {line}", file=sys.stderr, flush=True)


# --- which binaries ----------------------------------------------------------


def flower_bin_dir(explicit: str | None, chart_version: str, log: Log = stderr_log) -> Path:
    """The bin directory of the Flower to rehearse ``chart_version`` with (see the module's doc)."""
    given = explicit or os.environ.get(FLWR_BIN_ENV)
    if given:
        return explicit_bin_dir(given, "--flwr-venv" if explicit else f"${FLWR_BIN_ENV}")
    local = [Path(sys.executable).parent]
    on_path = shutil.which(PROGRAM)
    if on_path:
        local.append(Path(on_path).parent)
    for candidate in local:
        if not (candidate / PROGRAM).exists():
            continue
        version = installed_flwr_version(candidate)
        if version == chart_version:
            return candidate
        log(f"flwr {version} in {candidate} is not the chart's Flower {chart_version}: using a venv of {chart_version}")
    return provision(chart_version, log)


def explicit_bin_dir(given: str, source: str) -> Path:
    """``given`` is a venv (``DIR/bin/flower-superlink``) or its bin directory (``DIR/flower-superlink``)."""
    path = Path(given).expanduser()
    for candidate in (path / "bin", path):
        if (candidate / PROGRAM).exists():
            return candidate
    raise Refusal(
        f"{source} {given}: no {PROGRAM} in {path / 'bin'} or {path}; expected a venv with flwr installed "
        "(or its bin directory)",
        component="flwr",
    )


def installed_flwr_version(bin_dir: Path) -> str | None:
    """The flwr version installed next to ``bin_dir`` (dist-info), without starting Python."""
    for pattern in ("../lib/python*/site-packages/flwr-*.dist-info", "../lib64/python*/site-packages/flwr-*.dist-info"):
        for dist in sorted(bin_dir.glob(pattern)):
            name = dist.name[len("flwr-") : -len(".dist-info")]
            if name:
                return name
    if bin_dir.resolve() == Path(sys.executable).parent.resolve():
        from importlib import metadata  # pylint: disable=import-outside-toplevel

        with contextlib.suppress(metadata.PackageNotFoundError):
            return metadata.version("flwr")
    try:
        out = subprocess.run(
            [str(bin_dir / "flwr"), "--version"], capture_output=True, text=True, timeout=60, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    match = re.search(r"(\d+\.\d+\.\d+\S*)", out)
    return match.group(1) if match else None


def require_chart_version(chart_version: str | None) -> str:
    if chart_version is None:
        raise Refusal(
            "cannot tell the chart's Flower version (no app.kubernetes.io/version label on the SuperLink)",
            component="flwr version",
        )
    return chart_version


def check_versions(chart_version: str | None, installed: str | None) -> None:
    """Refuse (exit 2) unless the chart's global.flower.version equals the installed flwr."""
    require_chart_version(chart_version)
    if installed is None:
        raise Refusal("cannot tell the installed flwr version", component="flwr version")
    if chart_version != installed:
        raise Refusal(
            f"the chart deploys Flower {chart_version} (global.flower.version) but flwr {installed} is "
            f"installed here; a rehearsal with other binaries proves nothing. Leave out --flwr-venv (the "
            f"rehearsal then provisions Flower {chart_version} itself), point it at a venv with "
            f"flwr=={chart_version}, or rehearse with --set global.flower.version={installed}",
            component="flwr version",
        )


# --- the cache ---------------------------------------------------------------


def supported_releases() -> list[str]:
    """The Flower releases this plugin can provision, newest first."""
    return [flower_versions.table()["minors"][m]["release"] for m in flower_versions.supported_minors()]


def lock_text(release: str) -> bytes:
    """The hash lock of ``release`` shipped in the plugin; refuses a release without one."""
    lock = resources.files(flower_versions.__package__).joinpath("flower_locks", f"flwr-{release}.lock")
    if release not in supported_releases() or not lock.is_file():
        raise Refusal(
            f"the chart deploys Flower {release} (global.flower.version), which this plugin cannot provision: "
            f"it supports {', '.join(supported_releases())}. Rehearse with --set global.flower.version=<one of "
            "those>, or pass --flwr-venv DIR with that flwr installed",
            component="flwr version",
        )
    return lock.read_bytes()


def cache_root() -> Path:
    """Where provisioned Flower venvs live: ``<Helm's cache home>/helm-flower/flwr``."""
    helm_cache = os.environ.get("HELM_CACHE_HOME")
    if not helm_cache:
        default = "~/Library/Caches" if sys.platform == "darwin" else "~/.cache"
        helm_cache = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser(default), "helm")
    return Path(helm_cache) / "helm-flower" / "flwr"


def venv_name(release: str, lock: bytes) -> str:
    digest = hashlib.sha256(lock)
    digest.update(f"\0{sys.version}\0{sys.base_prefix}".encode())
    return f"{release}-{digest.hexdigest()[:12]}"


def is_complete(venv: Path) -> bool:
    """A venv renamed into place whose Python still exists (its base interpreter may be gone)."""
    return (venv / STAMP).is_file() and (venv / "bin" / PROGRAM).exists() and (venv / "bin" / "python").exists()


def provision(release: str, log: Log = stderr_log) -> Path:
    """The bin directory of the cached venv of Flower ``release``, built first if needed."""
    lock = lock_text(release)
    root = cache_root()
    name = venv_name(release, lock)
    venv = root / name
    if is_complete(venv):
        return venv / "bin"
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise Refusal(f"cannot create the Flower cache {root}: {exc.strerror}; set HELM_CACHE_HOME to a "
                      "writable directory or pass --flwr-venv DIR", component="flwr cache") from None
    with _exclusive(root / f".{name}.lock", log, venv):
        if is_complete(venv):  # another rehearsal built it while this one waited
            log(f"Flower {release}: using the venv another run just provisioned ({venv})")
            return venv / "bin"
        _build(release, lock, root, name, log)
    return venv / "bin"


@contextlib.contextmanager
def _exclusive(path: Path, log: Log, venv: Path) -> Iterator[None]:
    with open(path, "a", encoding="utf-8") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            log(f"waiting for another helm flower to finish provisioning {venv}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(release: str, lock: bytes, root: Path, name: str, log: Log) -> None:
    """Build the venv in a temporary directory, then rename it into place. Called under the lock."""
    venv = root / name
    for leftover in root.glob(f".{name}.building-*"):  # interrupted builds: nobody else builds this name
        shutil.rmtree(leftover, ignore_errors=True)
    uv = find_uv()
    work = Path(tempfile.mkdtemp(prefix=f".{name}.building-", dir=root))
    try:
        if venv.exists():  # incomplete (e.g. its Python is gone): replaced
            venv.rename(work / "stale")
        started = time.monotonic()
        log(f"provisioning Flower {release} into {venv} (once; uv, hash-checked from flwr-{release}.lock)")
        lock_file = work / f"flwr-{release}.lock"
        lock_file.write_bytes(lock)
        building = work / "venv"
        # --relocatable: the console scripts find their Python relative to themselves, so the rename works.
        _uv(log, uv, "venv", "--quiet", "--relocatable", "--python", sys.executable, str(building))
        _uv(log, uv, "pip", "install", "--python", str(building / "bin" / "python"), "--require-hashes",
            "--no-deps", "--compile-bytecode", "-r", str(lock_file))
        installed = installed_flwr_version(building / "bin")
        if installed != release or not (building / "bin" / PROGRAM).exists():
            raise RehearsalError(f"the venv built from flwr-{release}.lock has flwr {installed}, not {release}",
                                 component="flwr provisioning")
        (building / STAMP).write_text(f"flwr {release}\npython {sys.version.split()[0]}\n", encoding="utf-8")
        building.rename(venv)
        log(f"Flower {release} ready in {time.monotonic() - started:.0f} s ({venv})")
    finally:
        shutil.rmtree(work, ignore_errors=True)


def find_uv() -> str:
    """uv from the plugin's own venv (its install hook puts it there), else from PATH."""
    for candidate in (Path(sys.executable).parent / "uv", shutil.which("uv")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise Refusal(
        f"provisioning Flower needs uv, found neither next to {sys.executable} nor on PATH (the plugin's "
        "install hook leaves uv out where uv could not install, and says why); install uv on PATH, or pass "
        "--flwr-venv DIR",
        component="flwr provisioning",
    )


def _uv(log: Log, uv: str, *args: str) -> None:
    """Run uv, its output line by line to ``log`` (the progress); fail with its last lines."""
    tail: deque[str] = deque(maxlen=15)
    with subprocess.Popen([uv, *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                          stdin=subprocess.DEVNULL) as proc:
        assert proc.stdout is not None
        try:
            for line in proc.stdout:
                if line.strip():
                    tail.append(line.rstrip())
                if line.strip() and not line.lstrip().startswith("+ "):  # one line per package: the count says it
                    log(f"  uv: {line.rstrip()}")
        except BaseException:  # interrupted: uv must not go on writing into a directory about to be removed
            proc.kill()
            raise
    if proc.returncode != 0:
        raise RehearsalError(f"`uv {args[0]}` failed (exit {proc.returncode}) while provisioning Flower",
                             component="flwr provisioning", log_tail="\n".join(tail))
