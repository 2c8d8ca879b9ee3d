"""Findings (rule, severity, path, message, hint, file) and the catalogue of rule ids."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

ERROR = "error"
WARNING = "warning"

# Rule id -> (default severity, one-line summary). Ids are stable: tools match on them.
RULES: dict[str, tuple[str, str]] = {
    # 0xx: input that cannot be read (exit code 2)
    "FLW001": (ERROR, "values file is not valid YAML (file, line and column)"),
    "FLW002": (ERROR, "duplicate key in a YAML mapping"),
    "FLW003": (ERROR, "too many YAML anchors/aliases, a recursive alias or an alias bomb"),
    "FLW004": (ERROR, "file larger than the 10 MiB cap"),
    "FLW005": (ERROR, "nesting deeper than 100 levels"),
    "FLW006": (ERROR, "not UTF-8 text (binary data, NUL bytes, UTF-16)"),
    "FLW007": (ERROR, "not a readable file (missing, a directory, no permission)"),
    "FLW008": (ERROR, "the document is not a mapping of values"),
    "FLW009": (ERROR, "more than one YAML document in a values file"),
    "FLW010": (ERROR, "the chart cannot be loaded"),
    "FLW011": (ERROR, "the chart's values.schema.json is not a JSON schema"),
    "FLW012": (ERROR, "a --set/--set-string expression Helm would reject"),
    # 1xx: JSON schema of the chart
    "FLW100": (ERROR, "value does not match the chart's values.schema.json"),
    # 2xx: semantic rules
    "FLW201": (ERROR, "ClientApp placement is not one of hubAddon.placements"),
    "FLW202": (ERROR, "ClientApp placements must be empty with installStrategy Manual"),
    "FLW203": (ERROR, "ClientApps enabled without the hubAddon (the chart refuses it)"),
    "FLW204": (ERROR, "duplicate placement, app or cluster name"),
    "FLW205": (WARNING, "no SuperNode will be installed (no placements / no clusters / no install strategy)"),
    "FLW206": (ERROR, "hubAddon.clusters[].placement is not one of hubAddon.placements"),
    "FLW210": (ERROR, "app (SuperExec) image version differs from global.flower.version major.minor"),
    "FLW211": (ERROR, "SuperLink image version differs from global.flower.version major.minor"),
    "FLW212": (WARNING, "SuperNode image version differs from global.flower.version major.minor"),
    "FLW213": (ERROR, "global.flower.version of a Flower minor the chart does not support"),
    "FLW214": (ERROR, "a ClientApp's Flower major.minor differs from its clusters' SuperNode's"),
    "FLW220": (ERROR, "global.tls.mode existingSecret without global.tls.existingSecret"),
    "FLW221": (ERROR, "TLS mode needs global.tls.caBundle (existingSecret, certManager with issuerRef)"),
    "FLW222": (ERROR, "global.tls.caBundle is not a PEM certificate"),
    "FLW223": (WARNING, "TLS disabled: plaintext Fleet, Control and Runtime APIs"),
    "FLW224": (ERROR, "global.nodeAuth.enabled needs TLS"),
    "FLW225": (WARNING, "global.tls.caBundle is set but unused in this TLS mode"),
    "FLW226": (ERROR, "global.nodeAuth.enabled needs this release's SuperLink"),
    "FLW230": (WARNING, "exposure makes the Control and Runtime APIs reachable (one port, no path routing)"),
    "FLW231": (ERROR, "exposure without superlink.exposure.host: SuperNodes cannot dial the SuperLink"),
    "FLW232": (WARNING, "ClusterIP exposure: only SuperNodes on the hub's own cluster can dial"),
    "FLW233": (ERROR, "NodePort exposure needs superlink.exposure.nodePort in 30000-32767"),
    "FLW234": (ERROR, "hubAddon enabled without the SuperLink (the chart refuses it)"),
    "FLW235": (ERROR, "Ingress (or Route with allApis) NetworkPolicy without networkPolicy.ingressControllerFrom"),
    "FLW236": (ERROR, "superlink.exposure.allApis without acknowledgeUnauthenticatedControlApi"),
    "FLW240": (ERROR, "persistence with superlink.replicaCount > 1 (one SQLite file)"),
    "FLW241": (ERROR, "persistence with a RollingUpdate strategy (two pods on one SQLite file)"),
    "FLW242": (WARNING, "superlink.replicaCount > 1: the SuperLink keeps state in one process"),
    "FLW250": (ERROR, "ClientApps in a namespace too long for OCM's ManifestWork label (<namespace>.<name> <= 63)"),
    "FLW251": (ERROR, "global.addon.name longer than 57 characters or not a DNS label"),
    "FLW252": (ERROR, "global.managedCluster.namespace not a DNS label of <= 63 characters, or a system namespace"),
    "FLW253": (ERROR, "release name, namespace, placement, app or cluster name Kubernetes or Helm would reject"),
    "FLW260": (ERROR, "resource quantity Kubernetes would reject"),
    "FLW261": (ERROR, "resource request greater than its limit"),
    "FLW262": (ERROR, "unknown resource name, or extended resource request without an equal limit"),
    "FLW270": (ERROR, "label key or value Kubernetes would reject"),
    "FLW271": (ERROR, "label selector expression Kubernetes would reject"),
    "FLW272": (ERROR, "annotation key Kubernetes would reject"),
    "FLW280": (ERROR, "AddOnDeploymentConfig variable longer than OCM's 1024 characters"),
    "FLW281": (ERROR, "node-config the SuperNode cannot parse back (key or value)"),
    # 3xx: rendered manifests (--rendered)
    "FLW300": (ERROR, "rendered object rejected by the Kubernetes schema"),
    "FLW301": (ERROR, "rendered object rejected by the OCM CRD schema"),
    "FLW302": (ERROR, "helm template failed"),
    "FLW303": (WARNING, "rendered object of a kind without a schema (not validated)"),
    "FLW304": (ERROR, "rendered object without apiVersion/kind/metadata.name, or with an invalid name"),
    "FLW305": (ERROR, "no OCM schemas found (pass --crds DIR or --crds-from-cluster)"),
}

INPUT_RULES = frozenset(r for r in RULES if r < "FLW100")


@dataclass
class Finding:
    rule: str
    severity: str
    path: str
    message: str
    hint: str = ""
    file: str = ""
    line: int = 0
    column: int = 0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if not self.line:
            data.pop("line")
            data.pop("column")
        return data


@dataclass
class Report:
    chart: str = ""
    release: str = ""
    namespace: str = ""
    files: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    strict: bool = False

    def add(self, rule: str, path: str, message: str, hint: str = "", file: str = "",
            severity: str | None = None, line: int = 0, column: int = 0) -> Finding:
        finding = Finding(rule, severity or RULES[rule][0], path, message, hint, file, line, column)
        self.findings.append(finding)
        return finding

    @property
    def errors(self) -> int:
        return sum(1 for f in self.findings if f.severity == ERROR)

    @property
    def warnings(self) -> int:
        return sum(1 for f in self.findings if f.severity == WARNING)

    def exit_code(self) -> int:
        if any(f.rule in INPUT_RULES for f in self.findings):
            return 2
        if self.errors or (self.strict and self.warnings):
            return 1
        return 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "chart": self.chart,
            "release": self.release,
            "namespace": self.namespace,
            "valuesFiles": self.files,
            "findings": [f.as_dict() for f in self.findings],
            "notes": self.notes,
            "summary": {"errors": self.errors, "warnings": self.warnings, "exitCode": self.exit_code()},
        }

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, ensure_ascii=False, default=str)


def truncate(value: Any, limit: int = 80) -> str:
    """A short JSON rendering of an offending value."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def json_path(parts: Any) -> str:
    """['clientApp', 'apps', 0, 'labels', 'flower.ai/x'] -> $.clientApp.apps[0].labels["flower.ai/x"]"""
    text = "$"
    for part in parts:
        if isinstance(part, int) and not isinstance(part, bool):
            text += f"[{part}]"
        elif str(part) and str(part).replace("_", "").replace("-", "").isalnum() and str(part).isascii():
            text += f".{part}"
        else:
            text += f"[{json.dumps(str(part), ensure_ascii=False)}]"
    return text
