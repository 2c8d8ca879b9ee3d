"""The app's flwr requirement against the chart's Flower version: admits it AND pins its major.minor."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from packaging.requirements import Requirement
from packaging.version import Version

from images_helpers import FIXTURES
from helm_flower.images.flwrversion import pins_major_minor

TARGET = Version("1.42.0")


@pytest.mark.parametrize(("requirement", "pins"), [
    ("flwr==1.42.0", True),
    ("flwr==1.42.*", True),
    ("flwr~=1.42.0", True),
    ("flwr~=1.42.2", True),
    ("flwr>=1.42,<1.43", True),
    ("flwr>=1.42.0,<1.43.0", True),
    ("flwr>=1.42.0,<=1.42.9", True),
    ("flwr[simulation]==1.42.0; python_version >= '3.11'", True),
    ("flwr>=1.42.0,!=1.42.1,<1.43", True),
    ("flwr===1.42.0", True),
    ("flwr>=1.42", False),
    ("flwr~=1.42", False),
    ("flwr", False),
    ("flwr<1.43", False),
    ("flwr>=1.40,<1.43", False),
    ("flwr>1.40.5,<1.43", False),
    ("flwr>=1.42,<1.43.1", False),
    ("flwr>=1.42,<=1.43", False),
    ("flwr==1.*", False),
])
def test_pins_major_minor(requirement, pins):
    assert pins_major_minor(Requirement(requirement), TARGET) is pins


# Property: on a grid of versions around 1.42, a requirement that "pins" admits nothing outside
# 1.42.x, and one that does not pin (but has both bounds from the same vocabulary) admits something
# outside it.
_SPEC_VERSIONS = ["1.40", "1.40.5", "1.42", "1.42.0", "1.42.1", "1.42.5", "1.43", "1.43.0", "1.43.1", "2.0"]
_GRID = [Version(f"{a}.{b}.{c}") for a, b, c in itertools.product((0, 1, 2), range(38, 45), (0, 1, 2, 5, 6, 99))]
_GRID += [Version(v) for v in ("1.42.0rc1", "1.43.0rc1", "1.43.0.dev0", "1.42.0.post1", "1.40.99.post3")]


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["==", ">=", ">", "<=", "<", "~=", "!="]),
                          st.sampled_from(_SPEC_VERSIONS)), min_size=1, max_size=3))
def test_pins_major_minor_agrees_with_brute_force(specs):
    req = Requirement("flwr" + ",".join(op + v for op, v in specs))
    admitted = [v for v in _GRID if req.specifier.contains(v, prereleases=True)]
    outside = [v for v in admitted if v.release[:2] != TARGET.release[:2]]
    if pins_major_minor(req, TARGET):
        assert not outside, (str(req), outside)
    elif admitted:
        assert outside, (str(req), admitted)


@pytest.mark.parametrize(("fixture", "found"), [
    ("flwr-old", "'flwr==1.40.0' does not admit Flower 1.42.0"),
    ("flwr-newer", "'flwr>=1.43' does not admit Flower 1.42.0"),
    ("flwr-unpinned", "'flwr[simulation]>=1.42' admits Flower 1.42.0"),
])
def test_wrong_flower_version_exits_1_naming_both_versions_and_the_fix(cli, fixture, found):
    result = cli(FIXTURES / fixture)
    assert result.rc == 1
    assert result.out == ""
    assert found in result.err
    assert "global.flower.version" in result.err and "1.42" in result.err
    assert "fix: require flwr==1.42.0" in result.err
    assert f"{fixture}/pyproject.toml" in result.err


def test_no_flwr_requirement_is_a_finding(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname='x'\nversion='1'\ndependencies=['numpy']\n[tool.flwr.app]\npublisher='p'\n"
        "[tool.flwr.app.components]\nserverapp='x.s:app'\nclientapp='x.c:app'\n")
    result = cli(tmp_path)
    assert result.rc == 1
    assert "no flwr requirement" in result.err and 'add "flwr==1.42.0"' in result.err


def test_every_wrong_app_is_reported_at_once(cli):
    result = cli(FIXTURES / "flwr-old", FIXTURES / "flwr-newer")
    assert result.rc == 1
    assert "flwr-old/pyproject.toml" in result.err and "flwr-newer/pyproject.toml" in result.err


def test_values_file_version_wins_over_the_chart_default(cli, tmp_path):
    """The values the chart is installed with decide the Flower version (here 1.40.0 in -f)."""
    values = tmp_path / "base.yaml"
    values.write_text('global:\n  flower:\n    version: "1.40.0"\n')
    assert cli(FIXTURES / "flwr-old", "-f", values).rc == 0
    result = cli(FIXTURES / "second-app", "-f", values)
    assert result.rc == 1 and "1.40.0" in result.err and str(values) in result.err


def test_chart_without_flower_version_is_an_input_error(cli, tmp_path):
    chart = tmp_path / "chart"
    chart.mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: other\nversion: 0.1.0\n")
    result = cli(FIXTURES / "second-app", "--chart", chart)
    assert result.rc == 2 and "global.flower.version" in result.err and "flower-federation chart" in result.err
