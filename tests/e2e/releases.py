"""Helm releases of the chart on the test fleet's hub, through the real helm binaries (isolated homes).

Names OCM and the chart derive (addon, agent namespace, placements, ManifestWorkReplicaSets) are read
from the release's own manifest, so these helpers do not encode the chart's naming scheme."""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ocmfleet.layout import REPO_ROOT

CHART = REPO_ROOT / "charts" / "flower-federation"
HELM_BINS = {"4": REPO_ROOT / ".tools" / "bin" / "helm4", "3": REPO_ROOT / ".tools" / "bin" / "helm3"}


@dataclass
class Helm:
    version: str
    kubeconfig: Path
    home: Path

    @property
    def env(self) -> dict[str, str]:
        import os

        return {**os.environ, "KUBECONFIG": str(self.kubeconfig),
                "HELM_CONFIG_HOME": str(self.home / "config"), "HELM_CACHE_HOME": str(self.home / "cache"),
                "HELM_DATA_HOME": str(self.home / "data"), "HELM_BIN": str(HELM_BINS[self.version])}

    def run(self, *args: str, check: bool = True, timeout: float = 300) -> subprocess.CompletedProcess[str]:
        proc = subprocess.run([str(HELM_BINS[self.version]), "--kube-context", "hub", *args], env=self.env,
                              capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(f"helm{self.version} {' '.join(args)} failed ({proc.returncode}):\n"
                                 f"{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
        return proc


@dataclass
class Release:
    helm: Helm
    name: str
    namespace: str
    workdir: Path
    values: dict[str, Any] = field(default_factory=dict)
    installed: bool = False

    def values_file(self, values: dict[str, Any]) -> Path:
        path = self.workdir / f"{self.name}-values-{len(list(self.workdir.glob(f'{self.name}-values-*')))}.yaml"
        path.write_text(yaml.safe_dump(values, sort_keys=False))
        return path

    def install(self, values: dict[str, Any] | None = None, *extra: str) -> subprocess.CompletedProcess[str]:
        self.values = values or {}
        proc = self.helm.run("install", self.name, str(CHART), "-n", self.namespace, "--create-namespace",
                             "-f", str(self.values_file(self.values)), *extra)
        self.installed = True
        return proc

    def upgrade(self, values: dict[str, Any] | None = None, *extra: str, check: bool = True):
        if values is not None:
            self.values = values
        return self.helm.run("upgrade", self.name, str(CHART), "-n", self.namespace,
                             "-f", str(self.values_file(self.values)), *extra, check=check)

    def uninstall(self) -> None:
        if self.installed:
            self.helm.run("uninstall", self.name, "-n", self.namespace, "--wait", "--timeout", "120s")
            self.installed = False

    def manifest(self) -> list[dict]:
        text = self.helm.run("get", "manifest", self.name, "-n", self.namespace).stdout
        return [doc for doc in yaml.safe_load_all(text) if doc]

    def of_kind(self, kind: str) -> list[dict]:
        return [o for o in self.manifest() if o["kind"] == kind]

    @property
    def addon(self) -> str:
        (cma,) = self.of_kind("ClusterManagementAddOn")
        return cma["metadata"]["name"]

    @property
    def agent_namespace(self) -> str:
        namespaces = {adc["spec"]["agentInstallNamespace"] for adc in self.of_kind("AddOnDeploymentConfig")}
        (namespace,) = namespaces
        return namespace

    def placements(self, role: str) -> list[str]:
        return sorted(p["metadata"]["name"] for p in self.of_kind("Placement")
                      if p["metadata"]["labels"].get("flower.ai/placement-role") == role)

    def mwrs_names(self) -> list[str]:
        return sorted(m["metadata"]["name"] for m in self.of_kind("ManifestWorkReplicaSet"))

    def clientapp_mwrs(self, app: str) -> str:
        """The ManifestWorkReplicaSet that ships ClientApp `app` (found by its flower.ai/clientapp label)."""
        (name,) = [m["metadata"]["name"] for m in self.of_kind("ManifestWorkReplicaSet")
                   if m["metadata"]["labels"].get("flower.ai/clientapp") == app]
        return name

    def flower(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`helm flower ...` against the hub, as the user runs it."""
        import sys

        env = {**self.helm.env, "PYTHONPATH": str(REPO_ROOT / "plugin" / "src"), "HELM_KUBECONTEXT": "hub"}
        return subprocess.run([sys.executable, "-m", "helm_flower", *args, "--kube-context", "hub"], env=env,
                              capture_output=True, text=True, timeout=600)

    def status(self) -> dict:
        return json.loads(self.helm.run("status", self.name, "-n", self.namespace, "-o", "json").stdout)


def placed_on(label: str, **sections: dict) -> dict:
    """Values placing the default SuperNode placement on the clusters labelled ``label=true``, merged
    with more top-level sections (e.g. ``clientApp={...}``)."""
    values: dict[str, Any] = {"hubAddon": {"placements": [{
        "name": "default", "clusterSets": ["default"],
        "predicates": [{"requiredClusterSelector": {"labelSelector": {"matchLabels": {label: "true"}}}}]}]}}
    for key, value in sections.items():
        values.setdefault(key, {}).update(value)
    return values
