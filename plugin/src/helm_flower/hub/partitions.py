"""Partition ids for the clusters of a release, as Helm values.

The assignment is a pure function of the SET of chosen cluster names: sorted by name (code
point order; cluster names are DNS labels), cluster i gets ``partition-id = i`` and every
cluster ``num-partitions = n``. A cluster chosen by several placements is counted once. So the
ids are a permutation of 0..n-1, never collide, and the same fleet always gives the same file.
(A cluster joining or leaving shifts the ids of the clusters sorted after it: rerun and upgrade.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

PARTITION_ID = "partition-id"
NUM_PARTITIONS = "num-partitions"


def assign(clusters: Iterable[str]) -> list[dict[str, Any]]:
    names = sorted(set(clusters))
    n = len(names)
    return [{"name": c, "nodeConfig": {PARTITION_ID: i, NUM_PARTITIONS: n}} for i, c in enumerate(names)]


def merge(assignment: list[dict[str, Any]], existing: list[dict[str, Any]] | None) -> tuple[list[dict[str, Any]], list[str]]:
    """Keep the other nodeConfig keys of an existing ``hubAddon.clusters`` list; drop its entries for
    clusters that are no longer chosen (the chart installs a SuperNode on every listed cluster)."""
    notes: list[str] = []
    if not existing:
        return assignment, notes
    by_name = {}
    for item in existing:
        if isinstance(item, dict) and isinstance(item.get("name"), str):
            by_name[item["name"]] = item
    out = []
    for entry in assignment:
        old = by_name.pop(entry["name"], None)
        if old and isinstance(old.get("nodeConfig"), dict):
            node_config = {k: v for k, v in old["nodeConfig"].items() if k not in (PARTITION_ID, NUM_PARTITIONS)}
            node_config.update(entry["nodeConfig"])
            entry = dict(entry, nodeConfig=node_config)
        out.append(entry)
    if by_name:
        notes.append(f"dropped {len(by_name)} hubAddon.clusters entr{'y' if len(by_name) == 1 else 'ies'} for clusters "
                     f"no placement chooses now: {', '.join(sorted(by_name)[:10])}"
                     + (" ..." if len(by_name) > 10 else ""))
    return out, notes


def values_document(assignment: list[dict[str, Any]]) -> dict[str, Any]:
    return {"hubAddon": {"clusters": assignment}}


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")
_YAML11_WORDS = {"y", "n", "yes", "no", "on", "off", "true", "false", "null"}


def _key(k: str) -> str:
    return k if _PLAIN_KEY.fullmatch(k) and k.lower() not in _YAML11_WORDS else json.dumps(k, ensure_ascii=False)


def _emit(assignment: list[dict[str, Any]]) -> str:
    """Block-style YAML written directly (PyYAML's representer takes seconds for 10,000 clusters).
    Names are always quoted (a cluster may be called `yes` or `1e3`); values are JSON, which
    YAML reads back unchanged."""
    out = ["hubAddon:\n", "  clusters:\n" if assignment else "  clusters: []\n"]
    for e in assignment:
        out.append(f"    - name: {json.dumps(e['name'], ensure_ascii=False)}\n      nodeConfig:\n")
        for k, v in e["nodeConfig"].items():
            out.append(f"        {_key(str(k))}: {json.dumps(v, ensure_ascii=False, allow_nan=False)}\n")
    return "".join(out)


def render(assignment: list[dict[str, Any]], header: list[str]) -> str:
    import yaml

    doc = values_document(assignment)
    try:
        body = _emit(assignment)
        # Names and the two integer keys are always written right; values merged from -f are
        # checked by reading the text back.
        simple = all(set(e["nodeConfig"]) <= {PARTITION_ID, NUM_PARTITIONS} for e in assignment)
        ok = simple or yaml.load(body, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) == doc
    except (TypeError, ValueError):
        ok = False
    if not ok:  # values the direct writer cannot express: let PyYAML do it
        dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
        body = yaml.dump(doc, Dumper=dumper, sort_keys=False, default_flow_style=False)
    return "".join(f"# {line}\n" if line else "#\n" for line in header) + body


def check(assignment: list[dict[str, Any]]) -> None:
    """Invariants (cheap; run before writing): ids are 0..n-1 in name order, n everywhere."""
    n = len(assignment)
    names = [e["name"] for e in assignment]
    assert names == sorted(set(names)), "cluster names must be unique and sorted"
    for i, e in enumerate(assignment):
        assert e["nodeConfig"][PARTITION_ID] == i and e["nodeConfig"][NUM_PARTITIONS] == n
