"""SuperNode key launcher (ships to every managed cluster in the AddOnTemplate, ConfigMap
flower-node-auth; runs as the SuperNode container's command with the SuperNode image's Python).

OCM's registration agent keeps the SuperNode's identity in the Secret
<addon>-flower.ai-supernode-auth-client-cert (tls.key: an EC P-256 key in PEM, made on this
cluster; tls.crt: the hub-signed certificate), mounted at /managed/flower.ai-supernode-auth.
Flower wants the key in OpenSSH format (--auth-supernode-private-key). This script:

  convert  writes the OpenSSH private key (mode 0600) and its .pub next to it, prints the
           key's SHA256 fingerprint;
  run      converts, starts the command after `--` (flower-supernode ...), and watches the
           mounted key: when OCM rotates the certificate (always with a NEW key), it stops the
           SuperNode, converts the new key and starts the SuperNode again, in the same
           container (no pod restart, no CrashLoopBackOff). It forwards SIGTERM/SIGINT and
           exits with the SuperNode's exit code when the SuperNode exits by itself.

Standard library plus `cryptography` (a dependency of flwr, present in the Flower images).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

# Curves Flower accepts for SuperNode keys (flwr.supercore.primitives.asymmetric.uses_nist_ec_curve).
NIST_CURVES = (ec.SECP192R1, ec.SECP224R1, ec.SECP256R1, ec.SECP384R1, ec.SECP521R1)
STOP_GRACE_SECONDS = 30.0


class KeyError_(ValueError):
    """The mounted client key is missing, unreadable or not a usable EC key."""


def log(message: str) -> None:
    print(f"supernode-key: {message}", file=sys.stderr, flush=True)


def load_client_key(pem: bytes) -> ec.EllipticCurvePrivateKey:
    """The PEM key OCM wrote (SEC1 'EC PRIVATE KEY', or PKCS#8) as an EC private key."""
    try:
        key = serialization.load_pem_private_key(pem, password=None)
    except (ValueError, TypeError) as err:
        raise KeyError_(f"not a PEM private key: {err}") from None
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise KeyError_(f"not an EC key ({type(key).__name__}); Flower needs a NIST EC key")
    if not isinstance(key.curve, NIST_CURVES):
        raise KeyError_(f"EC curve {key.curve.name} is not a NIST curve")
    return key


def fingerprint(public_key: ec.EllipticCurvePublicKey) -> str:
    """OpenSSH-style fingerprint (what `ssh-keygen -lf key.pub` prints)."""
    line = public_key.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    blob = base64.b64decode(line.split()[1])
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


def _atomic_write(path: Path, data: bytes, mode: int) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def convert(client_key: Path, ssh_key: Path) -> str:
    """Write ssh_key (OpenSSH private key, 0600) and ssh_key.pub; return the fingerprint."""
    try:
        pem = client_key.read_bytes()
    except OSError as err:
        raise KeyError_(f"cannot read {client_key}: {err}") from None
    key = load_client_key(pem)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    ssh_key.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(ssh_key, private, 0o600)
    _atomic_write(ssh_key.with_name(ssh_key.name + ".pub"), public + b"\n", 0o644)
    return fingerprint(key.public_key())


def current_fingerprint(client_key: Path) -> str | None:
    """Fingerprint of the mounted key, or None while it cannot be read (e.g. mid-update)."""
    try:
        return fingerprint(load_client_key(client_key.read_bytes()).public_key())
    except (OSError, KeyError_):
        return None


class Launcher:
    """Runs the SuperNode with the current key; restarts it when the mounted key changes."""

    def __init__(self, client_key: Path, ssh_key: Path, command: list[str], poll_seconds: float):
        self.client_key = client_key
        self.ssh_key = ssh_key
        self.command = command
        self.poll_seconds = poll_seconds
        self.child: subprocess.Popen | None = None
        self.stopping = False
        self.fingerprint: str | None = None

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stopping = True
        if self.child is not None and self.child.poll() is None:
            self.child.send_signal(signum)

    def _start(self) -> None:
        self.fingerprint = convert(self.client_key, self.ssh_key)
        log(f"SuperNode key {self.fingerprint} (from {self.client_key}) -> {self.ssh_key}")
        self.child = subprocess.Popen(self.command)  # pylint: disable=consider-using-with

    def _stop_child(self) -> None:
        assert self.child is not None
        if self.child.poll() is None:
            self.child.terminate()
            try:
                self.child.wait(STOP_GRACE_SECONDS)
            except subprocess.TimeoutExpired:
                self.child.kill()
                self.child.wait()

    def run(self) -> int:
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        self._start()
        assert self.child is not None
        while True:
            try:
                code = self.child.wait(self.poll_seconds)
            except subprocess.TimeoutExpired:
                code = None
            if code is not None:
                if not self.stopping:
                    log(f"the SuperNode exited with {code}")
                return code
            if self.stopping:
                continue
            new = current_fingerprint(self.client_key)
            if new is not None and new != self.fingerprint:
                log(f"the client key changed ({self.fingerprint} -> {new}): restarting the SuperNode with the new key")
                self._stop_child()
                if self.stopping:
                    return self.child.returncode
                self._start()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    for name in ("convert", "run"):
        p = sub.add_parser(name)
        p.add_argument("--client-key", type=Path, required=True, help="PEM EC key written by OCM (tls.key)")
        p.add_argument("--ssh-key", type=Path, required=True, help="where to write the OpenSSH private key")
        if name == "run":
            p.add_argument("--poll-seconds", type=float, default=10.0, help="how often to check the mounted key")
            p.add_argument("command", nargs=argparse.REMAINDER, help="-- flower-supernode ARGS...")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "convert":
            print(convert(args.client_key, args.ssh_key))
            return 0
        command = args.command[1:] if args.command[:1] == ["--"] else args.command
        if not command:
            parser.error("run: give the SuperNode command after --")
        return Launcher(args.client_key, args.ssh_key, command, args.poll_seconds).run()
    except KeyError_ as err:
        log(f"unusable client key {args.client_key}: {err}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
