"""Run the real helm binaries on the chart and give back the rendered objects.

`render()` runs `helm template` and parses every document. Results are cached per
(helm, arguments) for the whole session (helm takes ~0.3-0.5 s per render), and `prefetch()`
starts renders in background threads so that two cores render while tests validate.

`all_objects()` adds the objects OCM will create on managed clusters: the manifests of an
AddOnTemplate (substituted once per AddOnDeploymentConfig of the same release, the way the
addon manager does it) and those of a ManifestWorkReplicaSet.
"""

from __future__ import annotations

import copy
import json
import os
import re
import subprocess
import threading
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# OCM's default install namespace when an AddOnDeploymentConfig sets none (CRD default).
OCM_DEFAULT_INSTALL_NAMESPACE = "open-cluster-management-agent-addon"
# Cluster name used for substitution when no ManagedClusterAddOn names a cluster.
SAMPLE_CLUSTER = "managed-1"


class HelmError(RuntimeError):
    """helm exited non-zero; the message carries helm's stderr."""

    def __init__(self, args: Sequence[str], returncode: int, stdout: str, stderr: str):
        self.args_ = list(args)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr
        super().__init__(
            f"{' '.join(map(str, args))} exited {returncode}:\n{stderr.strip() or stdout.strip()}"
        )


@dataclass(frozen=True)
class HelmResult:
    stdout: str
    stderr: str


_pool = ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="helm")
_futures: dict[tuple, Future] = {}
_lock = threading.Lock()


def _run(args: tuple[str, ...]) -> HelmResult:
    env = {**os.environ, "HELM_DEBUG": "false"}
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    if proc.returncode != 0:
        raise HelmError(args, proc.returncode, proc.stdout, proc.stderr)
    return HelmResult(proc.stdout, proc.stderr)


def run_helm(args: Sequence[str | os.PathLike]) -> Future:
    """Start (once per argument list and session) a helm call; returns its Future."""
    key = tuple(str(a) for a in args)
    with _lock:
        fut = _futures.get(key)
        if fut is None:
            fut = _futures[key] = _pool.submit(_run, key)
    return fut


def cancel_pending() -> None:
    """Drop queued helm calls nobody waited for (e.g. after `pytest -x` stopped early)."""
    with _lock:
        for fut in _futures.values():
            fut.cancel()


def template_args(
    helm: str | os.PathLike,
    chart: str | os.PathLike,
    values_files: Iterable[str | os.PathLike] = (),
    set_values: Iterable[str] = (),
    release: str = "flower",
    namespace: str = "flower-system",
) -> tuple[str, ...]:
    args = [str(helm), "template", release, str(chart), "--namespace", namespace]
    for f in values_files:
        args += ["--values", str(f)]
    for s in set_values:
        args += ["--set", s]
    return tuple(args)


def prefetch(helm, chart, values_files=(), set_values=(), release="flower", namespace="flower-system") -> None:
    """Start a render in the background (render() with the same arguments then just waits)."""
    run_helm(template_args(helm, chart, values_files, set_values, release, namespace))


_parsed: dict[tuple, str | list[dict]] = {}


def render(
    helm: str | os.PathLike,
    chart: str | os.PathLike,
    values_files: Iterable[str | os.PathLike] = (),
    set_values: Iterable[str] = (),
    release: str = "flower",
    namespace: str = "flower-system",
) -> list[dict]:
    """`helm template` -> list of objects (a fresh copy; the parsed render is cached).

    Raises HelmError (with helm's stderr) when helm fails.
    """
    key = template_args(helm, chart, tuple(values_files), tuple(set_values), release, namespace)
    cached = _parsed.get(key)
    if cached is None:
        out = run_helm(key).result().stdout
        docs = [d for d in yaml.load_all(out, Loader=_Loader) if d]
        for d in docs:
            if not isinstance(d, dict) or "kind" not in d or "apiVersion" not in d:
                raise AssertionError(f"helm rendered a document that is not a Kubernetes object: {d!r:.300}")
        try:  # a JSON snapshot copies fastest; YAML-only types (dates) keep a deep copy
            cached = _parsed[key] = json.dumps(docs)
        except TypeError:
            cached = _parsed[key] = docs
    return json.loads(cached) if isinstance(cached, str) else copy.deepcopy(cached)


# --------------------------------------------------------------------------- OCM templating

_TAG = re.compile(r"\{\{(.*?)\}\}", re.S)


def ocm_substitute(raw: str, variables: dict[str, str]) -> str:
    """What OCM's addon template agent does to each manifest (fasttemplate ExecuteString on the
    manifest's raw JSON, start/end tags {{ }}): ONE pass, a tag with no value becomes "" and a
    substituted value is not scanned again (so {{X}} inside a variable's value stays literal)."""
    return _TAG.sub(lambda m: variables.get(m.group(1), ""), raw)


def ocm_tags(raw: str) -> set[str]:
    return set(_TAG.findall(raw))


def builtin_variables(adc: dict | None, cluster: str) -> dict[str, str]:
    ns = ((adc or {}).get("spec") or {}).get("agentInstallNamespace") or OCM_DEFAULT_INSTALL_NAMESPACE
    return {"CLUSTER_NAME": cluster, "INSTALL_NAMESPACE": ns}


