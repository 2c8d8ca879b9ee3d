"""Hardened YAML loading for values files, charts and anything else a user hands us.

Values files are input from people and pipelines, so reading one must end with either data or
one clear :class:`InputProblem`, never a traceback, a hang or an exhausted memory:

* size cap (:data:`MAX_BYTES`), checked before reading when the file system knows the size;
* bytes must be UTF-8 (a UTF-8 BOM is accepted); NUL bytes mean binary data;
* a YAML-1.1 SafeLoader (libyaml's parser when available) whose composer is ours: it is
  iterative, caps nesting depth (:data:`MAX_DEPTH`), counts anchors and aliases and refuses
  alias graphs that would expand beyond :data:`MAX_ALIAS_EXPANSION` extra nodes (billion
  laughs) or that refer to themselves;
* duplicate mapping keys are errors (Helm keeps the last one silently);
* timestamps stay strings (Go's YAML decoder does the same for Helm values), keys become
  strings and other non-JSON scalars are normalised, so the result is plain JSON data.
"""

from __future__ import annotations

import base64
import datetime
import os
import re
import stat
import sys
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

import yaml

MAX_BYTES = 10 * 1024 * 1024
MAX_DEPTH = 100
MAX_ANCHORS = 1_000
MAX_ALIASES = 10_000
MAX_ALIAS_EXPANSION = 100_000

# Rule ids of input problems (exit code 2).
YAML_SYNTAX = "FLW001"
DUPLICATE_KEY = "FLW002"
ALIAS_BOMB = "FLW003"
TOO_LARGE = "FLW004"
TOO_DEEP = "FLW005"
NOT_TEXT = "FLW006"
NOT_A_FILE = "FLW007"
NOT_A_MAPPING = "FLW008"
MANY_DOCUMENTS = "FLW009"


@dataclass
class InputProblem(Exception):
    """A file that cannot be used as input. ``line``/``column`` are 1-based (0 = unknown)."""

    rule: str
    file: str
    message: str
    hint: str = ""
    line: int = 0
    column: int = 0

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"

    @property
    def where(self) -> str:
        if self.line:
            return f"{self.file}:{self.line}:{self.column}"
        return self.file


