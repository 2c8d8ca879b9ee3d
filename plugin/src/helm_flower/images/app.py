"""Reading a Flower app directory: ``pyproject.toml`` with ``[project]`` and ``[tool.flwr.app]``.

Every problem names the file, the key and what was expected, and is an input error (exit 2):
no directory, no pyproject.toml, TOML syntax errors (with line and column), a project without
``[tool.flwr.app]`` (not a Flower app), missing ``publisher`` or components.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

from .errors import EXIT_USAGE, ImagesError

MAX_PYPROJECT_BYTES = 1024 * 1024
# "module.path:attribute" as Flower's app loader expects it.
_COMPONENT = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*:[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
_TOML_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")

FLOWER_APP_HINT = ("a Flower app's pyproject.toml has [project] (name, version, dependencies with flwr), "
                   "[tool.flwr.app] publisher = \"...\" and [tool.flwr.app.components] "
                   "serverapp = \"pkg.server_app:app\", clientapp = \"pkg.client_app:app\"")


@dataclass(frozen=True)
class FlowerApp:
    """One Flower app as read from its pyproject.toml."""

    directory: str  # the APP_DIR as given (used in messages and printed commands)
    pyproject: str  # path of its pyproject.toml, for messages
    name: str  # [project] name, as written
    version: str | None  # [project] version; None when dynamic
    dependencies: tuple[Requirement, ...]
    dependency_texts: tuple[str, ...]
    optional_dependencies: dict[str, tuple[str, ...]] = field(default_factory=dict)
    publisher: str = ""
    serverapp: str = ""
    clientapp: str = ""

    @property
    def distribution(self) -> str:
        """The PEP 503 normalised distribution name (what pip installs)."""
        return canonicalize_name(self.name)

    def flwr_requirements(self) -> list[Requirement]:
        return [r for r in self.dependencies if canonicalize_name(r.name) == "flwr"]


def _fail(where: str, message: str, hint: str = "") -> ImagesError:
    text = f"{where}: {message}"
    if hint:
        text += f"\n  hint: {hint}"
    return ImagesError(text, EXIT_USAGE)


def read_app(app_dir: str) -> FlowerApp:
    """Read and check APP_DIR/pyproject.toml; raise ImagesError (exit 2) when it is no Flower app."""
    if not os.path.isdir(app_dir):
        raise _fail(app_dir, "not a directory", "pass the directory of a Flower app (it holds pyproject.toml)")
    path = os.path.join(app_dir, "pyproject.toml")
    if not os.path.isfile(path):
        raise _fail(path, "not found: APP_DIR is not a Flower app", FLOWER_APP_HINT)
    try:
        size = os.path.getsize(path)
        if size > MAX_PYPROJECT_BYTES:
            raise _fail(path, f"larger than {MAX_PYPROJECT_BYTES // 1024} KiB: not a pyproject.toml")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_PYPROJECT_BYTES + 1)
    except OSError as exc:
        raise _fail(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(path, f"not UTF-8 text (byte {exc.start})", "TOML files are UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = _TOML_POSITION.search(message)
        where = path
        if match:
            where = f"{path}:{match.group(1)}:{match.group(2)}"
            message = _TOML_POSITION.sub("", message).strip()
        raise _fail(where, f"TOML syntax error: {message}", "fix the pyproject.toml (it must be valid TOML 1.0)") \
            from None
    return _parse(app_dir, path, data)


def _parse(app_dir: str, path: str, data: dict[str, Any]) -> FlowerApp:
    project = data.get("project")
    if not isinstance(project, dict):
        raise _fail(path, "no [project] table: expected [project] with name, version and dependencies",
                    FLOWER_APP_HINT)
    name = project.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _fail(path, "[project] name: expected a non-empty string", FLOWER_APP_HINT)
    dynamic = project.get("dynamic") or []
    if not isinstance(dynamic, list):
        raise _fail(path, "[project] dynamic: expected a list of field names")
    version = project.get("version")
    if version is None:
        if "version" not in dynamic:
            raise _fail(path, "[project] version: missing (expected a version string such as \"1.0.0\")")
    elif not isinstance(version, str) or not version.strip():
        raise _fail(path, "[project] version: expected a non-empty string such as \"1.0.0\"")
    deps_raw = project.get("dependencies", [])
    if not isinstance(deps_raw, list) or not all(isinstance(d, str) for d in deps_raw):
        raise _fail(path, "[project] dependencies: expected a list of requirement strings (PEP 508)")
    requirements: list[Requirement] = []
    for i, text in enumerate(deps_raw):
        try:
            requirements.append(Requirement(text))
        except InvalidRequirement as exc:
            raise _fail(path, f"[project] dependencies[{i}] {text!r}: not a valid requirement (PEP 508): {exc}") \
                from None
    optional: dict[str, tuple[str, ...]] = {}
    optional_raw = project.get("optional-dependencies", {})
    if not isinstance(optional_raw, dict):
        raise _fail(path, "[project.optional-dependencies]: expected a table of requirement lists")
    for extra, items in optional_raw.items():
        if not isinstance(items, list) or not all(isinstance(d, str) for d in items):
            raise _fail(path, f"[project.optional-dependencies] {extra}: expected a list of requirement strings")
        optional[str(extra)] = tuple(items)

    tool = data.get("tool")
    flwr = tool.get("flwr") if isinstance(tool, dict) else None
    app = flwr.get("app") if isinstance(flwr, dict) else None
    if not isinstance(app, dict):
        raise _fail(path, "not a Flower app: no [tool.flwr.app] table "
                          "(expected publisher and [tool.flwr.app.components] serverapp/clientapp)",
                    FLOWER_APP_HINT)
    publisher = app.get("publisher")
    if not isinstance(publisher, str) or not publisher.strip():
        raise _fail(path, "[tool.flwr.app] publisher: expected a non-empty string (your user or organisation)",
                    FLOWER_APP_HINT)
    components = app.get("components")
    if not isinstance(components, dict):
        raise _fail(path, "[tool.flwr.app.components]: missing; expected serverapp = \"module:object\" and "
                          "clientapp = \"module:object\"", FLOWER_APP_HINT)
    found: dict[str, str] = {}
    for key in ("serverapp", "clientapp"):
        value = components.get(key)
        if value is None:
            raise _fail(path, f"[tool.flwr.app.components] {key}: missing; expected \"module:object\", "
                              f"e.g. {key} = \"{_example_module(name)}.{key[:6]}_app:app\"", FLOWER_APP_HINT)
        if not isinstance(value, str) or not _COMPONENT.match(value):
            raise _fail(path, f"[tool.flwr.app.components] {key}: {value!r} is not \"module:object\" "
                              "(a dotted module path, a colon, an attribute)")
        found[key] = value
    return FlowerApp(
        directory=app_dir,
        pyproject=path,
        name=name.strip(),
        version=version.strip() if isinstance(version, str) else None,
        dependencies=tuple(requirements),
        dependency_texts=tuple(deps_raw),
        optional_dependencies=optional,
        publisher=publisher.strip(),
        serverapp=found["serverapp"],
        clientapp=found["clientapp"],
    )


def _example_module(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name) or "app"
