"""Update ONE SuperLink connection in flwr's ``config.toml``, leaving everything else byte for byte.

flwr 1.41 keeps its connections in ``$FLWR_HOME/config.toml`` (default ``~/.flwr``)::

    [superlink]
    default = "local"

    [superlink.fed]
    address = "203.0.113.10:443"
    root-certificates = "/abs/path/ca.crt"   # or: insecure = true

No round-trip TOML library is available (tomlkit is not in the lock file), so this module reads
the file with ``tomllib`` (to validate it and to know what it means) and edits the text itself:
a small scanner finds table headers (ignoring anything inside strings, multi-line strings,
arrays and comments), then only the lines of the keys it sets are replaced, inserted or
removed. Other tables, keys, comments, blank lines and line endings stay as they were. The
result is parsed again and must equal the old document plus exactly the intended change;
otherwise nothing is written.
"""

from __future__ import annotations

import copy
import json
import re
import tomllib
from dataclasses import dataclass
from typing import Any

from .errors import HubError

BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")

# What flwr writes when it creates the file itself (flwr.cli.constant.DEFAULT_FLOWER_CONFIG_TOML, 1.41).
FLWR_DEFAULT_CONFIG = """[superlink]
default = "local"

[superlink.supergrid]
address = "api.flower.ai"

[superlink.local]
address = ":local:"
"""


class TomlEditError(HubError):
    pass


def toml_string(value: str) -> str:
    """A TOML basic string."""
    out = json.dumps(value, ensure_ascii=False)
    return out.replace("\x7f", "\\u007f")


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return toml_string(value)
    raise TypeError(f"unsupported TOML value {value!r}")


@dataclass
class _Line:
    text: str  # including its line ending
    depth_after: int  # bracket depth at the end of the line (inside a value)
    in_ml_after: str  # '"""' or "'''" when a multi-line string continues after this line, else ""
    starts_clean: bool  # the line starts at depth 0 outside any string (a header or key may start here)
    comment_at: int  # index of a trailing comment (in text), -1 if none


def _scan(text: str) -> list[_Line]:
    """Split into lines and track strings, comments and bracket depth across them."""
    lines = text.splitlines(keepends=True)
    out: list[_Line] = []
    depth, ml = 0, ""
    for raw in lines:
        starts_clean = depth == 0 and not ml
        comment_at = -1
        i, n = 0, len(raw)
        while i < n:
            if ml:
                end = raw.find(ml, i)
                if end < 0:
                    i = n
                    break
                # Closing delimiter may be followed by up to two more quotes belonging to the string.
                j = end + 3
                while j < n and raw[j] == ml[0] and j - end < 5:
                    j += 1
                ml, i = "", j
                continue
            ch = raw[i]
            if ch == "#":
                comment_at = i
                break
            if raw.startswith('"""', i) or raw.startswith("'''", i):
                ml = raw[i:i + 3]
                i += 3
                continue
            if ch == '"':
                i += 1
                while i < n and raw[i] != '"':
                    i += 2 if raw[i] == "\\" else 1
                i += 1
                continue
            if ch == "'":
                end = raw.find("'", i + 1)
                i = n if end < 0 else end + 1
                continue
            if ch in "[{":
                depth += 1
            elif ch in "]}":
                depth = max(0, depth - 1)
            i += 1
        # A header line "[a.b]" opens and closes its brackets on the same line: depth is back to 0.
        out.append(_Line(raw, depth, ml, starts_clean, comment_at))
    return out


def _parse_key(s: str, i: int) -> tuple[tuple[str, ...], int]:
    """A dotted key starting at s[i] (whitespace allowed around dots); returns (parts, index after)."""
    parts: list[str] = []
    n = len(s)
    while True:
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] == '"':
            j = i + 1
            buf = []
            while j < n and s[j] != '"':
                if s[j] == "\\":
                    buf.append(s[j:j + 2])
                    j += 2
                else:
                    buf.append(s[j])
                    j += 1
            parts.append(json.loads('"' + "".join(buf) + '"'))
            i = j + 1
        elif i < n and s[i] == "'":
            j = s.find("'", i + 1)
            if j < 0:
                raise ValueError("unterminated key")
            parts.append(s[i + 1:j])
            i = j + 1
        else:
            m = BARE_KEY.match(s, i)
            if not m:
                raise ValueError("not a key")
            parts.append(m.group(0))
            i = m.end()
        while i < n and s[i] in " \t":
            i += 1
        if i < n and s[i] == ".":
            i += 1
            continue
        return tuple(parts), i


def _header(line: _Line) -> tuple[tuple[str, ...], bool] | None:
    """(path, is_array_table) when the line is a table header."""
    if not line.starts_clean:
        return None
    s = line.text.lstrip(" \t")
    if not s.startswith("["):
        return None
    array = s.startswith("[[")
    try:
        path, j = _parse_key(s, 2 if array else 1)
    except ValueError:
        return None
    close = "]]" if array else "]"
    if not s.startswith(close, j):
        return None
    return path, array


def _key_of(line: _Line) -> tuple[str, ...] | None:
    if not line.starts_clean:
        return None
    s = line.text
    if not s.strip() or s.lstrip(" \t").startswith(("#", "[")):
        return None
    try:
        path, j = _parse_key(s, 0)
    except ValueError:
        return None
    return path if j < len(s) and s[j] == "=" else None


def _value_end(lines: list[_Line], start: int) -> int:
    """Index of the last line of the key/value that starts at ``start``."""
    k = start
    while k < len(lines) - 1 and (lines[k].depth_after > 0 or lines[k].in_ml_after):
        k += 1
    return k


def _newline(text: str) -> str:
    m = re.search(r"\r?\n", text)
    return m.group(0) if m else "\n"


