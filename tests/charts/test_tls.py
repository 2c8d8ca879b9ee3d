"""TLS material of one render is consistent: one CA everywhere (hub Secret, SuperLink Secret, hub
CA bundle, the CA shipped to managed clusters), a SuperLink certificate signed by it that names
every address a client dials, and the SuperNode Runtime API certificate and SuperExec secrets
identical on both sides."""

from __future__ import annotations

import base64
import ipaddress
import re
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID

import kube as k
import render as r
from cases import CASES, NAMESPACE, OTHER_RELEASE, RELEASE, Case, render_case

pytestmark = pytest.mark.helm


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
        return True
    except ValueError:
        return False


def _host(address: str) -> str:
    return address.rsplit(":", 1)[0].strip("[]")


def _pem_certs(pem: bytes) -> list[x509.Certificate]:
    return x509.load_pem_x509_certificates(pem)


def _superlink(objs: list[r.Obj]) -> tuple[k.Pod, dict] | None:
    for pod, c, program in k.flower_containers(o for o in objs if not o.embedded):
        if program == "flower-superlink":
            return pod, c
    return None


def _ca_copies(objs: list[r.Obj]) -> dict[str, bytes]:
    """Every place a CA certificate is rendered, by where it is."""
    copies: dict[str, bytes] = {}
    for o in objs:
        data = o.obj.get("data") or {}
        if o.kind == "Secret" and not o.embedded and o.name == f"{RELEASE}-tls-ca":
            copies[f"Secret {o.name} tls.crt"] = k.b64(data, "tls.crt")
        elif o.kind == "Secret" and not o.embedded and "ca.crt" in data:
            copies[f"Secret {o.name} ca.crt"] = k.b64(data, "ca.crt")
        elif o.kind == "ConfigMap" and "ca.crt" in data:
            copies[f"ConfigMap {o.name} ca.crt ({o.origin}{', ADC ' + o.adc if o.adc else ''})"] = data["ca.crt"].encode()
    return copies


def test_one_ca_per_render(objects: list[r.Obj], case: Case) -> None:
    mode = case.get("global.tls.mode")
    copies = _ca_copies(objects)
    if mode == "disabled":
        assert not copies, f"TLS is disabled but CA material is rendered: {sorted(copies)}"
        return
    assert f"ConfigMap {RELEASE}-ca-bundle ca.crt (hub)" in copies, sorted(copies)
    if case.get("hubAddon.enabled"):
        assert any("AddOnTemplate/" in where for where in copies), "the managed clusters get no CA"
    distinct = set(copies.values())
    assert len(distinct) == 1, "different CAs in one render:\n" + "\n".join(
        f"{where}: {_pem_certs(pem)[0].fingerprint(hashes.SHA256()).hex()[:16]}" for where, pem in copies.items())
    (ca_pem,) = distinct
    (ca,) = _pem_certs(ca_pem)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca, "the CA is not a CA certificate"
    if mode == "generate" or (mode == "certManager" and not case.get("global.tls.certManager.issuerRef")):
        assert f"Secret {RELEASE}-tls-ca tls.crt" in copies
    else:
        assert ca_pem == case.get("global.tls.caBundle").encode(), "the CA bundle is not the one given in global.tls.caBundle"


def _expected_sans(objects: list[r.Obj], case: Case) -> tuple[set[str], set[str]]:
    """Names on the SuperLink certificate: its Service names, the exposure host, extraSANs and
    every address a client of the SuperLink dials in this render."""
    svc = f"{RELEASE}-superlink"
    names = {svc, f"{svc}.{NAMESPACE}", f"{svc}.{NAMESPACE}.svc", f"{svc}.{NAMESPACE}.svc.cluster.local"}
    names |= {h for h in [case.get("superlink.exposure.host") or ""] + (case.get("global.tls.extraSANs") or []) if h}
    for o in objects:
        if o.kind == "AddOnDeploymentConfig":
            for v in o.obj["spec"].get("customizedVariables") or []:
                if v["name"] == "SUPERLINK_ADDRESS":
                    names.add(_host(v["value"]))
        if o.kind == "ConfigMap" and not o.embedded and "nginx.conf" in (o.obj.get("data") or {}):
            names |= set(re.findall(r"proxy_ssl_name\s+([^;\s]+);", o.obj["data"]["nginx.conf"]))
    for _pod, c, program in k.flower_containers(o for o in objects if not o.embedded):
        if program == "flower-superexec":
            names |= {_host(a) for a in k.flag_values(c["args"], "--runtime-api-address")}
    return {n for n in names if not _is_ip(n)}, {n.strip("[]") for n in names if _is_ip(n)}


