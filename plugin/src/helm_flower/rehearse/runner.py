"""Run a rehearsal: render, preview, start the federation locally, run the app, tear down."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import helm as helm_mod
from .errors import Interrupted, Refusal, RehearsalError
from .flwr_venv import check_versions, flower_bin_dir, installed_flwr_version, require_chart_version
from .. import naming
from .mapping import (
    LOCAL_HOST,
    ArgChange,
    ArgRules,
    PathMapper,
    container_process,
    flag_value,
    has_flag,
    split_host_port,
)
from .plan import CLIENTAPP, Component, Plan, build_plan
from .processes import MARKER_ENV, Proc, Supervisor, describe_pids, flower_env, free_port
from .stream import StreamParser

REGISTERED = re.compile(r"SuperNode ID:")
COMPLETED = "finished:completed"


@dataclass
class Options:
    chart: str | None = None
    values: helm_mod.ValueArgs = field(default_factory=helm_mod.ValueArgs)
    fleet: str = ""
    app: str = ""
    release: str = "rehearsal"
    namespace: str = "default"
    rounds: int | None = None
    keep_logs: str | None = None
    startup_timeout: float = 60.0
    run_timeout: float = 1800.0
    add_partitions: bool = True
    flwr_venv: str | None = None
    helm: str | None = None


@dataclass
class Started:
    """A started component: its process, local address and the changes made to its args."""

    component: Component
    proc: Proc
    port: int | None
    health_url: str | None
    changes: list[ArgChange]
    ca_file: Path | None = None


@dataclass
class Result:
    ok: bool
    options: Options
    marker: str
    plan: Plan | None = None
    flwr_version: str | None = None
    run_id: int | None = None
    status: str | None = None
    parser: StreamParser | None = None
    tls: bool = False
    timings: dict[str, float] = field(default_factory=dict)
    error: RehearsalError | None = None
    leftover: list[str] = field(default_factory=list)
    logs_dir: str | None = None
    started: list[Started] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.ok:
            return 0
        return self.error.exit_code if self.error else 1

    def rounds(self) -> list[dict[str, Any]]:
        if not self.parser:
            return []
        return [self.parser.rounds[r].to_dict() for r in sorted(self.parser.rounds)]

    def to_dict(self) -> dict[str, Any]:
        accuracy = self.parser.central_series("accuracy") if self.parser else []
        loss = self.parser.central_series("loss") if self.parser else []
        plan = self.plan
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "release": self.options.release,
            "namespace": self.options.namespace,
            "chart": self.options.chart,
            "app": self.options.app,
            "fleet": self.options.fleet,
            "chart_flower_version": plan.chart_flower_version if plan else None,
            "flwr_version": self.flwr_version,
            "tls": self.tls,
            "addon": plan.addon if plan else None,
            "clusters": [plan.clusters[c].to_dict() for c in sorted(plan.clusters)] if plan else [],
            "placements": [p.to_dict() for p in plan.placements] if plan else [],
            "notes": list(plan.notes) if plan else [],
            "partitions_added": plan.partitions_added if plan else False,
            "processes": [
                {
                    "name": s.component.name,
                    "role": s.component.role,
                    "cluster": s.component.cluster,
                    "port": s.port,
                    "pid": s.proc.pid,
                    "argv": s.proc.argv,
                    "changes": [vars(c) for c in s.changes],
                }
                for s in self.started
            ],
            "run_id": self.run_id,
            "status": self.status,
            "rounds_total": self.parser.total_rounds if self.parser else None,
            "rounds_completed": self.parser.completed_rounds if self.parser else 0,
            "rounds": self.rounds(),
            "accuracy": accuracy,
            "loss": loss,
            "final_accuracy": accuracy[-1] if accuracy else None,
            "final_loss": loss[-1] if loss else None,
            "failures": self.parser.failures() if self.parser else 0,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
            "wall_seconds": round(self.timings.get("total", 0.0), 3),
            "marker": f"{MARKER_ENV}={self.marker}",
            "leftover_processes": self.leftover,
            "logs_dir": self.logs_dir,
            "error": self.error.to_dict() if self.error else None,
        }


class NullReporter:  # pylint: disable=unused-argument,too-many-public-methods
    """Receives every event of a rehearsal; the CLI's reporter prints them."""

    def rendered(self, render: helm_mod.Render, options: Options) -> None: ...
    def versions(self, chart: str | None, installed: str | None, bin_dir: Path) -> None: ...
    def planned(self, plan: Plan, fleet: Any) -> None: ...
    def started(self, started: Started) -> None: ...
    def healthy(self, proc: Proc, seconds: float) -> None: ...
    def registered(self, count: int, seconds: float) -> None: ...
    def submitting(self, argv: list[str], rounds: int | None) -> None: ...
    def stream_event(self, kind: str, parser: StreamParser) -> None: ...
    def stream_line(self, line: str) -> None: ...
    def run_done(self, run_id: int | None, status: str | None) -> None: ...
    def tearing_down(self) -> None: ...
    def close(self) -> None: ...


