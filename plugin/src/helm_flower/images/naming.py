"""Names that Kubernetes, OCI registries and the chart accept, made from an app's identity.

* entry name (``clientApp.apps[].name``): a DNS label of at most 53 characters (the chart's
  schema), ``<app>`` or ``<app>-<variant>``;
* image repository ``[<registry path>/]<publisher>/<app>[-<variant>]``, each path component in
  the OCI distribution grammar (lower case, separators ``.``, ``_``, ``__``, ``-``);
* image tag: ``[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}`` (PEP 440 local versions: ``+`` becomes ``_``);
* label values: at most 63 characters, alphanumeric at both ends, ``-_.`` inside.
"""

from __future__ import annotations

import re

from .errors import ImagesError

ENTRY_NAME_MAX = 53  # clientapp.appFields.name maxLength in the chart's values.schema.json
LABEL_VALUE_MAX = 63
TAG_MAX = 128

_DNS = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")
_PATH_COMPONENT = re.compile(r"^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*$")
_HOST = re.compile(r"^(localhost|[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?(\.[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?)*)"
                   r"(:[0-9]+)?$|^\[[0-9a-fA-F:]+\](:[0-9]+)?$")
_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$")
DIGEST = re.compile(r"^sha256:[a-f0-9]{64}$")


def dns_label(text: str) -> str:
    """Lower case; every run of other characters becomes one '-'; no '-' at the ends."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def path_component(text: str) -> str:
    """An OCI repository path component made from free text (publisher, app name)."""
    value = re.sub(r"[^a-z0-9._-]+", "-", text.lower())
    value = re.sub(r"[._-]{2,}", lambda m: "__" if m.group(0) == "__" else "-", value)
    return value.strip("._-")


def label_value(text: str) -> str:
    """A valid Kubernetes label value: invalid characters become '-', at most 63 characters,
    alphanumeric at both ends (may be empty)."""
    value = re.sub(r"[^A-Za-z0-9._-]", "-", text)[:LABEL_VALUE_MAX]
    return re.sub(r"^[^A-Za-z0-9]+|[^A-Za-z0-9]+$", "", value)


def image_tag(text: str, what: str) -> str:
    value = text.replace("+", "_")
    value = re.sub(r"[^A-Za-z0-9_.-]", "-", value)
    if value[:1] in (".", "-"):
        value = "v" + value
    value = value[:TAG_MAX]
    if not _TAG.match(value):
        raise ImagesError(f"{what}: {text!r} cannot be made an image tag")
    return value


def entry_name(app_key: str, variant: str | None, where: str) -> str:
    name = app_key if not variant else f"{app_key}-{variant}"
    if len(name) > ENTRY_NAME_MAX or not _DNS.match(name):
        raise ImagesError(
            f"{where}: clientApp.apps name {name!r} is longer than {ENTRY_NAME_MAX} characters or not a DNS "
            "label (the chart names a ManifestWorkReplicaSet <release>-clientapp-<name> after it)\n"
            "  hint: shorten [project] name or the variant name")
    return name


def split_registry(text: str) -> tuple[str, str]:
    """``host[:port][/path/prefix]`` -> (registry host, repository prefix)."""
    value = text.strip().rstrip("/")
    if "://" in value:
        raise ImagesError(f"--registry {text!r}: give the registry without a scheme, e.g. registry.example.com/team")
    if not value:
        raise ImagesError("--registry: empty; give a registry host, e.g. registry.example.com or "
                          "ghcr.io/my-org")
    host, _, prefix = value.partition("/")
    if not _HOST.match(host):
        raise ImagesError(f"--registry {text!r}: {host!r} is not a registry host[:port]")
    for part in prefix.split("/") if prefix else []:
        if not _PATH_COMPONENT.match(part):
            raise ImagesError(f"--registry {text!r}: path component {part!r} is not valid in an image name "
                              "(lower case letters, digits, and . _ - between them)")
    return host, prefix


def check_digest(text: str, flag: str) -> str:
    if not DIGEST.match(text):
        raise ImagesError(f"{flag}: {text!r} is not a digest; expected sha256: and 64 lower-case hex digits "
                          "(what `docker buildx imagetools inspect` or `podman push --digestfile` report)")
    return text
