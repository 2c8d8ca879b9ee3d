"""Schemas for rendered objects: Kubernetes (kubernetes-validate's bundled strict JSON schemas)
and OCM (the project's offline schemas, CRD files, or the CRDs served by a live hub)."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import safeyaml
from .safeyaml import InputProblem

OCM_GROUP_SUFFIX = "open-cluster-management.io"
_SCHEMA_FILE = re.compile(r"^(?P<group>[a-z0-9.-]+)_(?P<version>v[0-9a-z]+)_(?P<kind>[A-Za-z0-9]+)\.json$")


class SchemaSourceError(Exception):
    pass


# --- Kubernetes ----------------------------------------------------------------------------


class KubernetesSchemas:
    """Strict schemas of one Kubernetes version; validators are built once per kind."""

    def __init__(self, version: str) -> None:
        import importlib_resources  # noqa: PLC0415 - a kubernetes-validate dependency

        wanted = _major_minor(version)
        root = importlib_resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")
        candidates = []
        for entry in root.iterdir():
            match = re.match(r"^v(\d+)\.(\d+)\.\d+-local-strict$", entry.name)
            if match and (int(match.group(1)), int(match.group(2))) <= wanted:
                candidates.append(((int(match.group(1)), int(match.group(2))), entry))
        if not candidates:
            raise SchemaSourceError(f"kubernetes-validate has no schemas for Kubernetes {version}")
        self.version, self.root = max(candidates, key=lambda c: c[0])
        self._registry: Any = None
        self._validators: dict[str, Any] = {}

    @property
    def label(self) -> str:
        return f"Kubernetes {self.version[0]}.{self.version[1]}"

    def validator(self, api_version: str, kind: str) -> Any | None:
        api = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
        name = f"{kind.lower()}-{api}.json"
        if name in self._validators:
            return self._validators[name]
        path = self.root.joinpath(name)
        if not path.is_file():
            self._validators[name] = None
            return None
        import jsonschema  # noqa: PLC0415
        from referencing import Registry, Resource  # noqa: PLC0415

        schema = json.loads(path.read_text(encoding="utf-8"))
        if self._registry is None:
            definitions = json.loads(self.root.joinpath("_definitions.json").read_text(encoding="utf-8"))
            self._registry = Resource.from_contents(definitions) @ Registry()
        registry = Resource.from_contents(schema) @ self._registry
        validator = jsonschema.Draft202012Validator(schema, registry=registry)
        self._validators[name] = validator
        return validator


def _major_minor(version: str) -> tuple[int, int]:
    match = re.match(r"^v?(\d+)\.(\d+)", version.strip())
    if not match:
        raise SchemaSourceError(f"{version!r} is not a Kubernetes version (e.g. 1.33)")
    return int(match.group(1)), int(match.group(2))


# --- OCM -----------------------------------------------------------------------------------


@dataclass
class OcmSchemas:
    source: str = ""
    schemas: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    _validators: dict[tuple[str, str, str], Any] = field(default_factory=dict)

    def add_crd(self, crd: Any) -> int:
        """Every served version's openAPIV3Schema of a CustomResourceDefinition."""
        if not isinstance(crd, dict) or crd.get("kind") != "CustomResourceDefinition":
            return 0
        spec = crd.get("spec") or {}
        group = spec.get("group")
        kind = (spec.get("names") or {}).get("kind")
        count = 0
        for version in spec.get("versions") or []:
            if not isinstance(version, dict) or version.get("served") is False:
                continue
            schema = ((version.get("schema") or {}).get("openAPIV3Schema"))
            if isinstance(schema, dict) and group and kind:
                self.schemas[(group, version.get("name"), kind)] = strict_openapi(schema)
                count += 1
        return count

    def add_schema_file(self, path: Path) -> int:
        match = _SCHEMA_FILE.match(path.name)
        try:
            data = json.loads(safeyaml.decode_text(safeyaml.read_bytes(str(path)), str(path)))
        except (ValueError, InputProblem) as exc:
            raise SchemaSourceError(f"{path}: {exc}") from None
        if isinstance(data, dict) and data.get("kind") == "CustomResourceDefinition":
            return self.add_crd(data)
        if not match or not isinstance(data, dict):
            return 0
        key = (match.group("group"), match.group("version"), match.group("kind"))
        self.schemas[key] = data if "$schema" in data else strict_openapi(data)
        return 1

    def find(self, api_version: str, kind: str) -> dict[str, Any] | None:
        group, _, version = api_version.rpartition("/")
        for key in ((group, version, kind), (group, version, kind.lower())):
            if key in self.schemas:
                return self.schemas[key]
        lowered = {(g, v, k.lower()): s for (g, v, k), s in self.schemas.items()}
        return lowered.get((group, version, kind.lower()))

    def defaulted(self, api_version: str, kind: str, obj: Any) -> Any:
        schema = self.find(api_version, kind)
        return apply_defaults(obj, schema) if schema is not None else obj

    def validator(self, api_version: str, kind: str) -> Any | None:
        key = (api_version, kind, "")
        if key in self._validators:
            return self._validators[key]
        schema = self.find(api_version, kind)
        validator = None
        if schema is not None:
            import jsonschema  # noqa: PLC0415

            if "$schema" in schema:
                cls = jsonschema.validators.validator_for(schema, default=jsonschema.Draft7Validator)
                validator = cls(schema)
            else:
                validator = jsonschema.Draft4Validator(schema)
        self._validators[key] = validator
        return validator


