"""The SuperNode key launcher (charts/flower-federation/files/node-auth/supernode_key.py) that
runs in the SuperNode container on every managed cluster."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

import nodeauth_support as ns

PY = sys.executable

# Stands in for flower-supernode: reports the key it was started with, then waits.
FAKE_SUPERNODE = r"""
import signal, sys, time
from cryptography.hazmat.primitives.serialization import load_ssh_private_key
args = sys.argv[1:]
key = load_ssh_private_key(open(args[args.index("--auth-supernode-private-key") + 1], "rb").read(), None)
sys.path.insert(0, {launcher_dir!r})
import supernode_key
with open({report!r}, "a") as fh:
    fh.write(supernode_key.fingerprint(key.public_key()) + "\n")
if "--exit" in args:
    sys.exit(int(args[args.index("--exit") + 1]))
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
while True:
    time.sleep(0.1)
"""


def test_convert_writes_a_key_flower_accepts(tmp_path: Path, launcher_mod) -> None:
    """OCM's SEC1 PEM key -> OpenSSH private key that flower-supernode's own loader accepts."""
    import importlib

    flower_supernode = importlib.import_module("flwr.supernode.cli.flower_supernode")  # the package re-exports a function of that name
    agent = ns.Agent("cluster-a", "flower-flower")
    agent.cert_pem = b"unused"
    agent.write_secret(tmp_path / "mount")
    out = tmp_path / "node-key" / "id_ecdsa"
    fp = launcher_mod.convert(tmp_path / "mount" / "tls.key", out)

    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    assert out.read_bytes().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    pub = out.with_name("id_ecdsa.pub").read_text()
    assert pub.startswith("ecdsa-sha2-nistp256 ")
    # The same key, seen by Flower's SuperNode (the function behind --auth-supernode-private-key).
    args = flower_supernode._parse_args_run_supernode().parse_args(["--insecure", "--auth-supernode-private-key", str(out)])
    private, public = flower_supernode._try_setup_client_authentication(args)
    assert public.public_numbers() == ns.public_key_of(agent.key_pem).public_numbers()
    assert fp == launcher_mod.fingerprint(public)
    # ... and the fingerprint is what `ssh-keygen -lf` prints, so operators can compare.
    if shutil.which("ssh-keygen"):
        printed = subprocess.run(["ssh-keygen", "-lf", str(out.with_name("id_ecdsa.pub"))], capture_output=True, text=True, check=True).stdout
        assert fp in printed


@pytest.mark.parametrize("curve", [ec.SECP256R1(), ec.SECP384R1()], ids=["P-256", "P-384"])
@pytest.mark.parametrize("fmt", ["sec1", "pkcs8"])
def test_convert_accepts_nist_ec_keys(tmp_path: Path, launcher_mod, curve, fmt: str) -> None:
    key = ec.generate_private_key(curve)
    pf = serialization.PrivateFormat.TraditionalOpenSSL if fmt == "sec1" else serialization.PrivateFormat.PKCS8
    (tmp_path / "tls.key").write_bytes(key.private_bytes(serialization.Encoding.PEM, pf, serialization.NoEncryption()))
    fp = launcher_mod.convert(tmp_path / "tls.key", tmp_path / "id")
    assert fp == launcher_mod.fingerprint(key.public_key())
    loaded = serialization.load_ssh_private_key((tmp_path / "id").read_bytes(), None)
    assert loaded.private_numbers() == key.private_numbers()


@pytest.mark.parametrize("kind", ["rsa", "ed25519", "garbage", "missing"])
def test_unusable_keys_fail_clearly(tmp_path: Path, kind: str) -> None:
    key_file = tmp_path / "tls.key"
    if kind == "rsa":
        key_file.write_bytes(rsa.generate_private_key(65537, 2048).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    elif kind == "ed25519":
        key_file.write_bytes(ed25519.Ed25519PrivateKey.generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    elif kind == "garbage":
        key_file.write_text("not a key")
    proc = subprocess.run([PY, str(ns.LAUNCHER_SCRIPT), "run", "--client-key", str(key_file), "--ssh-key", str(tmp_path / "id"),
                           "--", PY, "-c", "raise SystemExit('must not start')"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2, proc.stderr
    assert "unusable client key" in proc.stderr
    assert "must not start" not in proc.stderr
    assert not (tmp_path / "id").exists()


def _wait_for(predicate, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("timed out")
        time.sleep(0.05)


# The launcher as shipped, with its key check recorded: each poll appends what
# current_fingerprint() returned (the fingerprint, or None for an unreadable key) to a file.
POLL_RECORDER = r"""
import sys
sys.path.insert(0, {launcher_dir!r})
import supernode_key
_check = supernode_key.current_fingerprint
def _recorded(path):
    result = _check(path)
    with open({polls!r}, "a") as fh:
        fh.write(f"{{result}}\n")
    return result
