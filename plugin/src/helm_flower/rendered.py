"""``validate --rendered``: render with the real ``helm template`` and validate every object,
including the manifests OCM ships to managed clusters (AddOnTemplate agent manifests,
ManifestWork / ManifestWorkReplicaSet workloads), against the Kubernetes schemas and the OCM
CRD schemas."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import k8s, safeyaml, schemacheck
from .findings import Report, json_path, truncate
from .schemas import KubernetesSchemas, OcmSchemas, SchemaSourceError, is_ocm

HELM_TIMEOUT = 300
_PLACEHOLDER = re.compile(r"\{\{([A-Za-z_][A-Za-z0-9_]*)\}\}")
_SOURCE = re.compile(r"^# Source: (.+)$", re.M)
_SEPARATOR = re.compile(r"^---[ \t]*$", re.M)

# Where OCM objects carry manifests for managed clusters: kind -> path of the list.
EMBEDDED = {
    "AddOnTemplate": ("spec", "agentSpec", "workload", "manifests"),
    "ManifestWork": ("spec", "workload", "manifests"),
    "ManifestWorkReplicaSet": ("spec", "manifestWorkTemplate", "workload", "manifests"),
}


@dataclass
class RenderOptions:
    chart: str
    release: str
    namespace: str
    value_files: list[str]
    sets: list[str]
    set_strings: list[str]
    kube_version: str
    agent_namespace: str


def helm_binary() -> str | None:
    return os.environ.get("HELM_BIN") or shutil.which("helm")


def render(options: RenderOptions) -> tuple[str | None, str]:
    """(manifests, error text)."""
    helm = helm_binary()
    if not helm:
        return None, "helm not found: run as `helm flower`, set HELM_BIN or put helm on PATH"
    command = [helm, "template", options.release, options.chart, "--namespace", options.namespace,
               "--kube-version", options.kube_version]
    for path in options.value_files:
        command += ["--values", path]
    for text in options.sets:
        command += ["--set", text]
    for text in options.set_strings:
        command += ["--set-string", text]
    try:
        proc = subprocess.run(command, capture_output=True, timeout=HELM_TIMEOUT, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"cannot run {helm}: {exc}"
    out = proc.stdout.decode("utf-8", "replace")
    err = proc.stderr.decode("utf-8", "replace")
    if proc.returncode != 0:
        lines = [ln for ln in err.strip().splitlines() if ln.strip() and "Use --debug" not in ln]
        return None, " ".join(ln.strip() for ln in lines)[:1500] or f"helm template exited {proc.returncode}"
    return out, ""


def check(report: Report, options: RenderOptions, ocm: OcmSchemas | None) -> int:
    """Render and validate; returns the number of objects validated."""
    manifests, error = render(options)
    if manifests is None:
        report.add("FLW302", "", error.removeprefix("Error: "),
                   "fix the findings above first; helm template must render the chart")
        return 0
    try:
        kube = KubernetesSchemas(options.kube_version)
    except SchemaSourceError as exc:
        report.add("FLW302", "", str(exc), "pass --kube-version of a supported Kubernetes (1.25-1.37)")
        return 0
    if ocm is None:
        report.add("FLW305", "", "no OCM schemas: the project's schemas/ocm was not found and neither --crds "
                   "nor --crds-from-cluster was given; OCM objects were not validated",
                   "pass --crds DIR (CustomResourceDefinition files) or --crds-from-cluster")
    validator = _Validator(report, kube, ocm, options)
    count = 0
    for chunk in _SEPARATOR.split(manifests):
        if not chunk.strip():
            continue
        match = _SOURCE.search(chunk)
        source = match.group(1).strip() if match else "helm template"
        try:
            document = safeyaml.load_text(chunk, source, mapping=False)
        except safeyaml.InputProblem as exc:
            report.add("FLW304", "", f"rendered YAML does not parse: {exc.message}", "", exc.where)
            continue
        if document is None:
            continue
        count += validator.object(document, source, prefix="")
    return count


class _Validator:
    def __init__(self, report: Report, kube: KubernetesSchemas, ocm: OcmSchemas | None,
                 options: RenderOptions) -> None:
        self.report = report
        self.kube = kube
        self.ocm = ocm
        self.options = options
        self.unknown: set[tuple[str, str]] = set()

    def object(self, obj: Any, source: str, prefix: str) -> int:
        if not isinstance(obj, dict):
            self.report.add("FLW304", prefix or "$", f"a rendered document is a {type(obj).__name__}, "
                            "not a Kubernetes object", "", source)
            return 0
        api_version = obj.get("apiVersion")
        kind = obj.get("kind")
        metadata = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
        name = metadata.get("name")
        ident = f"{kind}/{name}"
        here = f"{prefix}{ident}"
        if not isinstance(api_version, str) or not isinstance(kind, str) or not isinstance(name, str):
            self.report.add("FLW304", here, "object without apiVersion, kind or metadata.name",
                            "", source)
            return 0
        self._names(obj, kind, metadata, here, source)
        count = 1
        if is_ocm(api_version):
            validator = self.ocm.validator(api_version, kind) if self.ocm else None
            if validator is not None and self.ocm is not None:
                self._errors("FLW301", validator, self.ocm.defaulted(api_version, kind, obj), here, source,
                             self.ocm.source)
            elif self.ocm is not None:
                self._unknown(api_version, kind, here, source, f"no OCM schema for {api_version} {kind} "
                              f"in {self.ocm.source}")
        else:
            validator = self.kube.validator(api_version, kind)
            if validator is not None:
                self._errors("FLW300", validator, obj, here, source, self.kube.label)
            else:
                self._unknown(api_version, kind, here, source,
                              f"{api_version} {kind} is not a {self.kube.label} kind (a CRD?): not validated")
        path = EMBEDDED.get(kind)
        if path and is_ocm(api_version):
            manifests: Any = obj
            for part in path:
                manifests = manifests.get(part) if isinstance(manifests, dict) else None
            if isinstance(manifests, list):
                for index, manifest in enumerate(manifests):
                    inner = self._substitute(manifest)
                    count += self.object(inner, source, f"{here}:{json_path(path)}[{index}] > ")
        return count

    def _substitute(self, manifest: Any) -> Any:
        """OCM template variables ({{CLUSTER_NAME}}, ...) replaced by plausible values."""
        text = json.dumps(manifest)
        if "{{" not in text:
            return manifest
        values = {"CLUSTER_NAME": "cluster-1", "INSTALL_NAMESPACE": self.options.agent_namespace}
        return json.loads(_PLACEHOLDER.sub(lambda m: values.get(m.group(1), "placeholder"), text))

    def _names(self, obj: dict[str, Any], kind: str, metadata: dict[str, Any], here: str, source: str) -> None:
        name = metadata["name"]
        if kind in ("Service", "Namespace"):
            error = k8s.dns_1035_error(name, f"{kind} name") if kind == "Service" else k8s.dns_label_error(
                name, "Namespace name")
        else:
            error = k8s.dns_subdomain_error(name, f"{kind} name")
        if error:
            self.report.add("FLW304", f"{here}:$.metadata.name", error, "", source)
        namespace = metadata.get("namespace")
        if namespace is not None:
            error = k8s.dns_label_error(namespace, "namespace")
            if error:
                self.report.add("FLW304", f"{here}:$.metadata.namespace", error, "", source)
        for field in ("labels", "annotations"):
            mapping = metadata.get(field)
            if not isinstance(mapping, dict):
                continue
            for key, value in mapping.items():
                error = k8s.qualified_name_error(key)
                if error is None and field == "labels":
                    error = k8s.label_value_error(value)
                elif error is None and not isinstance(value, str):
                    error = f"annotation value {truncate(value)} is not a string"
                if error:
                    self.report.add("FLW304", f"{here}:{json_path(('metadata', field, key))}", error, "", source)

    def _errors(self, rule: str, validator: Any, obj: dict[str, Any], here: str, source: str,
                against: str) -> None:
        seen: set[tuple[str, str]] = set()
        for error in sorted(validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path]):
            for parts, message, hint in schemacheck.describe(error):
                key = (json_path(parts), message)
                if key in seen:
                    continue
                seen.add(key)
                self.report.add(rule, f"{here}:{json_path(parts)}", f"{message} ({against})", hint, source)

    def _unknown(self, api_version: str, kind: str, here: str, source: str, message: str) -> None:
        if (api_version, kind) in self.unknown:
            return
        self.unknown.add((api_version, kind))
        self.report.add("FLW303", here, message, "pass --crds with its CustomResourceDefinition to validate it",
                        source)


def default_search_paths(chart: str) -> list[Path]:
    here = Path(__file__).resolve()
    return [here.parents[2], Path(chart).resolve(), Path.cwd()]
