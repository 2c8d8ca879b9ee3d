"""What the rehearsal prints: live progress (rich and plain), the summary table, errors, JSON."""

from __future__ import annotations

import io
import json

from rehearse_helpers import DATA

from helm_flower.rehearse.display import Reporter, error_lines, print_result, summary_lines
from helm_flower.rehearse.errors import RehearsalError
from helm_flower.rehearse.runner import Options, Result
from helm_flower.rehearse.stream import StreamParser


def _feed(reporter: Reporter) -> StreamParser:
    parser = StreamParser(on_event=reporter.stream_event)
    reporter.submitting(["flwr", "run", "app", "conn", "--stream"], 3)
    for line in (DATA / "digits_stream_3rounds.log").read_text().splitlines():
        parser.feed(line)
    reporter.run_done(parser.run_id, "finished:completed")
    reporter.close()
    return parser


def test_plain_progress_lines() -> None:
    out = io.StringIO()
    _feed(Reporter(out, live=False))
    text = out.getvalue()
    assert "round 1/3: central accuracy 0.8886  loss 1.4443" in text
    assert "initial model: central accuracy 0.1114" in text
    assert "finished:completed" in text


def test_rich_progress_does_not_break_on_a_non_terminal_stream() -> None:
    out = io.StringIO()
    parser = _feed(Reporter(out, live=True))
    assert parser.completed_rounds == 3
    assert "accuracy 0.9276" in out.getvalue()


def _result(ok: bool = True) -> Result:
    parser = StreamParser()
    for line in (DATA / "digits_stream_3rounds.log").read_text().splitlines():
        parser.feed(line)
    result = Result(ok=ok, options=Options(fleet="f", app="a"), marker="m", parser=parser,
                    run_id=parser.run_id, status="finished:completed", tls=True)
    result.timings = {"render": 0.3, "startup": 10.0, "run": 60.0, "teardown": 0.5, "total": 71.2}
    return result


def test_summary_table() -> None:
    lines = summary_lines(_result())
    text = "\n".join(lines)
    assert "rounds 3/3" in text and "finished:completed" in text
    assert any(line.split()[:3] == ["3", "0.7819", "0.9276"] for line in lines)
    assert "wall time       71.2s (render 0.3s, startup 10.0s, run 60.0s, teardown 0.5s)" in text
    assert text.rstrip().endswith("OK")


def test_json_output_is_the_only_stdout() -> None:
    out, err = io.StringIO(), io.StringIO()
    print_result(_result(), output="json", stdout=out, stderr=err)
    data = json.loads(out.getvalue())
    assert data["ok"] is True and data["final_accuracy"] > 0.9
    assert [r["round"] for r in data["rounds"]] == [0, 1, 2, 3]
    assert err.getvalue() == ""


def test_error_names_the_component_and_shows_its_log_tail() -> None:
    error = RehearsalError("SuperLink (Deployment x) exited with code 2", component="SuperLink (Deployment x)",
                           log_tail="usage: ...\nflower-superlink: error: unrecognized arguments: --no-such-flag")
    lines = error_lines(error)
    assert lines[1] == "Error: SuperLink (Deployment x) exited with code 2"
    assert lines[2] == "--- last lines of SuperLink (Deployment x) ---"
    assert "unrecognized arguments: --no-such-flag" in lines[4]
