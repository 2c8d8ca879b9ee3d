"""Every `fail` and `required` guard of the chart, triggered through both Helms, with its exact
message and the template that raises it (issue 16: a guard switched off passed every render test).

Guards tested elsewhere, with their exact messages and both Helms: flower.fitName with no room and
the ClientApp namespace limit and the explicit-name checks (test_names.py), the addon or agent
namespace another release has (tests/hub/test_hub_chart.py, through lookup). The values schema
refuses some of the inputs first: those guards are reached with --skip-schema-validation (what a
chart fetched without its schema, or a newer schema that drops a rule, would meet), and the schema
refusal itself is checked too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from cases import CHART, HELM_VERSIONS

def _versions() -> dict:
    return yaml.safe_load((CHART.parents[1] / "schemas" / "flower-versions.yaml").read_text())


def _supported_minors() -> str:
    """As the chart lists them: its table's minors in reverse (Go map, string) order, each with its release."""
    minors = _versions()["minors"]
    return ", ".join(f"{m} (tested: {minors[m]['release']})" for m in sorted(minors, reverse=True))


PEM = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIUZm9vYmFy\n-----END CERTIFICATE-----\n"
HOST = "superlink.exposure.host=flower.example.com"
# The ingress controller's peers, without which Ingress exposure is refused first.
CONTROLLER = "superlink.networkPolicy.ingressControllerFrom[0].namespaceSelector.matchLabels.team=ingress"
_ERROR = re.compile(r"execution error at \(([^:()]+):\d+:\d+\): (.*)")


@dataclass(frozen=True)
class Guard:
    id: str
    sets: tuple[str, ...]
    template: str  # the template (path as Helm names it) whose guard fires
    message: str  # exactly what the guard says
    schema: str | None = None  # the schema refuses these values first; a word of its refusal
    files: tuple[str, ...] = ()  # chart files removed first (guards of files the chart ships)

    @property
    def source(self) -> str:
        """The chart file (relative to the chart) that holds the guard."""
        return SOURCES[self.id][0]

    @property
    def key(self) -> str:
        """The guard in its source (cases of one guard share it)."""
        return SOURCES[self.id][1] or self.id


CHECKS = "flower-federation/templates/checks.yaml"
WIRING = "flower-federation/templates/hub-addon-wiring.yaml"
TLS = "flower-federation/templates/tls.yaml"

