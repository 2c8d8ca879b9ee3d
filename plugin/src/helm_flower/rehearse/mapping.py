"""Turn a rendered container into a local command line.

Only hosts, ports and mounted file paths change:

* ``--host X`` becomes ``--host 127.0.0.1``;
* ``--port N`` becomes a free local port;
* address flags (``--superlink``, ``--runtime-api-address``, ...) point at the local peer;
* a path under a volume mount points into a local directory that holds what the volume
  would hold: the files of the rendered Secret / ConfigMap it names, or an empty directory
  (emptyDir, PersistentVolumeClaim).

Everything else (flags, order, values) is kept as rendered.
"""

from __future__ import annotations

import base64
import os
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from .errors import Refusal

LOCAL_HOST = "127.0.0.1"

Lookup = Callable[[str, str], Mapping[str, Any] | None]  # (kind, name) -> object or None


@dataclass(frozen=True)
class Mount:
    container_path: str
    local_path: Path
    volume: str
    source: str  # e.g. "Secret demo-superlink-tls", "emptyDir"


@dataclass
class ArgChange:
    flag: str
    before: str
    after: str


@dataclass
class Mapped:
    args: list[str]
    changes: list[ArgChange] = field(default_factory=list)


# --- volumes -----------------------------------------------------------------


def materialize_mounts(
    pod_spec: Mapping[str, Any],
    container: Mapping[str, Any],
    lookup: Lookup,
    root: Path,
    *,
    component: str,
) -> list[Mount]:
    """Create a local directory for every volume mount of ``container`` under ``root``.

    Secret and ConfigMap volumes get their files from the object ``lookup`` returns (items
    and subPath honoured); a Secret or ConfigMap that is not there refuses the rehearsal,
    unless the volume is optional.
    """
    volumes = {v.get("name"): v for v in pod_spec.get("volumes") or []}
    mounts: list[Mount] = []
    for vm in container.get("volumeMounts") or []:
        name = vm.get("name", "")
        volume = volumes.get(name)
        if volume is None:
            raise Refusal(f"{component}: volumeMount {name!r} has no volume of that name", component=component)
        local = root / "volumes" / _safe(name)
        source = _fill_volume(volume, local, lookup, component)
        target = local
        if vm.get("subPath"):
            target = local / vm["subPath"]
        mounts.append(Mount(vm.get("mountPath", ""), target, name, source))
    return mounts


def _fill_volume(volume: Mapping[str, Any], local: Path, lookup: Lookup, component: str) -> str:
    if local.exists():  # the same volume mounted twice
        return _describe(volume)
    local.mkdir(parents=True, exist_ok=True)
    if "secret" in volume:
        ref = volume["secret"] or {}
        name = ref.get("secretName", "")
        obj = lookup("Secret", name)
        if obj is None:
            return _missing("Secret", name, ref, component)
        files = {k: base64.b64decode(v) for k, v in (obj.get("data") or {}).items()}
        files.update({k: str(v).encode() for k, v in (obj.get("stringData") or {}).items()})
        _write_files(local, files, ref.get("items"), 0o600)
        return f"Secret {name}"
    if "configMap" in volume:
        ref = volume["configMap"] or {}
        name = ref.get("name", "")
        obj = lookup("ConfigMap", name)
        if obj is None:
            return _missing("ConfigMap", name, ref, component)
        files = {k: str(v).encode() for k, v in (obj.get("data") or {}).items()}
        files.update({k: base64.b64decode(v) for k, v in (obj.get("binaryData") or {}).items()})
        _write_files(local, files, ref.get("items"), 0o644)
        return f"ConfigMap {name}"
    if "projected" in volume:
        return _fill_projected(volume["projected"] or {}, local, lookup, component)
    if "persistentVolumeClaim" in volume:
        # A runner with real volumes answers lookup("PersistentVolumeClaim", name) with the directory
        # that backs the claim (what a kubelet mounts); otherwise the claim starts empty here.
        name = (volume["persistentVolumeClaim"] or {}).get("claimName", "")
        backing = lookup("PersistentVolumeClaim", name)
        if backing is not None and backing.get("path"):
            Path(backing["path"]).mkdir(parents=True, exist_ok=True)
            local.rmdir()
            local.symlink_to(backing["path"], target_is_directory=True)
            return f"PersistentVolumeClaim {name} ({backing['path']})"
    return _describe(volume)


