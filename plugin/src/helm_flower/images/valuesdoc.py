"""Merging the generated images into a values file, keeping everything else (ruamel.yaml round trip).

Owned by ``helm flower images`` (replaced or removed on every run):

* ``superlink.serverApp.image``: keys ``registry``, ``repository``, ``tag``, ``digest``;
* ``superlink.serverApp.appLabels``: the ``flower.ai/`` identity labels (:data:`plan.OWNED_LABELS`);
* every ``clientApp.apps`` item whose ``name`` this run generates: its ``image`` keys as above,
  ``placements`` and the identity labels in ``appLabels``.

Everything else stays as it was, comments included: other keys of the file, other ``apps`` items
(in their place), and the user's own keys in generated items (``resources``, ``nodeSelector``,
``tolerations``, ``pullPolicy``, other labels, ...). Unchanged values keep their formatting.
ruamel.yaml re-indents sequences to the style it detects in the file (that of the first one).
"""

from __future__ import annotations

import io
import os
import re
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from .. import safeyaml
from .errors import EXIT_USAGE, ImagesError
from .plan import LABEL_APP_NAME, LABEL_VARIANT, OWNED_IMAGE_KEYS, OWNED_LABELS, Entry, Plan

HEADER = ("Images of the Flower apps, written by `helm flower images` (use with helm -f).\n"
          "Re-running it replaces only superlink.serverApp.image / appLabels and the clientApp.apps\n"
          "entries it generates; your other keys and comments stay. `--check` reports drift.")


@dataclass
class Document:
    path: str | None
    text: str  # the file's text ("" when new)
    exists: bool
    data: Any  # the round-trip tree
    plain: dict[str, Any]  # the same values as plain data (for the chart context)
    yaml: YAML
    prefix: str = ""  # verbatim text of a file without values (comments only)


def _yaml(mapping: int = 2, sequence: int = 4, offset: int = 2, explicit_start: bool = False) -> YAML:
    y = YAML(typ="rt")
    y.preserve_quotes = True
    y.width = 4096
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    if explicit_start:
        y.explicit_start = True
    return y


def load(path: str | None) -> Document:
    """The values file to merge into (``None`` or a missing file: a new document)."""
    if path is None or not os.path.exists(path):
        return Document(path, "", False, CommentedMap(), {}, _yaml())
    raw = safeyaml.read_bytes(path, path)
    text = safeyaml.decode_text(raw, path)
    plain = safeyaml.load_text(text, path)  # size, depth, duplicate keys, alias bombs: one clear error
    mapping, sequence, offset = _guess_indent(text)
    y = _yaml(mapping, sequence, offset, explicit_start=text.lstrip().startswith("---"))
    try:
        data = y.load(text)
    except YAMLError as exc:
        raise ImagesError(f"{path}: cannot be merged into: {exc}", EXIT_USAGE) from None
    prefix = ""
    if data is None:  # nothing but comments (or nothing): keep them verbatim above the new values
        data = CommentedMap()
        prefix = text if not text or text.endswith("\n") else text + "\n"
        y.explicit_start = False
    if not isinstance(data, CommentedMap):
        raise ImagesError(f"{path}: the document is not a mapping of values", EXIT_USAGE)
    return Document(path, text, True, data, plain, y, prefix)


_KEY_ONLY = re.compile(r"^(- +)?[^\s#-][^#]*:\s*(#.*)?$")


def _guess_indent(text: str) -> tuple[int, int, int]:
    """(mapping indent, sequence indent, dash offset) as ruamel.yaml's ``indent()`` wants them,
    from the first nested mapping and the first block sequence of the file (defaults 2, 4, 2:
    the charts' own style, ``key:`` then ``  - item``)."""
    lines = []
    for raw in text.splitlines():
        stripped = raw.strip()
        if stripped and not stripped.startswith("#") and not stripped.startswith("---"):
            lines.append((len(raw) - len(raw.lstrip(" ")), stripped))
    mapping = offset = sequence = None
    for (i, a), (j, b) in zip(lines, lines[1:]):
        if not _KEY_ONLY.match(a):
            continue
        column = i + (len(a) - len(a.lstrip("- ")) if a.startswith("- ") else 0)
        if j < column:
            continue
        if b.startswith("- ") or b == "-":
            if offset is None:
                offset = j - column
                sequence = offset + 1 + (len(b) - 1 - len(b[1:].lstrip(" ")) if len(b) > 1 else 1)
        elif mapping is None and j > column:
            mapping = j - column
        if mapping is not None and offset is not None:
            break
    mapping = mapping if mapping and 1 < mapping < 9 else 2
    if offset is None or sequence is None or offset > 8 or sequence > 10:
        offset, sequence = 2, 4
    return mapping, max(sequence, offset + 2), offset


def _where(doc: Document) -> str:
    return doc.path or "values"


def _child_map(doc: Document, parent: CommentedMap, key: str, dotted: str) -> CommentedMap:
    value = parent.get(key)
    if isinstance(value, CommentedMap):
        return value
    if value is not None and not (isinstance(value, dict) and not value):
        raise ImagesError(f"{_where(doc)}: {dotted} is a {type(value).__name__}, expected a mapping", EXIT_USAGE)
    fresh = CommentedMap()
    parent[key] = fresh
    return fresh


