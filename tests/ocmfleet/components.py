"""The command line of every process of the test fleet: the one place their flags are written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from .layout import (
    AGENT_NAMESPACE,
    BIN,
    HUB,
    HUB_NAMESPACE,
    KWOK_NODE_ANNOTATION,
    KWOK_STAGES,
    Layout,
)

SERVICE_CIDR = "10.96.0.0/16"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc"


@dataclass
class Component:
    key: str  # unique, e.g. "cluster1/kube-apiserver"
    cluster: str
    argv: list[str]
    restart: bool = False  # restarted when it exits (OCM agents exit on purpose to reload credentials)
    env: dict[str, str] = field(default_factory=dict)


def etcd(layout: Layout, ports: dict[str, int]) -> Component:
    client, peer = f"http://127.0.0.1:{ports['etcd']}", f"http://127.0.0.1:{ports['etcd-peer']}"
    return Component("etcd", "shared", [
        str(BIN / "etcd"), "--name=fleet", f"--data-dir={layout.etcd_data}",
        f"--listen-client-urls={client}", f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=fleet={peer}", "--listen-metrics-urls=", "--log-level=warn",
        "--quota-backend-bytes=4294967296",
    ])


def kube_apiserver(layout: Layout, cluster: str, ports: dict[str, int]) -> Component:
    pki = layout.pki(cluster)
    return Component(f"{cluster}/kube-apiserver", cluster, [
        str(BIN / "kube-apiserver"),
        f"--etcd-servers=http://127.0.0.1:{ports['etcd']}", f"--etcd-prefix=/{cluster}",
        "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", f"--secure-port={ports[cluster]}",
        f"--tls-cert-file={pki / 'apiserver.crt'}", f"--tls-private-key-file={pki / 'apiserver.key'}",
        f"--client-ca-file={pki / 'ca.crt'}",
        # Lets aggregated/delegating servers (OCM's controllers' --listen endpoints) read a complete
        # extension-apiserver-authentication ConfigMap; no front proxy is in use.
        f"--requestheader-client-ca-file={pki / 'ca.crt'}", "--requestheader-allowed-names=front-proxy",
        "--requestheader-username-headers=X-Remote-User", "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--service-account-key-file={pki / 'service-account.pub'}",
        f"--service-account-signing-key-file={pki / 'service-account.key'}",
        f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
        "--authorization-mode=RBAC",
        # No kubelet answers on the endpoints of the `kubernetes` Service; 127.0.0.1 is not a valid
        # endpoint address anyway.
        "--endpoint-reconciler-type=none",
        # `kubectl logs` (ct install prints logs) dials a node's InternalIP only: 127.0.0.1 for the
        # process nodes (the runner's log server, its certificate verified), none for kwok's. By
        # default it resolves node names in DNS, outside 127.0.0.0/8.
        "--kubelet-preferred-address-types=InternalIP", f"--kubelet-certificate-authority={pki / 'ca.crt'}",
    ])


def _kube_client_flags(layout: Layout, cluster: str) -> list[str]:
    kubeconfig = layout.admin_kubeconfig(cluster)
    return [f"--kubeconfig={kubeconfig}", f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}", "--bind-address=127.0.0.1", "--secure-port=0",
            "--leader-elect=false"]


def kube_controller_manager(layout: Layout, cluster: str) -> Component:
    pki = layout.pki(cluster)
    return Component(f"{cluster}/kube-controller-manager", cluster, [
        str(BIN / "kube-controller-manager"), *_kube_client_flags(layout, cluster),
        f"--service-account-private-key-file={pki / 'service-account.key'}",
        f"--root-ca-file={pki / 'ca.crt'}",
        # Signs the CSRs OCM approves (klusterlet hub credentials, KubeClient addon registrations).
        f"--cluster-signing-cert-file={pki / 'ca.crt'}", f"--cluster-signing-key-file={pki / 'ca.key'}",
        f"--service-cluster-ip-range={SERVICE_CIDR}",
    ])


def kube_scheduler(layout: Layout, cluster: str) -> Component:
    return Component(f"{cluster}/kube-scheduler", cluster, [
        str(BIN / "kube-scheduler"), *_kube_client_flags(layout, cluster)])


def kwok(layout: Layout, cluster: str) -> Component:
    stages = ",".join(str(p) for p in sorted(KWOK_STAGES.glob("*.yaml")))
    key, value = KWOK_NODE_ANNOTATION
    return Component(f"{cluster}/kwok", cluster, [
        str(BIN / "kwok"), f"--kubeconfig={layout.admin_kubeconfig(cluster)}",
        f"--manage-nodes-with-annotation-selector={key}={value}", "--node-lease-duration-seconds=40",
        f"--config={stages}", "--server-address=127.0.0.1:0",
    ])


def _ocm_hub_flags(layout: Layout, port: int, identity: str | None = None) -> list[str]:
    kubeconfig = layout.controller_kubeconfig(identity) if identity else layout.admin_kubeconfig(HUB)
    return [f"--kubeconfig={kubeconfig}", f"--namespace={HUB_NAMESPACE}",
            "--disable-leader-election", f"--listen=127.0.0.1:{port}"]


def ocm_hub(layout: Layout, ports: dict[str, int]) -> list[Component]:
    return [
        # OCM's registration (cluster defaulting, taint timestamps, cluster set binding checks), work
        # (ManifestWork validation) and addon (v1alpha1 <-> v1beta1 conversion) webhooks.
        Component("hub/webhooks", HUB, [
            str(BIN / "webhooks"), "serve", f"--port={ports['webhooks']}", f"--certdir={layout.webhook_certs}"],
            env={"KUBECONFIG": str(layout.admin_kubeconfig(HUB))}),
        Component("hub/registration-controller", HUB, [
            str(BIN / "registration"), "controller", *_ocm_hub_flags(layout, ports["registration"])]),
        Component("hub/placement-controller", HUB, [
            str(BIN / "placement"), "controller", *_ocm_hub_flags(layout, ports["placement"], "placement")]),
        Component("hub/work-manager", HUB, [
            str(BIN / "work"), "manager", *_ocm_hub_flags(layout, ports["work"], "work"),
            "--feature-gates=ManifestWorkReplicaSet=true"]),
        Component("hub/addon-manager", HUB, [
            str(BIN / "addon"), "manager", *_ocm_hub_flags(layout, ports["addon"], "addon-manager")],
            # The addon manager reads a CustomSigner's signing CA from its POD_NAMESPACE.
            env={"POD_NAMESPACE": HUB_NAMESPACE}),
    ]


def klusterlet_agent(layout: Layout, cluster: str, port: int) -> Component:
    """`registration-operator agent`: the single-process klusterlet (registration and work agents)."""
    hub_dir = layout.agent_dir(cluster)
    return Component(f"{cluster}/klusterlet-agent", cluster, [
        str(BIN / "registration-operator"), "agent",
        f"--kubeconfig={layout.admin_kubeconfig(cluster)}", f"--namespace={AGENT_NAMESPACE}",
        "--disable-leader-election", f"--listen=127.0.0.1:{port}",
        f"--spoke-cluster-name={cluster}", f"--agent-id={cluster}-agent",
        f"--bootstrap-kubeconfig={layout.bootstrap_kubeconfig}",
        f"--hub-kubeconfig-dir={hub_dir}", f"--workload-source-config={hub_dir / 'kubeconfig'}",
        "--status-sync-interval=3s",
    ], restart=True)


def all_ports(managed: tuple[str, ...]) -> list[str]:
    """Names of every port the fleet needs (values chosen free at start)."""
    return ["etcd", "etcd-peer", HUB, *managed, "webhooks", "registration", "placement", "work",
            "addon", *[f"{c}/agent" for c in managed]]


def paths_exist(paths: list[Path]) -> list[str]:
    return [str(p) for p in paths if not p.exists()]