_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_BaseLoader):  # type: ignore[misc,valid-type]
    """SafeLoader with duplicate-key detection and without implicit timestamps."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
# Go's YAML 1.1 decoder (which Helm uses) also reads y/Y/n/N as booleans, keys included.
_Loader.add_implicit_resolver("tag:yaml.org,2002:bool", re.compile(r"^(?:y|Y|n|N)$"), list("yYnN"))
_BOOLS = {"y": True, "n": False, **yaml.constructor.SafeConstructor.bool_values}


def _construct_bool(loader: _Loader, node: yaml.ScalarNode) -> bool:
    return _BOOLS[loader.construct_scalar(node).lower()]


_Loader.add_constructor("tag:yaml.org,2002:bool", _construct_bool)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen: dict[Any, yaml.Node] = {}
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *base` merges may repeat keys by design
        key = loader.construct_object(key_node, deep=True)
        if isinstance(key, Hashable):
            first = seen.get(key)
            if first is not None:
                raise _Duplicate(key, first.start_mark, key_node.start_mark)
            seen[key] = key_node
    loader.flatten_mapping(node)
    mapping: dict[Any, Any] = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, Hashable):
            raise yaml.constructor.ConstructorError(
                "while constructing a mapping", node.start_mark,
                "found a key that is a list or a mapping", key_node.start_mark,
            )
        mapping[key] = loader.construct_object(value_node, deep=True)
    return mapping


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)


class _Duplicate(Exception):
    def __init__(self, key: Any, first: Any, again: Any) -> None:
        super().__init__(key)
        self.key, self.first, self.again = key, first, again


class _Limit(Exception):
    def __init__(self, rule: str, message: str, mark: Any = None, hint: str = "") -> None:
        super().__init__(message)
        self.rule, self.message, self.mark, self.hint = rule, message, mark, hint


# --- reading bytes -----------------------------------------------------------------------


def read_bytes(path: str, label: str | None = None, *, max_bytes: int = MAX_BYTES) -> bytes:
    """Read a file (``-`` = standard input) with the size cap; problems become InputProblem."""
    label = label or path
    if path == "-":
        data = sys.stdin.buffer.read(max_bytes + 1)
    else:
        try:
            info = os.stat(path)
        except FileNotFoundError:
            raise InputProblem(NOT_A_FILE, label, "file not found",
                               "check the path (relative paths start at the current directory)") from None
        except OSError as exc:
            raise InputProblem(NOT_A_FILE, label, f"cannot read: {_reason(exc)}") from None
        if stat.S_ISDIR(info.st_mode):
            raise InputProblem(NOT_A_FILE, label, "is a directory, not a file",
                               "pass a YAML file, e.g. -f my-values.yaml")
        if stat.S_ISREG(info.st_mode) and info.st_size > max_bytes:
            raise InputProblem(TOO_LARGE, label,
                               f"file is {_size(info.st_size)}; the limit is {_size(max_bytes)}",
                               "values files are configuration: split the file or remove embedded data")
        try:
            with open(path, "rb") as handle:
                data = handle.read(max_bytes + 1)
        except OSError as exc:
            raise InputProblem(NOT_A_FILE, label, f"cannot read: {_reason(exc)}") from None
    if len(data) > max_bytes:
        raise InputProblem(TOO_LARGE, label, f"more than {_size(max_bytes)} of data",
                           "values files are configuration: split the file or remove embedded data")
    return data


def decode_text(data: bytes, label: str) -> str:
    """UTF-8 text, or an InputProblem that says where the first bad byte is."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or data[:4] in (b"\x00\x00\xfe\xff", b"\xff\xfe\x00\x00"):
        raise InputProblem(NOT_TEXT, label, "is UTF-16/UTF-32 encoded", "save the file as UTF-8")
    nul = data.find(b"\x00")
    if nul >= 0:
        line, column = _position(data, nul)
        raise InputProblem(NOT_TEXT, label, "binary data, not YAML (NUL byte)",
                           "pass a YAML text file", line, column)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position(data, exc.start)
        raise InputProblem(NOT_TEXT, label,
                           f"not UTF-8 text (byte 0x{data[exc.start]:02x})",
                           "save the file as UTF-8", line, column) from None
    return text[1:] if text.startswith("\ufeff") else text


def _position(data: bytes, offset: int) -> tuple[int, int]:
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, offset - start + 1


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.1f} MiB" if n >= 1024 * 1024 else f"{n} bytes"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


# --- parsing -----------------------------------------------------------------------------


def load_file(path: str, label: str | None = None, *, mapping: bool = True) -> Any:
    """Read, decode and parse one YAML file (first document; more are an error)."""
    label = label or path
    return load_text(decode_text(read_bytes(path, label), label), label, mapping=mapping)


def load_bytes(data: bytes, label: str, *, mapping: bool = True) -> Any:
    if len(data) > MAX_BYTES:
        raise InputProblem(TOO_LARGE, label, f"more than {_size(MAX_BYTES)} of data")
    return load_text(decode_text(data, label), label, mapping=mapping)


def load_text(text: str, label: str, *, mapping: bool = True) -> Any:
    """Parse YAML text. With ``mapping`` the document must be a mapping (or empty -> {})."""
    documents = _load_documents(text, label, limit=2)
    if len(documents) > 1:
        raise InputProblem(MANY_DOCUMENTS, label,
                           "has more than one YAML document (---); Helm reads only the first",
                           "remove the extra documents or split them into separate -f files")
    data = documents[0] if documents else None
    if mapping:
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise InputProblem(NOT_A_MAPPING, label,
                               f"the document is a {_kind(data)}, not a mapping of values",
                               "values files map keys to values, e.g. 'superlink:\\n  replicaCount: 1'")
    return data


