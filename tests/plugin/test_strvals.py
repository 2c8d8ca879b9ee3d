"""helm_flower.strvals on the --set cases the mutation run (make mutation) found untested. Every expected
value is what `helm template --set` (Helm 4.0) gives for the same text; where Helm refuses, the port says
which key holds what instead of Go's interface-conversion panic text."""

from __future__ import annotations

import copy

import pytest

from helm_flower import strvals
from helm_flower.strvals import MAX_NESTED_NAME_LEVEL, StrvalsError


@pytest.mark.parametrize("text, expected", [
    ("a[0]", {"a": []}),
    ("a.b[0]", {"a": {"b": []}}),
    ("a[1]=", {"a": [None, ""]}),
    ("a=x\\", {"a": "x"}),
    ("aX[0]=X1,bX={X,Y},cX=X", {"aX": ["X1"], "bX": ["X", "Y"], "cX": "X"}),
    ("a[0][0].b.c=1", {"a": [[{"b": {"c": 1}}]]}),
    ("a[0].b.c=1", {"a": [{"b": {"c": 1}}]}),
], ids=lambda v: v if isinstance(v, str) else "")
def test_parse_like_helm(text, expected):
    assert strvals.parse(text) == expected


@pytest.mark.parametrize("text, value", [
    ("9223372036854775807", 9223372036854775807), ("9223372036854775808", "9223372036854775808"),
    ("-9223372036854775808", -9223372036854775808), ("-9223372036854775809", "-9223372036854775809"),
    ("200", 200), ("-200", -200), ("TRUE", True),
])
def test_integers_are_int64_like_helm(text, value):
    assert strvals.parse(f"a={text}") == {"a": value}
    assert strvals.typed_value(text) == value


def test_set_infers_types_unless_asked_not_to():
    data: dict = {}
    strvals.parse_into("a=1", data)
    assert data == {"a": 1}
    strvals.parse_into("b=1", data, string_values=True)
    assert data == {"a": 1, "b": "1"}


def test_nested_names_stop_at_helms_level():
    deepest = ".".join(["k"] * (MAX_NESTED_NAME_LEVEL + 1))
    parsed = strvals.parse(f"{deepest}=1")
    for _ in range(MAX_NESTED_NAME_LEVEL):
        parsed = parsed["k"]
    assert parsed == {"k": 1}
    with pytest.raises(StrvalsError, match="nested level is greater than maximum supported nested level of 30"):
        strvals.parse(f"k.{deepest}=1")


@pytest.mark.parametrize("base, text, expected", [
    ({"a": [["p"]]}, "a[0][1]=x", {"a": [["p", "x"]]}),
    ({"a": ["s"]}, "a[0].b=1", {"a": [{"b": 1}]}),
])
def test_set_writes_into_the_files_values_like_helm(base, text, expected):
    data = copy.deepcopy(base)  # parse_into writes in place; the parameters must stay as written
    strvals.parse_into(text, data)
    assert data == expected


@pytest.mark.parametrize("base, text, message", [
    ({"a": None}, "a[0]=1", "key 'a' is null, it cannot be indexed with [0]"),
    ({"a": {}}, "a[0]=1", "key 'a' is a map, it cannot be indexed with [0]"),
    ({"a": 1}, "a[0]=1", "key 'a' is int 1, it cannot be indexed with [0]"),
    ({"a": [1]}, "a.b=1", "key 'a' is a list, not a map: it cannot hold a.<key>"),
    ({"a": "x"}, "a.b=1", "key 'a' is str 'x', not a map: it cannot hold a.<key>"),
    ({"a": ["s"]}, "a[0][0]=1", "list item [0] is str 's', it cannot be indexed"),
    ({}, "a[0=1", "error parsing index: missing ']'"),
    ({}, "a[X]=1", "error parsing index: 'X' is not an integer"),
    ({}, "a[0]X=1", "unexpected data at end of array index: 'X'"),
    ({}, "a={1,2", "list must terminate with '}'"),
])
def test_refusals_say_what_is_in_the_way(base, text, message):
    with pytest.raises(StrvalsError) as err:
        strvals.parse_into(text, copy.deepcopy(base))
    assert str(err.value) == message
