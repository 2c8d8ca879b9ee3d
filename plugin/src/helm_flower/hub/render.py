"""Output of ``status``: one table per placement plus a verdict line, or JSON / YAML for machines."""

from __future__ import annotations

import json
from typing import Any, TextIO

from . import model
from .release import MANUAL, Row, Summary


def dump_json(data: Any, out: TextIO) -> None:
    json.dump(data, out, indent=2, sort_keys=False)
    out.write("\n")


def dump_yaml(data: Any, out: TextIO) -> None:
    import yaml

    dumper = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
    yaml.dump(data, out, Dumper=dumper, sort_keys=False, default_flow_style=False, allow_unicode=True)


def _table(headers: list[str], rows: list[list[str]], out: TextIO, indent: str = "") -> None:
    widths = [len(h) for h in headers]
    for r in rows:
        for i, cell in enumerate(r[:-1]):
            widths[i] = max(widths[i], len(cell))
    fmt_cells = lambda cells: indent + "  ".join(  # noqa: E731
        c.ljust(widths[i]) if i < len(cells) - 1 else c for i, c in enumerate(cells)).rstrip()
    out.write(fmt_cells(headers) + "\n")
    for r in rows:
        out.write(fmt_cells(r) + "\n")


def _summary_counts(s: dict[str, Any]) -> str:
    if not s:
        return "no summary yet"
    desired = s.get("desiredTotal")
    parts = [f"{s.get('applied', 0)} applied", f"{s.get('available', 0)} available"]
    if s.get("progressing"):
        parts.append(f"{s['progressing']} progressing")
    if s.get("degraded"):
        parts.append(f"{s['degraded']} degraded")
    # OCM v1.2 writes desiredTotal 0 whatever the placement chose: only a non-zero value says something.
    total = f" of {s.get('total', 0)} works" + (f" ({desired} desired)" if desired else "")
    return ", ".join(parts) + total


def _cond(conds: dict[str, dict[str, str]], ctype: str) -> str:
    c = conds.get(ctype)
    if not c:
        return ""
    return f"{ctype}={c.get('status')}" + (f" ({c.get('reason')})" if c.get("reason") else "")


def _pick_rows(rows: list[Row], max_rows: int) -> tuple[list[Row], int, int]:
    """Rows to print: all when they fit, else the not-ready ones first. Returns (rows, hidden ready, hidden not ready)."""
    if max_rows <= 0 or len(rows) <= max_rows:
        return rows, 0, 0
    bad = [r for r in rows if not r.ready]
    good = [r for r in rows if r.ready]
    shown_bad = bad[:max_rows]
    shown_good = good[: max(0, max_rows - len(shown_bad))]
    keep = {id(r) for r in shown_bad + shown_good}
    return [r for r in rows if id(r) in keep], len(good) - len(shown_good), len(bad) - len(shown_bad)


