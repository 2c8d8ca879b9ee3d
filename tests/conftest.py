"""Session fixtures shared by every test folder: where the repository, the chart, the pinned
helm binaries and the upstream OCM CRDs are; and each test process's own Helm homes.

`make test` runs the suite on pytest-xdist workers (--dist loadgroup). Every test makes what it
changes under its own tmp_path (free ports, FLWR_HOME, helm homes where it installs or logs in);
the tests of a costly shared setup (a registry and a release, a gateway, the plugin installs) form
one group that runs on one worker, which builds that setup once (see _SHARED_SETUP_GROUPS)."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

import pytest

import tooling

_REPO_ROOT = tooling.REPO_ROOT

# Helm's homes (and the paths derived from them) for every helm this test process runs: empty
# ones of its own, so that neither the developer's repositories, registry logins and plugins nor
# another xdist worker's can leak into a test. Tests that install plugins or log in to a registry
# give their helm yet another home under their tmp_path.
_HELM_HOMES = ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME")
_HELM_DERIVED = ("HELM_PLUGINS", "HELM_REGISTRY_CONFIG", "HELM_REPOSITORY_CACHE", "HELM_REPOSITORY_CONFIG",
                 "HELM_CONTENT_CACHE")
_helm_home_root: str | None = None


def pytest_configure(config: pytest.Config) -> None:
    global _helm_home_root
    _helm_home_root = tempfile.mkdtemp(prefix=f"helm-homes-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}-")
    for name in _HELM_DERIVED:
        os.environ.pop(name, None)
    for name in _HELM_HOMES:
        os.environ[name] = os.path.join(_helm_home_root, name.removeprefix("HELM_").lower())


def pytest_unconfigure(config: pytest.Config) -> None:
    if _helm_home_root:
        shutil.rmtree(_helm_home_root, ignore_errors=True)


# Costly setup shared by many cheap tests: group name -> the ids of the tests that use it. `make test`
# runs with `--dist loadgroup`: a group runs on one worker, which builds the setup once, instead of
# every worker that gets one of its tests building its own copy. The tests do not depend on each
# other's order or results, only on the shared (read-only) setup. (pytest-xdist 3.8's own grouping,
# by `xdist_group` marks, does nothing with pytest 9.2: it renames node ids, which pytest 9.2 no
# longer lets it do (pytest-dev/pytest-xdist#1386); so the groups are given to its scheduler here.)
_SHARED_SETUP_GROUPS = {
    # 3 plugin venv builds and 4 helm plugin installs (the pip fallback test makes its own). The rehearsal
    # test (two real federations, about 2.5 min) runs in the group too: on its own worker it needed two
    # more venv builds, and the suite is bound by CPU, not by the length of one worker's queue.
    "plugin-installs": r"tests/plugin/test_plugin_install\.py::(?!test_install_hook_falls_back_to_pip)",
    # a registry, a signing key, `make release`, helm logins and plugin installs
    "release-registry": r"tests/release/test_release_publish\.py::",
    # nginx (the rendered fleet gateway) in front of a real SuperLink
    "fleet-gateway": r"tests/security/test_fleet_gateway\.py::",
    # every example rendered and the OCM CRD schemas loaded
    "ocm-schemas": r"tests/repo/test_ocm_schemas\.py::",
    # the 10,000-cluster hub (session fixture big_hub)
    "big-fleet": r"tests/hub/test_hub_(status|partitions)\.py::",
}


def shared_setup_group(nodeid: str) -> str | None:
    for group, pattern in _SHARED_SETUP_GROUPS.items():
        if re.match(pattern, nodeid):
            return group
    return None


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log):
    """--dist loadgroup: LoadScopeScheduling with the groups above as work units (each other test
    is a unit of its own; units go to idle workers, the largest first)."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class SharedSetupScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid: str) -> str:
            group = shared_setup_group(nodeid)
            return f"group:{group}" if group else super()._split_scope(nodeid)

    return SharedSetupScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The tests that run real Flower federations (marker e2e) and the other long ones (marker slow)
    # start first (after the shared-setup groups), so that they run side by side with the many short
    # tests instead of after them.
    items.sort(key=lambda item: item.get_closest_marker("e2e") is None and item.get_closest_marker("slow") is None)


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return _REPO_ROOT


@pytest.fixture(scope="session")
def chart_dir(repo_root: Path) -> Path:
    return repo_root / "charts" / "flower-federation"


@pytest.fixture(scope="session")
def helm_bins(repo_root: Path) -> dict[str, Path]:
    bins = dict(tooling.HELM_BINS)
    missing = [str(p) for p in bins.values() if not p.is_file()]
    if missing:
        pytest.fail(f"helm binaries missing ({', '.join(missing)}): run make tools", pytrace=False)
    return bins


@pytest.fixture(scope="session")
def ocm_crds_dir() -> Path:
    return tooling.ocm_crds_dir()