def test_superlink_server_certificate(objects: list[r.Obj], case: Case) -> None:
    mode = case.get("global.tls.mode")
    found = _superlink(objects)
    if not case.get("superlink.enabled"):
        assert found is None
        return
    assert found is not None, "no SuperLink container rendered"
    pod, container = found
    args = container.get("args") or []
    certs = [o for o in objects if o.kind == "Certificate"]
    if mode == "disabled":
        assert "--insecure" in args and not k.flag_values(args, "--ssl-certfile") and not certs
        return
    dns, ips = _expected_sans(objects, case)
    src = k.file_source(pod, container, k.flag_values(args, "--ssl-certfile")[0])
    assert src is not None and src.kind == "secret", "--ssl-certfile does not come from a Secret"
    secret_name = src.object_name
    if mode == "existingSecret":
        assert secret_name == case.get("global.tls.existingSecret")
        assert not k.find(objects, "Secret", secret_name) and not certs, "existingSecret: the chart must not render the Secret"
        return
    if mode == "certManager":
        (cert,) = certs
        spec = cert.obj["spec"]
        assert spec["secretName"] == secret_name
        missing = (dns - set(spec.get("dnsNames") or [])) | (ips - set(spec.get("ipAddresses") or []))
        assert not missing, f"Certificate {cert.name} lacks SANs {sorted(missing)}"
        issuer = case.get("global.tls.certManager.issuerRef") or {}
        if issuer:
            assert {k_: spec["issuerRef"].get(k_) for k_ in issuer} == issuer
        else:
            own = k.find(objects, "Issuer", spec["issuerRef"]["name"], NAMESPACE)
            assert own is not None and spec["issuerRef"].get("kind", "Issuer") == "Issuer"
            assert own.obj["spec"]["ca"]["secretName"] == f"{RELEASE}-tls-ca"
        return
    assert mode == "generate", mode
    secret = k.find(objects, "Secret", secret_name, NAMESPACE)
    assert secret is not None, f"Secret {secret_name} is not rendered"
    data = secret.obj["data"]
    (server,) = _pem_certs(k.b64(data, src.key))
    ca_secret = k.find(objects, "Secret", f"{RELEASE}-tls-ca", NAMESPACE)
    (ca,) = _pem_certs(k.b64(ca_secret.obj["data"], "tls.crt"))
    server.verify_directly_issued_by(ca)
    key = serialization.load_pem_private_key(k.b64(data, "tls.key"), None, unsafe_skip_rsa_key_validation=True)
    assert key.public_key().public_numbers() == server.public_key().public_numbers(), "tls.key does not match tls.crt"
    _assert_p256(server)
    _assert_p256(ca)
    san = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    have_dns = set(san.get_values_for_type(x509.DNSName))
    have_ips = {str(ip) for ip in san.get_values_for_type(x509.IPAddress)}
    assert dns <= have_dns and {str(ipaddress.ip_address(i)) for i in ips} <= have_ips, (
        f"missing SANs: {sorted(dns - have_dns)} {sorted(ips - have_ips)}")
    host = case.get("superlink.exposure.host")
    if host:
        assert host in have_dns | have_ips
    eku = server.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert ExtendedKeyUsageOID.SERVER_AUTH in eku


def _assert_p256(cert: x509.Certificate) -> None:
    """The keys the chart makes are ECDSA P-256, as its cert-manager Certificate asks for (an RSA key took
    0.1-0.3 s of every helm render)."""
    key = cert.public_key()
    assert isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1", (
        f"{cert.subject.rfc4514_string()}: {type(key).__name__}, not ECDSA P-256")


def test_supernode_runtime_certificate_and_superexec_secrets(objects: list[r.Obj], case: Case) -> None:
    """The SuperNode's Runtime API certificate is the hub copy, signed by the CA, names the
    Service the ClientApp SuperExecs dial; the SuperExec shared secrets match on both ends."""
    hub = {(o.kind, o.name): o.obj for o in objects if not o.embedded}
    managed = [o for o in objects if o.embedded and o.origin.startswith("AddOnTemplate/")]
    runtime = [o for o in managed if o.kind == "Secret" and o.name == "supernode-runtime-tls"]
    mode = case.get("global.tls.mode")
    owns_ca = mode == "generate" or (mode == "certManager" and not case.get("global.tls.certManager.issuerRef"))
    if case.get("hubAddon.enabled") and owns_ca:
        assert runtime, "the chart owns the CA but the SuperNode Runtime API has no certificate"
    for o in runtime:
        hub_copy = hub[("Secret", f"{RELEASE}-supernode-tls")]["data"]
        assert o.obj["data"] == hub_copy, "the SuperNode certificate differs from its hub copy"
        (cert,) = _pem_certs(k.b64(o.obj["data"], "tls.crt"))
        (ca,) = _pem_certs(k.b64(hub[("Secret", f"{RELEASE}-tls-ca")]["data"], "tls.crt"))
        cert.verify_directly_issued_by(ca)
        _assert_p256(cert)
        names = set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName))
        assert {"supernode", f"supernode.{o.namespace}.svc"} <= names, names
    if case.get("global.superexecAuth.enabled"):
        hub_secret = hub.get(("Secret", f"{RELEASE}-superexec-auth"))
        assert hub_secret is not None
        for o in managed:
            if o.kind == "Secret" and o.name == "flower-superexec-auth":
                assert base64.b64decode(o.obj["data"]["secret"]) == base64.b64decode(hub_secret["data"]["clientapp"])


def test_two_renders_generate_different_cas(helm: Path) -> None:
    """Sanity: generated material is really generated per render (no constant key in the chart)."""
    a = [o for o in render_case(helm, CASES[0], release=RELEASE) if o["kind"] == "Secret" and o["metadata"]["name"] == f"{RELEASE}-tls-ca"]
    b = [o for o in render_case(helm, CASES[0], release=OTHER_RELEASE) if o["kind"] == "Secret" and o["metadata"]["name"] == f"{OTHER_RELEASE}-tls-ca"]
    assert a and b and a[0]["data"]["tls.key"] != b[0]["data"]["tls.key"]