# --- signals -----------------------------------------------------------------


class _Signals:
    """SIGINT/SIGTERM raise Interrupted, except while tearing down (then they are noted)."""

    def __init__(self) -> None:
        self.tearing_down = False
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def _handler(self, signum: int, _frame: Any) -> None:
        if self.received is None:
            self.received = signum
        if not self.tearing_down:
            raise Interrupted(signum)

    def __enter__(self) -> _Signals:
        if _in_main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                self._previous[sig] = signal.signal(sig, self._handler)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _in_main_thread() -> bool:
    import threading  # pylint: disable=import-outside-toplevel

    return threading.current_thread() is threading.main_thread()


# --- the rehearsal -----------------------------------------------------------


def rehearse(options: Options, reporter: NullReporter | None = None) -> Result:
    """Do the whole rehearsal; never raises RehearsalError (it ends up in ``Result.error``)."""
    reporter = reporter or NullReporter()
    marker = os.environ.get("HELM_FLOWER_REHEARSAL_ID") or uuid.uuid4().hex
    result = Result(ok=False, options=options, marker=marker)
    t0 = time.monotonic()
    supervisor = Supervisor(marker)
    workdir: Path | None = None
    signals = _Signals()
    try:
        with signals:
            try:
                plan, bin_dir = _prepare(options, reporter, result, t0)
                workdir = Path(tempfile.mkdtemp(prefix="helm-flower-rehearse-"))
                logs = Path(options.keep_logs).resolve() if options.keep_logs else workdir / "logs"
                logs.mkdir(parents=True, exist_ok=True)
                result.logs_dir = str(logs) if options.keep_logs else None
                _run(plan, options, reporter, result, supervisor, workdir, logs, bin_dir, t0)
                result.ok = True
            except RehearsalError as exc:
                result.error = exc
            finally:
                signals.tearing_down = True
                if supervisor.procs:
                    reporter.tearing_down()
                t_down = time.monotonic()
                left = supervisor.teardown()
                result.timings["teardown"] = time.monotonic() - t_down
                result.leftover = describe_pids(left)
                if left and result.error is None:
                    result.ok = False
                    result.error = RehearsalError(
                        f"{len(left)} process(es) survived the teardown", component="teardown",
                        log_tail="\n".join(result.leftover),
                    )
    finally:
        if workdir is not None:
            shutil.rmtree(workdir, ignore_errors=True)
        result.timings["total"] = time.monotonic() - t0
        reporter.close()
    if signals.received is not None and not isinstance(result.error, Interrupted):
        result.ok = False
        result.error = Interrupted(signals.received)
    return result


def _prepare(options: Options, reporter: NullReporter, result: Result, t0: float) -> tuple[Plan, Path]:
    from ..fleet import FleetError, load_fleet  # pylint: disable=import-outside-toplevel

    chart = options.chart or str(helm_mod.default_chart())
    options.chart = chart
    app = Path(options.app)
    if not (app / "pyproject.toml").is_file():
        raise Refusal(f"--app {options.app}: not a Flower app directory (no pyproject.toml)", component="app")
    render = helm_mod.render(
        chart, release=options.release, namespace=options.namespace, values=options.values, helm=options.helm
    )
    result.timings["render"] = time.monotonic() - t0
    reporter.rendered(render, options)
    from .plan import chart_flower_version  # pylint: disable=import-outside-toplevel

    chart_version = require_chart_version(chart_flower_version(render.objects, options.release, options.namespace))
    bin_dir = flower_bin_dir(options.flwr_venv, chart_version)
    result.flwr_version = installed_flwr_version(bin_dir)
    result.timings["flwr"] = time.monotonic() - t0 - result.timings["render"]
    reporter.versions(chart_version, result.flwr_version, bin_dir)
    check_versions(chart_version, result.flwr_version)
    try:
        fleet = load_fleet(options.fleet)
    except FleetError as exc:
        raise Refusal(str(exc), component="fleet") from None
    plan = build_plan(
        render.objects, fleet, release=options.release, namespace=options.namespace,
        add_partitions=options.add_partitions,
    )
    result.plan = plan
    result.timings["plan"] = time.monotonic() - t0
    reporter.planned(plan, fleet)
    if not plan.supernodes:
        raise Refusal("no cluster of the fleet gets a SuperNode: nothing to rehearse", component="placement")
    return plan, bin_dir


