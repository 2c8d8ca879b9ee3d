"""Schema checks for every rendered object, with validators built once per kind and version.

- Kubernetes kinds: the strict (unknown fields are errors) Kubernetes 1.33 JSON schemas bundled
  with kubernetes-validate. Its `validate()` reloads the 1.4 MB definitions on every call, so
  the same schemas are loaded once here and a Draft 2020-12 validator is cached per kind.
- OCM kinds: the openAPIV3Schema of the real upstream CRD of that apiVersion, made strict the way
  `helm flower validate` does it (helm_flower.schemas.strict_openapi: unknown fields rejected,
  `nullable` a null type, embedded resources' metadata checked as the API server does); the
  top-level metadata is checked against the strict ObjectMeta.
- cert-manager Certificate/Issuer and OpenShift Route have no schema here (no CRD in reach): they
  are on an explicit allow-list and their essential fields are checked by hand below. Any other
  kind without a schema is an error, never silently passed.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import importlib_resources
import jsonschema
from referencing import Registry, Resource

import tooling
from helm_flower.schemas import strict_openapi

K8S_VERSION = "1.33"
_DEFS_ID = "https://kubernetes.io/api/_definitions.json"
OBJECT_META_REF = f"{_DEFS_ID}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"


class NoSchemaError(AssertionError):
    pass


def _errors(validator: jsonschema.protocols.Validator, obj: dict) -> list[str]:
    out = []
    for err in sorted(validator.iter_errors(obj), key=lambda e: list(map(str, e.absolute_path))):
        path = ".".join(str(p) for p in err.absolute_path) or "<root>"
        out.append(f"{path}: {err.message[:400]}")
    return out


# ----------------------------------------------------------------------------- Kubernetes


@cache
def _k8s_dir() -> Path:
    base = importlib_resources.files("kubernetes_validate") / "kubernetes-json-schema"
    path = Path(str(base)) / f"v{K8S_VERSION}.0-local-strict"
    if not path.is_dir():
        raise NoSchemaError(f"kubernetes-validate has no strict schemas for Kubernetes {K8S_VERSION}")
    return path


@cache
def _k8s_registry() -> Registry:
    defs = json.loads((_k8s_dir() / "_definitions.json").read_text())
    return Resource.from_contents(defs) @ Registry()


def _k8s_file(api_version: str, kind: str) -> Path:
    # kubernetes-validate's file naming: rbac.authorization.k8s.io/v1 -> rbac-v1
    group_version = re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)
    return _k8s_dir() / f"{kind.lower()}-{group_version}.json"


def _is_core_group(api_version: str) -> bool:
    group = api_version.rpartition("/")[0]
    return group == "" or "." not in group or group.endswith(".k8s.io")


@cache
def k8s_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    if not _is_core_group(api_version):
        return None
    path = _k8s_file(api_version, kind)
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    registry = Resource.from_contents(schema) @ _k8s_registry()
    return jsonschema.Draft202012Validator(schema, registry=registry)


# ----------------------------------------------------------------------------- OCM CRDs


def apply_defaults(schema: dict, obj: Any) -> Any:
    """The API server fills in CRD `default`s before it validates (so a required field with a
    default may be omitted); do the same on a copy."""
    if isinstance(obj, dict):
        props = schema.get("properties") or {}
        for name, sub in props.items():
            if name not in obj and "default" in sub:
                obj[name] = copy.deepcopy(sub["default"])
            if name in obj:
                obj[name] = apply_defaults(sub, obj[name])
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            for name in set(obj) - set(props):
                obj[name] = apply_defaults(extra, obj[name])
    elif isinstance(obj, list) and isinstance(schema.get("items"), dict):
        return [apply_defaults(schema["items"], item) for item in obj]
    return obj


@cache
def ocm_schema(crds_dir: Path, api_version: str, kind: str) -> dict | None:
    entry = tooling.ocm_crd_index(crds_dir).get((api_version, kind))
    return None if entry is None else entry["schema"]


@cache
def ocm_validator(crds_dir: Path, api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    raw = ocm_schema(crds_dir, api_version, kind)
    if raw is None:
        return None
    schema = strict_openapi({k: v for k, v in raw.items() if k != "properties"})
    schema["properties"] = {}
    for name, sub in raw.get("properties", {}).items():
        if name == "metadata":
            # The CRD only says `type: object`; the API server checks ObjectMeta itself.
            schema["properties"][name] = {"allOf": [sub, {"$ref": OBJECT_META_REF}]}
        else:
            schema["properties"][name] = strict_openapi(sub)
    schema["additionalProperties"] = False
    schema.setdefault("required", [])
    for field in ("apiVersion", "kind", "metadata"):
        if field not in schema["required"]:
            schema["required"].append(field)
    return jsonschema.Draft202012Validator(schema, registry=_k8s_registry())


def ocm_kinds(crds_dir: Path) -> set[tuple[str, str]]:
    return set(tooling.ocm_crd_index(crds_dir))


# ----------------------------------------------------------------------------- by hand
# No schema for these is reachable offline (cert-manager and OpenShift CRDs are not vendored):
# they are allowed explicitly, and only the fields the chart relies on are checked by hand.

_GO_DURATION = re.compile(r"^([0-9]+(\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$")
_CERT_SPEC_FIELDS = {
    "secretName", "secretTemplate", "commonName", "dnsNames", "ipAddresses", "uris",
    "emailAddresses", "otherNames", "duration", "renewBefore", "renewBeforePercentage",
    "subject", "literalSubject", "usages", "privateKey", "issuerRef", "isCA", "keystores",
    "encodeUsagesInRequest", "revisionHistoryLimit", "additionalOutputFormats",
    "nameConstraints", "signatureAlgorithm",
}
_CERT_USAGES = {
    "signing", "digital signature", "content commitment", "key encipherment", "key agreement",
    "data encipherment", "cert sign", "crl sign", "encipher only", "decipher only", "any",
    "server auth", "client auth", "code signing", "email protection", "s/mime",
    "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing",
    "microsoft sgc", "netscape sgc",
}
_ISSUER_TYPES = {"ca", "selfSigned", "acme", "vault", "venafi"}
_ROUTE_SPEC_FIELDS = {"host", "subdomain", "path", "to", "alternateBackends", "port", "tls", "wildcardPolicy", "httpHeaders"}


@cache
def _object_meta_validator() -> jsonschema.protocols.Validator:
    return jsonschema.Draft202012Validator({"$ref": OBJECT_META_REF}, registry=_k8s_registry())


def _metadata_errors(obj: dict) -> list[str]:
    return [f"metadata.{e}" for e in _errors(_object_meta_validator(), obj.get("metadata") or {})] + (
        [] if (obj.get("metadata") or {}).get("name") else ["metadata.name: missing"]
    )


def _check_certificate(obj: dict) -> list[str]:
    errs = _metadata_errors(obj)
    spec = obj.get("spec") or {}
    errs += [f"spec.{k}: unknown field" for k in set(spec) - _CERT_SPEC_FIELDS]
    if not isinstance(spec.get("secretName"), str) or not spec.get("secretName"):
        errs.append("spec.secretName: required string")
    ref = spec.get("issuerRef") or {}
    if not ref.get("name"):
        errs.append("spec.issuerRef.name: required")
    if ref.get("kind", "Issuer") not in ("Issuer", "ClusterIssuer") and ref.get("group", "cert-manager.io") == "cert-manager.io":
        errs.append(f"spec.issuerRef.kind: {ref.get('kind')!r} is not Issuer or ClusterIssuer")
    if set(ref) - {"name", "kind", "group"}:
        errs.append(f"spec.issuerRef: unknown fields {sorted(set(ref) - {'name', 'kind', 'group'})}")
    if not any(spec.get(k) for k in ("commonName", "dnsNames", "ipAddresses", "uris", "emailAddresses")):
        errs.append("spec: needs at least one of commonName, dnsNames, ipAddresses, uris, emailAddresses")
    for key in ("dnsNames", "ipAddresses", "usages"):
        if key in spec and not (isinstance(spec[key], list) and all(isinstance(x, str) for x in spec[key])):
            errs.append(f"spec.{key}: must be a list of strings")
    errs += [f"spec.usages: unknown usage {u!r}" for u in spec.get("usages") or [] if u not in _CERT_USAGES]
    for key in ("duration", "renewBefore"):
        if key in spec and not _GO_DURATION.match(str(spec[key])):
            errs.append(f"spec.{key}: {spec[key]!r} is not a Go duration")
    pk = spec.get("privateKey") or {}
    if pk.get("algorithm", "RSA") not in ("RSA", "ECDSA", "Ed25519"):
        errs.append(f"spec.privateKey.algorithm: {pk.get('algorithm')!r}")
    if pk.get("rotationPolicy", "Never") not in ("Never", "Always"):
        errs.append(f"spec.privateKey.rotationPolicy: {pk.get('rotationPolicy')!r}")
    if pk.get("algorithm") == "ECDSA" and pk.get("size", 256) not in (256, 384, 521):
        errs.append(f"spec.privateKey.size: {pk.get('size')!r} is not an ECDSA size")
    return errs


def _check_issuer(obj: dict) -> list[str]:
    errs = _metadata_errors(obj)
    spec = obj.get("spec") or {}
    types = set(spec) & _ISSUER_TYPES
    if len(types) != 1:
        errs.append(f"spec: exactly one issuer type of {sorted(_ISSUER_TYPES)} required, got {sorted(spec)}")
    errs += [f"spec.{k}: unknown field" for k in set(spec) - _ISSUER_TYPES]
    if "ca" in spec and not (spec["ca"] or {}).get("secretName"):
        errs.append("spec.ca.secretName: required")
    return errs


def _check_route(obj: dict) -> list[str]:
    errs = _metadata_errors(obj)
    spec = obj.get("spec") or {}
    errs += [f"spec.{k}: unknown field" for k in set(spec) - _ROUTE_SPEC_FIELDS]
    to = spec.get("to") or {}
    if to.get("kind", "Service") != "Service" or not to.get("name"):
        errs.append("spec.to: needs kind Service and a name")
    if "weight" in to and not (isinstance(to["weight"], int) and 0 <= to["weight"] <= 256):
        errs.append("spec.to.weight: integer 0-256")
    if not isinstance(spec.get("host", ""), str):
        errs.append("spec.host: string")
    tls = spec.get("tls")
    if tls is not None:
        term = tls.get("termination")
        if term not in ("edge", "passthrough", "reencrypt"):
            errs.append(f"spec.tls.termination: {term!r}")
        policy = tls.get("insecureEdgeTerminationPolicy", "")
        if policy not in ("", "None", "Allow", "Redirect"):
            errs.append(f"spec.tls.insecureEdgeTerminationPolicy: {policy!r}")
        if term == "passthrough" and (policy == "Allow" or set(tls) & {"certificate", "key", "caCertificate", "destinationCACertificate"}):
            errs.append("spec.tls: passthrough takes no certificates and no Allow policy")
    if spec.get("wildcardPolicy", "None") not in ("None", "Subdomain"):
        errs.append(f"spec.wildcardPolicy: {spec.get('wildcardPolicy')!r}")
    if "port" in spec and "targetPort" not in (spec["port"] or {}):
        errs.append("spec.port.targetPort: required")
    return errs


HAND_CHECKED: dict[tuple[str, str], Callable[[dict], list[str]]] = {
    ("cert-manager.io/v1", "Certificate"): _check_certificate,
    ("cert-manager.io/v1", "Issuer"): _check_issuer,
    ("route.openshift.io/v1", "Route"): _check_route,
}


# ----------------------------------------------------------------------------- dispatch


def schema_errors(obj: dict, crds_dir: Path) -> tuple[str, list[str]]:
    """(how it was checked, errors). Raises NoSchemaError for a kind nothing can check."""
    api_version, kind = obj.get("apiVersion", ""), obj.get("kind", "")
    validator = ocm_validator(crds_dir, api_version, kind)
    if validator is not None:
        defaulted = apply_defaults(ocm_schema(crds_dir, api_version, kind), copy.deepcopy(obj))
        return "ocm-crd", _errors(validator, defaulted)
    validator = k8s_validator(api_version, kind)
    if validator is not None:
        return f"kubernetes-{K8S_VERSION}", _errors(validator, obj)
    check = HAND_CHECKED.get((api_version, kind))
    if check is not None:
        return "by-hand", check(obj)
    raise NoSchemaError(
        f"no schema for {api_version} {kind}: not a Kubernetes {K8S_VERSION} kind, not in the "
        f"OCM CRDs of {crds_dir}, not on the hand-checked allow-list {sorted(HAND_CHECKED)}"
    )
