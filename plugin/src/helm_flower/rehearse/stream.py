"""Parse the log stream of ``flwr run --stream`` (Flower 1.41 strategy logs).

App-agnostic: it reads what Flower's own strategies print (``[ROUND i/N]``, the initial and
per-round global evaluation ``MetricRecord``, the aggregated train/evaluate metrics, the
number of results and failures), so any app that uses a Flower strategy with a central
``evaluate_fn`` gets per-round central loss and accuracy.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_ROUND = re.compile(r"\[ROUND (\d+)/(\d+)\]")
_RUN_ID = re.compile(r"Successfully started run (\d+)")
_ROUNDS_TOTAL = re.compile(r"Number of rounds: (\d+)")
_RESULTS = re.compile(r"(aggregate_train|aggregate_evaluate): Received (\d+) results and (\d+) failures")
_FINISHED = re.compile(r"Strategy execution finished in ([0-9.]+)s")


def _record(text: str) -> dict[str, float] | None:
    start = text.find("{")
    if start < 0:
        return None
    try:
        data = ast.literal_eval(text[start:].strip())
    except (ValueError, SyntaxError):
        return None
    if not isinstance(data, dict):
        return None
    out = {}
    for key, value in data.items():
        try:
            out[str(key)] = float(value)
        except (TypeError, ValueError):
            continue
    return out


@dataclass
class RoundInfo:
    number: int
    central: dict[str, float] = field(default_factory=dict)
    train: dict[str, float] = field(default_factory=dict)
    evaluate: dict[str, float] = field(default_factory=dict)
    train_results: int | None = None
    train_failures: int | None = None
    evaluate_results: int | None = None
    evaluate_failures: int | None = None
    started: float | None = None
    finished: float | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"round": self.number}
        for key in ("loss", "accuracy"):
            if key in self.central:
                data[key] = self.central[key]
        data["central"] = dict(self.central)
        if self.number:
            data["train"] = dict(self.train)
            data["federated_evaluate"] = dict(self.evaluate)
            data["results"] = {
                "train": self.train_results,
                "train_failures": self.train_failures,
                "evaluate": self.evaluate_results,
                "evaluate_failures": self.evaluate_failures,
            }
        return data


class StreamParser:
    """Feed lines; ``on_event(kind, parser)`` is called on "run", "round", "central", "done"."""

    def __init__(self, on_event: Callable[[str, StreamParser], None] | None = None, clock: Callable[[], float] | None = None) -> None:
        import time  # pylint: disable=import-outside-toplevel

        self.on_event = on_event or (lambda _k, _p: None)
        self.clock = clock or time.monotonic
        self.run_id: int | None = None
        self.total_rounds: int | None = None
        self.current: int = 0
        self.rounds: dict[int, RoundInfo] = {}
        self.lines: list[str] = []
        self.strategy_seconds: float | None = None
        self._expect: str | None = None  # "central" after "Global evaluation", "train"/"evaluate" after aggregate_*

    def round(self, number: int) -> RoundInfo:
        if number not in self.rounds:
            self.rounds[number] = RoundInfo(number)
        return self.rounds[number]

    @property
    def completed_rounds(self) -> int:
        return max((r.number for r in self.rounds.values() if r.finished is not None and r.number > 0), default=0)

    def feed(self, raw: str) -> None:
        line = _ANSI.sub("", raw.rstrip("\n"))
        self.lines.append(line)
        if (m := _RUN_ID.search(line)) and self.run_id is None:
            self.run_id = int(m.group(1))
            self.on_event("run", self)
            return
        if m := _ROUNDS_TOTAL.search(line):
            self.total_rounds = int(m.group(1))
            return
        if m := _ROUND.search(line):
            self.current = int(m.group(1))
            self.total_rounds = int(m.group(2))
            self.round(self.current).started = self.clock()
            self._expect = None
            self.on_event("round", self)
            return
        if "Initial global evaluation results:" in line:
            record = _record(line.split("Initial global evaluation results:", 1)[1])
            if record is not None:
                info = self.round(0)
                info.central = record
                info.finished = self.clock()
                self.on_event("central", self)
            return
        if m := _RESULTS.search(line):
            info = self.round(self.current)
            results, failures = int(m.group(2)), int(m.group(3))
            if m.group(1) == "aggregate_train":
                info.train_results, info.train_failures = results, failures
                self._expect = "train"
            else:
                info.evaluate_results, info.evaluate_failures = results, failures
                self._expect = "evaluate"
            return
        if line.rstrip().endswith("Global evaluation"):
            self._expect = "central"
            return
        if "MetricRecord:" in line and self._expect:
            record = _record(line.split("MetricRecord:", 1)[1])
            if record is not None:
                info = self.round(self.current)
                if self._expect == "central":
                    info.central = record
                    info.finished = self.clock()
                    self._expect = None
                    self.on_event("central", self)
                elif self._expect == "train":
                    info.train = record
                else:
                    info.evaluate = record
            return
        if m := _FINISHED.search(line):
            self.strategy_seconds = float(m.group(1))
            self.on_event("done", self)

    # -- views ---------------------------------------------------------------------

    def central_series(self, key: str) -> list[float]:
        return [self.rounds[r].central[key] for r in sorted(self.rounds) if key in self.rounds[r].central]

    def failures(self) -> int:
        return sum((r.train_failures or 0) + (r.evaluate_failures or 0) for r in self.rounds.values())

    def error_lines(self, limit: int = 20) -> list[str]:
        hits = [ln for ln in self.lines if ln.startswith(("ERROR", "Traceback")) or " ERROR " in ln]
        return hits[-limit:]