def _fill_projected(projected: Mapping[str, Any], local: Path, lookup: Lookup, component: str) -> str:
    """A projected volume: its Secret, ConfigMap and ServiceAccount token sources (the token through
    ``lookup("ServiceAccountToken", "<audience>|<expirationSeconds>")``; None: not provided) and the
    pod-namespace downward API file, as the kubelet lays them out."""
    parts = []
    for source in projected.get("sources") or []:
        if "secret" in source or "configMap" in source:
            kind, key = ("Secret", "secret") if "secret" in source else ("ConfigMap", "configMap")
            ref = source[key] or {}
            parts.append(_fill_volume({key: {**ref, "secretName" if kind == "Secret" else "name": ref.get("name", "")}},
                                      local / ".part", lookup, component))
            for item in (local / ".part").rglob("*"):
                if item.is_file():
                    target = local / item.relative_to(local / ".part")
                    target.parent.mkdir(parents=True, exist_ok=True)
                    item.replace(target)
            _remove_tree(local / ".part")
        elif "serviceAccountToken" in source:
            ref = source["serviceAccountToken"] or {}
            token = lookup("ServiceAccountToken", f"{ref.get('audience', '')}|{ref.get('expirationSeconds', 3607)}")
            if token is not None:
                _write_files(local, {ref.get("path", "token"): str(token.get("token", "")).encode()}, None, 0o600)
                parts.append("serviceAccountToken")
        elif "downwardAPI" in source:
            for item in (source["downwardAPI"] or {}).get("items") or []:
                field_path = (item.get("fieldRef") or {}).get("fieldPath")
                value = lookup("FieldRef", field_path or "")
                if value is not None:
                    _write_files(local, {item.get("path", ""): str(value.get("value", "")).encode()}, None, 0o644)
            parts.append("downwardAPI")
    return "projected (" + ", ".join(parts) + ")"


def _remove_tree(path: Path) -> None:
    if not path.exists():
        return
    for item in sorted(path.rglob("*"), key=lambda p: len(p.parts), reverse=True):
        item.rmdir() if item.is_dir() else item.unlink()
    path.rmdir()


def _describe(volume: Mapping[str, Any]) -> str:
    for kind in ("secret", "configMap", "emptyDir", "persistentVolumeClaim", "projected", "hostPath"):
        if kind in volume:
            return kind
    return "volume"


def _missing(kind: str, name: str, ref: Mapping[str, Any], component: str) -> str:
    if ref.get("optional"):
        return f"{kind} {name} (optional, not rendered: empty)"
    raise Refusal(
        f"{component}: mounts {kind} {name!r}, which the chart does not render (it must already exist "
        "on a real cluster), so the rehearsal cannot recreate its files; with TLS, rehearse with "
        "global.tls.mode=generate (or disabled)",
        component=component,
    )


def _write_files(
    directory: Path, files: Mapping[str, bytes], items: Sequence[Mapping[str, Any]] | None, mode: int
) -> None:
    selected = {k: k for k in files} if not items else {i["key"]: i.get("path", i["key"]) for i in items}
    for key, rel in selected.items():
        if key not in files:
            continue
        path = directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[key])
        path.chmod(mode)


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name) or "_"


class PathMapper:
    """Container paths under a mount -> local paths (longest mount path wins)."""

    def __init__(self, mounts: Sequence[Mount]) -> None:
        self.mounts = sorted(mounts, key=lambda m: len(m.container_path), reverse=True)

    def in_text(self, text: str, unmounted: Mapping[str, Path] | None = None) -> str:
        """Every mounted container path inside ``text`` (a config file, a ``python -c`` probe) mapped,
        in one pass: a path already mapped is never mapped again (a local path may itself contain a
        mount's container path, e.g. /tmp). ``unmounted``: more container path -> local path pairs,
        used where no mount covers the path."""
        bases = {m.container_path.rstrip("/"): str(m.local_path) for m in reversed(self.mounts)}
        for base, local in (unmounted or {}).items():
            bases.setdefault(base.rstrip("/"), str(local))
        bases = {b: local.replace("\\", "/") for b, local in bases.items() if b}
        if not bases:
            return text
        pattern = "|".join(re.escape(b) for b in sorted(bases, key=len, reverse=True))
        return re.sub(rf"(?<![\w./-])(?:{pattern})(?=/|\b|$)", lambda m: bases[m.group(0)], text)

    def __call__(self, value: str) -> str | None:
        if not value.startswith("/"):
            return None
        path = PurePosixPath(value)
        for mount in self.mounts:
            base = PurePosixPath(mount.container_path)
            if path == base:
                return str(mount.local_path)
            try:
                rest = path.relative_to(base)
            except ValueError:
                continue
            return str(mount.local_path.joinpath(*rest.parts))
        return None


