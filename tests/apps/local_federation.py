"""Start a plain (hand-made, no Kubernetes) Flower 1.41 federation on 127.0.0.1.

Layout, all with process isolation, each process in its own process group and with
its own ``FLWR_HOME`` under a work directory::

    flower-superlink  --isolation process --disable-runtime-dependency-installation
      flower-superexec --runtime-api-address <superlink>        (runs the ServerApp)
    flower-supernode  --isolation process
                      --node-config "partition-id=i num-partitions=n"
      flower-superexec --runtime-api-address <supernode i>      (runs the ClientApps)

then ``flwr run <app_dir> <connection> --stream`` with a ``config.toml`` written into a
CLI-only ``FLWR_HOME``. Everything binds to free high ports on 127.0.0.1.

The Flower binaries are taken from ``FLOWER_OCM_FLWR_BIN`` if set, else from the
directory of the running Python (a venv's ``bin``). That environment must also hold
the app's dependencies (runtime dependency installation is disabled).

Typical use::

    result = run_plain_federation("flower-apps/digits", num_nodes=2)
    result.finished, result.accuracies, result.wall_seconds

or, to keep the federation up across several runs::

    with LocalFederation(num_nodes=3, tls=True) as fed:
        r1 = fed.run("flower-apps/digits")
        r2 = fed.run("flower-apps/digits", run_config={"num-server-rounds": 1})
"""

from __future__ import annotations

import datetime as _dt
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "FederationError",
    "FederationResult",
    "LocalFederation",
    "ManagedProcess",
    "TlsMaterial",
    "flower_bin_dir",
    "flower_env",
    "format_config",
    "free_port",
    "make_tls_material",
    "parse_central_metrics",
    "run_flwr",
    "run_plain_federation",
    "stop_all",
    "wait_for_health",
    "write_cli_config",
]

HOST = "127.0.0.1"
CONNECTION = "local"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_RUN_ID = re.compile(r"Successfully started run (\d+)")
_EVAL_MARKER = "DIGITS_EVAL"
_RESULT_MARKER = "DIGITS_RESULT"


class FederationError(RuntimeError):
    """A component failed to start, died, or a run could not be submitted."""


# --------------------------------------------------------------------------- helpers


def free_port(host: str = HOST) -> int:
    """A currently free TCP port on ``host`` (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def flower_bin_dir() -> Path:
    """Directory holding ``flower-superlink``, ``flwr`` etc."""
    env = os.environ.get("FLOWER_OCM_FLWR_BIN")
    candidates = [Path(env)] if env else []
    candidates.append(Path(sys.executable).parent)
    for cand in candidates:
        if (cand / "flower-superlink").exists():
            return cand
    found = shutil.which("flower-superlink")
    if found:
        return Path(found).parent
    raise FederationError(
        "flower-superlink not found; set FLOWER_OCM_FLWR_BIN to a venv's bin directory"
    )


def _no_proxy(current: str | None) -> str:
    extra = [h for h in (HOST, "localhost") if h not in (current or "").split(",")]
    return ",".join(filter(None, [current, *extra]))


def flower_env(
    flwr_home: Path, bin_dir: Path, extra: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Environment for one Flower process: own FLWR_HOME, no telemetry/update check."""
    env = dict(os.environ)
    env.update(
        {
            "FLWR_HOME": str(flwr_home),
            "FLWR_TELEMETRY_ENABLED": "0",
            "FLWR_DISABLE_UPDATE_CHECK": "1",
            "PYTHONUNBUFFERED": "1",
            # Never send loopback traffic through an HTTP(S) proxy from the env.
            "NO_PROXY": _no_proxy(env.get("NO_PROXY")),
            "no_proxy": _no_proxy(env.get("no_proxy")),
            # Process isolation: we start every SuperExec ourselves, but keep the
            # venv first on PATH in case anything is spawned by bare name.
            "PATH": f"{bin_dir}{os.pathsep}{env.get('PATH', '')}",
        }
    )
    if extra:
        env.update(extra)
    flwr_home.mkdir(parents=True, exist_ok=True)
    return env