def _start_component(
    component: Component,
    supervisor: Supervisor,
    workdir: Path,
    logs: Path,
    bin_dir: Path,
    rules: ArgRules,
) -> tuple[Proc, list[ArgChange], PathMapper]:
    spec = container_process(component.pod_spec, component.container, component.args, component.lookup,
                             workdir / "procs" / component.key, rules, component=component.name,
                             namespace=component.namespace, pod_name=component.pod_name)
    env = {**spec.env, **dict(component.extra_env)}
    proc = Proc(
        key=component.key,
        name=component.name,
        argv=[str(bin_dir / component.program), *spec.args],
        env=flower_env(os.environ, flwr_home=spec.root / "flwr-home", bin_dir=bin_dir, extra=env),
        log_path=logs / f"{component.key}.log",
        cwd=spec.root,
    )
    supervisor.start(proc)
    return proc, spec.changes, spec.paths


def _address_rules(args: list[str], mapping: Mapping[str, str]) -> dict[str, str]:
    """Address flags present in ``args``: given targets, else a fresh local port (health servers)."""
    out = {}
    for flag in ("--health-server-address", "--fleet-api-address", "--control-api-address"):
        if has_flag(args, flag):
            out[flag] = f"{LOCAL_HOST}:{free_port()}"
    out.update(mapping)
    return out


def _run(
    plan: Plan,
    options: Options,
    reporter: NullReporter,
    result: Result,
    supervisor: Supervisor,
    workdir: Path,
    logs: Path,
    bin_dir: Path,
    t0: float,
) -> None:
    # SuperLink
    sl = plan.superlink
    sl_port = free_port()
    sl_address = f"{LOCAL_HOST}:{sl_port}"
    rules = ArgRules(ports={"--port": sl_port}, addresses=_address_rules(sl.args, {}))
    for flag in ("--fleet-api-address", "--control-api-address"):  # deprecated aliases of the one port
        if flag in rules.addresses:
            rules.addresses = {**rules.addresses, flag: sl_address}  # type: ignore[dict-item]
    proc, changes, paths = _start_component(sl, supervisor, workdir, logs, bin_dir, rules)
    tls = has_flag(sl.args, "--ssl-certfile") and not has_flag(sl.args, "--insecure")
    result.tls = tls
    ca_file = _client_ca(plan, workdir, paths) if tls else None
    health = f"{'https' if tls else 'http'}://{sl_address}/health"
    started_sl = Started(sl, proc, sl_port, health, changes, ca_file)
    result.started.append(started_sl)
    reporter.started(started_sl)
    supervisor.wait_healthy([(proc, health)], timeout=options.startup_timeout, ca_file=ca_file, on_ready=reporter.healthy)
    result.timings["superlink_healthy"] = time.monotonic() - t0

    # ServerApp SuperExec, SuperNodes, ClientApp SuperExecs
    if plan.serverapp is not None:
        sa = plan.serverapp
        rules = ArgRules(hosts=frozenset(), addresses=_address_rules(sa.args, {"--runtime-api-address": sl_address}))
        proc, changes, _ = _start_component(sa, supervisor, workdir, logs, bin_dir, rules)
        started = Started(sa, proc, None, None, changes)
        result.started.append(started)
        reporter.started(started)
    node_ports: dict[str, int] = {}
    node_targets: list[tuple[Proc, str, Path | None]] = []
    for cluster in sorted(plan.supernodes):
        sn = plan.supernodes[cluster]
        port = free_port()
        node_ports[cluster] = port
        rules = ArgRules(ports={"--port": port}, addresses=_address_rules(sn.args, {"--superlink": sl_address}))
        proc, changes, paths = _start_component(sn, supervisor, workdir, logs, bin_dir, rules)
        node_tls = has_flag(sn.args, "--ssl-certfile")
        node_ca = paths(flag_value(sn.args, "--ssl-ca-certfile") or "") if node_tls else None
        url = f"{'https' if node_tls else 'http'}://{LOCAL_HOST}:{port}/health"
        node_targets.append((proc, url, Path(node_ca) if node_ca else None))
        started = Started(sn, proc, port, url, changes)
        result.started.append(started)
        reporter.started(started)
    for ca in plan.clientapps:
        assert ca.cluster is not None
        target = f"{LOCAL_HOST}:{node_ports[ca.cluster]}"
        rules = ArgRules(hosts=frozenset(), addresses=_address_rules(ca.args, {"--runtime-api-address": target}))
        proc, changes, _ = _start_component(ca, supervisor, workdir, logs, bin_dir, rules)
        started = Started(ca, proc, None, None, changes)
        result.started.append(started)
        reporter.started(started)
    _write_commands(logs, result)

    plain = [(p, u) for p, u, c in node_targets if c is None]
    if plain:
        supervisor.wait_healthy(plain, timeout=options.startup_timeout, on_ready=reporter.healthy)
    for proc, url, ca in node_targets:
        if ca is not None:
            supervisor.wait_healthy([(proc, url)], timeout=options.startup_timeout, ca_file=ca, on_ready=reporter.healthy)
    result.timings["supernodes_healthy"] = time.monotonic() - t0
    nodes = [p for p, _, _ in node_targets]
    t_reg = time.monotonic()
    supervisor.wait_for_log(
        nodes, REGISTERED, timeout=options.startup_timeout, what="did not register with the SuperLink"
    )
    reporter.registered(len(nodes), time.monotonic() - t_reg)
    supervisor.check_alive()
    result.timings["startup"] = time.monotonic() - t0

    flwr_run(plan, options, reporter, result, supervisor, workdir, logs, bin_dir, sl_address, ca_file)
    result.timings["run_end"] = time.monotonic() - t0