# --- arguments ---------------------------------------------------------------


@dataclass
class ArgRules:
    """How to rewrite one component's flags.

    ``hosts``: flags whose value is a bind host; ``ports``: flag -> new port;
    ``addresses``: flag -> new ``host:port``; ``paths``: maps mounted paths (None = keep).
    """

    hosts: frozenset[str] = frozenset({"--host"})
    ports: Mapping[str, int] = field(default_factory=dict)
    addresses: Mapping[str, str] = field(default_factory=dict)
    paths: Callable[[str], str | None] = lambda _value: None
    extra: Mapping[str, Callable[[str], str]] = field(default_factory=dict)


def map_args(args: Sequence[str], rules: ArgRules) -> Mapped:
    """Rewrite hosts, ports, addresses and mounted paths; keep everything else as it is."""
    out: list[str] = []
    changes: list[ArgChange] = []
    i = 0
    args = [str(a) for a in args]
    while i < len(args):
        arg = args[i]
        flag, eq, inline = arg.partition("=")
        if eq and flag.startswith("--"):
            new = _map_value(flag, inline, rules)
            out.append(f"{flag}={new}")
            if new != inline:
                changes.append(ArgChange(flag, inline, new))
            i += 1
            continue
        out.append(arg)
        if arg.startswith("--") and i + 1 < len(args) and _takes_value(arg, rules, args[i + 1]):
            value = args[i + 1]
            new = _map_value(arg, value, rules)
            out.append(new)
            if new != value:
                changes.append(ArgChange(arg, value, new))
            i += 2
            continue
        if not arg.startswith("-"):
            new = rules.paths(arg)
            if new is not None and new != arg:
                out[-1] = new
                changes.append(ArgChange("", arg, new))
        i += 1
    return Mapped(out, changes)


def _takes_value(flag: str, rules: ArgRules, following: str) -> bool:
    known = flag in rules.hosts or flag in rules.ports or flag in rules.addresses or flag in rules.extra
    return known or not following.startswith("--")


def _map_value(flag: str, value: str, rules: ArgRules) -> str:
    if flag in rules.extra:
        return rules.extra[flag](value)
    if flag in rules.hosts:
        return LOCAL_HOST
    if flag in rules.ports:
        return str(rules.ports[flag])
    if flag in rules.addresses:
        return rules.addresses[flag]
    mapped = rules.paths(value)
    return value if mapped is None else mapped


def split_host_port(address: str) -> tuple[str, int | None]:
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit():
        return address, None
    return host.strip("[]"), int(port)


def flag_value(args: Sequence[str], flag: str) -> str | None:
    """The value of the LAST ``flag`` (argparse semantics), or None."""
    found = None
    for i, arg in enumerate(args):
        if arg == flag and i + 1 < len(args):
            found = args[i + 1]
        elif arg.startswith(flag + "="):
            found = arg[len(flag) + 1 :]
    return found


def has_flag(args: Sequence[str], flag: str) -> bool:
    return any(a == flag or a.startswith(flag + "=") for a in args)


# --- environment -------------------------------------------------------------


def container_env(
    container: Mapping[str, Any],
    lookup: Lookup,
    paths: Callable[[str], str | None],
    *,
    namespace: str,
    pod_name: str,
) -> tuple[dict[str, str], list[str]]:
    """The container's literal env (valueFrom resolved where possible), mounted paths mapped.

    Returns (env, notes).
    """
    env: dict[str, str] = {}
    notes: list[str] = []
    for item in container.get("env") or []:
        name = item.get("name", "")
        if "value" in item:
            value = str(item.get("value") or "")
        elif "valueFrom" in item:
            resolved = _value_from(item["valueFrom"] or {}, lookup, namespace, pod_name)
            if resolved is None:
                notes.append(f"env {name}: valueFrom not resolvable offline, left unset")
                continue
            value = resolved
        else:
            value = ""
        mapped = paths(value) if value else None
        env[name] = mapped if mapped is not None else value
    if container.get("envFrom"):
        notes.append("envFrom is not applied in the rehearsal")
    return env, notes