GUARDS = [
    Guard("version-not-a-version", ("global.flower.version=1.2",), CHECKS,
          f'global.flower.version: "1.2" is not a Flower version (MAJOR.MINOR.PATCH, e.g. {_versions()["default"]})',
          schema="version"),
    Guard("version-unsupported", ("global.flower.version=1.30.0",), CHECKS,
          f"global.flower.version: Flower 1.30.0 is not supported by this chart; supported minors: {_supported_minors()}"),
    Guard("placement-used-twice", ("hubAddon.placements[0].name=a", "hubAddon.placements[1].name=b",
                                   "hubAddon.placements[2].name=a"),
          CHECKS, 'hubAddon.placements[2].name: "a" is used twice'),
    Guard("placement-named-like-a-derived-one", ("hubAddon.placements[0].name=labs-clientapp",),
          CHECKS, 'hubAddon.placements[0].name: "labs-clientapp" collides with the Placements the chart derives '
                  "(<name>-clientapp, supernodes); choose another name"),
    Guard("placement-named-supernodes", ("hubAddon.placements[0].name=a", "hubAddon.placements[1].name=supernodes"),
          CHECKS, 'hubAddon.placements[1].name: "supernodes" collides with the Placements the chart derives '
                  "(<name>-clientapp, supernodes); choose another name"),
    Guard("clientapp-unknown-placement", ("clientApp.apps[0].name=x", "clientApp.apps[0].placements={nope}"),
          CHECKS, 'clientApp.apps[0].placements: "nope" is not a SuperNode placement (hubAddon.placements names: '
                  "default; in Manual mode leave placements empty)"),
    Guard("clientapp-placement-in-manual-mode",
          ("hubAddon.installStrategy=Manual", "hubAddon.clusters[0].name=c1", "clientApp.apps[0].name=x",
           "clientApp.apps[0].placements={default}"),
          CHECKS, 'clientApp.apps[0].placements: "default" is not a SuperNode placement (hubAddon.placements names: '
                  "default; in Manual mode leave placements empty)"),
    Guard("hub-addon-without-superlink", ("superlink.enabled=false",),
          CHECKS, "hubAddon.enabled: SuperNodes dial this release's SuperLink; enable superlink too (a SuperLink run "
                  "elsewhere is not supported yet)"),
    Guard("cluster-of-an-unknown-placement", ("hubAddon.clusters[0].name=c1", "hubAddon.clusters[0].placement=nope"),
          CHECKS, 'hubAddon.clusters[0].placement: "nope" is not in hubAddon.placements (default)'),
    Guard("clientapps-without-hub-addon", ("hubAddon.enabled=false",),
          CHECKS, "clientApp.enabled: ClientApps ship only to clusters where this release's SuperNode runs; enable "
                  "hubAddon too, or disable clientApp"),
    *[Guard(f"plaintext-{kind}", ("global.tls.mode=disabled", f"superlink.exposure.type={kind}", HOST, CONTROLLER),
            CHECKS, f"superlink.exposure.type: {kind} serves TLS to SuperNodes, which global.tls.mode=disabled makes "
                    "dial in plain text; enable TLS or use ClusterIP, NodePort or LoadBalancer")
      for kind in ("Ingress", "Route")],
    Guard("node-auth-without-tls", ("global.tls.mode=disabled", "global.nodeAuth.enabled=true"),
          CHECKS, "global.nodeAuth.enabled: SuperNode authentication needs TLS; set global.tls.mode to generate, "
                  "certManager or existingSecret"),
    Guard("node-auth-without-superlink", ("superlink.enabled=false", "global.nodeAuth.enabled=true"),
          WIRING, "global.nodeAuth.enabled: SuperNode keys are registered with this release's SuperLink by its "
                  "registrar; set superlink.enabled=true"),
    Guard("nodeport-without-a-port", ("superlink.exposure.type=NodePort", HOST),
          WIRING, "superlink.exposure.nodePort: NodePort exposure needs a fixed node port (30000-32767) for SuperNodes "
                  "to dial"),
    Guard("certmanager-issuer-without-ca", ("global.tls.mode=certManager", "global.tls.certManager.issuerRef.name=ca"),
          TLS, "global.tls.caBundle: give the PEM CA certificate that signs the SuperLink certificate "
               "(global.tls.mode is certManager)"),
    Guard("existing-secret-without-ca", ("global.tls.mode=existingSecret", "global.tls.existingSecret=tls"),
          TLS, "global.tls.caBundle: give the PEM CA certificate that signs the SuperLink certificate "
               "(global.tls.mode is existingSecret)", schema="caBundle"),
    Guard("existing-secret-unnamed", ("global.tls.mode=existingSecret", f"global.tls.caBundle={PEM}"),
          "flower-federation/charts/superlink/templates/gateway.yaml",
          "global.tls.existingSecret: name the Secret with tls.crt, tls.key and ca.crt (global.tls.mode is "
          "existingSecret)", schema="existingSecret"),
    *[Guard(f"{kind.lower()}-without-host", (f"superlink.exposure.type={kind}", CONTROLLER),
            f"flower-federation/charts/superlink/templates/{kind.lower()}.yaml",
            f"superlink.exposure.host: {kind} exposure needs the DNS name SuperNodes dial", schema="host")
      for kind in ("Ingress", "Route")],
    Guard("all-apis-unacknowledged", ("superlink.exposure.allApis=true", HOST),
          "flower-federation/charts/superlink/templates/gateway.yaml",
          "superlink.exposure.allApis: exposing every API lets managed clusters reach the unauthenticated Control "
          "API; set superlink.exposure.acknowledgeUnauthenticatedControlApi=true to accept that, or keep allApis "
          "false (Fleet API only)", schema="acknowledgeUnauthenticatedControlApi"),
    *[Guard(f"{kind.lower()}-without-controller-peers", (f"superlink.exposure.type={kind}", HOST, *more),
            "flower-federation/charts/superlink/templates/networkpolicy.yaml",
            f"superlink.networkPolicy.ingressControllerFrom: {kind} exposure reaches the SuperLink through the "
            "cluster's ingress controller; name its pods (e.g. a namespaceSelector for the controller's namespace) "
            "so that no other pod reaches the SuperLink's API port, which also serves the Control API; or set "
            "superlink.networkPolicy.enabled=false")
      for kind, more in (("Ingress", ()), ("Route", ("superlink.exposure.allApis=true",
                                                     "superlink.exposure.acknowledgeUnauthenticatedControlApi=true")))],
    Guard("registrar-script-missing", ("global.nodeAuth.enabled=true",),
          "flower-federation/charts/superlink/templates/node-auth-registrar.yaml",
          "files/node_auth_registrar.py is missing from the superlink chart",
          files=("charts/flower-superlink/files/node_auth_registrar.py",)),
    Guard("supernode-key-script-missing", ("global.nodeAuth.enabled=true",), WIRING,
          "files/node-auth/supernode_key.py is missing from the umbrella chart",
          files=("files/node-auth/supernode_key.py",)),
]