@dataclass
class ManagedProcess:
    """A long-running Flower process in its own process group, logging to a file."""

    name: str
    args: list[str]
    env: dict[str, str]
    log_path: Path
    popen: subprocess.Popen[bytes] | None = None

    def start(self) -> ManagedProcess:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_path, "wb") as log:
            self.popen = subprocess.Popen(  # pylint: disable=consider-using-with
                self.args,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group -> killpg on teardown
            )
        return self

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    @property
    def returncode(self) -> int | None:
        return self.popen.poll() if self.popen else None

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(_ANSI.sub("", text).splitlines()[-lines:])

    def stop(self, grace: float = 5.0) -> int | None:
        """SIGTERM the process group, then SIGKILL it after ``grace`` seconds."""
        if self.popen is None:
            return None
        pgid = self.popen.pid  # start_new_session: pgid == pid
        for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.popen.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            # The leader is gone; make sure no child of it survives either.
            try:
                os.killpg(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            break
        return self.popen.poll()


def stop_all(processes: Sequence[ManagedProcess], grace: float = 5.0) -> None:
    """Stop processes together: SIGTERM every process group at once, then wait for each (SIGKILL
    what is left after ``grace``). A teardown takes the slowest process's time, not the sum."""
    for proc in processes:
        if proc.alive():
            try:
                os.killpg(proc.popen.pid, signal.SIGTERM)  # type: ignore[union-attr]
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace
    for proc in processes:
        proc.stop(grace=max(0.0, deadline - time.monotonic()))


def _opener(ssl_context: ssl.SSLContext | None) -> urllib.request.OpenerDirector:
    # No proxies: the endpoints are on loopback.
    handlers: list[urllib.request.BaseHandler] = [urllib.request.ProxyHandler({})]
    if ssl_context is not None:
        handlers.append(urllib.request.HTTPSHandler(context=ssl_context))
    return urllib.request.build_opener(*handlers)


def wait_for_health(
    url: str,
    timeout: float = 60.0,
    *,
    ssl_context: ssl.SSLContext | None = None,
    process: ManagedProcess | None = None,
    interval: float = 0.1,
) -> float:
    """Poll ``GET url`` until HTTP 200; return the seconds waited.

    Raises ``FederationError`` on timeout or if ``process`` exits meanwhile.
    """
    start = time.monotonic()
    last_err: object = None
    while True:
        if process is not None and not process.alive():
            raise FederationError(
                f"{process.name} exited with {process.returncode}"
                f" before {url} was healthy:\n{process.log_tail()}"
            )
        try:
            with _opener(ssl_context).open(url, timeout=2.0) as resp:
                if resp.status == 200:
                    return time.monotonic() - start
                last_err = f"HTTP {resp.status}"
        except (urllib.error.URLError, OSError) as err:
            last_err = err
        if time.monotonic() - start > timeout:
            raise FederationError(f"{url} not healthy after {timeout:.0f}s: {last_err}")
        time.sleep(interval)


# ------------------------------------------------------------------------------- TLS


@dataclass(frozen=True)
class TlsMaterial:
    """A private CA and one server certificate for 127.0.0.1/localhost."""

    ca_cert: Path
    server_cert: Path
    server_key: Path


def make_tls_material(
    directory: Path, hosts: Sequence[str] = (HOST, "localhost")
) -> TlsMaterial:
    """Create a throw-away CA and a server certificate with SANs for ``hosts``."""
    # pylint: disable=import-outside-toplevel
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    directory.mkdir(parents=True, exist_ok=True)
    now = _dt.datetime.now(_dt.UTC)
    not_before, not_after = now - _dt.timedelta(minutes=5), now + _dt.timedelta(days=2)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flower-ocm test CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=True,
                crl_sign=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    sans: list[x509.GeneralName] = []
    for host in hosts:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            sans.append(x509.DNSName(host))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hosts[0])]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(sans), critical=False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )

    pem = serialization.Encoding.PEM
    material = TlsMaterial(
        directory / "ca.crt", directory / "server.crt", directory / "server.key"
    )
    material.ca_cert.write_bytes(ca_cert.public_bytes(pem))
    material.server_cert.write_bytes(cert.public_bytes(pem))
    material.server_key.write_bytes(
        key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    material.server_key.chmod(0o600)
    return material


# ------------------------------------------------------------------------------- CLI


def write_cli_config(
    flwr_home: Path,
    address: str,
    *,
    name: str = CONNECTION,
    ca_cert: Path | None = None,
) -> Path:
    """Write ``$FLWR_HOME/config.toml`` with one SuperLink connection (the default)."""
    flwr_home.mkdir(parents=True, exist_ok=True)
    lines = [
        "[superlink]",
        f'default = "{name}"',
        "",
        f"[superlink.{name}]",
        f'address = "{address}"',
    ]
    if ca_cert is None:
        lines.append("insecure = true")
    else:
        lines.append(f'root-certificates = "{ca_cert.resolve()}"')
    path = flwr_home / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def run_flwr(
    args: Sequence[str],
    *,
    flwr_home: Path,
    bin_dir: Path | None = None,
    timeout: float = 600.0,
) -> subprocess.CompletedProcess[str]:
    """Run the ``flwr`` CLI with ``FLWR_HOME=flwr_home``; output is captured as text."""
    bin_dir = bin_dir or flower_bin_dir()
    return subprocess.run(
        [str(bin_dir / "flwr"), *args],
        env=flower_env(flwr_home, bin_dir),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value))  # a TOML basic string


