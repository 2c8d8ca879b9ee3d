"""Printing reports: -o json | yaml | table. Without -o: a rich table on a terminal, plain
compiler-style lines otherwise (cheap, greppable, no colour)."""

from __future__ import annotations

import os
import sys
from typing import IO, Any

from .findings import ERROR, Report
from .options import FORMATS  # noqa: F401 - re-exported


def is_terminal(stream: IO[str]) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def colour_wanted(stream: IO[str]) -> bool:
    return is_terminal(stream) and "NO_COLOR" not in os.environ and os.environ.get("TERM") != "dumb"


def emit(report: Report, fmt: str | None, stream: IO[str] | None = None) -> None:
    stream = stream or sys.stdout
    if fmt == "json":
        stream.write(report.to_json() + "\n")
    elif fmt == "yaml":
        import yaml  # noqa: PLC0415

        stream.write(yaml.safe_dump(report.as_dict(), sort_keys=False, allow_unicode=True, width=100))
    elif fmt == "table" or (fmt is None and is_terminal(stream)):
        _table(report, stream)
    else:
        _plain(report, stream)


def summary(report: Report) -> str:
    errors, warnings = report.errors, report.warnings
    parts = [f"{errors} error{'s' if errors != 1 else ''}", f"{warnings} warning{'s' if warnings != 1 else ''}"]
    where = f"chart {report.chart}" if report.chart else ""
    if report.release:
        where += f", release {report.release}"
    return f"{', '.join(parts)} ({where})" if where else ", ".join(parts)


def _location(finding: Any) -> str:
    if not finding.file:
        return ""
    if finding.line:
        return f"{finding.file}:{finding.line}:{finding.column}"
    return finding.file


def _plain(report: Report, stream: IO[str]) -> None:
    for finding in report.findings:
        location = _location(finding)
        head = f"{location}: " if location else ""
        path = f" {finding.path}" if finding.path else ""
        stream.write(f"{head}{finding.severity} {finding.rule}{path}: {finding.message}\n")
        if finding.hint:
            stream.write(f"    hint: {finding.hint}\n")
    for note in report.notes:
        stream.write(f"note: {note}\n")
    stream.write(f"{'ok: ' if report.exit_code() == 0 else ''}{summary(report)}\n")


def _table(report: Report, stream: IO[str]) -> None:
    from rich.console import Console  # noqa: PLC0415 - only tables need rich (~50 ms)
    from rich.table import Table  # noqa: PLC0415
    from rich.text import Text  # noqa: PLC0415

    colour = colour_wanted(stream)
    console = Console(file=stream, no_color=not colour, highlight=False, soft_wrap=False,
                      force_terminal=colour or None, color_system="auto" if colour else None)
    if report.findings:
        table = Table(show_lines=True, expand=True, header_style="bold")
        table.add_column("Severity", no_wrap=True)
        table.add_column("Rule", no_wrap=True)
        table.add_column("Path", overflow="fold", ratio=3)
        table.add_column("Message", overflow="fold", ratio=5)
        table.add_column("File", overflow="fold", ratio=2)
        for finding in report.findings:
            style = "bold red" if finding.severity == ERROR else "yellow"
            message = Text(finding.message)
            if finding.hint:
                message.append(f"\nhint: {finding.hint}", style="dim")
            table.add_row(Text(finding.severity, style=style), finding.rule, finding.path or "-", message,
                          _location(finding) or "-")
        console.print(table)
    for note in report.notes:
        console.print(Text(f"note: {note}", style="dim"))
    ok = report.exit_code() == 0
    console.print(Text(("ok: " if ok else "") + summary(report), style="green" if ok else "bold red"))
