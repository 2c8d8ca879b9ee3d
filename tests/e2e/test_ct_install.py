"""chart-testing's `ct install` against the fleet's hub, the command chart repositories run on a real
cluster: for each `ci/*-values.yaml` the hub can run it creates a namespace, installs the chart and
waits, runs the chart's `helm test` hooks, uninstalls and deletes the namespace (issue 18).

The hub's Flower workloads and the test pods run as real processes on the fleet's process node; the
overlay below is all that differs from a real hub (scheduling onto that node, the fleet's StorageClass).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from hubview import wait_until
from ocmfleet.bootstrap import STORAGE_CLASS
from ocmfleet.layout import REPO_ROOT
from ocmfleet.runner import scheduling
from releases import CHART, HELM_BINS

CT = REPO_ROOT / ".tools" / "bin" / "ct"
KUBECTL = REPO_ROOT / ".tools" / "bin" / "kubectl"

# Examples a bare hub cannot run, and what they need that it lacks.
HUB_CANNOT_RUN = {
    "superlink-only-values.yaml": "a ServiceAccount that exists before the install (serviceAccount.create=false)",
    "tls-certmanager-clusterissuer-route-values.yaml": "cert-manager and OpenShift Routes",
    "tls-certmanager-ingress-values.yaml": "cert-manager and an Ingress controller",
    "tls-existingsecret-nodeport-manual-values.yaml": "a TLS Secret that exists before the install",
}


def examples() -> list[str]:
    return sorted(p.name for p in (CHART / "ci").glob("*-values.yaml"))


def runnable() -> list[str]:
    return [name for name in examples() if name not in HUB_CANNOT_RUN]


def fleet_overlay() -> dict:
    on_processes = scheduling()
    return {"superlink": {**on_processes, "serverApp": dict(on_processes), "gateway": dict(on_processes),
                          "tests": dict(on_processes), "persistence": {"storageClass": STORAGE_CLASS}}}


def hub_kubeconfig(fleet, path: Path) -> Path:
    """The fleet's kubeconfig with the hub as current context (ct has no context flag)."""
    kubeconfig = yaml.safe_load(fleet.kubeconfig.read_text())
    kubeconfig["current-context"] = fleet.hub_context
    path.write_text(yaml.safe_dump(kubeconfig))
    return path


def staged_chart(tmp_path: Path) -> Path:
    """The chart with only the examples the hub can run in ci/ (ct installs every file there)."""
    chart = tmp_path / CHART.name
    shutil.copytree(CHART, chart)
    for name in HUB_CANNOT_RUN:
        (chart / "ci" / name).unlink()
    return chart


def ct_env(fleet, tmp_path: Path, helm: str) -> dict[str, str]:
    tools = tmp_path / "bin"  # ct and kubectl call `helm`: the one under test, first on PATH
    tools.mkdir()
    (tools / "helm").symlink_to(HELM_BINS[helm])
    (tools / "kubectl").symlink_to(KUBECTL)
    return {**os.environ, "PATH": f"{tools}:{os.environ['PATH']}",
            "KUBECONFIG": str(hub_kubeconfig(fleet, tmp_path / "kubeconfig")),
            "HELM_CONFIG_HOME": str(tmp_path / "helm" / "config"), "HELM_CACHE_HOME": str(tmp_path / "helm" / "cache"),
            "HELM_DATA_HOME": str(tmp_path / "helm" / "data")}


def test_every_example_is_installed_by_ct_or_says_what_the_hub_lacks():
    assert set(HUB_CANNOT_RUN) <= set(examples()), "HUB_CANNOT_RUN names an example that no longer exists"
    assert len(runnable()) >= 5, runnable()


def test_ct_install_installs_tests_and_uninstalls_every_runnable_example(fleet, tmp_path):
    assert CT.exists() and KUBECTL.exists(), "ct and kubectl come from `make tools-e2e` (hack/install-go-tools.sh)"
    chart = staged_chart(tmp_path)
    overlay = tmp_path / "fleet-overlay.yaml"
    overlay.write_text(yaml.safe_dump(fleet_overlay()))
    proc = subprocess.run(
        [str(CT), "install", "--config", str(REPO_ROOT / "ct.yaml"), "--charts", str(chart),
         "--helm-extra-set-args", f"--values {overlay}"],
        env=ct_env(fleet, tmp_path, "4"), cwd=tmp_path, capture_output=True, text=True, timeout=1500)
    log = proc.stdout + proc.stderr
    (tmp_path / "ct.log").write_text(log)
    assert proc.returncode == 0, f"ct install failed ({proc.returncode}), last output:\n{log[-6000:]}"

    installed = re.findall(r'Installing chart with values file ".*/ci/([^"]+)"', log)
    assert installed == runnable(), installed
    suites = re.findall(r"TEST SUITE:\s+(\S+)\n.*?Phase:\s+(\w+)", log, re.S)
    assert len(suites) == len(runnable()) and all(phase == "Succeeded" for _, phase in suites), suites
    assert all(name.endswith("-test-superlink") for name, _ in suites), suites
    namespaces = set(re.findall(r'Creating namespace "([^"]+)"', log))
    assert len(namespaces) == len(runnable())
    wait_until("ct's namespaces to be gone from the hub",
               lambda: not namespaces & {n.metadata.name for n in fleet.core().list_namespace().items}, 180)


@pytest.mark.parametrize("helm", ["3"])
def test_helm_test_fails_when_the_superlink_certificate_is_not_signed_by_the_ca_bundle(
        helm, fleet, releases, tmp_path):
    """The hook verifies TLS the way SuperNodes do: with a CA bundle that did not sign the SuperLink's
    certificate, `helm test` fails (and passes again with the right bundle)."""
    release = releases("cttls", "flower-ct-tls", helm=helm)
    values = fleet_overlay()
    values["hubAddon"] = {"enabled": False}
    values["clientApp"] = {"enabled": False}
    release.install(values, "--wait", "--timeout", "300s")
    assert release.helm.run("test", release.name, "-n", release.namespace, "--timeout", "120s").returncode == 0

    bundle = next(o["metadata"]["name"] for o in release.of_kind("ConfigMap") if o["metadata"]["name"].endswith("ca-bundle"))
    original = fleet.core().read_namespaced_config_map(bundle, release.namespace).data
    other_ca = _self_signed_ca(tmp_path)
    fleet.core().patch_namespaced_config_map(bundle, release.namespace, {"data": {"ca.crt": other_ca}})
    failed = release.helm.run("test", release.name, "-n", release.namespace, "--timeout", "120s", check=False)
    assert failed.returncode != 0, failed.stdout
    assert "failed" in (failed.stdout + failed.stderr).lower(), failed.stderr

    fleet.core().patch_namespaced_config_map(bundle, release.namespace, {"data": original})
    assert release.helm.run("test", release.name, "-n", release.namespace, "--timeout", "120s").returncode == 0


def _self_signed_ca(tmp_path: Path) -> str:
    key, cert = tmp_path / "other-ca.key", tmp_path / "other-ca.crt"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=not the federation CA"],
                   check=True, capture_output=True)
    return cert.read_text()