# Where each guard is: (chart file, guard) - cases of one guard share its name.
CHECKS_SRC, NAMES_SRC, TLS_SRC = ("templates/checks.yaml", "charts/flower-common/templates/_names.tpl",
                                  "charts/flower-common/templates/_tls.tpl")
SOURCES = {
    "version-not-a-version": ("charts/flower-common/templates/_versions.tpl", ""),
    "version-unsupported": ("charts/flower-common/templates/_versions.tpl", ""),
    "placement-used-twice": (CHECKS_SRC, ""),
    "placement-named-like-a-derived-one": (CHECKS_SRC, "derived-name"),
    "placement-named-supernodes": (CHECKS_SRC, "derived-name"),
    "clientapp-unknown-placement": (CHECKS_SRC, "clientapp-placement"),
    "clientapp-placement-in-manual-mode": (CHECKS_SRC, "clientapp-placement"),
    "hub-addon-without-superlink": (CHECKS_SRC, ""),
    "cluster-of-an-unknown-placement": (CHECKS_SRC, ""),
    "clientapps-without-hub-addon": (CHECKS_SRC, ""),
    "plaintext-Ingress": (CHECKS_SRC, "plaintext"),
    "plaintext-Route": (CHECKS_SRC, "plaintext"),
    "node-auth-without-tls": (CHECKS_SRC, ""),
    "node-auth-without-superlink": ("templates/hub-addon-wiring.yaml", ""),
    "nodeport-without-a-port": (NAMES_SRC, ""),
    "certmanager-issuer-without-ca": (TLS_SRC, "ca-bundle"),
    "existing-secret-without-ca": (TLS_SRC, "ca-bundle"),
    "existing-secret-unnamed": (NAMES_SRC, ""),
    "ingress-without-host": ("charts/flower-superlink/templates/ingress.yaml", ""),
    "route-without-host": ("charts/flower-superlink/templates/route.yaml", ""),
    "all-apis-unacknowledged": ("charts/flower-superlink/templates/_helpers.tpl", ""),
    "ingress-without-controller-peers": ("charts/flower-superlink/templates/_helpers.tpl", "controller-peers"),
    "route-without-controller-peers": ("charts/flower-superlink/templates/_helpers.tpl", "controller-peers"),
    "registrar-script-missing": ("charts/flower-superlink/templates/node-auth-registrar.yaml", ""),
    "supernode-key-script-missing": ("charts/flower-hub-addon/templates/_addontemplate.tpl", ""),
}