def _client_ca(plan: Plan, workdir: Path, superlink_paths: PathMapper) -> Path | None:
    """The CA bundle clients trust: the render's CA bundle ConfigMap, else the SuperLink's CA file."""
    bundle = plan.superlink.lookup("ConfigMap", naming.ca_bundle(plan.release, plan.namespace))
    target = workdir / "cli" / "ca.crt"
    if bundle is not None and (bundle.get("data") or {}).get("ca.crt"):
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(bundle["data"]["ca.crt"])
        return target
    mapped = superlink_paths(flag_value(plan.superlink.args, "--ssl-ca-certfile") or "")
    return Path(mapped) if mapped else None


def _write_commands(logs: Path, result: Result) -> None:
    lines = []
    for started in result.started:
        lines.append(f"# {started.component.name}")
        lines.append(" ".join(_quote(a) for a in started.proc.argv))
        for change in started.changes:
            lines.append(f"#   {change.flag or '(arg)'}: {change.before} -> {change.after}")
    (logs / "commands.txt").write_text("\n".join(lines) + "\n")


def _quote(arg: str) -> str:
    import shlex  # pylint: disable=import-outside-toplevel

    return shlex.quote(arg)


def write_cli_config(flwr_home: Path, name: str, address: str, ca_file: Path | None) -> Path:
    flwr_home.mkdir(parents=True, exist_ok=True)
    lines = ["[superlink]", f"default = {json.dumps(name)}", "", f"[superlink.{json.dumps(name)}]", f"address = {json.dumps(address)}"]
    if ca_file is None:
        lines.append("insecure = true")
    else:
        lines.append(f"root-certificates = {json.dumps(str(ca_file.resolve()))}")
    path = flwr_home / "config.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def flwr_run(
    plan: Plan | None,
    options: Options,
    reporter: NullReporter,
    result: Result,
    supervisor: Supervisor,
    workdir: Path,
    logs: Path,
    bin_dir: Path,
    address: str,
    ca_file: Path | None,
) -> None:
    """`flwr run` of options.app against the SuperLink at ``address``: live progress through the
    reporter, the run's final status in ``result`` (also the fleet demo's run, tests/ocmfleet/demo.py)."""
    home = workdir / "cli"
    connection = options.release
    write_cli_config(home, connection, address, ca_file)
    app = str(Path(options.app).resolve())
    argv = [str(bin_dir / "flwr"), "run", app, connection, "--stream"]
    if options.rounds is not None:
        argv += ["--run-config", f"num-server-rounds={int(options.rounds)}"]
    env = flower_env(os.environ, flwr_home=home, bin_dir=bin_dir, extra={"FLWR_HOME": str(home)})
    env.setdefault("COLUMNS", "200")
    parser = StreamParser(on_event=reporter.stream_event)
    result.parser = parser
    if options.rounds is not None:
        parser.total_rounds = int(options.rounds)
    reporter.submitting(argv, options.rounds)
    proc = supervisor.start(Proc("flwr-run", "flwr run", argv, env, logs / "flwr-run.log", cwd=home))
    t_run = time.monotonic()
    others = [p for p in supervisor.procs if p is not proc]
    with open(proc.log_path, "rb") as log:
        pending = b""
        while True:
            chunk = log.read()
            if chunk:
                pending += chunk
                *complete, pending = pending.split(b"\n")
                for raw in complete:
                    line = raw.decode(errors="replace")
                    parser.feed(line)
                    reporter.stream_line(line)
            if not proc.alive():
                rest = log.read()
                for raw in (pending + rest).split(b"\n"):
                    if raw:
                        parser.feed(raw.decode(errors="replace"))
                break
            supervisor.check_alive(others)
            if time.monotonic() - t_run > options.run_timeout:
                raise RehearsalError(
                    f"flwr run did not finish within {options.run_timeout:.0f}s",
                    component="flwr run", log_tail=proc.log_tail(), log_path=str(proc.log_path),
                )
            time.sleep(0.1)
    result.timings["run"] = time.monotonic() - t_run
    result.run_id = parser.run_id
    if proc.returncode != 0:
        raise RehearsalError(
            f"flwr run failed (exit {proc.returncode})", component="flwr run",
            log_tail=proc.log_tail(), log_path=str(proc.log_path),
        )
    if parser.run_id is None:
        raise RehearsalError("flwr run printed no run id", component="flwr run", log_tail=proc.log_tail())
    result.status = _run_status(bin_dir, home, connection, parser.run_id)
    reporter.run_done(parser.run_id, result.status)
    supervisor.check_alive(others)
    if result.status != COMPLETED:
        raise RehearsalError(
            f"run {parser.run_id} ended with status {result.status!r}",
            component=plan.serverapp.name if plan is not None and plan.serverapp else "ServerApp",
            log_tail="\n".join(parser.error_lines()) or proc.log_tail(),
        )
    if parser.failures():
        culprit = _failing_clientapp(result)
        raise RehearsalError(
            f"{parser.failures()} ClientApp replies failed during the run",
            component=culprit.name if culprit else "ClientApps",
            log_tail=culprit.log_tail() if culprit else "",
            log_path=str(culprit.log_path) if culprit else "",
        )