def load_all_text(text: str, label: str) -> list[Any]:
    """Every document of a multi-document stream (e.g. rendered manifests)."""
    return _load_documents(text, label, limit=None)


def _load_documents(text: str, label: str, limit: int | None) -> list[Any]:
    loader = _Loader(text)
    documents: list[Any] = []
    try:
        loader.get_event()  # StreamStartEvent
        while not loader.check_event(yaml.StreamEndEvent):
            if limit is not None and len(documents) >= limit - 1:
                documents.append(None)  # one more document exists; do not parse it
                break
            node = _compose_document(loader)
            documents.append(_normalise(loader.construct_document(node), label))
    except _Limit as exc:
        line, column = _mark(exc.mark)
        raise InputProblem(exc.rule, label, exc.message, exc.hint, line, column) from None
    except _Duplicate as exc:
        line, column = _mark(exc.again)
        first, _ = _mark(exc.first)
        raise InputProblem(DUPLICATE_KEY, label, f"duplicate key {exc.key!r} (first at line {first})",
                           "remove one of them: Helm would silently keep the last", line, column) from None
    except yaml.MarkedYAMLError as exc:
        line, column = _mark(exc.problem_mark or exc.context_mark)
        raise InputProblem(YAML_SYNTAX, label, f"invalid YAML: {_problem(exc)}", "", line, column) from None
    except yaml.YAMLError as exc:  # e.g. ReaderError for control characters
        line, column = _mark(getattr(exc, "mark", None))
        position = getattr(exc, "position", None)
        if not line and isinstance(position, int):
            line, column = _text_position(text, position)
        reason = _short(exc)
        if isinstance(exc, yaml.reader.ReaderError):
            char = exc.character
            code = char if isinstance(char, int) else ord(char[:1] or "\0")
            reason = f"unacceptable character #x{code:04x}: {exc.reason}"
        raise InputProblem(YAML_SYNTAX, label, f"invalid YAML: {reason}", "", line, column) from None
    except RecursionError:
        raise InputProblem(TOO_DEEP, label, f"nesting deeper than {MAX_DEPTH} levels") from None
    finally:
        loader.dispose()
    return documents


