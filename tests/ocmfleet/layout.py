"""Where the test fleet lives (.tools/fleet), what it is made of, and its state file.

One hub and three managed clusters, each a real kube-apiserver (one shared etcd, one key prefix per
cluster), kube-controller-manager, kube-scheduler and a kwok fake node; OCM's hub controllers on the
hub and one klusterlet agent per managed cluster. Everything listens on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
TOOLS = REPO_ROOT / ".tools"
BIN = TOOLS / "bin"
OCM_CRDS = TOOLS / "ocm-crds"
OCM_MANIFESTS = TOOLS / "ocm-manifests"
KWOK_STAGES = TOOLS / "kwok-stages"

HUB = "hub"
MANAGED = ("cluster1", "cluster2", "cluster3")
CLUSTER_SET = "default"
HUB_NAMESPACE = "open-cluster-management-hub"
BOOTSTRAP_NAMESPACE = "open-cluster-management"
AGENT_NAMESPACE = "open-cluster-management-agent"
ADDON_NAMESPACE = "open-cluster-management-agent-addon"
NODE_NAME = "kwok-node-0"  # one fake node per cluster
# The annotation kwok selects its nodes by (as kwokctl names it).
KWOK_NODE_ANNOTATION = ("kwok.x-k8s.io/node", "fake")
# OCM's webhook server (controller-runtime) listens for health probes on this fixed port, on every
# interface (hard-coded upstream in open-cluster-management.io/ocm pkg/common/options/webhook.go).
WEBHOOK_HEALTH_PORT = 8000
# Processes are tagged with this environment variable (rehearse's marker, so the same teardown finds
# every descendant): HELM_FLOWER_REHEARSAL=ocmfleet:<fleet dir>.
MARKER_PREFIX = "ocmfleet:"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class Layout:
    root: Path

    @classmethod
    def default(cls) -> "Layout":
        return cls(Path(os.environ.get("OCMFLEET_DIR", TOOLS / "fleet")).resolve())

    @property
    def marker(self) -> str:
        return f"{MARKER_PREFIX}{self.root}"

    @property
    def kubeconfig(self) -> Path:
        """The one kubeconfig users and tests read: contexts hub, cluster1..3, current context hub."""
        return self.root / "kubeconfig"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def state_file(self) -> Path:
        return self.root / "state.json"

    def pki(self, cluster: str) -> Path:
        return self.root / "pki" / cluster

    def admin_kubeconfig(self, cluster: str) -> Path:
        """Per-cluster admin kubeconfig the processes of that cluster use."""
        return self.root / "kubeconfigs" / f"{cluster}.kubeconfig"

    def controller_kubeconfig(self, component: str) -> Path:
        """A hub controller's kubeconfig: its ServiceAccount's token (see bootstrap.CONTROLLER_IDENTITIES)."""
        return self.root / "kubeconfigs" / f"hub-{component}.kubeconfig"

    def agent_dir(self, cluster: str) -> Path:
        """The klusterlet agent's hub-kubeconfig directory (what the agent's Secret mount would be)."""
        return self.root / "agents" / cluster

    @property
    def bootstrap_kubeconfig(self) -> Path:
        return self.root / "kubeconfigs" / "bootstrap-hub.kubeconfig"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def webhook_certs(self) -> Path:
        return self.root / "pki" / "webhooks"

    def read_state(self) -> dict:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}

    def write_state(self, state: dict) -> None:
        tmp = self.state_file.with_suffix(".tmp")
        tmp.write_text(json.dumps(state, indent=2, sort_keys=True))
        tmp.replace(self.state_file)


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[-1].split()[0] not in (b"Z", b"X")
    except OSError:
        return False