def _table_span(lines: list[_Line], path: tuple[str, ...]) -> tuple[int, int] | None:
    """(header index, end index exclusive) of the standard table ``path``."""
    for i, line in enumerate(lines):
        h = _header(line)
        if h and h[0] == path and not h[1]:
            end = i + 1
            while end < len(lines) and _header(lines[end]) is None:
                end += 1
            return i, end
    return None


def _set_keys(lines: list[_Line], span: tuple[int, int], values: dict[str, Any], remove: set[str],
              nl: str) -> list[str]:
    """New text lines for the table body ``span`` with ``values`` set and ``remove`` deleted."""
    head, end = span
    out = [line.text for line in lines[: head + 1]]
    pending = dict(values)
    last_kv = -1  # index in `out` after which missing keys go
    k = head + 1
    while k < end:
        key = _key_of(lines[k])
        stop = _value_end(lines, k) if key else k
        if key and len(key) == 1 and (key[0] in pending or key[0] in remove):
            name = key[0]
            if name in pending:
                comment = ""
                if stop == k and lines[k].comment_at >= 0:  # keep the comment and the space before it
                    before_comment = lines[k].text[: lines[k].comment_at]
                    gap = before_comment[len(before_comment.rstrip()):] or " "
                    comment = gap + lines[k].text[lines[k].comment_at:].rstrip("\r\n")
                out.append(f"{name} = {toml_value(pending.pop(name))}{comment}{nl}")
                last_kv = len(out) - 1
            k = stop + 1
            continue
        for j in range(k, stop + 1):
            out.append(lines[j].text)
        if key:
            last_kv = len(out) - 1
        k = stop + 1
    if pending:
        insert_at = (last_kv + 1) if last_kv >= 0 else head + 1
        if insert_at > 0 and not out[insert_at - 1].endswith(("\n", "\r")):
            out[insert_at - 1] += nl
        out[insert_at:insert_at] = [f"{k} = {toml_value(v)}{nl}" for k, v in pending.items()]
    out.extend(line.text for line in lines[end:])
    return out


def update_connection(
    text: str,
    name: str,
    *,
    address: str,
    root_certificates: str | None = None,
    insecure: bool = False,
    set_default: bool = False,
) -> str:
    """The text of config.toml with connection ``name`` set (and, optionally, made the default)."""
    if not BARE_KEY.fullmatch(name):
        raise TomlEditError(f"connection name {name!r}: use letters, digits, '-' and '_' only")
    if bool(root_certificates) == bool(insecure):
        raise ValueError("exactly one of root_certificates and insecure")
    try:
        before = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise TomlEditError(f"the existing config.toml is not valid TOML ({exc}); fix it first, nothing was changed")
    superlink = before.get("superlink", {})
    if not isinstance(superlink, dict):
        raise TomlEditError("config.toml: 'superlink' is not a table; fix it first, nothing was changed")
    values: dict[str, Any] = {"address": address}
    if root_certificates:
        values["root-certificates"] = root_certificates
        remove = {"insecure"}
    else:
        values["insecure"] = True
        remove = {"root-certificates"}
    expected = copy.deepcopy(before)
    conn = expected.setdefault("superlink", {}).setdefault(name, {})
    if not isinstance(conn, dict):
        raise TomlEditError(f"config.toml: superlink.{name} is not a table; fix it first, nothing was changed")
    for k in remove:
        conn.pop(k, None)
    conn.update(values)
    if set_default:
        expected["superlink"]["default"] = name

    nl = _newline(text)
    if text and not text.endswith(("\n", "\r")):
        text += nl
    lines = _scan(text)
    span = _table_span(lines, ("superlink", name))
    if span is not None:
        new_lines = _set_keys(lines, span, values, remove, nl)
    else:
        # Appended as a new table. (When the connection is already defined with dotted keys or an
        # inline table this is invalid TOML; the check below then refuses with a clear message.)
        new_lines = [line.text for line in lines]
        if new_lines and new_lines[-1].strip():
            new_lines.append(nl)
        new_lines.append(f"[superlink.{name}]{nl}")
        new_lines.extend(f"{k} = {toml_value(v)}{nl}" for k, v in values.items())
    new_text = "".join(new_lines)
    if set_default:
        new_text = _set_default(new_text, name, before, nl)
    try:
        after: Any = tomllib.loads(new_text)
    except tomllib.TOMLDecodeError:
        after = None
    if after != expected:
        if span is None and name in superlink:
            raise TomlEditError(
                f"config.toml defines connection {name!r} with dotted keys or an inline table, which this tool "
                f"does not rewrite: change it to a [superlink.{name}] table, or pick another --name "
                "(nothing was changed)")
        raise TomlEditError("config.toml has a layout this tool cannot edit safely (the edit would change more "
                            f"than [superlink.{name}]); nothing was changed. Edit it by hand.")
    return new_text


def _set_default(text: str, name: str, before: dict[str, Any], nl: str) -> str:
    lines = _scan(text)
    span = _table_span(lines, ("superlink",))
    if span is not None:
        return "".join(_set_keys(lines, span, {"default": name}, set(), nl))
    if "default" in before.get("superlink", {}):
        raise TomlEditError("config.toml sets superlink.default outside a [superlink] table; edit it by hand "
                            "(nothing was changed)")
    # No [superlink] header: add one before the first [superlink.*] table (or at the end).
    out = [line.text for line in lines]
    for i, line in enumerate(lines):
        h = _header(line)
        if h and h[0][:1] == ("superlink",):
            out[i:i] = [f"[superlink]{nl}", f"default = {toml_string(name)}{nl}", nl]
            return "".join(out)
    if out and out[-1].strip():
        out.append(nl)
    out.extend([f"[superlink]{nl}", f"default = {toml_string(name)}{nl}"])
    return "".join(out)
