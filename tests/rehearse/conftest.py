"""Fixtures of the rehearsal tests: renders of the chart with the pinned helm, the sample fleet."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rehearse_helpers import CHART, FLEET, HELM

from helm_flower.fleet import Fleet, load_fleet
from helm_flower.rehearse import helm as helm_mod


@pytest.fixture(scope="session")
def helm_bin() -> str:
    if not HELM.is_file():
        pytest.fail(f"{HELM} missing: run make tools", pytrace=False)
    return str(HELM)


@pytest.fixture(scope="session")
def sample_fleet() -> Fleet:
    return load_fleet(FLEET)


@pytest.fixture(scope="session")
def render(helm_bin: str) -> Callable[..., list[dict[str, Any]]]:
    """render(*set_values, values_files=(), release="rehearsal", namespace="flower") -> objects (cached)."""
    cache: dict[tuple[Any, ...], list[dict[str, Any]]] = {}

    def _render(*sets: str, values_files: tuple[str, ...] = (), release: str = "rehearsal",
                namespace: str = "flower") -> list[dict[str, Any]]:
        key = (sets, values_files, release, namespace)
        if key not in cache:
            cache[key] = helm_mod.render(
                CHART, release=release, namespace=namespace, helm=helm_bin,
                values=helm_mod.ValueArgs(files=values_files, sets=sets),
            ).objects
        return cache[key]

    return _render
