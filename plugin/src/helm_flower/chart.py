"""Reading a Helm chart (directory or packaged .tgz) as far as values validation needs it:
Chart.yaml, values.yaml, values.schema.json and the subcharts under charts/ (recursively).
"""

from __future__ import annotations

import io
import json
import os
import tarfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from . import safeyaml
from .safeyaml import InputProblem

MAX_ARCHIVE_BYTES = 50 * 1024 * 1024
MAX_ARCHIVE_MEMBERS = 5000
NOT_A_CHART = "FLW010"
BAD_SCHEMA = "FLW011"


@dataclass
class Dependency:
    name: str
    alias: str
    condition: str
    chart: Chart | None

    @property
    def key(self) -> str:
        return self.alias or self.name


@dataclass
class Chart:
    name: str
    version: str
    location: str  # how to show where the chart's files are (directory or archive path)
    metadata: dict[str, Any]
    values: dict[str, Any]
    values_file: str
    schema: dict[str, Any] | None
    schema_file: str
    dependencies: list[Dependency] = field(default_factory=list)


class _Files:
    """Files of one chart: a directory or the members of an archive, by relative path."""

    def __init__(self, location: str, reader: Any, names: list[str]) -> None:
        self.location = location
        self._reader = reader
        self.names = names

    def has(self, name: str) -> bool:
        return name in self.names

    def read(self, name: str) -> bytes:
        return self._reader(name)

    def label(self, name: str) -> str:
        return f"{self.location}/{name}" if self.location else name

    def subcharts(self) -> list[_Files]:
        found: list[_Files] = []
        dirs = sorted({n.split("/")[1] for n in self.names if n.startswith("charts/") and n.count("/") >= 2})
        for sub in dirs:
            prefix = f"charts/{sub}/"
            names = [n[len(prefix):] for n in self.names if n.startswith(prefix)]
            found.append(_Files(self.label(f"charts/{sub}"),
                                (lambda n, p=prefix: self._reader(p + n)), names))
        for name in sorted(self.names):
            if name.startswith("charts/") and name.count("/") == 1 and name.endswith((".tgz", ".tar.gz")):
                found.append(_archive_files(self.read(name), self.label(name)))
        return found


def load_chart(path: str) -> Chart:
    """Load a chart directory or .tgz; problems are InputProblem (exit code 2)."""
    location = os.path.normpath(path)
    if os.path.isdir(path):
        files = _dir_files(Path(path), location)
    elif os.path.isfile(path):
        data = safeyaml.read_bytes(path, location, max_bytes=MAX_ARCHIVE_BYTES)
        files = _archive_files(data, location)
    else:
        raise InputProblem(NOT_A_CHART, location, "chart not found",
                           "pass a chart directory or a packaged chart (.tgz); pull remote charts first "
                           "with `helm pull`")
    return _load(files)


def _dir_files(root: Path, location: str) -> _Files:
    names: list[str] = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        parts = [] if rel == "." else rel.split(os.sep)
        # Only what a chart loader needs: each chart's top-level files and charts/<sub>/...
        if any(part != "charts" for part in parts[0::2]):
            dirnames[:] = []
            continue
        dirnames[:] = [d for d in dirnames if not d.startswith(".")]
        for name in filenames:
            names.append(name if rel == "." else f"{rel.replace(os.sep, '/')}/{name}")

    def reader(name: str) -> bytes:
        return safeyaml.read_bytes(str(root / name), f"{location}/{name}")

    return _Files(location, reader, names)