def adc_variables(adc: dict | None, cluster: str) -> dict[str, str]:
    """Customized variables of an AddOnDeploymentConfig; the built-ins win (as in OCM)."""
    values: dict[str, str] = {}
    for v in ((adc or {}).get("spec") or {}).get("customizedVariables") or []:
        values[v["name"]] = v.get("value", "")
    values.update(builtin_variables(adc, cluster))
    return values


def manifest_json(manifest: dict) -> str:
    """The manifest as raw JSON, as the API server stores a RawExtension (Go escapes <, >, &)."""
    text = json.dumps(manifest, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


@dataclass
class Obj:
    """A rendered object, or one OCM will create from a rendered object."""

    obj: dict
    origin: str  # "hub" or "<Kind>/<name>" of the carrier
    adc: str | None = None  # AddOnDeploymentConfig used for substitution
    cluster: str | None = None  # CLUSTER_NAME used for substitution

    @property
    def embedded(self) -> bool:
        return self.origin != "hub"

    @property
    def kind(self) -> str:
        return self.obj.get("kind", "")

    @property
    def name(self) -> str:
        return (self.obj.get("metadata") or {}).get("name", "")

    @property
    def namespace(self) -> str:
        return (self.obj.get("metadata") or {}).get("namespace", "") or ""

    def __str__(self) -> str:
        where = "" if not self.embedded else f" in {self.origin}" + (f" (ADC {self.adc}, cluster {self.cluster})" if self.adc else "")
        return f"{self.obj.get('apiVersion')} {self.kind} {self.namespace + '/' if self.namespace else ''}{self.name}{where}"


def of_kind(objects: Iterable[dict], kind: str) -> list[dict]:
    return [o for o in objects if o.get("kind") == kind]


def clusters_of_adc(objects: Sequence[dict]) -> dict[str, list[str]]:
    """ADC name -> clusters it is meant for: a ManagedClusterAddOn points at it (Manual), or a
    per-cluster Placement (label flower.ai/cluster) in the ClusterManagementAddOn's install strategy."""
    out: dict[str, list[str]] = {}
    for mca in of_kind(objects, "ManagedClusterAddOn"):
        for cfg in (mca.get("spec") or {}).get("configs") or []:
            if cfg.get("resource") == "addondeploymentconfigs":
                out.setdefault(cfg["name"], []).append(mca["metadata"]["namespace"])
    placements = {p["metadata"]["name"]: p for p in of_kind(objects, "Placement")}
    for cma in of_kind(objects, "ClusterManagementAddOn"):
        for entry in ((cma["spec"].get("installStrategy") or {}).get("placements") or []):
            cluster = ((placements.get(entry["name"]) or {}).get("metadata", {}).get("labels") or {}).get("flower.ai/cluster")
            for cfg in entry.get("configs") or []:
                if cluster and cfg.get("resource") == "addondeploymentconfigs":
                    out.setdefault(cfg["name"], []).append(cluster)
    return out


def addon_template_instances(objects: Sequence[dict], cluster: str | None = None) -> Iterator[Obj]:
    """Manifests of every AddOnTemplate, substituted once per AddOnDeploymentConfig."""
    adcs = of_kind(objects, "AddOnDeploymentConfig") or [None]
    by_adc = clusters_of_adc(objects)
    for tmpl in of_kind(objects, "AddOnTemplate"):
        origin = f"AddOnTemplate/{tmpl['metadata']['name']}"
        for adc in adcs:
            adc_name = adc["metadata"]["name"] if adc else None
            name = cluster or (by_adc.get(adc_name) or [SAMPLE_CLUSTER])[0]
            variables = adc_variables(adc, name)
            for manifest in tmpl["spec"]["agentSpec"]["workload"]["manifests"]:
                text = ocm_substitute(manifest_json(manifest), variables)
                yield Obj(json.loads(text), origin, adc_name, name)


def manifestwork_instances(objects: Sequence[dict]) -> Iterator[Obj]:
    for mwrs in of_kind(objects, "ManifestWorkReplicaSet"):
        origin = f"ManifestWorkReplicaSet/{mwrs['metadata']['name']}"
        for manifest in mwrs["spec"]["manifestWorkTemplate"]["workload"]["manifests"]:
            yield Obj(copy.deepcopy(manifest), origin)


def all_objects(objects: Sequence[dict], cluster: str | None = None) -> list[Obj]:
    """Top-level objects plus every embedded one (AddOnTemplate manifests once per ADC)."""
    out = [Obj(o, "hub") for o in objects]
    out += addon_template_instances(objects, cluster)
    out += manifestwork_instances(objects)
    return out


def pod_specs(objs: Iterable[Obj]) -> Iterator[tuple[Obj, dict]]:
    """(workload, pod spec) of every Deployment/StatefulSet/DaemonSet/Job/Pod."""
    for o in objs:
        kind = o.kind
        if kind in ("Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job"):
            yield o, o.obj["spec"]["template"]["spec"]
        elif kind == "CronJob":
            yield o, o.obj["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        elif kind == "Pod":
            yield o, o.obj["spec"]
