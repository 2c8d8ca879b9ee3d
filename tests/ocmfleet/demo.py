"""`make demo-ocm`: the digits training run of `make demo`, on the real control plane instead of a
rehearsal. The chart is installed on the fleet's hub with Helm; OCM's controllers deliver the
SuperNodes and ClientApps to cluster1..cluster3; the fleet's process nodes run what was delivered;
`flwr run` streams the rounds with rehearse's live progress and ends with its results table.

A fleet this demo starts is stopped when it ends (however it ends); one already running is kept."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from helm_flower import naming
from helm_flower.rehearse.display import Reporter, error_lines, summary_lines
from helm_flower.rehearse.errors import RehearsalError
from helm_flower.rehearse.processes import Supervisor
from helm_flower.rehearse.runner import Options, Result, flwr_run

from . import control
from .access import Fleet
from .layout import HUB, MANAGED, REPO_ROOT, Layout
from .runner import VENV_BIN, scheduling

CHART = REPO_ROOT / "charts" / "flower-federation"
APP = REPO_ROOT / "flower-apps" / "digits"
HELM = REPO_ROOT / ".tools" / "bin" / "helm4"
RELEASE, NAMESPACE = "demo", "flower-demo"
EXPOSURE_HOST = "superlink.fleet.test"  # resolved by the fleet, as external-dns would
OPT_IN = "flower.ai/enabled"  # the label the chart's default placement selects clusters by


def federation_values(placements: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Values that put every Flower workload of the chart on the fleet's process nodes, with the
    SuperLink exposed through a LoadBalancer Service whose host the fleet resolves."""
    on_processes = scheduling()
    values: dict[str, Any] = {
        "superlink": {"exposure": {"type": "LoadBalancer", "host": EXPOSURE_HOST,
                                   "annotations": {"external-dns.alpha.kubernetes.io/hostname": EXPOSURE_HOST}},
                      **on_processes, "serverApp": dict(on_processes), "gateway": dict(on_processes)},
        "hubAddon": {"supernode": {"nodePlacement": dict(on_processes)}},
        "clientApp": {"defaults": dict(on_processes)},
    }
    if placements is not None:
        values["hubAddon"]["placements"] = placements
    return values


class Demo:
    def __init__(self, layout: Layout, workdir: Path) -> None:
        self.fleet = Fleet(layout)
        self.workdir = workdir
        self.env = {**os.environ, "KUBECONFIG": str(layout.kubeconfig), "HELM_KUBECONTEXT": HUB,
                    **{f"HELM_{k}_HOME": str(workdir / "helm" / k.lower()) for k in ("CONFIG", "CACHE", "DATA")}}

    def step(self, what: str) -> None:
        print(f"\n== {what}", flush=True)

    def run(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run(argv, env=self.env, text=True, capture_output=True, check=False)
        if check and proc.returncode != 0:
            raise RehearsalError(f"{' '.join(argv[:3])} failed (exit {proc.returncode})",
                                 component=Path(argv[0]).name, log_tail=(proc.stdout + proc.stderr)[-3000:])
        return proc

    def flower(self, *args: str) -> None:
        """`helm flower ...` as a user runs it; its output shown as it comes."""
        proc = subprocess.run([sys.executable, "-m", "helm_flower", *args, "-n", NAMESPACE, "--kube-context", HUB],
                              env=self.env, check=False)
        if proc.returncode != 0:
            raise RehearsalError(f"helm flower {args[0]} failed (exit {proc.returncode})", component="helm flower")

    def helm(self, verb: str, values: dict[str, Any]) -> None:
        path = self.workdir / f"values-{verb}.yaml"
        path.write_text(yaml.safe_dump(values))
        self.run(str(HELM), verb, RELEASE, str(CHART), "-n", NAMESPACE, "--create-namespace", "-f", str(path),
                 "--wait", "--timeout", "5m")

    def supernodes_updated(self) -> bool:
        agents = [d for c in MANAGED for d in self.fleet.apps(c).list_deployment_for_all_namespaces(
            label_selector="app.kubernetes.io/component=supernode").items]
        return len(agents) == len(MANAGED) and all(
            d.status.observed_generation == d.metadata.generation and d.status.updated_replicas == d.spec.replicas
            and not d.status.unavailable_replicas for d in agents)

    def opt_in(self, value: str | None) -> None:
        for cluster in MANAGED:
            self.fleet.custom().patch_cluster_custom_object(
                "cluster.open-cluster-management.io", "v1", "managedclusters", cluster,
                {"metadata": {"labels": {OPT_IN: value}}})

    def deliver(self) -> None:
        self.step(f"{OPT_IN}=true on {', '.join(MANAGED)}; helm install {RELEASE} on the hub: OCM delivers "
                  "a SuperNode and a ClientApp to each")
        self.opt_in("true")
        values = federation_values()
        self.helm("install", values)
        self.flower("status", RELEASE, "--wait", "--timeout", "5m")
        self.step("helm flower partitions, then helm upgrade: each SuperNode gets its data partition")
        partitions = self.workdir / "partitions.yaml"
        self.flower("partitions", RELEASE, "-o", str(partitions))
        values["hubAddon"]["clusters"] = yaml.safe_load(partitions.read_text())["hubAddon"]["clusters"]
        self.helm("upgrade", values)
        deadline = time.monotonic() + 300
        while not self.supernodes_updated():
            if time.monotonic() > deadline:
                raise RehearsalError("the SuperNodes were not updated with their partitions within 5 min")
            time.sleep(2)
        self.flower("status", RELEASE, "--wait", "--timeout", "5m")

    def train(self, rounds: int) -> Result:
        self.step(f"flwr run {APP.relative_to(REPO_ROOT)} ({rounds} rounds) through the SuperLink OCM's clusters dial")
        address = self.fleet.local_address(HUB, naming.superlink_service(RELEASE, NAMESPACE), NAMESPACE, 9092)
        if address is None:
            raise RehearsalError("the SuperLink's Service has no running endpoint")
        ca = self.workdir / "ca.crt"
        ca.write_text(self.fleet.core().read_namespaced_config_map(naming.ca_bundle(RELEASE, NAMESPACE), NAMESPACE).data["ca.crt"])
        options = Options(app=str(APP), release=RELEASE, namespace=NAMESPACE, rounds=rounds)
        result = Result(ok=False, options=options, marker="")
        reporter = Reporter(sys.stdout)
        supervisor = Supervisor(f"ocmfleet-demo:{self.workdir}")
        started = time.monotonic()
        try:
            flwr_run(None, options, reporter, result, supervisor, self.workdir, self.workdir, VENV_BIN, address, ca)
            result.ok = True
        finally:
            reporter.close()
            supervisor.teardown(grace=5)
            result.timings["total"] = time.monotonic() - started
        return result


def main(layout: Layout, rounds: int = 3) -> int:
    started_here = not control.running(layout)
    control.up(layout, say=lambda text: print(text, flush=True), owner_pid=os.getpid())
    with tempfile.TemporaryDirectory(prefix="ocmfleet-demo-") as tmp:
        demo = Demo(layout, Path(tmp))
        try:
            demo.deliver()
            result = demo.train(rounds)
            for line in summary_lines(result, title="Training on the real control plane"):
                print(line)
            return 0
        except RehearsalError as exc:
            for line in error_lines(exc):
                print(line, file=sys.stderr)
            return 1
        finally:
            demo.run(str(HELM), "uninstall", RELEASE, "-n", NAMESPACE, "--wait", check=False)
            demo.opt_in(None)
            if started_here:
                control.down(layout, say=lambda text: None)