def apply_defaults(value: Any, schema: Any) -> Any:
    """A copy of ``value`` with the schema's defaults filled in, as the API server does for CRDs
    before validation (structural defaulting: properties, items, additionalProperties)."""
    if not isinstance(schema, dict):
        return value
    if isinstance(value, dict):
        out = dict(value)
        properties = schema.get("properties") if isinstance(schema.get("properties"), dict) else {}
        for key, sub in properties.items():
            if key not in out and isinstance(sub, dict) and "default" in sub:
                out[key] = json.loads(json.dumps(sub["default"]))
        extra = schema.get("additionalProperties")
        for key in list(out):
            if key in properties:
                out[key] = apply_defaults(out[key], properties[key])
            elif isinstance(extra, dict):
                out[key] = apply_defaults(out[key], extra)
        return out
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        return [apply_defaults(item, schema["items"]) for item in value]
    return value


def is_ocm(api_version: str) -> bool:
    group = api_version.rpartition("/")[0]
    return group.endswith(OCM_GROUP_SUFFIX)


def strict_openapi(schema: Any) -> Any:
    """A CRD's structural schema as a JSON schema: nullable -> null allowed; objects with
    properties reject unknown fields (like server-side strict field validation)."""
    if isinstance(schema, list):
        return [strict_openapi(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: strict_openapi(v) if k in ("properties", "items", "additionalProperties", "allOf", "anyOf",
                                          "oneOf", "not") else v for k, v in schema.items()}
    if isinstance(out.get("properties"), dict):
        out["properties"] = {k: strict_openapi(v) for k, v in schema["properties"].items()}
    if schema.get("nullable") is True and isinstance(schema.get("type"), str):
        out["type"] = [schema["type"], "null"]
    if (schema.get("type") == "object" and isinstance(schema.get("properties"), dict)
            and "additionalProperties" not in schema
            and not schema.get("x-kubernetes-preserve-unknown-fields")):
        out["additionalProperties"] = False
    if schema.get("x-kubernetes-embedded-resource"):
        out = {"allOf": [out, EMBEDDED_RESOURCE]}
    return out


# What the API server checks on an object embedded in a CR (x-kubernetes-embedded-resource, e.g. the
# manifests of an AddOnTemplate or ManifestWorkReplicaSet) before any controller sees it: apiVersion
# and kind set, metadata.namespace a DNS-1123 label, metadata.name a path segment. A template variable
# such as "{{INSTALL_NAMESPACE}}" in metadata.namespace is rejected there.
DNS_LABEL = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
EMBEDDED_RESOURCE = {
    "type": "object",
    "required": ["apiVersion", "kind"],
    "properties": {
        "apiVersion": {"type": "string", "minLength": 1},
        "kind": {"type": "string", "minLength": 1},
        "metadata": {"type": "object", "properties": {
            "namespace": {"type": "string", "maxLength": 63, "pattern": DNS_LABEL},
            "name": {"type": "string", "not": {"anyOf": [{"enum": [".", ".."]}, {"pattern": "[/%]"}]}},
        }},
    },
}


def load_crd_dirs(paths: list[str]) -> OcmSchemas:
    schemas = OcmSchemas(source="--crds " + " ".join(paths))
    for raw in paths:
        path = Path(raw)
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        if not path.exists():
            raise SchemaSourceError(f"{raw}: not found")
        for file in files:
            if file.suffix == ".json":
                schemas.add_schema_file(file)
            elif file.suffix in (".yaml", ".yml"):
                try:
                    text = safeyaml.decode_text(safeyaml.read_bytes(str(file)), str(file))
                    documents = safeyaml.load_all_text(text, str(file))
                except InputProblem as exc:
                    raise SchemaSourceError(str(exc)) from None
                for document in documents:
                    schemas.add_crd(document)
    if not schemas.schemas:
        raise SchemaSourceError(f"no CustomResourceDefinitions found in {' '.join(paths)}")
    return schemas


def load_project_schemas(search_from: list[Path]) -> OcmSchemas | None:
    """schemas/ocm of the plugin (archive installs) or of the checkout we run in."""
    seen: set[Path] = set()
    for start in search_from:
        for folder in (start, *start.parents):
            candidate = folder / "schemas" / "ocm"
            if candidate in seen:
                continue
            seen.add(candidate)
            if candidate.is_dir() and any(candidate.glob("*.json")):
                schemas = OcmSchemas(source=str(candidate))
                for file in sorted(candidate.glob("*.json")):
                    schemas.add_schema_file(file)
                if schemas.schemas:
                    return schemas
    return None


def load_from_cluster(kube_context: str | None, kubeconfig: str | None) -> OcmSchemas:
    """The OCM CustomResourceDefinitions the hub serves (needs read access to CRDs)."""
    try:
        from kubernetes import client, config  # noqa: PLC0415 - ~300 ms, only for this option
    except ImportError as exc:  # pragma: no cover - the plugin venv has it
        raise SchemaSourceError(f"the kubernetes client is not installed: {exc}") from None
    try:
        server = os.environ.get("HELM_KUBEAPISERVER")
        if server:
            configuration = client.Configuration()
            configuration.host = server
            token = os.environ.get("HELM_KUBETOKEN")
            if token:
                configuration.api_key = {"authorization": f"Bearer {token}"}
            ca_file = os.environ.get("HELM_KUBECAFILE")
            if ca_file:
                configuration.ssl_ca_cert = ca_file
            api_client = client.ApiClient(configuration)
        else:
            api_client = config.new_client_from_config(config_file=kubeconfig, context=kube_context or None)
        api = client.ApiextensionsV1Api(api_client)
        response = api.list_custom_resource_definition(_preload_content=False, _request_timeout=30)
        data = json.loads(response.data)
    except Exception as exc:  # noqa: BLE001 - any failure talking to the hub is the same to the user
        reason = " ".join(str(exc).split())[:300]
        raise SchemaSourceError(f"cannot read CustomResourceDefinitions from the hub: {reason}") from None
    schemas = OcmSchemas(source="hub " + (kube_context or "(current context)"))
    for item in data.get("items") or []:
        if str((item.get("spec") or {}).get("group", "")).endswith(OCM_GROUP_SUFFIX):
            item.setdefault("kind", "CustomResourceDefinition")
            schemas.add_crd(item)
    if not schemas.schemas:
        raise SchemaSourceError("the hub serves no open-cluster-management.io CustomResourceDefinitions")
    return schemas
