"""Parsing of `flwr run --stream` output (recorded from real rehearsals of flower-apps/digits)."""

from __future__ import annotations

import pytest
from rehearse_helpers import DATA

from helm_flower.rehearse.stream import StreamParser


def _parse(name: str) -> tuple[StreamParser, list[str]]:
    events: list[str] = []
    parser = StreamParser(on_event=lambda kind, _p: events.append(kind), clock=lambda: 0.0)
    for line in (DATA / name).read_text().splitlines():
        parser.feed(line)
    return parser, events


def test_three_round_run() -> None:
    parser, events = _parse("digits_stream_3rounds.log")
    assert parser.run_id == 4184295502334582941
    assert parser.total_rounds == 3
    assert parser.completed_rounds == 3
    assert sorted(parser.rounds) == [0, 1, 2, 3]
    accuracy = parser.central_series("accuracy")
    assert accuracy == pytest.approx([0.11142061281337047, 0.8885793871866295, 0.9192200557103064, 0.9275766016713092])
    assert parser.central_series("loss")[0] == pytest.approx(2.2975068590449585)
    assert parser.rounds[1].train == pytest.approx({"train_loss": parser.rounds[1].train["train_loss"]})
    assert set(parser.rounds[2].evaluate) == {"eval_loss", "eval_acc"}
    assert (parser.rounds[3].train_results, parser.rounds[3].train_failures) == (3, 0)
    assert parser.failures() == 0
    assert parser.strategy_seconds == pytest.approx(137.07)
    assert events == ["run", "central", "round", "central", "round", "central", "round", "central", "done"]


def test_failed_replies_are_counted() -> None:
    parser, _ = _parse("digits_stream_failures.log")
    assert parser.total_rounds == 1 and parser.completed_rounds == 1
    info = parser.rounds[1]
    assert (info.train_results, info.train_failures, info.evaluate_results, info.evaluate_failures) == (0, 3, 0, 3)
    assert parser.failures() == 6
    assert info.train == {}  # no aggregated train metrics without results
    assert parser.central_series("accuracy")[-1] == pytest.approx(0.11142061281337047)


def test_ansi_codes_and_unrelated_lines_are_ignored() -> None:
    parser = StreamParser()
    parser.feed("\x1b[92mINFO \x1b[0m:      [ROUND 2/5]")
    parser.feed("INFO :      some MetricRecord: {'x': 1}")  # not after an aggregate/global evaluation
    assert (parser.current, parser.total_rounds) == (2, 5)
    assert parser.rounds[2].central == {}


def test_round_dict_view() -> None:
    parser, _ = _parse("digits_stream_3rounds.log")
    view = parser.rounds[1].to_dict()
    assert view["round"] == 1 and view["accuracy"] == pytest.approx(0.8885793871866295)
    assert view["results"] == {"train": 3, "train_failures": 0, "evaluate": 3, "evaluate_failures": 0}