supernode_key.current_fingerprint = _recorded
sys.exit(supernode_key.main(sys.argv[1:]))
"""


def _launch(tmp_path: Path, *extra: str, polls: Path | None = None) -> tuple[subprocess.Popen, Path]:
    report = tmp_path / "report"
    script = tmp_path / "fake_supernode.py"
    script.write_text(FAKE_SUPERNODE.format(launcher_dir=str(ns.LAUNCHER_SCRIPT.parent), report=str(report)))
    launcher = ns.LAUNCHER_SCRIPT
    if polls is not None:
        launcher = tmp_path / "recording_launcher.py"
        launcher.write_text(POLL_RECORDER.format(launcher_dir=str(ns.LAUNCHER_SCRIPT.parent), polls=str(polls)))
    proc = subprocess.Popen(  # noqa: S603
        [PY, str(launcher), "run", "--client-key", str(tmp_path / "mount" / "tls.key"),
         "--ssh-key", str(tmp_path / "node-key" / "id_ecdsa"), "--poll-seconds", "0.2",
         "--", PY, str(script), "--auth-supernode-private-key", str(tmp_path / "node-key" / "id_ecdsa"), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    return proc, report


def _lines(report: Path) -> list[str]:
    return report.read_text().split() if report.exists() else []


def test_rotation_restarts_the_supernode_with_the_new_key(tmp_path: Path, launcher_mod) -> None:
    agent = ns.Agent("cluster-a", "flower-flower")
    agent.cert_pem = b"cert"
    agent.write_secret(tmp_path / "mount")
    proc, report = _launch(tmp_path)
    try:
        fp1 = launcher_mod.fingerprint(ns.public_key_of(agent.key_pem))
        _wait_for(lambda: _lines(report) == [fp1])
        # OCM rotates: a new key; kubelet swaps the projected Secret atomically.
        agent.key_pem = ns.ocm_agent_key()
        agent.write_secret(tmp_path / "mount")
        fp2 = launcher_mod.fingerprint(ns.public_key_of(agent.key_pem))
        _wait_for(lambda: _lines(report) == [fp1, fp2])
        assert proc.poll() is None, "the launcher must keep the container running across a rotation"
        # Pod termination: SIGTERM reaches the SuperNode, the launcher exits with its code.
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    out = proc.stdout.read()
    assert f"client key changed ({fp1} -> {fp2})" in out


def test_the_supernodes_exit_code_is_the_containers(tmp_path: Path) -> None:
    """E.g. Flower's exit code 305 (key not registered yet) is process exit status 1: kubelet
    then restarts the container and the launcher converts the key again."""
    agent = ns.Agent("cluster-a", "flower-flower")
    agent.cert_pem = b"cert"
    agent.write_secret(tmp_path / "mount")
    proc, report = _launch(tmp_path, "--exit", "3")
    try:
        assert proc.wait(30) == 3
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert "the SuperNode exited with 3" in proc.stdout.read()
    assert len(_lines(report)) == 1


def test_a_key_mid_update_is_not_a_rotation(tmp_path: Path, launcher_mod) -> None:
    """An unreadable key (e.g. between two writes) does not restart the SuperNode."""
    mount = tmp_path / "mount"
    mount.mkdir()
    key = ns.ocm_agent_key()
    fp = launcher_mod.fingerprint(ns.public_key_of(key))
    (mount / "tls.key").write_bytes(key)
    polls = tmp_path / "polls"
    proc, report = _launch(tmp_path, polls=polls)

    def checked_since(start: int, result: str, times: int = 2):
        # Two checks with that result: the launcher has acted on the first (one loop, in order).
        def done() -> bool:
            assert proc.poll() is None, f"the launcher exited with {proc.returncode}: {proc.stdout.read()}"
            return _lines(polls)[start:].count(result) >= times
        return done

    try:
        _wait_for(lambda: len(_lines(report)) == 1)
        start = len(_lines(polls))
        (mount / "tls.key").write_text("")
        _wait_for(checked_since(start, "None"))
        start = len(_lines(polls))
        (mount / "tls.key").write_bytes(key)
        _wait_for(checked_since(start, fp))
        assert len(_lines(report)) == 1
        assert proc.poll() is None
        os.kill(proc.pid, signal.SIGTERM)
        assert proc.wait(15) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert "client key changed" not in proc.stdout.read()


def test_launcher_uses_only_stdlib_and_cryptography() -> None:
    """It runs with the SuperNode image's Python: flwr's dependencies, nothing else."""
    import ast

    tree = ast.parse(ns.LAUNCHER_SCRIPT.read_text())
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    modules |= {n.module.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert modules - set(sys.stdlib_module_names) == {"cryptography"}
    tree = ast.parse(ns.REGISTRAR_SCRIPT.read_text())
    top = {a.name.split(".")[0] for n in tree.body if isinstance(n, ast.Import) for a in n.names}
    top |= {n.module.split(".")[0] for n in tree.body if isinstance(n, ast.ImportFrom) and n.module}
    assert top - set(sys.stdlib_module_names) == {"cryptography"}, "the registrar imports flwr lazily, only for the Control API"
