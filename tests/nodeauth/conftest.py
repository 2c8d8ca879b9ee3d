"""Fixtures of the SuperNode-authentication tests (tests/nodeauth)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
for _dir in (_HERE, _HERE.parent / "charts", _HERE.parent / "apps"):
    if str(_dir) not in sys.path:  # nodeauth_support, render/kube_schemas/flwr_cli, local_federation
        sys.path.insert(0, str(_dir))

import nodeauth_support as ns  # noqa: E402


@pytest.fixture(scope="session")
def registrar_mod():
    return ns.registrar_module()


@pytest.fixture(scope="session")
def launcher_mod():
    return ns.launcher_module()


@pytest.fixture(scope="session")
def signing_ca() -> tuple[bytes, bytes]:
    """(cert, key) of a node-auth CA like the chart's genCA one."""
    return ns.make_ca("flower Flower SuperNode registration CA")


@pytest.fixture(scope="session")
def flwr():
    """The real argument parsers of the pinned flwr console scripts (tests/charts/flwr_cli.py)."""
    import flwr_cli

    return flwr_cli.load()