def _failing_clientapp(result: Result) -> Proc | None:
    candidates = [s.proc for s in result.started if s.component.role == CLIENTAPP]
    for proc in candidates:
        text = proc.log_text()
        if "Traceback" in text or "ERROR" in text:
            return proc
    return candidates[0] if candidates else None


def _run_status(bin_dir: Path, home: Path, connection: str, run_id: int) -> str | None:
    env = flower_env(os.environ, flwr_home=home, bin_dir=bin_dir, extra={"FLWR_HOME": str(home)})
    try:
        proc = subprocess.run(
            [str(bin_dir / "flwr"), "ls", connection, "--run-id", str(run_id), "--format", "json"],
            env=env, capture_output=True, text=True, timeout=120, check=False, stdin=subprocess.DEVNULL,
        )
        runs = json.loads(proc.stdout).get("runs", [])
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return None
    return runs[0].get("status") if runs else None


def superlink_service_address(plan: Plan) -> str | None:
    """Where SuperNodes would dial on a real hub (SUPERLINK_ADDRESS of any cluster)."""
    for cluster in plan.clusters.values():
        value = cluster.variables.get("SUPERLINK_ADDRESS")
        if value:
            return value
    return None


def host_of(address: str | None) -> str:
    return split_host_port(address or "")[0]
