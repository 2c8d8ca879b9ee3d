"""Benchmark: `helm flower status` on a 10,000-cluster fleet vs. the bare kubernetes client.

Starts the Kubernetes-API-compatible test server (tests/hub/fakehub.py) in a SUBPROCESS with the
fleet of tests/hub/fleetgen.big_fleet (3 SuperNode placements over 10,000 clusters, 2 ClientApps:
~22,500 objects, ~110 MB of JSON), then, in this process, alternately:

- bare:    the official client (CustomObjectsApi) lists the same objects with the same requests
           (same selectors, limit=500 pages, continue tokens) and drops every page;
- bare-gc: the same with Python's cyclic GC paused, as status runs its read (see
           helm_flower.hub.release.gc_paused): the like-for-like baseline;
- status:  helm_flower.hub.release.read_release + summarise (what `status` does before printing:
           the same requests, one page prefetched, every page reduced to small records).

Prints the median / min of each, the ratios (goal <= 1.2), the time to render the table and
the JSON, and the peak memory of one status read (tracemalloc, Python allocations) next to the
process's maximum RSS. Prints; asserts nothing. The machine's load shows in the medians; the
rounds interleave the variants so that load hits them alike.

    .tools/venv/bin/python bench/bench_status.py [--clusters 10000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "plugin" / "src"))
sys.path.insert(0, str(REPO / "tests" / "hub"))


def start_server(clusters: int) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "tests" / "hub" / "fakehub.py"), "--fleet", str(clusters)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit(f"fake hub did not start: {url!r}")
    return proc, url


def bare_list(custom, calls) -> int:
    """The same requests status makes, through the generated client, pages dropped."""
    n = 0
    for kind, args, kwargs in calls:
        token = None
        while True:
            kw = dict(kwargs, limit=500)
            if token:
                kw["_continue"] = token
            if kind == "ns":
                data = custom.list_namespaced_custom_object(*args, **kw)
            else:
                data = custom.list_cluster_custom_object(*args, **kw)
            n += len(data["items"])
            token = data["metadata"].get("continue")
            if not token:
                break
    return n


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clusters", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()

    t0 = time.perf_counter()
    proc, url = start_server(args.clusters)
    print(f"fake hub with {args.clusters:,} clusters at {url} (ready in {time.perf_counter() - t0:.1f} s)")
    tmp = tempfile.mkdtemp(prefix="bench-status-")
    kubeconfig = Path(tmp) / "kubeconfig"
    kubeconfig.write_text(
        '{"apiVersion":"v1","kind":"Config","current-context":"b","clusters":[{"name":"b","cluster":'
        f'{{"server":"{url}"}}}}],"users":[{{"name":"b","user":{{"token":"t"}}}}],'
        '"contexts":[{"name":"b","context":{"cluster":"b","user":"b"}}]}'
    )
    os.environ["KUBECONFIG"] = str(kubeconfig)

    from helm_flower.hub import render
    from helm_flower.hub.kube import ConnectionSettings, Hub
    from helm_flower.hub.release import gc_paused, read_release

    hub = Hub(ConnectionSettings(request_timeout=120))
    try:
        # The exact list requests status makes (learned from one run), replayed by the bare client.
        state = read_release(hub, "fed", "flower")
        ns = "flower"
        calls = [
            ("ns", ("cluster.open-cluster-management.io", "v1beta1", ns, "placements"),
             {"label_selector": "app.kubernetes.io/name=flower,app.kubernetes.io/instance=fed"}),
            ("cluster", ("addon.open-cluster-management.io", "v1alpha1", "clustermanagementaddons"),
             {"label_selector": "app.kubernetes.io/name=flower,app.kubernetes.io/instance=fed"}),
            ("ns", ("cluster.open-cluster-management.io", "v1beta1", ns, "placementdecisions"),
             {"label_selector": state.decision_selector()}),
            ("cluster", ("addon.open-cluster-management.io", "v1alpha1", "managedclusteraddons"),
             {"field_selector": state.addon_field_selector()}),
            ("ns", ("work.open-cluster-management.io", "v1alpha1", ns, "manifestworkreplicasets"),
             {"label_selector": state.mwrs_selector()}),
            ("cluster", ("work.open-cluster-management.io", "v1", "manifestworks"),
             {"label_selector": state.work_selector()}),
        ]
        objects = bare_list(hub.custom, calls)
        bare_t, bare_gc_t, status_t = [], [], []
        summary = None
        for _ in range(args.rounds):
            gc.collect()
            t = time.perf_counter()
            bare_list(hub.custom, calls)
            bare_t.append(time.perf_counter() - t)
            gc.collect()
            t = time.perf_counter()
            with gc_paused():
                bare_list(hub.custom, calls)
            bare_gc_t.append(time.perf_counter() - t)
            gc.collect()
            t = time.perf_counter()
            state = read_release(hub, "fed", "flower")
            summary = state.summarise()
            status_t.append(time.perf_counter() - t)
        assert summary is not None
        t = time.perf_counter()
        render.render_table(summary, io.StringIO())
        table_t = time.perf_counter() - t
        t = time.perf_counter()
        render.dump_json(summary.to_dict(), io.StringIO())
        json_t = time.perf_counter() - t

        gc.collect()
        tracemalloc.start()
        state = read_release(hub, "fed", "flower")
        summary = state.summarise()
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        requests = hub.requests
    finally:
        hub.close()
        proc.stdin.close()
        proc.wait(timeout=10)

    med_b, med_g, med_s = (statistics.median(x) for x in (bare_t, bare_gc_t, status_t))
    print(f"objects listed per run:          {objects:,} in the same paged requests (limit=500)")
    print(f"fleet verdict:                   {summary.verdict}")
    print(f"bare client list (median/min):   {med_b:6.2f} s / {min(bare_t):6.2f} s   over {args.rounds} rounds")
    print(f"bare client, GC paused:          {med_g:6.2f} s / {min(bare_gc_t):6.2f} s")
    print(f"status read+summarise:           {med_s:6.2f} s / {min(status_t):6.2f} s")
    print(f"ratio status / bare:             {med_s / med_b:6.2f}   (min/min {min(status_t) / min(bare_t):.2f}; goal <= 1.2)")
    print(f"ratio status / bare, GC paused:  {med_s / med_g:6.2f}   (min/min {min(status_t) / min(bare_gc_t):.2f}; like for like)")
    print(f"render table / JSON:             {table_t:6.2f} s / {json_t:6.2f} s")
    print(f"peak Python memory of a read:    {peak / 2**20:6.1f} MiB (tracemalloc)")
    print(f"max RSS of this process:         {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:6.1f} MiB")
    print(f"HTTP requests of one status read: {requests // (args.rounds + 2)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