def render_table(summary: Summary, out: TextIO, *, max_rows: int = 50) -> None:
    out.write(f"Release {summary.release} in namespace {summary.namespace}: addon {summary.addon}, "
              f"installStrategy {summary.mode}\n")
    for t in summary.tables:
        rows: list[Row] = t["rows"]
        title = "Clusters of hubAddon.clusters (Manual)" if t["name"] == MANUAL else \
            f"Placement {t['name']} ({t['placement']})"
        ready = sum(1 for r in rows if r.ready)
        groups = t["groups"]
        out.write(f"\n{title}: {ready}/{len(rows)} clusters ready")
        if len(groups) > 1 or (groups and groups[0]["name"]):
            out.write("; decision groups: " + ", ".join(
                f"{g['name'] or g['index']} {g['ready']}/{g['clusters']}" for g in groups))
        out.write("\n")
        for a in t["apps"]:
            rolled = _cond(a["conditions"], "PlacementRolledOut")
            line = (f"  ClientApp {a['app']} ({a['manifestWorkReplicaSet']}) via {a['placement']}, "
                    f"{a['rolloutStrategy']} rollout: {_summary_counts(a['summary'])}")
            if a.get("availableDecisionGroups"):
                line += f"; decision groups {a['availableDecisionGroups']}"
            if rolled:
                line += f"; {rolled}"
            out.write(line + "\n")
        shown, hidden_ok, hidden_bad = _pick_rows(rows, max_rows)
        if shown:
            _table(["CLUSTER", "GROUP", "SUPERNODE", "CLIENTAPP", "REASON"],
                   [[r.cluster, r.group or "-", r.supernode, r.clientapp, r.reason or ""] for r in shown],
                   out, indent="  ")
        else:
            out.write("  (no cluster chosen)\n")
        if hidden_ok or hidden_bad:
            parts = []
            if hidden_bad:
                parts.append(f"{hidden_bad} not ready")
            if hidden_ok:
                parts.append(f"{hidden_ok} ready")
            out.write(f"  ... {' and '.join(parts)} clusters not shown (--max-rows 0 shows all)\n")
    for m in summary.apps:
        conds = ", ".join(x for x in (_cond(m.conditions, c) for c in
                                       ("PlacementVerified", "PlacementRolledOut", "ManifestworkApplied")) if x)
        out.write(f"\nClientApp {m.app} ({m.name}): {_summary_counts(m.summary)}" + (f"; {conds}" if conds else "")
                  + "\n")
    if summary.skewed:
        out.write(f"\nFlower version skew ({len(summary.skewed)} clusters):\n")
        for r in summary.skewed[:max_rows or None]:
            out.write(f"  - {r.cluster}: {r.skew['finding'] if r.skew else ''}\n")
        if max_rows and len(summary.skewed) > max_rows:
            out.write(f"  ... and {len(summary.skewed) - max_rows} more (-o json lists them all)\n")
    if summary.warnings:
        out.write("\nWarnings:\n")
        for w in summary.warnings:
            out.write(f"  - {w}\n")
    out.write("\n" + summary.verdict + "\n")


def render_not_ready(summary: Summary, out: TextIO, limit: int = 20) -> None:
    """The reasons of the clusters that are not ready (after a --wait timeout)."""
    rows = summary.not_ready
    if not rows:
        return
    out.write(f"Clusters not ready ({len(rows)}):\n")
    for r in rows[:limit]:
        out.write(f"  {r.cluster}: {r.reason or (r.supernode if r.supernode != model.AVAILABLE else r.clientapp)}\n")
    if len(rows) > limit:
        out.write(f"  ... and {len(rows) - limit} more (-o json lists them all)\n")


def cluster_explanation(summary: Summary, cluster: str, manual: bool, verdicts: list[Any]) -> dict[str, Any]:
    """``--cluster NAME``: its row when the federation has it, else why the placements leave it out."""
    rows = [r for t in summary.tables for r in t["rows"] if r.cluster == cluster]
    if rows:
        row = rows[0]
        state = "ready" if row.ready else f"not ready: {row.reason}"
        text = f"{cluster} is in the federation (SuperNode {row.supernode}, ClientApps {row.clientapp}); {state}"
        return {"name": cluster, "member": True, "text": text, "row": row.to_dict()}
    if manual:
        text = (f"{cluster} is not in the federation: the release uses the Manual install strategy and "
                f"{cluster} is not in hubAddon.clusters")
        return {"name": cluster, "member": False, "text": text, "placements": []}
    lines = [f"{cluster} is not in the federation:"]
    for v in verdicts:
        why = v.reason if not v.eligible else (
            f"{v.reason}, but it was not chosen (numberOfClusters and prioritizers, or the placement "
            "controller has not decided yet)")
        lines.append(f"  placement {v.placement} ({v.object_name}): {why}")
    if not verdicts:
        lines.append("  the release has no SuperNode placement")
    return {"name": cluster, "member": False, "text": "\n".join(lines),
            "placements": [v.to_dict() for v in verdicts]}