def _set(mapping: CommentedMap, key: str, value: Any) -> None:
    """Set a scalar; an equal value keeps its formatting (quotes, comments)."""
    if key in mapping and _same(mapping[key], value):
        return
    mapping[key] = value


def _same(old: Any, new: Any) -> bool:
    if isinstance(new, list):
        return isinstance(old, list) and len(old) == len(new) and all(_same(a, b) for a, b in zip(old, new))
    return type(old) is not bool and isinstance(old, str) == isinstance(new, str) and str(old) == str(new)


def _set_owned(mapping: CommentedMap, owned: tuple[str, ...], wanted: dict[str, str]) -> None:
    """Set or remove the owned keys; a new key goes right after the owned key before it (so
    image keys read registry, repository, tag, digest), other keys keep their places."""
    previous: str | None = None
    for key in owned:
        if key in wanted:
            if key in mapping:
                _set(mapping, key, wanted[key])
            else:
                keys = list(mapping.keys())
                position = keys.index(previous) + 1 if previous is not None else 0
                mapping.insert(position, key, wanted[key])
            previous = key
        elif key in mapping:
            del mapping[key]


def _seq(items: list[str], like: Any = None) -> CommentedSeq:
    seq = CommentedSeq(items)
    if isinstance(like, CommentedSeq) and like.fa.flow_style():
        seq.fa.set_flow_style()
    return seq


def _new_map(values: dict[str, Any]) -> CommentedMap:
    out = CommentedMap()
    for k, v in values.items():
        out[k] = v
    return out


def _update_entry(doc: Document, item: CommentedMap, entry: Entry, index: int) -> None:
    where = f"clientApp.apps[{index}]"
    image = _child_map(doc, item, "image", f"{where}.image")
    _set_owned(image, OWNED_IMAGE_KEYS, entry.image_values())
    old = item.get("placements")
    if not _same(old, entry.placements):
        item["placements"] = _seq(entry.placements, old)
    labels = _child_map(doc, item, "appLabels", f"{where}.appLabels")
    _set_owned(labels, OWNED_LABELS, entry.labels)


def _new_entry(entry: Entry) -> CommentedMap:
    item = CommentedMap()
    item["name"] = entry.name
    item["image"] = _new_map(entry.image_values())
    item["placements"] = _seq(entry.placements)
    item["appLabels"] = _new_map(entry.labels)
    return item


def apply(doc: Document, plan: Plan) -> list[str]:
    """Merge the plan into the document; returns warnings (entries left alone that look stale)."""
    root = doc.data
    if not doc.exists and not root:
        root.yaml_set_start_comment(HEADER)
    superlink = _child_map(doc, root, "superlink", "superlink")
    server_app = _child_map(doc, superlink, "serverApp", "superlink.serverApp")
    image = _child_map(doc, server_app, "image", "superlink.serverApp.image")
    _set_owned(image, OWNED_IMAGE_KEYS, plan.server.image_values())
    labels = _child_map(doc, server_app, "appLabels", "superlink.serverApp.appLabels")
    _set_owned(labels, OWNED_LABELS, {k: v for k, v in plan.server.labels.items() if k != LABEL_VARIANT})

    client = _child_map(doc, root, "clientApp", "clientApp")
    apps = client.get("apps")
    if apps is None:
        apps = CommentedSeq()
        client["apps"] = apps
    elif not isinstance(apps, CommentedSeq):
        raise ImagesError(f"{_where(doc)}: clientApp.apps is a {type(apps).__name__}, expected a list", EXIT_USAGE)
    by_name: dict[str, int] = {}
    for i, item in enumerate(apps):
        if isinstance(item, CommentedMap) and isinstance(item.get("name"), str):
            by_name.setdefault(item["name"], i)
    for entry in plan.entries:
        if entry.name in by_name:
            _update_entry(doc, apps[by_name[entry.name]], entry, by_name[entry.name])
        else:
            apps.append(_new_entry(entry))
            by_name[entry.name] = len(apps) - 1
    warnings = []
    generated = {e.name for e in plan.entries}
    ours = {e.labels.get(LABEL_APP_NAME) for e in plan.entries}
    for i, item in enumerate(apps):
        if not isinstance(item, CommentedMap) or item.get("name") in generated:
            continue
        app_labels = item.get("appLabels")
        if isinstance(app_labels, dict) and app_labels.get(LABEL_APP_NAME) in ours:
            warnings.append(f"{_where(doc)}: clientApp.apps[{i}] {item.get('name')!r} is labelled as app "
                            f"{app_labels.get(LABEL_APP_NAME)!r} but was not generated this time (a variant that "
                            "is gone?); it was kept: remove it by hand if it is stale")
    return warnings


def dump(doc: Document) -> str:
    out = io.StringIO()
    doc.yaml.dump(doc.data, out)
    return doc.prefix + out.getvalue()


def to_plain(doc: Document) -> dict[str, Any]:
    """The merged document as plain data (for schema checks)."""
    return safeyaml.load_text(dump(doc), _where(doc))
