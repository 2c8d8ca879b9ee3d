"""What a rehearsal prints: the plan, start-up, live round progress and the summary.

Human output goes to stdout (``-o table``) or stderr (``-o json``, where stdout carries only
the JSON summary). On a terminal the rounds show as a rich progress bar; otherwise as plain
lines.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any

from .errors import RehearsalError
from .plan import Plan
from .processes import Proc
from .runner import NullReporter, Options, Result, Started, superlink_service_address
from .stream import StreamParser


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _rel(path: str | os.PathLike[str]) -> str:
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


class Reporter(NullReporter):  # pylint: disable=too-many-instance-attributes
    def __init__(self, stream: IO[str], *, live: bool | None = None, verbose: bool = False) -> None:
        self.out = stream
        self.live = stream.isatty() if live is None else live
        self.verbose = verbose
        self._progress: Any = None
        self._task: Any = None
        self._last_round_printed = -1

    # -- helpers -----------------------------------------------------------------

    def line(self, text: str = "") -> None:
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False)
        else:
            print(text, file=self.out, flush=True)

    # -- events ------------------------------------------------------------------

    def rendered(self, render: Any, options: Options) -> None:
        self.line(f"Rehearsal of release {options.release!r} (namespace {options.namespace!r})")
        self.line(f"  helm template {_rel(options.chart or '')}: {len(render.objects)} objects in {render.seconds:.1f}s ({_rel(render.helm)})")

    def versions(self, chart: str | None, installed: str | None, bin_dir: Path) -> None:
        same = "=" if chart == installed else "!="
        self.line(f"  Flower {chart} (chart global.flower.version) {same} flwr {installed} ({_rel(bin_dir)})")

    def planned(self, plan: Plan, fleet: Any) -> None:
        self.line("")
        self.line(f"Placement preview against {_rel(fleet.source)} ({len(fleet.clusters)} clusters)")
        for view in plan.placements:
            what = "SuperNodes" if view.role == "supernode" else f"ClientApp {view.role.split(' ', 1)[1]}"
            chosen = ", ".join(f"{c}?" if c in view.uncertain else c for c in view.chosen) or "(none)"
            approx = " (approximate)" if view.approximate else ""
            self.line(f"  {what:<20} Placement {view.namespace}/{view.name}: {chosen}  [{view.reason}]{approx}")
        by_mca = [c for c in sorted(plan.clusters) if "ManagedClusterAddOn" in plan.clusters[c].supernode_sources]
        if by_mca:
            self.line(f"  {'SuperNodes':<20} ManagedClusterAddOn in the cluster's namespace: {', '.join(by_mca)}")
        if any(v.role != "supernode" for v in plan.placements):
            label = f"feature.open-cluster-management.io/addon-{plan.addon}=available"
            self.line(f"  (ClientApp placements evaluated with {label} on the SuperNode clusters)")
        unevaluated = [(v, n) for v in plan.placements for n in v.notes]
        for view, note in unevaluated:
            self.line(f"  not evaluated, {view.name}: {note}")
        if any(c.uncertain for c in plan.clusters.values()):
            self.line("  ? = chosen only because a celSelector the preview cannot evaluate was assumed to match")

        self.line("")
        self.line("Clusters")
        rows = [("cluster", "SuperNode from", "AddOnDeploymentConfig (source)", "ClientApps", "node-config")]
        for name in sorted(plan.clusters):
            info = plan.clusters[name]
            adc = f"{info.adc.key} ({info.adc.source})" if info.adc else "-"
            node_config = plan.supernodes[name].args
            from .mapping import flag_value  # pylint: disable=import-outside-toplevel

            rows.append(
                (
                    name + ("?" if info.uncertain else ""),
                    ", ".join(info.supernode_sources),
                    adc,
                    ", ".join(info.clientapps) or "-",
                    flag_value(node_config, "--node-config") or "",
                )
            )
        for row in _table(rows):
            self.line("  " + row)
        if plan.partitions_added:
            added = [c for c in sorted(plan.clusters) if plan.clusters[c].partition_added]
            self.line(
                "  partition-id/num-partitions: not in the rendered node-config of "
                f"{', '.join(added)}; ADDED by sorted cluster name (on the hub, `helm flower partitions` sets them)"
            )
        address = superlink_service_address(plan)
        if address:
            self.line(f"  SuperNodes would dial {address}; here: the local SuperLink")
        if plan.notes:
            self.line("")
            self.line("Notes")
            for note in plan.notes:
                self.line(f"  ! {note}")
        self.line("")
        count = len(plan.components)
        self.line(f"Starting {count} processes on 127.0.0.1")

    def started(self, started: Started) -> None:
        where = f"127.0.0.1:{started.port}" if started.port else ""
        self.line(f"  started {started.component.name:<58} {where}")
        if self.verbose:
            self.line("    " + " ".join(started.proc.argv))

    def healthy(self, proc: Proc, seconds: float) -> None:
        self.line(f"  healthy {proc.name:<58} after {seconds:.1f}s")

    def registered(self, count: int, seconds: float) -> None:
        self.line(f"  {count} SuperNode(s) registered with the SuperLink")

    def submitting(self, argv: list[str], rounds: int | None) -> None:
        self.line("")
        self.line("Running: " + " ".join(["flwr", *(_rel(a) if os.path.isabs(a) else a for a in argv[1:])]))
        if self.live:
            self._start_progress(rounds)

    def _start_progress(self, rounds: int | None) -> None:
        try:
            from rich.console import Console  # pylint: disable=import-outside-toplevel
            from rich.progress import (  # pylint: disable=import-outside-toplevel
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )
        except ImportError:
            self.live = False
            return
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[metrics]}"),
            TimeElapsedColumn(),
            console=Console(file=self.out),
            transient=False,
            refresh_per_second=4,
        )
        self._progress.start()
        self._task = self._progress.add_task("waiting for the run", total=rounds, metrics="")

    def stream_event(self, kind: str, parser: StreamParser) -> None:
        total = parser.total_rounds
        if kind == "run":
            self._update(f"run {parser.run_id}", total)
            if not self.live:
                self.line(f"  run {parser.run_id} started")
            return
        if kind == "round":
            self._update(f"round {parser.current}/{total or '?'}", total)
            if not self.live:
                self.line(f"  round {parser.current}/{total or '?'} ...")
            return
        if kind == "central":
            number = max(r for r in parser.rounds if parser.rounds[r].central)
            info = parser.rounds[number]
            metrics = f"accuracy {_fmt(info.central.get('accuracy'))}  loss {_fmt(info.central.get('loss'))}"
            failures = (info.train_failures or 0) + (info.evaluate_failures or 0)
            if failures:
                metrics += f"  ({failures} failed replies)"
            label = "initial model" if number == 0 else f"round {number}/{total or '?'}"
            if self._progress is not None:
                self._progress.update(self._task, completed=parser.completed_rounds, total=total, metrics=metrics, description=label)
            else:
                self.line(f"  {label}: central {metrics}")
            return
        if kind == "done" and self._progress is not None:
            self._progress.update(self._task, completed=parser.completed_rounds, description="done")

    def _update(self, description: str, total: int | None) -> None:
        if self._progress is not None:
            self._progress.update(self._task, description=description, total=total)

    def run_done(self, run_id: int | None, status: str | None) -> None:
        self._stop_progress()
        self.line(f"  run {run_id}: {status}")

    def tearing_down(self) -> None:
        self._stop_progress()
        self.line("Tearing down every process ...")

    def _stop_progress(self) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def close(self) -> None:
        self._stop_progress()


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip() for row in rows]


def summary_lines(result: Result, title: str = "Rehearsal summary") -> list[str]:
    """The summary table as plain text."""
    plan = result.plan
    parser = result.parser
    lines = ["", title]
    if plan is not None:
        clusters = sorted(plan.supernodes)
        lines.append(f"  clusters        {len(clusters)}: {', '.join(clusters)}")
        apps = sorted({c.app or '' for c in plan.clientapps})
        lines.append(f"  ClientApps      {len(plan.clientapps)} SuperExec(s) of {', '.join(apps) or '-'}")
        lines.append(f"  TLS             {'on (the chart' + chr(39) + 's CA and server certificate)' if result.tls else 'off'}")
    if parser is not None:
        total = parser.total_rounds if parser.total_rounds is not None else "?"
        lines.append(f"  run             {result.run_id}  {result.status or '-'}  rounds {parser.completed_rounds}/{total}")
        rows = [("round", "central loss", "central accuracy", "train loss", "failures")]
        for number in sorted(parser.rounds):
            info = parser.rounds[number]
            train_loss = next((v for k, v in info.train.items() if "loss" in k), None)
            failures = "-" if number == 0 else str((info.train_failures or 0) + (info.evaluate_failures or 0))
            rows.append(
                (
                    str(number) + (" (initial)" if number == 0 else ""),
                    _fmt(info.central.get("loss")),
                    _fmt(info.central.get("accuracy")),
                    _fmt(train_loss),
                    failures,
                )
            )
        if len(rows) > 1:
            lines += ["  " + row for row in _table(rows)]
    t = result.timings
    parts = [f"{k} {t[k]:.1f}s" for k in ("render", "startup", "run", "teardown") if k in t]
    lines.append(f"  wall time       {t.get('total', 0.0):.1f}s ({', '.join(parts)})")
    if result.logs_dir:
        lines.append(f"  logs            {result.logs_dir}")
    lines.append(f"  result          {'OK' if result.ok else 'FAILED'}")
    return lines


def error_lines(error: RehearsalError) -> list[str]:
    where = f"{error.component}: " if error.component and not error.message.startswith(error.component) else ""
    lines = ["", f"Error: {where}{error.message}"]
    if error.log_tail:
        label = f"last lines of {error.component}" if error.component else "output"
        lines.append(f"--- {label} ---")
        lines += error.log_tail.splitlines()
        lines.append("---")
    return lines


def print_result(result: Result, *, output: str, stdout: IO[str], stderr: IO[str]) -> None:
    if output == "json":
        if result.error is not None:
            for line in error_lines(result.error):
                print(line, file=stderr)
        print(json.dumps(result.to_dict(), indent=2), file=stdout, flush=True)
        return
    stream = stdout
    if result.plan is not None or result.parser is not None:
        for line in summary_lines(result):
            print(line, file=stream)
    if result.error is not None:
        for line in error_lines(result.error):
            print(line, file=stderr)
    stream.flush()