def format_config(config: Mapping[str, Any]) -> str:
    """``{"a": 1, "b": "x"}`` -> ``'a=1 b="x"'`` (for --run-config / --node-config)."""
    return " ".join(f"{k}={_toml_value(v)}" for k, v in config.items())


# --------------------------------------------------------------------------- results


def parse_central_metrics(text: str) -> dict[int, dict[str, float]]:
    """Per-round central (ServerApp-side) metrics from a ``flwr run --stream`` log.

    Reads the digits app's ``DIGITS_EVAL {json}`` lines; for other apps falls back to
    Flower's own FedAvg log lines ("Initial global evaluation results: {...}" and the
    "MetricRecord: {...}" after each "Global evaluation").
    """
    text = _ANSI.sub("", text)
    rounds: dict[int, dict[str, float]] = {}
    for line in text.splitlines():
        idx = line.find(_EVAL_MARKER + " ")
        if idx >= 0:
            try:
                data = json.loads(line[idx + len(_EVAL_MARKER) + 1 :])
                rnd = int(data.pop("round"))
                rounds[rnd] = {k: float(v) for k, v in data.items()}
            except (ValueError, KeyError, TypeError):
                continue
    if rounds:
        return rounds

    # Fallback: Flower's strategy logs (dict reprs of MetricRecords).
    import ast  # pylint: disable=import-outside-toplevel

    current_round, expect_global = 0, False
    for line in text.splitlines():
        if m := re.search(r"\[ROUND (\d+)/\d+\]", line):
            current_round, expect_global = int(m.group(1)), False
        elif "Initial global evaluation results:" in line:
            payload = line.split("Initial global evaluation results:", 1)[1].strip()
            if payload.startswith("{"):
                rounds[0] = {k: float(v) for k, v in ast.literal_eval(payload).items()}
        elif line.rstrip().endswith("Global evaluation"):
            expect_global = True
        elif expect_global and "MetricRecord:" in line:
            payload = line.split("MetricRecord:", 1)[1].strip()
            if payload.startswith("{"):
                rounds[current_round] = {
                    k: float(v) for k, v in ast.literal_eval(payload).items()
                }
            expect_global = False
    return rounds


def _parse_summary(text: str) -> dict[str, Any] | None:
    for line in _ANSI.sub("", text).splitlines():
        idx = line.find(_RESULT_MARKER + " ")
        if idx >= 0:
            try:
                return json.loads(line[idx + len(_RESULT_MARKER) + 1 :])
            except ValueError:
                return None
    return None


