"""The e2e suite runs against the real OCM control plane of tests/ocmfleet: it starts the fleet unless
one is running (`make fleet-up`), and stops it at the end only if it started it."""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator

import pytest

from hubview import HubView
from ocmfleet import control
from ocmfleet.access import Fleet
from ocmfleet.layout import MANAGED, Layout
from releases import Helm, Release

LABEL_PREFIX = "e2e.flower.ai/"


@pytest.fixture(scope="session")
def fleet() -> Iterator[Fleet]:
    layout = Layout.default()
    started_here = not control.running(layout)
    try:
        control.up(layout, say=lambda text: print(text, flush=True), owner_pid=os.getpid())
    except control.FleetDown as exc:
        pytest.fail(str(exc), pytrace=False)
    yield Fleet(layout)
    if started_here:
        control.down(layout, say=lambda text: None)


@pytest.fixture(autouse=True)
def _fleet_stays_healthy(request) -> Iterator[None]:
    """A fleet process that died during a test fails that test with the process's last log lines."""
    yield
    if "fleet" in request.fixturenames:
        dead = request.getfixturevalue("fleet").dead_processes()
        assert not dead, control.describe_dead({"dead": dead})


@pytest.fixture(scope="session")
def hub(fleet: Fleet) -> HubView:
    return HubView(fleet)


@pytest.fixture(scope="session")
def helm_homes(tmp_path_factory) -> Callable[[str], Helm]:
    homes: dict[str, Helm] = {}

    def for_version(version: str) -> Helm:
        if version not in homes:
            homes[version] = Helm(version, Layout.default().kubeconfig, tmp_path_factory.mktemp(f"helm{version}-home"))
        return homes[version]

    return for_version


@pytest.fixture
def selector(request, hub: HubView) -> Iterator[str]:
    """A cluster label only this test uses to place its SuperNodes (removed from every cluster after)."""
    key = LABEL_PREFIX + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:50].strip("-")
    yield key
    for cluster in MANAGED:
        if key in hub.cluster_labels(cluster):
            hub.label_cluster(cluster, key, None)


@pytest.fixture
def releases(helm_homes, tmp_path) -> Iterator[Callable[..., Release]]:
    """Make releases; every one still installed is uninstalled after the test."""
    made: list[Release] = []

    def make(name: str, namespace: str, helm: str = "4") -> Release:
        release = Release(helm_homes(helm), name, namespace, tmp_path)
        made.append(release)
        return release

    yield make
    errors = []
    for release in reversed(made):
        try:
            release.uninstall()
        except AssertionError as exc:
            errors.append(str(exc))
    assert not errors, errors



@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The teardown tests start fleets of their own: before the session's fleet holds the fixed ports.
    items.sort(key=lambda item: item.path.name != "test_teardown.py")
