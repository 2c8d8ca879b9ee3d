"""The rendered fleet gateway, run by a real nginx in front of a real flower-superlink.

From outside the hub only /v1/fleet/<endpoint> and /health may pass; the Control and Runtime
APIs, which share the SuperLink's port, must be refused. The nginx.conf and TLS material are
the chart's own; only listen/upstream addresses and file paths are mapped to local ones.
"""
from __future__ import annotations

import base64
import http.client
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "flower-federation"
HELM = ROOT / ".tools" / "bin" / "helm4"
VENV_BIN = Path(sys.executable).parent
RELEASE, NAMESPACE = "fed", "flower"
GATEWAY_REFUSAL = b"flower-fleet-gateway: path not allowed"

pytestmark = pytest.mark.helm


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def render(*sets: str) -> list[dict]:
    args = [str(HELM), "template", RELEASE, str(CHART), "-n", NAMESPACE]
    for value in sets:
        args += ["--set", value]
    out = subprocess.run(args, check=True, capture_output=True, text=True).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc]


def find(objects, kind, name):
    return next(o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name)


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited early with {proc.returncode}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)
    raise TimeoutError(f"nothing listens on {port}")


def start(args: list[str], log: Path, env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        args, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env, start_new_session=True
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    assert Path(nginx).exists(), "nginx is missing: run `make tools` (hack/install-tools.sh installs it)"
    tmp = tmp_path_factory.mktemp("gateway")
    objects = render(
        "superlink.exposure.type=LoadBalancer", "superlink.exposure.host=fleet.example.com"
    )
    tls = find(objects, "Secret", f"{RELEASE}-superlink-tls")["data"]
    for key in ("tls.crt", "tls.key"):
        (tmp / key).write_bytes(base64.b64decode(tls[key]))
    (tmp / "ca.crt").write_text(find(objects, "ConfigMap", f"{RELEASE}-ca-bundle")["data"]["ca.crt"])

    superlink_port, gateway_port = free_port(), free_port()
    env = dict(os.environ, FLWR_HOME=str(tmp / "flwr"), FLWR_TELEMETRY_ENABLED="0",
               FLWR_DISABLE_UPDATE_CHECK="1")
    superlink = start(
        [str(VENV_BIN / "flower-superlink"), "--host", "127.0.0.1", "--port", str(superlink_port),
         "--isolation", "process", "--ssl-certfile", str(tmp / "tls.crt"),
         "--ssl-keyfile", str(tmp / "tls.key"), "--ssl-ca-certfile", str(tmp / "ca.crt")],
        tmp / "superlink.log", env,
    )
    conf = find(objects, "ConfigMap", f"{RELEASE}-fleet-gateway")["data"]["nginx.conf"]
    upstream = f"{RELEASE}-superlink.{NAMESPACE}.svc.cluster.local:9092"
    assert upstream in conf and "listen 8443 ssl;" in conf
    conf = (
        conf.replace("/tmp/", f"{tmp}/")
        .replace(upstream, f"127.0.0.1:{superlink_port}")
        .replace("listen 8443 ssl;", f"listen 127.0.0.1:{gateway_port} ssl;")
        .replace("/var/run/flower/tls/", f"{tmp}/")
        .replace("/var/run/flower/ca/", f"{tmp}/")
    )
    (tmp / "nginx.conf").write_text(conf)
    proxy = start([nginx, "-e", str(tmp / "error.log"), "-g", "daemon off;", "-c", str(tmp / "nginx.conf")],
                  tmp / "nginx.log")
    try:
        wait_for_port(superlink_port, superlink)
        wait_for_port(gateway_port, proxy)
        context = ssl.create_default_context(cafile=str(tmp / "ca.crt"))
        yield gateway_port, context
    finally:
        stop(proxy)
        stop(superlink)


def request(gateway, method: str, path: str) -> tuple[int, bytes]:
    port, context = gateway
    # SuperNodes dial the exposure host; SNI and certificate check use that name.
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=context, timeout=10)
    conn.sock = context.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                                    server_hostname="fleet.example.com")
    conn.request(method, path, body=b"" if method == "POST" else None)
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


def test_health_passes_through_to_the_superlink(gateway):
    status, body = request(gateway, "GET", "/health")
    assert status == 200
    assert GATEWAY_REFUSAL not in body


def test_fleet_api_reaches_the_superlink(gateway):
    status, body = request(gateway, "POST", "/v1/fleet/get-run")
    # The SuperLink itself answers (an empty body is a bad request), not the gateway.
    assert GATEWAY_REFUSAL not in body
    assert status != 403


@pytest.mark.parametrize("path", [
    "/v1/control/list-runs",
    "/v1/control/start-run",
    "/v1/runtime/acquire-task",
    "/v1/fleet/../control/list-runs",
    "/v1/fleet/%2e%2e/control/list-runs",
    "/v1/fleet//../runtime/pull-task-input",
    "/v1/fleet/get-run/../../control/list-runs",
    "/docs",
    "/",
])
def test_control_and_runtime_apis_are_refused(gateway, path):
    status, body = request(gateway, "POST", path)
    assert status == 403
    assert GATEWAY_REFUSAL in body


def test_the_same_paths_reach_the_superlink_without_the_gateway(gateway):
    """Guard: the refusals above come from the gateway, not from a SuperLink that lacks the API."""
    objects = render("superlink.exposure.type=LoadBalancer",
                     "superlink.exposure.allApis=true",
                     "superlink.exposure.acknowledgeUnauthenticatedControlApi=true")
    kinds = {(o["kind"], o["metadata"]["name"]) for o in objects}
    assert ("Deployment", f"{RELEASE}-fleet-gateway") not in kinds
    service = find(objects, "Service", f"{RELEASE}-superlink-fleet")
    assert service["spec"]["selector"]["app.kubernetes.io/component"] == "superlink"