@dataclass
class FederationResult:  # pylint: disable=too-many-instance-attributes
    """Outcome of one ``flwr run`` against a local federation."""

    app_dir: str
    num_nodes: int
    tls: bool
    run_id: int | None
    status: str | None  # e.g. "finished:completed" (from `flwr ls --run-id`)
    returncode: int  # of `flwr run ... --stream`
    central: dict[int, dict[str, float]]  # round -> central metrics (0 = initial)
    summary: dict[str, Any] | None  # the app's DIGITS_RESULT line, if any
    wall_seconds: float  # `flwr run --stream`, submit to end of log stream
    startup_seconds: float  # processes started until all /health endpoints were 200
    timings: dict[str, float] = field(default_factory=dict)  # LocalFederation.timings
    run_info: dict[str, Any] = field(default_factory=dict)  # `flwr ls` JSON of the run
    output: str = ""  # `flwr run` stdout+stderr, ANSI stripped
    workdir: str = ""

    @property
    def finished(self) -> bool:
        """The run completed successfully."""
        return self.returncode == 0 and self.status == "finished:completed"

    @property
    def accuracies(self) -> list[float]:
        """Central accuracy by round, round 0 (initial model) first."""
        return [
            self.central[r]["accuracy"]
            for r in sorted(self.central)
            if "accuracy" in self.central[r]
        ]

    @property
    def final_accuracy(self) -> float | None:
        acc = self.accuracies
        return acc[-1] if acc else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-friendly view (without the full output)."""
        return {
            "app_dir": self.app_dir,
            "num_nodes": self.num_nodes,
            "tls": self.tls,
            "run_id": self.run_id,
            "status": self.status,
            "returncode": self.returncode,
            "finished": self.finished,
            "accuracies": self.accuracies,
            "central": {str(k): v for k, v in self.central.items()},
            "wall_seconds": round(self.wall_seconds, 3),
            "startup_seconds": round(self.startup_seconds, 3),
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "run_elapsed_seconds": self.run_info.get("elapsed"),
            "workdir": self.workdir,
        }


# ------------------------------------------------------------------------ federation


class LocalFederation:  # pylint: disable=too-many-instance-attributes
    """SuperLink + SuperExec, and ``num_nodes`` SuperNodes each with a SuperExec.

    Node ``i`` gets ``--node-config`` ``partition-id=i num-partitions=num_nodes`` plus
    anything in ``node_configs[i]``. Use as a context manager or call ``start()`` and
    ``stop()``; ``stop()`` kills every process group it started.
    """

    def __init__(  # pylint: disable=too-many-arguments
        self,
        num_nodes: int = 2,
        *,
        tls: bool = False,
        workdir: str | os.PathLike[str] | None = None,
        keep_workdir: bool = False,
        bin_dir: str | os.PathLike[str] | None = None,
        node_configs: Sequence[Mapping[str, Any]] | None = None,
        startup_timeout: float = 60.0,
        wait_for_registration: bool = True,
    ) -> None:
        if num_nodes < 1:
            raise ValueError("num_nodes must be >= 1")
        self.num_nodes = num_nodes
        self.tls = tls
        self.bin_dir = Path(bin_dir) if bin_dir else flower_bin_dir()
        self._own_workdir = workdir is None
        self.workdir = (
            Path(workdir) if workdir else Path(tempfile.mkdtemp(prefix="flwr-local-"))
        )
        self.keep_workdir = keep_workdir or not self._own_workdir
        self.node_configs = list(node_configs or [])
        self.startup_timeout = startup_timeout
        self.wait_for_registration = wait_for_registration
        self.processes: list[ManagedProcess] = []
        self.superlink_port: int | None = None
        self.node_ports: list[int] = []
        self.tls_material: TlsMaterial | None = None
        self.startup_seconds: float = 0.0
        # Seconds from the start of start(): "superlink_healthy", "supernodes_healthy".
        self.timings: dict[str, float] = {}
        self.cli_home = self.workdir / "cli"

    # -- lifecycle -------------------------------------------------------------------

    def __enter__(self) -> LocalFederation:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def superlink_address(self) -> str:
        return f"{HOST}:{self.superlink_port}"

    def _ssl_context(self) -> ssl.SSLContext | None:
        if not self.tls_material:
            return None
        return ssl.create_default_context(cafile=str(self.tls_material.ca_cert))

    def _health_url(self, port: int) -> str:
        return f"{'https' if self.tls else 'http'}://{HOST}:{port}/health"

    def _spawn(self, name: str, args: list[str]) -> ManagedProcess:
        proc = ManagedProcess(
            name=name,
            args=[str(self.bin_dir / args[0]), *args[1:]],
            env=flower_env(self.workdir / "homes" / name, self.bin_dir),
            log_path=self.workdir / "logs" / f"{name}.log",
        )
        self.processes.append(proc)
        return proc.start()

    def _server_tls_args(self) -> list[str]:
        assert self.tls_material
        return [
            "--ssl-certfile",
            str(self.tls_material.server_cert),
            "--ssl-keyfile",
            str(self.tls_material.server_key),
            "--ssl-ca-certfile",
            str(self.tls_material.ca_cert),
        ]

    def _client_tls_args(self) -> list[str]:
        if self.tls_material:
            return ["--root-certificates", str(self.tls_material.ca_cert)]
        return ["--insecure"]

    def start(self) -> LocalFederation:
        """Start all processes and wait until every /health endpoint answers 200."""
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def _start(self) -> None:
        t0 = time.monotonic()
        if self.tls:
            self.tls_material = make_tls_material(self.workdir / "tls")
        ctx = self._ssl_context()

        self.superlink_port = free_port()
        superlink = self._spawn(
            "superlink",
            [
                "flower-superlink",
                *(self._server_tls_args() if self.tls else ["--insecure"]),
                "--isolation",
                "process",
                "--disable-runtime-dependency-installation",
                "--host",
                HOST,
                "--port",
                str(self.superlink_port),
            ],
        )
        wait_for_health(
            self._health_url(self.superlink_port),
            self.startup_timeout,
            ssl_context=ctx,
            process=superlink,
        )
        self.timings["superlink_healthy"] = time.monotonic() - t0
        self._spawn(
            "superexec-serverapp",
            [
                "flower-superexec",
                *self._client_tls_args(),
                "--runtime-api-address",
                self.superlink_address,
            ],
        )

        nodes: list[ManagedProcess] = []
        for i in range(self.num_nodes):
            port = free_port()
            self.node_ports.append(port)
            node_cfg: dict[str, Any] = {
                "partition-id": i,
                "num-partitions": self.num_nodes,
            }
            if i < len(self.node_configs):
                node_cfg.update(self.node_configs[i])
            nodes.append(
                self._spawn(
                    f"supernode-{i}",
                    [
                        "flower-supernode",
                        *self._client_tls_args(),
                        "--superlink",
                        self.superlink_address,
                        "--isolation",
                        "process",
                        "--host",
                        HOST,
                        "--port",
                        str(port),
                        *(self._server_tls_args() if self.tls else []),
                        "--node-config",
                        format_config(node_cfg),
                    ],
                )
            )
            self._spawn(
                f"superexec-clientapp-{i}",
                [
                    "flower-superexec",
                    *self._client_tls_args(),
                    "--runtime-api-address",
                    f"{HOST}:{port}",
                ],
            )
        for node, port in zip(nodes, self.node_ports, strict=True):
            wait_for_health(
                self._health_url(port),
                self.startup_timeout,
                ssl_context=ctx,
                process=node,
            )
        self.timings["supernodes_healthy"] = time.monotonic() - t0
        write_cli_config(
            self.cli_home,
            self.superlink_address,
            ca_cert=self.tls_material.ca_cert if self.tls_material else None,
        )
        if self.wait_for_registration:
            self.wait_for_nodes(self.num_nodes, self.startup_timeout)
            self.timings["supernodes_online"] = time.monotonic() - t0
        self.startup_seconds = time.monotonic() - t0
        self.check_alive()

    def check_alive(self) -> None:
        """Raise ``FederationError`` if any started process has exited."""
        dead = [p for p in self.processes if not p.alive()]
        if dead:
            raise FederationError(
                "; ".join(
                    f"{p.name} exited with {p.returncode}:\n{p.log_tail()}"
                    for p in dead
                )
            )

    def stop(self) -> None:
        """Kill every started process group (all at once); drop own temp workdir."""
        stop_all(list(reversed(self.processes)))
        if not self.keep_workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)

    # -- runs ------------------------------------------------------------------------

    def flwr(
        self, *args: str, timeout: float = 120.0
    ) -> subprocess.CompletedProcess[str]:
        """Run a ``flwr`` CLI command against this federation's CLI FLWR_HOME."""
        return run_flwr(
            args, flwr_home=self.cli_home, bin_dir=self.bin_dir, timeout=timeout
        )

    def nodes(self) -> list[dict[str, Any]]:
        """``flwr supernode ls`` as a list of dicts (node-id, status, ...)."""
        res = self.flwr("supernode", "ls", CONNECTION, "--format", "json")
        try:
            return list(json.loads(res.stdout).get("nodes", []))
        except ValueError as err:
            raise FederationError(
                f"flwr supernode ls failed: {res.stdout}{res.stderr}"
            ) from err

    def wait_for_nodes(self, count: int, timeout: float = 60.0) -> float:
        """Wait until the SuperLink lists ``count`` online SuperNodes; return secs."""
        start = time.monotonic()
        while True:
            self.check_alive()
            online = [n for n in self.nodes() if n.get("status") == "online"]
            if len(online) >= count:
                return time.monotonic() - start
            if time.monotonic() - start > timeout:
                raise FederationError(
                    f"{len(online)}/{count} SuperNodes online after {timeout:.0f}s"
                )
            time.sleep(0.5)

    def run_info(self, run_id: int) -> dict[str, Any]:
        """``flwr ls --run-id`` as a dict (status, timings, traffic)."""
        res = self.flwr("ls", CONNECTION, "--run-id", str(run_id), "--format", "json")
        try:
            runs = json.loads(res.stdout).get("runs", [])
        except ValueError as err:
            raise FederationError(f"flwr ls failed: {res.stdout}{res.stderr}") from err
        return runs[0] if runs else {}

    def run(
        self,
        app_dir: str | os.PathLike[str],
        *,
        run_config: Mapping[str, Any] | None = None,
        timeout: float = 600.0,
    ) -> FederationResult:
        """``flwr run <app_dir> local --stream`` and collect the result."""
        if self.superlink_port is None:
            raise FederationError("federation not started")
        self.check_alive()
        args = ["run", str(Path(app_dir).resolve()), CONNECTION, "--stream"]
        if run_config:
            args += ["--run-config", format_config(run_config)]
        t0 = time.monotonic()
        try:
            proc = self.flwr(*args, timeout=timeout)
            returncode, output = proc.returncode, proc.stdout + proc.stderr
        except subprocess.TimeoutExpired as err:
            returncode = -1
            output = (
                _decode(err.stdout)
                + _decode(err.stderr)
                + f"\n[flwr run timed out after {timeout}s]"
            )
        wall = time.monotonic() - t0
        output = _ANSI.sub("", output)

        match = _RUN_ID.search(output)
        run_id = int(match.group(1)) if match else None
        info = self.run_info(run_id) if run_id is not None else {}
        return FederationResult(
            app_dir=str(app_dir),
            num_nodes=self.num_nodes,
            tls=self.tls,
            run_id=run_id,
            status=info.get("status"),
            returncode=returncode,
            central=parse_central_metrics(output),
            summary=_parse_summary(output),
            wall_seconds=wall,
            startup_seconds=self.startup_seconds,
            timings=dict(self.timings),
            run_info=info,
            output=output,
            workdir=str(self.workdir),
        )


