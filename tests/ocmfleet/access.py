"""Reaching a running test fleet: API clients per context, and simulated outages of a managed
cluster's klusterlet agent (SIGSTOP freezes it: no lease renewals, no status; SIGCONT resumes it,
with the same credentials and state, as a cluster coming back online)."""

from __future__ import annotations

import os
import signal
from functools import cache

from kubernetes import client, config

from .layout import HUB, MANAGED, Layout


class Fleet:
    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.kubeconfig = layout.kubeconfig
        self.hub_context = HUB
        self.managed = MANAGED

    @cache  # noqa: B019 (one client per context for the fleet's lifetime)
    def api(self, context: str = HUB) -> client.ApiClient:
        return config.new_client_from_config(config_file=str(self.kubeconfig), context=context)

    def custom(self, context: str = HUB) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api(context))

    def core(self, context: str = HUB) -> client.CoreV1Api:
        return client.CoreV1Api(self.api(context))

    def apps(self, context: str = HUB) -> client.AppsV1Api:
        return client.AppsV1Api(self.api(context))

    def _agent_pid(self, cluster: str) -> int:
        pid = self.layout.read_state().get("pids", {}).get(f"{cluster}/klusterlet-agent")
        if not pid:
            raise RuntimeError(f"no klusterlet agent pid for {cluster} in {self.layout.state_file}")
        return int(pid)

    def pause_agent(self, cluster: str) -> None:
        os.killpg(self._agent_pid(cluster), signal.SIGSTOP)

    def resume_agent(self, cluster: str) -> None:
        os.killpg(self._agent_pid(cluster), signal.SIGCONT)

    def dead_processes(self) -> list[dict]:
        return self.layout.read_state().get("dead", [])

    def local_address(self, cluster: str, service: str, namespace: str, port: int) -> str | None:
        """Where a Service of a cluster is reached on this machine when a pod behind it runs on the
        process node (what `kubectl port-forward` gives on a real cluster)."""
        addresses = self.layout.read_state().get("addresses") or {}
        local = addresses.get(f"{cluster}/{service}.{namespace}.svc.cluster.local:{port}")
        return f"127.0.0.1:{local}" if local else None
