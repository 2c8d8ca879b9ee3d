"""Fast tests of the local_federation helpers (no Flower processes)."""

from __future__ import annotations

import os
import socket
import ssl
import sys
import time
import tomllib
from pathlib import Path

from local_federation import (
    ManagedProcess,
    format_config,
    free_port,
    make_tls_material,
    parse_central_metrics,
    write_cli_config,
)

# Shaped like real `flwr run --stream` output (ANSI colours included).
STREAM_WITH_MARKERS = (
    "\x1b[92mINFO \x1b[0m:      Starting FedAvg strategy:\n"
    'DIGITS_EVAL {"round": 0, "accuracy": 0.111, "loss": 2.29}\n'
    "\x1b[92mINFO \x1b[0m:      [ROUND 1/1]\n"
    'DIGITS_EVAL {"round": 1, "accuracy": 0.9, "loss": 1.19}\n'
    "DIGITS_EVAL {not json}\n"
)

STREAM_FLOWER_ONLY = """\
INFO :      Initial global evaluation results: {'accuracy': 0.1, 'loss': 2.3}
INFO :      [ROUND 1/2]
INFO :      	└──> Aggregated MetricRecord: {'train_loss': 1.6}
INFO :      	└──> Aggregated MetricRecord: {'eval_loss': 1.2, 'eval_acc': 0.8}
INFO :      Global evaluation
INFO :      	└──> MetricRecord: {'accuracy': 0.89, 'loss': 1.1, 'num-examples': 359}
INFO :      [ROUND 2/2]
INFO :      Global evaluation
INFO :      	└──> MetricRecord: {'accuracy': 0.92, 'loss': 0.7}
"""


def test_parse_central_metrics_from_markers() -> None:
    assert parse_central_metrics(STREAM_WITH_MARKERS) == {
        0: {"accuracy": 0.111, "loss": 2.29},
        1: {"accuracy": 0.9, "loss": 1.19},
    }


def test_parse_central_metrics_falls_back_to_flower_logs() -> None:
    got = parse_central_metrics(STREAM_FLOWER_ONLY)
    assert sorted(got) == [0, 1, 2]
    assert got[0]["accuracy"] == 0.1
    assert got[1] == {"accuracy": 0.89, "loss": 1.1, "num-examples": 359.0}
    assert got[2]["accuracy"] == 0.92


def test_format_config_is_toml() -> None:
    cfg = {"partition-id": 1, "lr": 0.5, "name": "x", "flag": True}
    text = format_config(cfg)
    assert text == 'partition-id=1 lr=0.5 name="x" flag=true'
    assert tomllib.loads(text.replace(" ", "\n")) == cfg
    assert tomllib.loads(format_config({"s": 'a "b"'})) == {"s": 'a "b"'}


def test_free_port_is_bindable() -> None:
    port = free_port()
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))


def test_write_cli_config(tmp_path: Path) -> None:
    path = write_cli_config(tmp_path / "h", "127.0.0.1:1234")
    cfg = tomllib.loads(path.read_text())
    assert cfg["superlink"]["default"] == "local"
    assert cfg["superlink"]["local"] == {"address": "127.0.0.1:1234", "insecure": True}
    ca = tmp_path / "ca.crt"
    path = write_cli_config(tmp_path / "h2", "127.0.0.1:1", name="x", ca_cert=ca)
    conn = tomllib.loads(path.read_text())["superlink"]["x"]
    assert conn["root-certificates"] == str(ca.resolve())
    assert Path(conn["root-certificates"]).is_absolute()


def test_tls_material_verifies_for_loopback(tmp_path: Path) -> None:
    tls = make_tls_material(tmp_path)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tls.server_cert, tls.server_key)
    client = ssl.create_default_context(cafile=str(tls.ca_cert))
    with socket.socket() as lsock:
        lsock.bind(("127.0.0.1", 0))
        lsock.listen(1)
        port = lsock.getsockname()[1]
        import threading

        def serve() -> None:
            conn, _ = lsock.accept()
            with server.wrap_socket(conn, server_side=True) as tls_conn:
                tls_conn.recv(1)

        thread = threading.Thread(target=serve, daemon=True)
        thread.start()
        with socket.create_connection(("127.0.0.1", port)) as raw:
            with client.wrap_socket(raw, server_hostname="127.0.0.1") as conn:
                conn.sendall(b"x")  # handshake (and hostname/IP check) succeeded
        thread.join(5)
    assert oct(tls.server_key.stat().st_mode & 0o777) == "0o600"


def test_managed_process_stop_kills_the_whole_group(tmp_path: Path) -> None:
    pidfile = tmp_path / "child.pid"
    script = (
        "import subprocess, sys, time;"
        "c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(300)']);"
        f"open({str(pidfile)!r}, 'w').write(str(c.pid));"
        "time.sleep(300)"
    )
    proc = ManagedProcess(
        "sleeper", [sys.executable, "-c", script], dict(os.environ), tmp_path / "l.log"
    ).start()
    deadline = time.monotonic() + 10
    while not pidfile.exists() or not pidfile.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child = int(pidfile.read_text())
    assert proc.alive()
    proc.stop(grace=2.0)
    assert not proc.alive()
    deadline = time.monotonic() + 5
    while True:  # the grandchild (same process group) is gone too
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        # It may linger briefly as a zombie reparented to init.
        if Path(f"/proc/{child}/stat").exists():
            if Path(f"/proc/{child}/stat").read_text().split()[2] == "Z":
                break
        assert time.monotonic() < deadline, "child survived"
        time.sleep(0.05)
