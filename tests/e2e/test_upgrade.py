"""`helm upgrade` on the real hub (issue 12, item 3.4): generated key material survives through the
real `lookup`, on the hub and on the managed clusters, and a changed node-config reaches the cluster."""

from __future__ import annotations

import json

import pytest

from hubview import wait_until
from releases import placed_on

NAMESPACE = "flower-upgrade"


def hub_secrets(fleet, release, names: set[str]) -> dict[str, dict[str, str]]:
    return {name: dict(fleet.core().read_namespaced_secret(name, release.namespace).data or {}) for name in names}


def managed_secrets(fleet, cluster: str, namespace: str) -> dict[str, dict[str, str]]:
    items = fleet.core(cluster).list_namespaced_secret(namespace).items
    return {s.metadata.name: dict(s.data or {}) for s in items if s.type != "kubernetes.io/service-account-token"}


def supernode_node_config(hub, cluster: str, namespace: str) -> str:
    deployment = hub.deployment(cluster, namespace, "supernode")
    args = deployment.spec.template.spec.containers[0].args or []
    return args[args.index("--node-config") + 1] if "--node-config" in args else ""


@pytest.mark.parametrize("helm", ["4", "3"])
def test_upgrade_keeps_generated_secrets_and_delivers_a_new_node_config(helm, fleet, hub, releases, selector):
    release = releases(f"upgrade{helm}", f"{NAMESPACE}-h{helm}", helm=helm)
    release.install(placed_on(selector))
    hub.label_cluster("cluster1", selector, "true")
    ns = release.agent_namespace
    wait_until("the SuperNode on cluster1", lambda: hub.available("cluster1", ns, "supernode"), 180)
    wait_until("the ClientApp on cluster1", lambda: hub.available("cluster1", ns, "clientapp-default"), 180)
    rendered = {s["metadata"]["name"] for s in release.of_kind("Secret")}
    assert len(rendered) >= 4, rendered  # CA, SuperLink TLS, SuperNode TLS, SuperExec shared secrets
    hub_before = hub_secrets(fleet, release, rendered)
    managed_before = managed_secrets(fleet, "cluster1", ns)
    assert len(managed_before) >= 2, managed_before  # the SuperNode's TLS and the SuperExec secret
    old_config = supernode_node_config(hub, "cluster1", ns)

    values = placed_on(selector, hubAddon={"supernode": {"nodeConfig": {"learning-rate": 0.05}}})
    values["hubAddon"]["placements"] = placed_on(selector)["hubAddon"]["placements"]
    release.upgrade(values)

    (new_config,) = wait_until("the new node-config on cluster1's SuperNode Deployment",
                               lambda: [c] if (c := supernode_node_config(hub, "cluster1", ns)) != old_config else None)
    assert "learning-rate=0.05" in new_config, new_config
    assert hub_secrets(fleet, release, rendered) == hub_before, "a hub Secret changed on helm upgrade"
    wait_until("the upgraded SuperNode on cluster1", lambda: hub.available("cluster1", ns, "supernode"), 180)
    assert managed_secrets(fleet, "cluster1", ns) == managed_before, "a managed-cluster Secret changed on helm upgrade"
    history = json.loads(release.helm.run("history", release.name, "-n", release.namespace, "-o", "json").stdout)
    assert [h["status"] for h in history] == ["superseded", "deployed"]


def test_a_new_superlink_host_gets_a_new_certificate_from_the_same_ca(fleet, releases, selector):
    """The SuperLink certificate is reused only while it was issued for the current names by the
    current CA: an upgrade that adds an exposure host must reissue it (else SuperNodes that dial the
    new host fail TLS verification), and the CA stays."""
    import base64

    from cryptography import x509

    release = releases("rehost", NAMESPACE)
    release.install(placed_on(selector))
    (tls_name,) = [s["metadata"]["name"] for s in release.of_kind("Secret") if s["type"] == "kubernetes.io/tls"
                   and "superlink" in s["metadata"]["name"]]

    def cert() -> tuple[x509.Certificate, bytes]:
        data = fleet.core().read_namespaced_secret(tls_name, release.namespace).data
        return x509.load_pem_x509_certificate(base64.b64decode(data["tls.crt"])), base64.b64decode(data["ca.crt"])

    before, ca_before = cert()
    values = placed_on(selector, superlink={"exposure": {"type": "LoadBalancer", "host": "flower.hub.example.org"}})
    release.upgrade(values)
    after, ca_after = cert()
    names = after.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    assert "flower.hub.example.org" in names
    assert after.serial_number != before.serial_number and ca_after == ca_before
    release.upgrade(values)
    assert cert()[0].serial_number == after.serial_number, "an upgrade with the same names reissued the certificate"
