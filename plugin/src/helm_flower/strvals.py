"""Helm's ``--set`` / ``--set-string`` syntax (a port of helm.sh/helm/v3/pkg/strvals).

``a.b=c,d[0]=x,e={1,2}``: ``,`` separates assignments, ``.`` nests maps, ``[n]`` indexes
lists, ``{a,b}`` is a list, ``\\`` escapes the next character (``\\,`` ``\\.``) in keys and
values. ``--set`` infers types like Helm (true/false in any case, null, 0 and integers
that do not start with 0; everything else, floats included, stays a string);
``--set-string`` keeps strings. Values are written into an existing map (the merged -f
files), so Helm's precedence follows from the order of the calls: -f files, then every
--set, then every --set-string.
"""

from __future__ import annotations

import re
from typing import Any

MAX_INDEX = 65536
MAX_NESTED_NAME_LEVEL = 30
_INT = re.compile(r"[+-]?[0-9]+")


class StrvalsError(ValueError):
    """A --set expression Helm would reject."""


class _EOF(Exception):
    pass


class _NotList(Exception):
    pass


def parse(text: str, *, string_values: bool = False) -> dict[str, Any]:
    data: dict[str, Any] = {}
    parse_into(text, data, string_values=string_values)
    return data


def parse_into(text: str, data: dict[str, Any], *, string_values: bool = False) -> None:
    """Apply one --set (or --set-string) argument to ``data`` in place."""
    parser = _Parser(text, string_values)
    while True:
        try:
            parser.key(data, 0)
        except _EOF:
            return


def typed_value(value: str, string_value: bool = False) -> Any:
    if string_value:
        return value
    lower = value.lower()
    if lower == "true":
        return True
    if lower == "false":
        return False
    if lower == "null":
        return None
    if lower == "0":
        return 0
    if value and value[0] != "0" and _INT.fullmatch(value):
        number = int(value)
        if -(2**63) <= number < 2**63:
            return number
    return value


class _Parser:
    def __init__(self, text: str, string_values: bool) -> None:
        self.text = text
        self.pos = 0
        self.string_values = string_values

    # -- scanner --
    def _read(self) -> str | None:
        if self.pos >= len(self.text):
            return None
        char = self.text[self.pos]
        self.pos += 1
        return char

    def _unread(self) -> None:
        self.pos -= 1

    def _until(self, stop: str) -> tuple[str, str | None]:
        """Characters up to one of ``stop`` (consumed); last is None at the end."""
        out: list[str] = []
        while True:
            char = self._read()
            if char is None:
                return "".join(out), None
            if char in stop:
                return "".join(out), char
            if char == "\\":
                escaped = self._read()
                if escaped is None:
                    return "".join(out), None
                out.append(escaped)
            else:
                out.append(char)

    def _value(self, raw: str) -> Any:
        return typed_value(raw, self.string_values)

    # -- grammar --
    def key(self, data: dict[str, Any], level: int) -> None:
        name, last = self._until("=[,.")
        if last is None:
            if not name:
                raise _EOF
            raise StrvalsError(f"key {name!r} has no value")
        if last == "[":
            index = self._index()
            current = data.get(name, None) if name in data else []
            if not isinstance(current, list):
                raise StrvalsError(f"key {name!r} is {_kind(current)}, it cannot be indexed with [{index}]")
            try:
                current = self._list_item(current, index, level)
            except _EOF:
                data[name] = current
                raise
            data[name] = current
            return
        if last == "=":
            try:
                items = self._value_list()
            except _EOF:
                data[name] = ""
                raise
            except _NotList:
                raw, _ = self._until(",")
                data[name] = self._value(raw)
                return
            data[name] = items
            return
        if last == ",":
            data[name] = ""
            raise StrvalsError(f"key {name!r} has no value (cannot end with ,)")
        # last == "."
        level += 1
        if level > MAX_NESTED_NAME_LEVEL:
            raise StrvalsError(
                f"value name nested level is greater than maximum supported nested level of {MAX_NESTED_NAME_LEVEL}")
        inner = data[name] if name in data else {}
        if not isinstance(inner, dict):
            raise StrvalsError(f"key {name!r} is {_kind(inner)}, not a map: it cannot hold {name}.<key>")
        try:
            self.key(inner, level)
        except (_EOF, StrvalsError):
            if inner:
                data[name] = inner
            raise
        if not inner:
            raise StrvalsError(f"key map {name!r} has no value")
        data[name] = inner

    def _index(self) -> int:
        raw, last = self._until("]")
        if last is None:
            raise StrvalsError("error parsing index: missing ']'")
        if not _INT.fullmatch(raw):
            raise StrvalsError(f"error parsing index: {raw!r} is not an integer")
        return int(raw)

    def _list_item(self, items: list[Any], index: int, level: int) -> list[Any]:
        if index < 0:
            raise StrvalsError(f"negative {index} index not allowed")
        rest, last = self._until("[.=")
        if rest:
            raise StrvalsError(f"unexpected data at end of array index: {rest!r}")
        if last is None:
            raise _EOF
        if last == "=":
            try:
                value: Any = self._value_list()
            except _EOF:
                return _set_index(items, index, "")
            except _NotList:
                raw, _ = self._until(",")
                value = self._value(raw)
            return _set_index(items, index, value)
        if last == "[":
            next_index = self._index()
            current: list[Any] = []
            if len(items) > index and items[index] is not None:
                if not isinstance(items[index], list):
                    raise StrvalsError(f"list item [{index}] is {_kind(items[index])}, it cannot be indexed")
                current = items[index]
            return _set_index(items, index, self._list_item(current, next_index, level))
        # last == "."
        inner: dict[str, Any] = {}
        if len(items) > index:
            if not isinstance(items[index], dict):
                items[index] = {}
            inner = items[index]
        self.key(inner, level)
        return _set_index(items, index, inner)

    def _value_list(self) -> list[Any]:
        char = self._read()
        if char is None:
            raise _EOF
        if char != "{":
            self._unread()
            raise _NotList
        items: list[Any] = []
        while True:
            raw, last = self._until(",}")
            if last is None:
                raise StrvalsError("list must terminate with '}'")
            items.append(self._value(raw))
            if last == "}":
                following = self._read()
                if following is not None and following != ",":
                    self._unread()
                return items


def _set_index(items: list[Any], index: int, value: Any) -> list[Any]:
    if index < 0:
        raise StrvalsError(f"negative {index} index not allowed")
    if index > MAX_INDEX:
        raise StrvalsError(f"index of {index} is greater than maximum supported index of {MAX_INDEX}")
    if len(items) <= index:
        items = items + [None] * (index + 1 - len(items))
    items[index] = value
    return items


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict):
        return "a map"
    if isinstance(value, list):
        return "a list"
    return f"{type(value).__name__} {value!r}"
