"""Local processes of a rehearsal: start, watch, health-check and tear down.

Every process starts in its own session (own process group) and carries the environment
variable ``HELM_FLOWER_REHEARSAL=<id>``, which every descendant inherits: the teardown kills
the process groups it started AND every process on the machine whose environment holds that
marker (the app processes the SuperExecs spawn, anything that started a new session or was
orphaned), then waits until none is left.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .errors import RehearsalError

MARKER_ENV = "HELM_FLOWER_REHEARSAL"
_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
TAIL_LINES = 20


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def strip_ansi(text: str) -> str:
    return _ANSI.sub("", text)


@dataclass
class Proc:
    """One started process."""

    key: str
    name: str  # what the user reads, e.g. "SuperLink (Deployment demo-superlink)"
    argv: list[str]
    env: dict[str, str]
    log_path: Path
    cwd: Path | None = None
    popen: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    @property
    def returncode(self) -> int | None:
        return self.popen.poll() if self.popen else None

    def log_text(self) -> str:
        try:
            return strip_ansi(self.log_path.read_text(errors="replace"))
        except OSError:
            return ""

    def log_tail(self, lines: int = TAIL_LINES) -> str:
        return "\n".join(self.log_text().rstrip().splitlines()[-lines:])


class Supervisor:
    """Starts processes and guarantees that none of them (or their descendants) survives."""

    def __init__(self, marker: str) -> None:
        self.marker = marker
        self.procs: list[Proc] = []

    # -- start -------------------------------------------------------------------

    def start(self, proc: Proc) -> Proc:
        proc.env[MARKER_ENV] = self.marker
        proc.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.procs.append(proc)
        with open(proc.log_path, "ab") as log:
            try:
                proc.popen = subprocess.Popen(  # pylint: disable=consider-using-with
                    proc.argv,
                    env=proc.env,
                    cwd=proc.cwd,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            except OSError as exc:
                raise RehearsalError(f"{proc.name}: cannot start {proc.argv[0]}: {exc}", component=proc.name) from None
        proc.started_at = time.monotonic()
        return proc

    def check_alive(self, procs: Iterable[Proc] | None = None) -> None:
        """Raise RehearsalError naming the first process that has exited."""
        for proc in self.procs if procs is None else procs:
            if proc.popen is not None and not proc.alive():
                raise exited_error(proc)

    # -- health ------------------------------------------------------------------

    def wait_healthy(
        self,
        targets: Sequence[tuple[Proc, str]],
        *,
        timeout: float,
        ca_file: Path | None = None,
        watch: Sequence[Proc] = (),
        interrupted: Callable[[], None] = lambda: None,
        on_ready: Callable[[Proc, float], None] = lambda _p, _s: None,
    ) -> dict[str, float]:
        """Poll ``GET url`` of every (proc, url) until HTTP 200; fail fast if a process exits."""
        context = ssl.create_default_context(cafile=str(ca_file)) if ca_file else None
        handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
        if context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=context))
        opener = urllib.request.build_opener(*handlers)
        pending = dict((proc.key, (proc, url)) for proc, url in targets)
        ready: dict[str, float] = {}
        last_error: dict[str, str] = {}
        start = time.monotonic()
        while pending:
            interrupted()
            self.check_alive([p for p, _ in pending.values()])
            self.check_alive(watch)
            for key, (proc, url) in list(pending.items()):
                try:
                    with opener.open(url, timeout=1.0) as resp:
                        if resp.status == 200:
                            ready[key] = time.monotonic() - proc.started_at
                            del pending[key]
                            on_ready(proc, ready[key])
                            continue
                        last_error[key] = f"HTTP {resp.status}"
                except (urllib.error.URLError, OSError, ssl.SSLError) as exc:
                    last_error[key] = str(getattr(exc, "reason", exc))
            if not pending:
                break
            if time.monotonic() - start > timeout:
                proc, url = next(iter(pending.values()))
                raise RehearsalError(
                    f"{proc.name}: {url} did not answer 200 within {timeout:.0f}s "
                    f"(last error: {last_error.get(proc.key, 'none')})",
                    component=proc.name,
                    log_tail=proc.log_tail(),
                    log_path=str(proc.log_path),
                )
            time.sleep(0.1)
        return ready

    def wait_for_log(
        self,
        procs: Sequence[Proc],
        pattern: re.Pattern[str],
        *,
        timeout: float,
        what: str,
        interrupted: Callable[[], None] = lambda: None,
    ) -> None:
        """Wait until every process's log matches ``pattern`` (e.g. a SuperNode's registration)."""
        pending = list(procs)
        start = time.monotonic()
        while pending:
            interrupted()
            self.check_alive()
            pending = [p for p in pending if not pattern.search(p.log_text())]
            if not pending:
                return
            if time.monotonic() - start > timeout:
                proc = pending[0]
                raise RehearsalError(
                    f"{proc.name}: {what} within {timeout:.0f}s",
                    component=proc.name,
                    log_tail=proc.log_tail(),
                    log_path=str(proc.log_path),
                )
            time.sleep(0.1)

    # -- teardown ----------------------------------------------------------------

    def teardown(self, grace: float = 5.0) -> list[int]:
        """SIGTERM every group and marked process, SIGKILL what is left after ``grace``.

        Returns the pids still alive afterwards (empty unless the kernel refused).
        """
        started = [p for p in self.procs if p.popen is not None]
        for proc in started:
            _signal_group(proc.pid, signal.SIGTERM)
        for pid in marked_pids(self.marker):
            _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline:
            if all(not p.alive() for p in started) and not marked_pids(self.marker):
                break
            time.sleep(0.05)
        for _round in range(50):
            for proc in started:
                _signal_group(proc.pid, signal.SIGKILL)
            left = marked_pids(self.marker)
            for pid in left:
                _signal(pid, signal.SIGKILL)
            for proc in started:
                try:
                    proc.popen.wait(timeout=0.1)  # type: ignore[union-attr]
                except subprocess.TimeoutExpired:
                    pass
            if not left and all(not p.alive() for p in started):
                return []
            time.sleep(0.05)
        return marked_pids(self.marker)


def exited_error(proc: Proc) -> RehearsalError:
    code = proc.returncode
    how = f"signal {-code}" if code is not None and code < 0 else f"code {code}"
    return RehearsalError(
        f"{proc.name} exited with {how}",
        component=proc.name,
        log_tail=proc.log_tail(),
        log_path=str(proc.log_path),
    )


def _signal_group(pid: int | None, sig: int) -> None:
    if pid is None:
        return
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _signal(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def marked_pids(marker: str, proc_root: str = "/proc") -> list[int]:
    """Live (non-zombie) processes whose environment holds ``HELM_FLOWER_REHEARSAL=<marker>``."""
    needle = f"{MARKER_ENV}={marker}".encode()
    found = []
    me = os.getpid()
    try:
        entries = os.listdir(proc_root)
    except OSError:
        return []
    for entry in entries:
        if not entry.isdigit() or int(entry) == me:
            continue
        try:
            with open(f"{proc_root}/{entry}/environ", "rb") as fh:
                if needle not in fh.read().split(b"\0"):
                    continue
            with open(f"{proc_root}/{entry}/stat", "rb") as fh:
                state = fh.read().rsplit(b")", 1)[-1].split()[0]
        except OSError:
            continue
        if state not in (b"Z", b"X"):
            found.append(int(entry))
    return found


def describe_pids(pids: Iterable[int]) -> list[str]:
    out = []
    for pid in pids:
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            cmd = "?"
        out.append(f"{pid} {cmd}")
    return out


def flower_env(base: Mapping[str, str], *, flwr_home: Path, bin_dir: Path, extra: Mapping[str, str] = {}) -> dict[str, str]:
    """The environment of one Flower process (own FLWR_HOME, no telemetry, no update check)."""
    from .mapping import no_proxy  # pylint: disable=import-outside-toplevel

    env = {k: v for k, v in base.items() if not k.startswith("FLWR_") and k != MARKER_ENV}
    env.update(extra)
    env.setdefault("FLWR_HOME", str(flwr_home))
    env["FLWR_TELEMETRY_ENABLED"] = "0"
    env["FLWR_DISABLE_UPDATE_CHECK"] = "1"
    env["PYTHONUNBUFFERED"] = "1"
    env["NO_PROXY"] = no_proxy(env.get("NO_PROXY"))
    env["no_proxy"] = no_proxy(env.get("no_proxy"))
    env["PATH"] = f"{bin_dir}{os.pathsep}{env.get('PATH', '')}"
    Path(env["FLWR_HOME"]).mkdir(parents=True, exist_ok=True)
    return env


@dataclass
class Timer:
    marks: dict[str, float] = field(default_factory=dict)
    start: float = field(default_factory=time.monotonic)

    def mark(self, name: str) -> float:
        self.marks[name] = time.monotonic() - self.start
        return self.marks[name]
