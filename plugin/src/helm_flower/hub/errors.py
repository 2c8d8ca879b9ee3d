"""Errors a human can act on.

Every failure to talk to the hub becomes a :class:`HubError` whose message says what went
wrong and what to do; commands print it (no traceback) and exit with ``exit_code`` (2: usage
or input errors, including an unreachable hub, missing permissions or missing OCM CRDs).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

EXIT_OK = 0
EXIT_NOT_READY = 1
EXIT_USAGE = 2


class HubError(Exception):
    """A failure with a message for a human; ``exit_code`` is what the command returns."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message


@dataclass(frozen=True)
class Operation:
    """What was being done when a request failed: ``list placements.cluster.open-cluster-management.io
    in namespace flower``. Used to word 403 and 404 errors."""

    verb: str  # get, list, watch, ...
    resource: str  # plural
    group: str = ""
    version: str = ""
    namespace: str | None = None  # None = all namespaces / cluster scope
    name: str | None = None

    @property
    def gr(self) -> str:
        return f"{self.resource}.{self.group}" if self.group else self.resource

    def where(self) -> str:
        if self.namespace:
            return f"in namespace {self.namespace}"
        return "at the cluster scope (all namespaces)"

    def describe(self) -> str:
        target = f"{self.gr} {self.name!r}" if self.name else self.gr
        return f"{self.verb} {target} {self.where()}"


# Hints for resources whose absence has a known cause.
CRD_HINTS = {
    "manifestworkreplicasets.work.open-cluster-management.io":
        "ManifestWorkReplicaSet needs the ManifestWorkReplicaSet feature gate in the ClusterManager's "
        "spec.workConfiguration.featureGates",
    "routes.route.openshift.io": "Routes exist on OpenShift only",
}


def _status_body(body: Any) -> dict[str, Any]:
    if isinstance(body, bytes):
        body = body.decode("utf-8", "replace")
    if isinstance(body, str):
        try:
            parsed = json.loads(body)
        except ValueError:
            return {"message": body.strip()}
        return parsed if isinstance(parsed, dict) else {}
    return body if isinstance(body, dict) else {}


def from_api_exception(exc: Any, op: Operation, server: str) -> HubError:
    """A HubError for an ``ApiException`` raised while doing ``op`` against ``server``."""
    status = getattr(exc, "status", 0) or 0
    body = _status_body(getattr(exc, "body", None))
    server_msg = body.get("message") or getattr(exc, "reason", "") or ""
    if status == 0:  # the REST layer wraps TLS failures as status 0
        return HubError(
            f"TLS error talking to the hub API server at {server}: {server_msg.splitlines()[-1] if server_msg else exc}. "
            "Check the cluster's certificate-authority in your kubeconfig (or HELM_KUBECAFILE)."
        )
    if status == 401:
        return HubError(
            f"unauthorized: the hub API server at {server} rejected the credentials "
            f"(while trying to {op.describe()}). The token or client certificate of the kube context "
            "has expired or is wrong: log in again (or check HELM_KUBETOKEN)."
        )
    if status == 403:
        return HubError(
            f"forbidden: cannot {op.verb} {op.gr} {op.where()}"
            + (f" (object {op.name!r})" if op.name else "")
            + f". Ask for RBAC that allows '{op.verb}' on {op.gr}"
            + (f" in namespace {op.namespace}" if op.namespace else " cluster-wide")
            + f". Server: {server_msg}"
        )
    if status == 404:
        details = body.get("details") or {}
        if op.name and details.get("name"):
            return HubError(f"not found: {op.gr} {op.name!r} {op.where()}.")
        hint = CRD_HINTS.get(op.gr, "")
        what = f"{op.gr}/{op.version}" if op.version else op.gr
        if op.group.endswith("open-cluster-management.io"):
            return HubError(
                f"the hub at {server} does not serve {what}: the Open Cluster Management CRDs are missing. "
                "Is this the OCM hub cluster (check --kube-context), and is OCM installed "
                "(clusteradm init)?" + (f" {hint}." if hint else "")
            )
        return HubError(f"the hub at {server} does not serve {what}." + (f" {hint}." if hint else ""))
    if status == 410:
        return HubError(f"the hub expired a paged list while reading ({op.describe()}): {server_msg}. Retry.")
    return HubError(f"the hub API server at {server} answered {status} to {op.describe()}: {server_msg}")


def from_transport_error(exc: BaseException, server: str, timeout: float | None = None) -> HubError:
    """A HubError for a urllib3 / socket failure (refused, unreachable, timed out)."""
    text = f"{type(exc).__name__}: {exc}"
    low = text.lower()
    reason = getattr(exc, "reason", None)
    if reason is not None:
        low += " " + f"{type(reason).__name__}: {reason}".lower()
    if "refused" in low:
        what = "connection refused"
    elif "timed out" in low or "timeout" in low:
        what = f"no answer within {timeout:g}s (timed out)" if timeout else "timed out"
    elif "name or service not known" in low or "nodename nor servname" in low or "name resolution" in low:
        what = "the host name does not resolve"
    elif "ssl" in low or "certificate" in low:
        return HubError(
            f"TLS error talking to the hub API server at {server}: {reason or exc}. Check the cluster's "
            "certificate-authority in your kubeconfig (or HELM_KUBECAFILE, HELM_KUBEINSECURE_SKIP_TLS_VERIFY)."
        )
    else:
        what = str(reason or exc)
    return HubError(
        f"cannot reach the hub API server at {server}: {what}. Check --kube-context / KUBECONFIG "
        "(or HELM_KUBEAPISERVER), that the hub is running and that you can reach it (VPN, proxy)."
    )