def _archive_files(data: bytes, location: str) -> _Files:
    try:
        archive = tarfile.open(fileobj=io.BytesIO(data), mode="r:*")
        members = archive.getmembers()
    except (tarfile.TarError, EOFError, OSError, ValueError) as exc:
        raise InputProblem(NOT_A_CHART, location, f"not a chart archive: {exc}",
                           "pass a chart directory or a .tgz made by `helm package`") from None
    if len(members) > MAX_ARCHIVE_MEMBERS:
        raise InputProblem(NOT_A_CHART, location, f"archive has more than {MAX_ARCHIVE_MEMBERS} files")
    contents: dict[str, bytes] = {}
    total = 0
    top: set[str] = set()
    for member in members:
        if not member.isfile():
            continue
        parts = PurePosixPath(member.name).parts
        if not parts or ".." in parts or member.name.startswith("/"):
            continue
        total += member.size
        if total > MAX_ARCHIVE_BYTES:
            raise InputProblem(NOT_A_CHART, location, "archive expands to more than 50 MiB")
        top.add(parts[0])
        extracted = archive.extractfile(member)
        if extracted is not None and len(parts) > 1:
            contents["/".join(parts[1:])] = extracted.read()
    if len(top) != 1:
        raise InputProblem(NOT_A_CHART, location, "a chart archive holds exactly one top-level directory")
    return _Files(location, lambda n: contents[n], sorted(contents))


def _load(files: _Files) -> Chart:
    if not files.has("Chart.yaml"):
        raise InputProblem(NOT_A_CHART, files.location, "not a Helm chart (no Chart.yaml)",
                           "pass the chart directory, e.g. charts/flower-federation")
    metadata = _yaml(files, "Chart.yaml")
    name = str(metadata.get("name") or "")
    if not name:
        raise InputProblem(NOT_A_CHART, files.label("Chart.yaml"), "Chart.yaml has no name")
    values = _yaml(files, "values.yaml") if files.has("values.yaml") else {}
    schema: dict[str, Any] | None = None
    if files.has("values.schema.json"):
        label = files.label("values.schema.json")
        try:
            schema = json.loads(safeyaml.decode_text(files.read("values.schema.json"), label))
        except ValueError as exc:
            raise InputProblem(BAD_SCHEMA, label, f"not valid JSON: {exc}") from None
        if not isinstance(schema, dict):
            raise InputProblem(BAD_SCHEMA, label, "a JSON schema must be an object")
    subcharts: dict[str, Chart] = {}
    for sub in files.subcharts():
        if sub.has("Chart.yaml"):
            chart = _load(sub)
            subcharts.setdefault(chart.name, chart)
    dependencies: list[Dependency] = []
    declared = metadata.get("dependencies") or []
    if not isinstance(declared, list):
        declared = []
    used: set[str] = set()
    for entry in declared:
        if not isinstance(entry, dict) or not entry.get("name"):
            continue
        dep_name = str(entry["name"])
        chart = subcharts.get(dep_name)
        if chart is None:
            raise InputProblem(NOT_A_CHART, files.label("Chart.yaml"),
                               f"dependency {dep_name!r} is not in charts/",
                               "run `helm dependency build` first")
        used.add(dep_name)
        dependencies.append(Dependency(dep_name, str(entry.get("alias") or ""),
                                       str(entry.get("condition") or ""), chart))
    for dep_name, chart in subcharts.items():
        if dep_name not in used:
            dependencies.append(Dependency(dep_name, "", "", chart))
    return Chart(
        name=name,
        version=str(metadata.get("version") or ""),
        location=files.location,
        metadata=metadata,
        values=values,
        values_file=files.label("values.yaml"),
        schema=schema,
        schema_file=files.label("values.schema.json"),
        dependencies=dependencies,
    )


def _yaml(files: _Files, name: str) -> dict[str, Any]:
    label = files.label(name)
    return safeyaml.load_bytes(files.read(name), label)


def find_default_chart(start: str | None = None) -> str | None:
    """charts/flower-federation of the checkout we run in (from the cwd, else this file)."""
    candidates = [Path(start or os.getcwd()).resolve(), Path(__file__).resolve().parent]
    for base in candidates:
        for folder in (base, *base.parents):
            chart = folder / "charts" / "flower-federation"
            if (chart / "Chart.yaml").is_file():
                return os.path.relpath(chart) if _is_below(chart, Path.cwd()) else str(chart)
    return None


def _is_below(path: Path, base: Path) -> bool:
    try:
        path.relative_to(base.resolve())
        return True
    except ValueError:
        return False
