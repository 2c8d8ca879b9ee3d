"""``status --wait``: watch the hub (not poll it) until enough clusters are ready.

After the initial paged lists (:func:`.release.read_release`), one thread per stream watches
from the list's resourceVersion: the ManagedClusterAddOns (cluster-wide, field selector on the
addon name), the ClientApp ManifestWorks (cluster-wide, owner-label selector), the
ManifestWorkReplicaSets and the PlacementDecisions (release namespace). Events are applied to
the :class:`.release.ReleaseState` in the main thread, which re-evaluates after each batch. A
stream that ends (server-side ``timeoutSeconds``) is resumed from its last resourceVersion
(bookmarks included); a 410 Gone relists that stream. No request is made while nothing changes.
"""

from __future__ import annotations

import math
import queue
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import HubError, Operation
from .kube import Hub
from .release import ReleaseState, Summary
from .resources import (
    MANAGED_CLUSTER_ADDONS,
    MANIFEST_WORK_REPLICA_SETS,
    MANIFEST_WORKS,
    PLACEMENT_DECISIONS,
    Resource,
)

MAX_WATCH_SECONDS = 300  # per watch request; the stream is resumed after it

_DURATION = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_duration(text: str) -> float:
    """Seconds in a Go-style duration (``90s``, ``10m``, ``1h30m``, ``500ms``) or a bare number of seconds."""
    text = (text or "").strip()
    try:
        value = float(text)
    except ValueError:
        pos, value = 0, 0.0
        for m in _DURATION.finditer(text):
            if m.start() != pos:
                break
            value += float(m.group(1)) * {"ms": 0.001, "s": 1, "m": 60, "h": 3600}[m.group(2)]
            pos = m.end()
        if pos != len(text) or not text:
            raise ValueError(f"invalid duration {text!r} (use e.g. 90s, 10m, 1h30m)") from None
    if value <= 0 or math.isinf(value) or math.isnan(value):
        raise ValueError(f"invalid duration {text!r}: must be positive")
    return value


@dataclass
class Stream:
    name: str
    res: Resource
    apply: Callable[[str, dict[str, Any]], None]
    reset: Callable[[], None]
    namespace: str | None = None
    label_selector: str | None = None
    field_selector: str | None = None
    rv: str = ""
    watch: Any = None
    events: int = 0
    restarts: int = 0
    relists: int = 0
    thread: threading.Thread | None = field(default=None, repr=False)


class _Relist:
    def __init__(self, items: list[dict[str, Any]], rv: str) -> None:
        self.items, self.rv = items, rv


def streams_for(state: ReleaseState) -> list[Stream]:
    def reset_addons() -> None:
        state.addons.clear()

    def reset_works() -> None:
        state.works.clear()

    def reset_mwrs() -> None:
        state.mwrs.clear()

    def reset_decisions() -> None:
        state.decisions.clear()

    out = [
        Stream("addons", MANAGED_CLUSTER_ADDONS, state.apply_addon, reset_addons,
               field_selector=state.addon_field_selector(), rv=state.rv.get("addons", "")),
        Stream("decisions", PLACEMENT_DECISIONS, state.apply_decision, reset_decisions,
               namespace=state.namespace, label_selector=state.decision_selector(),
               rv=state.rv.get("decisions", "")),
        Stream("mwrs", MANIFEST_WORK_REPLICA_SETS, state.apply_mwrs, reset_mwrs, namespace=state.namespace,
               label_selector=state.mwrs_selector(), rv=state.rv.get("mwrs", "")),
    ]
    selector = state.work_selector()
    if selector and state.works_visible:
        out.append(Stream("works", MANIFEST_WORKS, state.apply_work, reset_works, label_selector=selector,
                          rv=state.rv.get("works", "")))
    return out


def _pump(hub: Hub, stream: Stream, out: "queue.Queue[tuple[Stream, Any]]", stop: threading.Event,
          deadline: float) -> None:
    from kubernetes.client.exceptions import ApiException

    op = Operation("watch", stream.res.plural, stream.res.group, stream.res.version, stream.namespace)
    while not stop.is_set():
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        try:
            w, events = hub.watch(stream.res, resource_version=stream.rv, namespace=stream.namespace,
                                  label_selector=stream.label_selector, field_selector=stream.field_selector,
                                  timeout_seconds=max(1, min(MAX_WATCH_SECONDS, math.ceil(remaining))))
            stream.watch = w
            for ev in events:
                if stop.is_set():
                    break
                obj = ev.get("object") or {}
                rv = (obj.get("metadata") or {}).get("resourceVersion")
                if rv:
                    stream.rv = str(rv)
                if ev.get("type") == "BOOKMARK":
                    continue
                out.put((stream, ev))
            stream.restarts += 1
        except ApiException as exc:
            if stop.is_set():
                return
            if exc.status == 410:  # too old: list again, carry on from the new version
                try:
                    items: list[dict[str, Any]] = []
                    rv = ""
                    for page, rv in hub.list_pages(stream.res, namespace=stream.namespace,
                                                   label_selector=stream.label_selector,
                                                   field_selector=stream.field_selector):
                        items.extend(page)
                except HubError as err:
                    out.put((stream, err))
                    return
                stream.rv = rv
                stream.relists += 1
                out.put((stream, _Relist(items, rv)))
                continue
            out.put((stream, hub.translate(exc, op)))
            return
        except Exception as exc:  # noqa: BLE001 - connection closed by stop(), or a real failure
            if stop.is_set():
                return
            out.put((stream, hub.translate(exc, op)))
            return


def wait_until_ready(
    hub: Hub,
    state: ReleaseState,
    *,
    min_clusters: int | None,
    timeout: float,
    on_progress: Callable[[Summary], None] | None = None,
) -> tuple[Summary, list[Stream]]:
    """Watch until ``summary.ready`` or ``timeout`` seconds pass; returns the last summary."""
    deadline = time.monotonic() + timeout
    summary = state.summarise(min_clusters)
    if summary.ready:
        return summary, []
    events: "queue.Queue[tuple[Stream, Any]]" = queue.Queue()
    stop = threading.Event()
    streams = streams_for(state)
    for s in streams:
        s.thread = threading.Thread(target=_pump, args=(hub, s, events, stop, deadline),
                                    name=f"watch-{s.name}", daemon=True)
        s.thread.start()
    last_ready = summary.ready_count
    try:
        while not summary.ready:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:
                batch = [events.get(timeout=remaining)]
            except queue.Empty:
                break
            while True:  # apply everything that arrived, then evaluate once
                try:
                    batch.append(events.get_nowait())
                except queue.Empty:
                    break
            for stream, item in batch:
                if isinstance(item, HubError):
                    raise item
                if isinstance(item, _Relist):
                    stream.reset()
                    for obj in item.items:
                        stream.apply("ADDED", obj)
                    continue
                stream.events += 1
                stream.apply(item.get("type", ""), item.get("object") or {})
            summary = state.summarise(min_clusters)
            if on_progress is not None and summary.ready_count != last_ready:
                on_progress(summary)
            last_ready = summary.ready_count
    finally:
        stop.set()
        for s in streams:
            if s.watch is not None:
                try:
                    s.watch.stop()
                except Exception:  # noqa: BLE001 - best effort
                    pass
        for s in streams:
            if s.thread is not None:
                s.thread.join(timeout=2)
    return summary, streams