def _value_from(source: Mapping[str, Any], lookup: Lookup, namespace: str, pod_name: str) -> str | None:
    if "fieldRef" in source:
        path = (source["fieldRef"] or {}).get("fieldPath", "")
        return {"metadata.namespace": namespace, "metadata.name": pod_name}.get(path)
    for kind, key in (("ConfigMap", "configMapKeyRef"), ("Secret", "secretKeyRef")):
        if key in source:
            ref = source[key] or {}
            obj = lookup(kind, ref.get("name", ""))
            if obj is None:
                return None
            if kind == "Secret":
                data = obj.get("data") or {}
                if ref.get("key") in data:
                    return base64.b64decode(data[ref["key"]]).decode(errors="replace")
                return (obj.get("stringData") or {}).get(ref.get("key"))
            return (obj.get("data") or {}).get(ref.get("key"))
    return None


def no_proxy(current: str | None) -> str:
    parts = [p for p in (current or "").split(",") if p]
    for host in (LOCAL_HOST, "localhost"):
        if host not in parts:
            parts.append(host)
    return ",".join(parts)


def executable_for(container: Mapping[str, Any], entrypoints: Mapping[str, str]) -> tuple[str, list[str]]:
    """(program, args) of a container: ``command`` if set, else the image's entrypoint.

    The entrypoint of an image comes from ``entrypoints`` keyed by the image's repository name
    (``docker.io/flwr/superlink:1.41.0`` -> ``superlink``).
    """
    command = [str(c) for c in container.get("command") or []]
    args = [str(a) for a in container.get("args") or []]
    if command:
        return os.path.basename(command[0]), [*command[1:], *args]
    repo = image_repository_name(str(container.get("image", "")))
    if repo in entrypoints:
        return entrypoints[repo], args
    raise Refusal(
        f"container {container.get('name')!r} (image {container.get('image')!r}) sets no command and "
        "its image is not a known Flower image, so the rehearsal does not know what to run",
        component=str(container.get("name", "")),
    )


def image_repository_name(image: str) -> str:
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)[-1]
    return last.split(":", 1)[0]


# --- one container as one local process --------------------------------------


@dataclass
class ProcessSpec:
    """What to start for a container: its arguments and environment with hosts, ports, addresses and
    mounted paths mapped, and the local directories that hold its volumes."""

    args: list[str]
    env: dict[str, str]
    root: Path
    paths: PathMapper
    mounts: list[Mount]
    changes: list[ArgChange]
    notes: list[str]


def container_process(
    pod_spec: Mapping[str, Any],
    container: Mapping[str, Any],
    args: Sequence[str],
    lookup: Lookup,
    root: Path,
    rules: ArgRules,
    *,
    component: str,
    namespace: str,
    pod_name: str,
) -> ProcessSpec:
    """The one container-to-process mapping (``helm flower rehearse`` and the test fleet's process
    runner both use it): volumes materialised under ``root``, ``args`` rewritten by ``rules`` (its
    ``paths`` is set to the mounts' mapper, after any path rule ``rules.paths`` gave), env resolved
    with mounted paths mapped, and homes kept private to the process."""
    mounts = materialize_mounts(pod_spec, container, lookup, root, component=component)
    paths = PathMapper(mounts)
    fallback = rules.paths
    rules.paths = lambda value: paths(value) if paths(value) is not None else fallback(value)
    mapped = map_args(args, rules)
    env, notes = container_env(container, lookup, rules.paths, namespace=namespace, pod_name=pod_name)
    if not _inside(env.get("FLWR_HOME"), root):
        env["FLWR_HOME"] = str(root / "flwr-home")
    if "HOME" in env and not _inside(env["HOME"], root):
        del env["HOME"]
    root.mkdir(parents=True, exist_ok=True)
    return ProcessSpec(mapped.args, env, root, paths, mounts, mapped.changes, notes)


def _inside(path: str | None, directory: Path) -> bool:
    if not path:
        return False
    try:
        Path(path).resolve().relative_to(directory.resolve())
    except ValueError:
        return False
    return True
