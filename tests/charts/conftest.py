"""Fixtures of the chart tests: every test runs with both Helm versions and over the chart's
defaults plus every ci/*-values.yaml (the chart-testing examples, see cases.py)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

_HERE = Path(__file__).resolve().parent
if str(_HERE) not in sys.path:  # for `import cases`, `import render`, ...
    sys.path.insert(0, str(_HERE))

import flwr_cli  # noqa: E402
import render as r  # noqa: E402
from cases import CASES, CHART, HELM_VERSIONS, NAMESPACE, OTHER_RELEASE, RELEASE, VARIANTS, Case, lint_args, render_case  # noqa: E402


@pytest.fixture(scope="session", params=HELM_VERSIONS, ids=lambda v: f"helm{v}")
def helm(request: pytest.FixtureRequest, helm_bins: dict[str, Path], _prefetch_renders: None) -> Path:
    return helm_bins[request.param]


@pytest.fixture(scope="session", params=CASES, ids=lambda c: c.id)
def case(request: pytest.FixtureRequest) -> Case:
    return request.param


@pytest.fixture
def rendered(helm: Path, case: Case) -> list[dict]:
    return render_case(helm, case)


_objects: dict[tuple[Path, Case], list[r.Obj]] = {}


@pytest.fixture
def objects(helm: Path, case: Case) -> list[r.Obj]:
    """Top-level and embedded objects (AddOnTemplate manifests once per ADC, substituted).
    Built once per (helm, case) and shared: treat as read-only."""
    key = (helm, case)
    if key not in _objects:
        _objects[key] = r.all_objects(render_case(helm, case))
    return _objects[key]


@pytest.fixture(scope="session")
def _prefetch_renders(helm_bins: dict[str, Path], chart_dir: Path):
    """Start the common helm calls on all cores at once (render() then only waits for them).
    Not under pytest-xdist, where each worker runs only what its tests need."""
    assert chart_dir.resolve() == CHART.resolve(), "tests/charts renders the chart next to it"
    if os.environ.get("PYTEST_XDIST_WORKER"):
        yield
        return
    for version in HELM_VERSIONS:
        helm_bin = helm_bins[version]
        for c in CASES:
            r.prefetch(helm_bin, CHART, c.values_files, c.set_values, RELEASE, NAMESPACE)
        for c in CASES:
            r.run_helm(lint_args(helm_bin, c))
            r.prefetch(helm_bin, CHART, c.values_files, c.set_values, OTHER_RELEASE, NAMESPACE)
        for c in VARIANTS:
            r.prefetch(helm_bin, CHART, c.values_files, c.set_values, RELEASE, NAMESPACE)
    yield
    r.cancel_pending()



@pytest.fixture(scope="session", params=flwr_cli.releases_under_test(), ids=lambda v: f"flwr{v}")
def flwr(request: pytest.FixtureRequest):
    """The real parsers of every supported Flower release (schemas/flower-versions.yaml), each run
    in its own venv .tools/flwr/<release> (one process per release, see flwr_cli.py). A missing
    venv fails the tests: `make tools-test` makes them. `make flwr-nightly` adds the release "nightly"."""
    try:
        cli = flwr_cli.load_release(request.param)
    except flwr_cli.MissingReleaseVenv as exc:
        pytest.fail(str(exc), pytrace=False)
    assert request.param == flwr_cli.NIGHTLY or cli.version == request.param, f".tools/flwr/{request.param} has flwr {cli.version}: run `make tools-test`"
    return cli  # one process per release for the whole session (flwr_cli.load_release)