def _text_position(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def _mark(mark: Any) -> tuple[int, int]:
    if mark is None:
        return 0, 0
    return mark.line + 1, mark.column + 1


def _problem(exc: yaml.MarkedYAMLError) -> str:
    parts = [exc.context, exc.problem]
    return ", ".join(p for p in parts if p) or _short(exc)


def _short(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= 200 else text[:197] + "..."


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "list"
    if isinstance(value, str):
        return "string"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"
    return type(value).__name__


# --- composing (iterative, bounded) ------------------------------------------------------


class _Frame:
    __slots__ = ("node", "key")

    def __init__(self, node: yaml.Node) -> None:
        self.node = node
        self.key: yaml.Node | None = None


def _compose_document(loader: _Loader) -> yaml.Node:
    loader.get_event()  # DocumentStartEvent
    anchors: dict[str, yaml.Node] = {}
    aliases = 0
    stack: list[_Frame] = []
    root: yaml.Node | None = None
    while root is None:
        event = loader.get_event()
        node: yaml.Node | None = None
        if isinstance(event, yaml.AliasEvent):
            target = anchors.get(event.anchor)
            if target is None:
                raise yaml.composer.ComposerError(
                    None, None, f"found undefined alias {event.anchor!r}", event.start_mark)
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _Limit(ALIAS_BOMB, f"more than {MAX_ALIASES} aliases (*name)", event.start_mark,
                             "expand the aliases: values files do not need YAML anchors")
            node = target
        elif isinstance(event, yaml.ScalarEvent):
            tag = event.tag
            if tag is None or tag == "!":
                tag = loader.resolve(yaml.ScalarNode, event.value, event.implicit)
            node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, style=event.style)
            _anchor(anchors, event, node)
        elif isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
            is_seq = isinstance(event, yaml.SequenceStartEvent)
            kind = yaml.SequenceNode if is_seq else yaml.MappingNode
            tag = event.tag
            if tag is None or tag == "!":
                tag = loader.resolve(kind, None, event.implicit)
            container = kind(tag, [], event.start_mark, None, flow_style=event.flow_style)
            _anchor(anchors, event, container)
            if len(stack) >= MAX_DEPTH:
                raise _Limit(TOO_DEEP, f"nesting deeper than {MAX_DEPTH} levels", event.start_mark,
                             "flatten the structure: Helm values are rarely deeper than 10 levels")
            stack.append(_Frame(container))
            continue
        elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
            frame = stack.pop()
            frame.node.end_mark = event.end_mark
            node = frame.node
        else:  # pragma: no cover - the parser guarantees the event order
            raise yaml.composer.ComposerError(None, None, f"unexpected {type(event).__name__}",
                                              event.start_mark)
        if not stack:
            root = node
            break
        parent = stack[-1]
        if isinstance(parent.node, yaml.SequenceNode):
            parent.node.value.append(node)
        elif parent.key is None:
            parent.key = node
        else:
            parent.node.value.append((parent.key, node))
            parent.key = None
    loader.get_event()  # DocumentEndEvent
    if aliases:
        _check_expansion(root)
    return root


def _anchor(anchors: dict[str, yaml.Node], event: Any, node: yaml.Node) -> None:
    if event.anchor is None:
        return
    if event.anchor not in anchors and len(anchors) >= MAX_ANCHORS:
        raise _Limit(ALIAS_BOMB, f"more than {MAX_ANCHORS} anchors (&name)", event.start_mark,
                     "values files do not need YAML anchors")
    anchors[event.anchor] = node


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return []


def _check_expansion(root: yaml.Node) -> None:
    """Size and depth of the tree the alias graph stands for, without expanding it."""
    size: dict[int, int] = {}
    depth: dict[int, int] = {}
    grey: set[int] = set()
    composed = 0
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, finished = stack.pop()
        key = id(node)
        if finished:
            grey.discard(key)
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            depth[key] = 1 + max((depth[id(k)] for k in kids), default=0)
            composed += 1
            if size[key] - composed > MAX_ALIAS_EXPANSION:
                raise _Limit(ALIAS_BOMB,
                             f"aliases expand to more than {MAX_ALIAS_EXPANSION} extra nodes "
                             "(a 'billion laughs' YAML bomb?)", node.start_mark,
                             "expand the aliases by hand: values files do not need YAML anchors")
            if depth[key] > MAX_DEPTH:
                raise _Limit(TOO_DEEP, f"aliases nest deeper than {MAX_DEPTH} levels", node.start_mark)
            continue
        if key in size:
            continue
        if key in grey:
            raise _Limit(ALIAS_BOMB, "an alias refers to the node that contains it (recursive alias)",
                         node.start_mark, "values cannot be recursive")
        grey.add(key)
        stack.append((node, True))
        for kid in _children(node):
            if id(kid) in grey:
                raise _Limit(ALIAS_BOMB, "an alias refers to the node that contains it (recursive alias)",
                             kid.start_mark, "values cannot be recursive")
            if id(kid) not in size:
                stack.append((kid, False))


# --- normalising to JSON data --------------------------------------------------------------


def _normalise(value: Any, label: str) -> Any:
    """Plain JSON data: string keys, no dates/bytes/sets, shared (aliased) subtrees copied."""
    if isinstance(value, dict):
        return {_key(k): _normalise(v, label) for k, v in value.items()}
    if isinstance(value, list):
        return [_normalise(v, label) for v in value]
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (set, frozenset)):
        return {_key(k): None for k in value}
    if isinstance(value, tuple):
        return [_normalise(v, label) for v in value]
    return value


def _key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    if isinstance(key, tuple):
        return str(list(key))
    return str(key)