def _decode(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data.decode(errors="replace") if isinstance(data, bytes) else data


def run_plain_federation(  # pylint: disable=too-many-arguments
    app_dir: str | os.PathLike[str],
    num_nodes: int = 2,
    tls: bool = False,
    *,
    run_config: Mapping[str, Any] | None = None,
    timeout: float = 600.0,
    workdir: str | os.PathLike[str] | None = None,
    keep_workdir: bool = False,
    bin_dir: str | os.PathLike[str] | None = None,
) -> FederationResult:
    """Start a local federation, run ``app_dir`` once, tear everything down.

    Returns per-round central metrics, run status and wall times. Logs of all
    processes are under ``<workdir>/logs`` (kept if ``keep_workdir`` or ``workdir``
    was given).
    """
    with LocalFederation(
        num_nodes, tls=tls, workdir=workdir, keep_workdir=keep_workdir, bin_dir=bin_dir
    ) as fed:
        return fed.run(app_dir, run_config=run_config, timeout=timeout)


if __name__ == "__main__":  # pragma: no cover - manual use / benchmarks
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("app_dir")
    parser.add_argument("--nodes", type=int, default=2)
    parser.add_argument("--tls", action="store_true")
    parser.add_argument("--workdir")
    parser.add_argument("--timeout", type=float, default=600.0)
    cli = parser.parse_args()
    res = run_plain_federation(
        cli.app_dir,
        cli.nodes,
        cli.tls,
        workdir=cli.workdir,
        keep_workdir=bool(cli.workdir),
        timeout=cli.timeout,
    )
    print(json.dumps(res.to_dict(), indent=2))
    sys.exit(0 if res.finished else 1)
