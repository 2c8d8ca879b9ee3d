"""Fixtures for the commands that read a hub: a Kubernetes-API-compatible test server
(fakehub.py) serving a fleet (fleetgen.py) over real HTTP on 127.0.0.1, and helpers that run a
command module's ``run(args)`` with arguments parsed by its own ``add_parser``."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # for `import fakehub, fleetgen` from the tests and the bench
    sys.path.insert(0, str(HERE))

import fakehub  # noqa: E402
import fleetgen  # noqa: E402
from hubtest import parse  # noqa: E402

# Variables that would leak the developer's (or helm's) environment into the tests.
_ENV = ("KUBECONFIG", "HELM_NAMESPACE", "HELM_KUBECONTEXT", "HELM_KUBEAPISERVER", "HELM_KUBETOKEN",
        "HELM_KUBECAFILE", "HELM_KUBEINSECURE_SKIP_TLS_VERIFY", "HELM_KUBETLS_SERVER_NAME", "HELM_KUBEASUSER",
        "HELM_KUBEASGROUPS", "FLWR_HOME", "HELM_DEBUG", "KUBERNETES_SERVICE_HOST")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.kube/config, no ~/.flwr of the developer
    (tmp_path / "home").mkdir(exist_ok=True)


@pytest.fixture
def make_hub(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator:
    """make_hub(spec=None, **FakeHub options) -> a started FakeHub with KUBECONFIG pointing at it."""
    hubs: list[fakehub.FakeHub] = []

    def make(spec: fleetgen.FleetSpec | None = None, **kw) -> fakehub.FakeHub:
        hub = fakehub.FakeHub(**kw)
        if spec is not None:
            fleetgen.load(hub, spec)
        hub.start()
        hubs.append(hub)
        monkeypatch.setenv("KUBECONFIG", hub.kubeconfig(tmp_path / f"kubeconfig-{len(hubs)}"))
        return hub

    yield make
    for hub in hubs:
        hub.stop()


@pytest.fixture(scope="session")
def big_fleet() -> fleetgen.FleetSpec:
    return fleetgen.big_fleet(10_000)


@pytest.fixture(scope="session")
def big_hub(big_fleet: fleetgen.FleetSpec, tmp_path_factory: pytest.TempPathFactory) -> Iterator[fakehub.FakeHub]:
    """The 10,000-cluster fleet, shared read-only by the tests that only read it."""
    hub = fakehub.FakeHub()
    fleetgen.load(hub, big_fleet)
    hub.start()
    hub.kubeconfig_path = hub.kubeconfig(tmp_path_factory.mktemp("big") / "kubeconfig")  # type: ignore[attr-defined]
    yield hub
    hub.stop()


@pytest.fixture
def run_cmd(capsys: pytest.CaptureFixture[str]):
    """run_cmd(module, argv) -> (exit code, stdout, stderr), through the module's add_parser and run."""

    def run(module, argv: list[str]) -> tuple[int, str, str]:
        args = parse(module, argv)
        rc = module.run(args)
        out, err = capsys.readouterr()
        return rc, out, err

    return run
