"""helm_flower.values on a small in-memory umbrella chart: which file a value (or its nearest parent)
came from, the chart values files that count as defaults when a subchart is switched off, and the
type mismatch a subchart's values report. The mutation run (make mutation) found these unchecked."""

from __future__ import annotations

from typing import Any

import pytest

from helm_flower import values
from helm_flower.chart import Chart, Dependency


def chart(name: str, defaults: dict[str, Any], *deps: Dependency) -> Chart:
    return Chart(name, "0.1.0", name, {"name": name}, defaults, f"{name}/values.yaml", None, "", list(deps))


def umbrella() -> Chart:
    inner = chart("inner", {"deep": 1})
    on = chart("on", {"x": {"y": 1}, "list": ["d0", "d1"]}, Dependency("inner", "", "", inner))
    off = chart("off", {"z": 1})
    return chart("top", {"off": {"enabled": False}, "top": 1},
                 Dependency("off", "", "off.enabled", off), Dependency("on", "", "on.enabled", on),
                 Dependency("missing", "", "", None))


def compute(*files: dict[str, Any]) -> values.Values:
    user, layers = values.user_values([(f"f{i}.yaml", data) for i, data in enumerate(files, 1)], [], [])
    return values.compute(umbrella(), user, layers)


def test_defaults_are_the_enabled_charts_values_files_nested_under_their_keys():
    merged = compute()
    assert merged.enabled == {"off": False, "on": True, "on.inner": True, "missing": True}
    assert [(layer.label, layer.data) for layer in merged.defaults] == [
        ("top/values.yaml", umbrella().values),
        ("on/values.yaml", {"on": {"x": {"y": 1}, "list": ["d0", "d1"]}}),
        ("inner/values.yaml", {"on": {"inner": {"deep": 1}}}),
    ]


def test_source_of_list_items_counts_from_zero_and_stops_at_the_end():
    merged = compute({"on": {"list": [{"k": "u0"}]}})
    assert merged.source(("on", "list", 0)) == "f1.yaml"
    assert merged.source(("on", "list", 0, "k")) == "f1.yaml"
    assert merged.source(("on", "list", 1)) == "on/values.yaml"
    assert merged.source(("on", "list", "k")) == "f1.yaml"  # not an index: the list itself answers


def test_source_falls_back_to_the_nearest_parent():
    merged = compute({"on": {"x": {"s": "scalar"}}}, {"on": {"other": 1}}, {"solo": "text"})
    assert merged.source(("on", "x", "s", "deeper")) == "f1.yaml"  # on.x.s, not f2's on
    assert merged.source(("solo", "a", "b")) == "f3.yaml"
    assert merged.source(("on", "inner", "deep", "a", "b")) == "inner/values.yaml"
    assert merged.source(("top", "a")) == "top/values.yaml"
    assert merged.source(("nowhere", "a")) == ""


def test_a_subchart_key_that_is_not_a_map_is_a_problem():
    user, layers = values.user_values([("f.yaml", {"on": 5})], [], [])
    merged = values.compute(umbrella(), user, layers)
    assert merged.problems == [("on", "type mismatch on on: a subchart's values must be a map")]
    assert merged.user == {"on": 5} and merged.values["on"] == 5


def test_the_first_condition_path_holding_a_bool_decides_like_helm():
    def enabled(condition: str, user: dict[str, Any]) -> Any:
        top = chart("top", {"off": {"enabled": False}, "flag": "no"}, Dependency("sub", "", condition, chart("sub", {})))
        return values.compute(top, user, []).enabled["sub"]

    assert enabled("", {}) is True
    assert enabled("nowhere.enabled", {}) is True
    assert enabled("off.enabled", {}) is False
    assert enabled("nowhere.enabled, off.enabled", {}) is False
    assert enabled(",off.enabled", {}) is False
    assert enabled("flag,off.enabled", {}) is False  # "no" is not a bool: the next path decides
    assert enabled("off.enabled", {"off": {"enabled": True}}) is True


def globals_chart() -> Chart:
    sub = chart("sub", {"global": {"s": "sub", "t": {"a": "sub", "b": "sub"}, "m": {"x": 1}, "own": 1},
                        "x": {"y": 1}, "w": 1})
    return chart("top", {"global": {"s": "top", "t": {"a": "top"}, "m": "scalar", "z": "top"},
                         "sub": {"x": {"y": 2}, "keep": 1}}, Dependency("sub", "", "", sub))


# Expected values below are what helm template (Helm 4.0) gives for the same charts and values.
def test_globals_reach_the_subchart_and_the_umbrella_wins_like_helm():
    merged = values.compute(globals_chart(), {"global": {"s": "user"}}, [])
    assert merged.values["global"] == {"s": "user", "t": {"a": "top"}, "m": "scalar", "z": "top"}
    # the umbrella's globals go first, the subchart's defaults fill in what they lack
    assert merged.values["sub"]["global"] == {"s": "user", "t": {"a": "top", "b": "sub"}, "m": "scalar",
                                              "own": 1, "z": "top"}


def test_a_global_table_in_the_subcharts_user_values_is_kept_and_filled():
    merged = values.compute(globals_chart(), {"sub": {"global": {"m": {"q": 1}, "t": {"a": "user", "c": "user"}}}}, [])
    assert merged.values["sub"]["global"] == {"s": "top", "t": {"a": "top", "b": "sub", "c": "user"},
                                              "m": {"q": 1, "x": 1}, "own": 1, "z": "top"}


def test_a_subchart_global_that_is_not_a_map_is_left_alone():
    merged = values.compute(globals_chart(), {"sub": {"global": "not a map"}}, [])
    assert merged.values["sub"]["global"] == "not a map"


def test_an_umbrella_global_that_is_not_a_map_is_not_copied():
    sub = chart("sub", {"global": {"own": 1}})
    top = chart("top", {"global": "not a map"}, Dependency("sub", "", "", sub))
    assert values.compute(top, {}, []).values["sub"]["global"] == {"own": 1}


def test_null_deletes_a_subchart_default_that_the_umbrella_also_sets():
    merged = values.compute(globals_chart(), {"sub": {"x": None, "w": None}}, [])
    assert merged.values["sub"] == {"keep": 1, "global": merged.values["sub"]["global"]}


def test_a_scalar_and_a_table_never_merge_the_users_value_stays():
    merged = compute({"on": {"x": "scalar"}, "top": {"a": 1}})
    assert merged.values["on"]["x"] == "scalar" and merged.values["top"] == {"a": 1}


def test_type_mismatches_are_reported_with_their_path_and_the_other_subcharts_still_get_defaults():
    a, b = chart("a", {"inner": {}}, Dependency("inner", "", "", chart("inner", {"d": 1}))), chart("b", {"d": 2})
    top = chart("top", {}, Dependency("a", "", "", a), Dependency("b", "", "", b))
    merged = values.compute(top, {"a": {"inner": 5}}, [])
    assert merged.problems == [("a.inner", "type mismatch on inner: a subchart's values must be a map")]
    merged = values.compute(top, {"a": 5}, [])
    assert merged.problems == [("a", "type mismatch on a: a subchart's values must be a map")]
    assert merged.values["b"] == {"d": 2, "global": {}}


def test_a_refused_set_names_its_flag_and_text():
    with pytest.raises(values.SetError) as err:
        values.user_values([], [], ["a[x]=1"])
    assert str(err.value) == "--set-string a[x]=1: error parsing index: 'x' is not an integer"
    assert (err.value.flag, err.value.text) == ("--set-string", "a[x]=1")