def _template(helm: Path, chart: Path, sets: tuple[str, ...], skip_schema: bool) -> subprocess.CompletedProcess:
    args = [str(helm), "template", "fed", str(chart), "-n", "flower"]
    args += ["--skip-schema-validation"] if skip_schema else []
    for s in sets:
        args += ["--set", s]
    return subprocess.run(args, capture_output=True, text=True, timeout=120)


def refusal(proc: subprocess.CompletedProcess) -> tuple[str, str]:
    """(template, message) of the guard that stopped `helm template`."""
    assert proc.returncode != 0, "helm template rendered"
    found = _ERROR.search(proc.stderr)
    assert found, proc.stderr
    return found.group(1), found.group(2).strip()


@pytest.fixture(scope="module")
def chart_without(tmp_path_factory: pytest.TempPathFactory):
    copies: dict[tuple[str, ...], Path] = {}

    def make(files: tuple[str, ...]) -> Path:
        if not files:
            return CHART
        if files not in copies:
            copy = tmp_path_factory.mktemp("chart") / "flower-federation"
            shutil.copytree(CHART, copy)
            for f in files:
                (copy / f).unlink()
            copies[files] = copy
        return copies[files]

    return make


# The guards in the chart's sources: file -> how many `fail`/`required` calls it has. Each is tested
# here (GUARDS, by the source its case names) or in the test named beside it.
TESTED_ELSEWHERE = {
    "charts/flower-common/templates/_names.tpl": [
        "flower.fitName with no room: test_names.py::test_fit_name_refuses_a_limit_with_no_room",
        "flower.checkLength: test_names.py::test_explicit_names_are_checked",
        "flower.clientAppWorkName: test_names.py::test_namespace_too_long_for_clientapps",
    ],
    "templates/checks.yaml": [
        "system namespace: test_names.py::test_explicit_names_are_checked",
        "addon of another release: tests/hub/test_hub_chart.py::test_chart_refuses_the_addon_or_agent_namespace_of_another_release",
        "agent namespace of another release: the same test",
    ],
}
_GUARD_CALL = re.compile(r"\b(?:fail|required)\s+[(\"]")


def _guards_in_sources() -> dict[str, int]:
    found: dict[str, int] = {}
    for path in sorted(CHART.rglob("*")):
        if path.is_file() and path.suffix in (".yaml", ".tpl", ".txt") and path.name != "values.yaml" \
                and path.parent.name != "ci":
            n = sum(len(_GUARD_CALL.findall(line)) for line in path.read_text().splitlines()
                    if not line.lstrip().startswith("#"))
            if n:
                found[str(path.relative_to(CHART))] = n
    return found


def test_every_guard_of_the_chart_is_tested() -> None:
    """A new `fail` or `required` in the chart needs its case in GUARDS (or a line in TESTED_ELSEWHERE)."""
    listed: dict[str, set[str]] = {}
    for g in GUARDS:
        listed.setdefault(g.source, set()).add(g.key)
    for source, names in TESTED_ELSEWHERE.items():
        listed.setdefault(source, set()).update(names)
    assert _guards_in_sources() == {source: len(keys) for source, keys in listed.items()}


@pytest.mark.helm
@pytest.mark.parametrize("version", HELM_VERSIONS, ids=lambda v: f"helm{v}")
@pytest.mark.parametrize("guard", GUARDS, ids=lambda g: g.id)
def test_guard_refuses_with_its_message(helm_bins: dict[str, Path], chart_without, version: str, guard: Guard) -> None:
    helm = helm_bins[version]
    chart = chart_without(guard.files)
    template, message = refusal(_template(helm, chart, guard.sets, skip_schema=guard.schema is not None))
    assert message == guard.message
    assert template == guard.template
    if guard.schema:
        proc = _template(helm, chart, guard.sets, skip_schema=False)
        assert proc.returncode != 0 and "values don't meet the specifications of the schema" in proc.stderr
        assert guard.schema in proc.stderr, proc.stderr
