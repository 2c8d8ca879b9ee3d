"""A real OCI registry for the release tests: Debian's docker-registry (CNCF distribution 2.8)
on a loopback address (named by a host name, see loopback_hostname) with an ephemeral port, htpasswd (bcrypt) basic auth and TLS from a self-signed CA;
and a GnuPG signing key in a throwaway GNUPGHOME, exported as a legacy keyring."""
from __future__ import annotations

import datetime
import functools
import http.server
import ipaddress
import os
import re
import shutil
import socket
import subprocess
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

INSTALL_HINT = ("docker-registry is not installed: `make tools` installs the Debian packages docker-registry and "
                "gnupg when it runs as root (otherwise it prints SKIPPED); as root: apt-get update && "
                "apt-get install -y --no-install-recommends docker-registry gnupg")


@dataclass
class Registry:
    host: str  # <loopback host name>:PORT
    ca_file: Path
    username: str
    password: str
    process: subprocess.Popen
    log: Path

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _bcrypt(password: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import crypt  # libxcrypt does bcrypt ($2b$); the registry accepts nothing else

        # rounds=16 is bcrypt cost 4: the registry checks the hash on every request.
        hashed = crypt.crypt(password, crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16))
    if not hashed or not hashed.startswith("$2"):
        raise RuntimeError("this Python's crypt module cannot make bcrypt hashes")
    return hashed


def loopback_hostname() -> tuple[str, str]:
    """(name, address): a host name other than `localhost` that resolves to a loopback address.

    Helm 3.17 talks plain HTTP to any registry whose host is `localhost` or a loopback IP literal
    (containerd's MatchLocalhost), whatever --ca-file says; only a registry named otherwise is
    reached over TLS. This machine's own host name resolves to a loopback address in /etc/hosts
    (Debian maps it to 127.0.1.1; here to 127.0.0.1), so the registry is named by it."""
    candidates = [socket.gethostname()]
    try:
        for line in Path("/etc/hosts").read_text().splitlines():
            fields = line.split("#", 1)[0].split()
            if len(fields) >= 2:
                candidates += fields[1:]
    except OSError:
        pass
    for name in candidates:
        if name in ("localhost", "localhost.localdomain") or not name or name.startswith("ip6-"):
            continue
        try:
            address = socket.gethostbyname(name)
        except OSError:
            continue
        if ipaddress.ip_address(address).is_loopback:
            return name, address
    raise RuntimeError("no host name other than localhost resolves to a loopback address (see /etc/hosts): "
                       "Helm 3 cannot reach a TLS registry on this machine")


def _tls_files(directory: Path, hostname: str, address: str) -> tuple[Path, Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "flower-ocm release test CA")])
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                       content_commitment=False, key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False, decipher_only=False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
            .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname), x509.DNSName("localhost"),
                                                        x509.IPAddress(ipaddress.ip_address(address))]),
                           critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_file, cert_file, key_file = directory / "ca.pem", directory / "server.pem", directory / "server-key.pem"
    ca_file.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return ca_file, cert_file, key_file


def start_registry(directory: Path, username: str = "releaser", password: str = "s3cret-Pa55") -> Registry:
    binary = shutil.which("docker-registry")
    if binary is None:
        raise FileNotFoundError(INSTALL_HINT)
    directory.mkdir(parents=True, exist_ok=True)
    hostname, address = loopback_hostname()
    ca_file, cert_file, key_file = _tls_files(directory, hostname, address)
    htpasswd = directory / "htpasswd"
    htpasswd.write_text(f"{username}:{_bcrypt(password)}\n")
    config = directory / "config.yml"
    config.write_text(
        "version: 0.1\n"
        "log: {level: info}\n"
        f"storage: {{filesystem: {{rootdirectory: {directory / 'data'}}}}}\n"
        f"http: {{addr: '{address}:0', tls: {{certificate: {cert_file}, key: {key_file}}}}}\n"
        f"auth: {{htpasswd: {{realm: flower-release-test, path: {htpasswd}}}}}\n")
    log = directory / "registry.log"
    with open(log, "wb") as out:
        process = subprocess.Popen([binary, "serve", str(config)], stdout=out, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        match = re.search(r"listening on " + re.escape(address) + r":(\d+)", log.read_text(errors="replace"))
        if match:
            return Registry(f"{hostname}:{match.group(1)}", ca_file, username, password, process, log)
        if process.poll() is not None:
            break
        time.sleep(0.02)
    process.kill()
    raise RuntimeError(f"docker-registry did not start:\n{log.read_text(errors='replace')}")


@dataclass
class SigningKey:
    name: str
    fingerprint: str
    secring: Path  # legacy secret keyring (exported secret key)
    pubring: Path  # public keyring for helm verify
    passphrase_file: Path


def make_signing_key(directory: Path, name: str = "Flower Release Test") -> SigningKey:
    home = directory / "gnupg"
    home.mkdir(parents=True, mode=0o700)
    passphrase_file = directory / "passphrase"
    passphrase_file.write_text("correct horse battery staple")
    env = {**os.environ, "GNUPGHOME": str(home)}
    base = ["gpg", "--batch", "--no-tty", "--pinentry-mode", "loopback", "--passphrase-file", str(passphrase_file)]
    params = directory / "key-params"
    params.write_text("Key-Type: RSA\nKey-Length: 2048\nKey-Usage: sign\n"
                      f"Name-Real: {name}\nName-Email: release-test@example.invalid\nExpire-Date: 1d\n%commit\n")
    try:
        subprocess.run(base + ["--gen-key", str(params)], env=env, check=True, capture_output=True, text=True)
        listing = subprocess.run(["gpg", "--batch", "--with-colons", "--list-secret-keys"], env=env, check=True,
                                 capture_output=True, text=True).stdout
        fingerprint = re.search(r"^fpr:+([0-9A-F]{40}):", listing, re.M).group(1)
        secring, pubring = directory / "secring.gpg", directory / "pubring.gpg"
        subprocess.run(base + ["--output", str(secring), "--export-secret-keys", fingerprint], env=env, check=True,
                       capture_output=True)
        subprocess.run(base + ["--output", str(pubring), "--export", fingerprint], env=env, check=True,
                       capture_output=True)
    finally:
        subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True)
    return SigningKey(name, fingerprint, secring, pubring, passphrase_file)


class _GzipHandler(http.server.SimpleHTTPRequestHandler):
    # Helm 3 installs a plugin from a URL only when the server calls it a gzip archive.
    def guess_type(self, path):
        return "application/gzip" if str(path).endswith((".tgz", ".tar.gz")) else "text/plain"

    def log_message(self, *args):
        pass


def serve_directory(directory: Path) -> tuple[str, callable]:
    """An HTTP server on 127.0.0.1 (ephemeral port) for release assets; returns (base URL, stop)."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                             functools.partial(_GzipHandler, directory=str(directory)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop():
        server.shutdown()
        server.server_close()

    return f"http://127.0.0.1:{server.server_address[1]}", stop
