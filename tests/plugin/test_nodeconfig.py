"""helm_flower.nodeconfig against the cases the mutation run (make mutation) found untested: Go's %v and
JSON encoding of the values the chart renders, the 2**63 edge of integral floats, Flower's dotted keys,
and every reason `problems` gives, each reported for its own key."""

from __future__ import annotations

import pytest

from helm_flower import nodeconfig

SCALARS = "node-config values are TOML scalars (string, integer, float, boolean)"


@pytest.mark.parametrize("value, text", [
    (float("nan"), "NaN"), (float("inf"), "+Inf"), (float("-inf"), "-Inf"), (0.0, "0"), (-0.0, "-0"),
    (1.0, "1"), (100.0, "100"), (123.0, "123"), (1.5e7, "1.5e+07"), (1e6, "1e+06"), (2.5e-7, "2.5e-07"),
])
def test_go_float_edges(value, text):
    assert nodeconfig.go_float(value) == text


@pytest.mark.parametrize("value, text", [
    (None, "<nil>"), (True, "true"), (False, "false"), (7, "7"), ("s", "s"), ([1, "a", 2.5], "[1 a 2.5]"),
    ({"b": 1, "a": [True, None]}, "map[a:[true <nil>] b:1]"),
])
def test_go_value_is_gos_percent_v(value, text):
    assert nodeconfig.go_value(value) == text


def test_go_json_string_escapes_like_go_and_keeps_utf8():
    assert nodeconfig.go_json_string("a&b<c>\u2028\u2029é") == '"a\\u0026b\\u003cc\\u003e\\u2028\\u2029é"'


@pytest.mark.parametrize("value, text", [(1e6, "k=1000000"), (-3.0, "k=-3"), (2.0**63, "k=9.223372036854776e+18"),
                                         (1e300, "k=1e+300")])
def test_integral_floats_render_as_integers_below_2_to_the_63(value, text):
    assert nodeconfig.pair("k", value) == text


@pytest.mark.parametrize("value", [3.0, 1e6, 2.0**63, -0.0])
def test_integral_floats_come_back_as_flower_reads_them(value):
    assert nodeconfig.problems({"k": value}) == {}


def test_flower_parse_flattens_dotted_keys():
    assert nodeconfig.flower_parse("a.b.c=1 a.d=2 x=3") == {"a.b.c": 1, "a.d": 2, "x": 3}


def test_flower_parse_error_carries_tomls_reason():
    with pytest.raises(ValueError, match=r"Invalid value"):
        nodeconfig.flower_parse("k=[")


def test_each_bad_key_gets_its_own_reason():
    found = nodeconfig.problems({"cluster-name": "x", "l": [1], "m": {}, "n": None, "q": 'x"y',
                                 "key with space": 1, "z": None})
    assert found == {
        "cluster-name": "is set by the chart to the managed cluster's name; use another key",
        "l": f"is a list; {SCALARS}",
        "m": f"is a map; {SCALARS}",
        "n": f"is null; {SCALARS}",
        "q": "renders as 'q=\"x\\\\\"y\"', which Flower cannot parse (the SuperNode exits)",
        "key with space": "renders as 'key with space=1'; Flower reads it as key(s) space: "
                          "keys are TOML bare keys (A-Z a-z 0-9 _ -, dots nest)",
        "z": f"is null; {SCALARS}",
    }


def test_keys_fine_alone_can_still_break_the_whole_node_config():
    found = nodeconfig.problems({"a": 1, "a.b": 2})
    assert list(found) == [""]
    assert found[""].startswith("the whole node-config does not parse in Flower: Cannot overwrite a value")


def test_a_key_flower_splits_or_drops_names_what_it_reads():
    found = nodeconfig.problems({"p=1 q": 1, "": 2})
    assert "Flower reads it as key(s) p, q:" in found["p=1 q"]
    assert "Flower reads it as key(s) none:" in found[""]
