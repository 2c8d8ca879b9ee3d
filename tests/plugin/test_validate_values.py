"""The values `helm flower validate` checks are the values Helm renders with: --set syntax
(helm_flower.strvals), -f/--set precedence and chart/subchart defaults (helm_flower.values),
compared with what the real helm puts into .Values."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from helm_flower import chart as chart_module
from helm_flower import safeyaml, strvals, values
from helm_flower.strvals import StrvalsError

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "flower-federation"
CI = sorted((CHART / "ci").glob("*-values.yaml"))
HELMS = {"4": REPO / ".tools" / "bin" / "helm4", "3": REPO / ".tools" / "bin" / "helm3"}
DUMP = "---\n# DUMP {{ toJson .Values }}\n"


def _dump_chart(source: Path | None, target: Path) -> Path:
    """A copy of ``source`` (or an empty chart) whose extra template prints .Values."""
    if source is None:
        (target / "templates").mkdir(parents=True)
        (target / "Chart.yaml").write_text("apiVersion: v2\nname: dump\nversion: 0.1.0\n")
    else:
        shutil.copytree(source, target)
        for schema in target.rglob("values.schema.json"):
            schema.unlink()  # compare merging, not schemas
    (target / "templates" / "zz-dump.yaml").write_text(DUMP)
    return target


def helm_values(helm: Path, chart: Path, files: list[str], sets: list[str], set_strings: list[str]) -> dict:
    command = [str(helm), "template", "r", str(chart), "--show-only", "templates/zz-dump.yaml"]
    for path in files:
        command += ["-f", path]
    for text in sets:
        command += ["--set", text]
    for text in set_strings:
        command += ["--set-string", text]
    proc = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
    if proc.returncode:
        raise RuntimeError(proc.stderr.strip())
    line = next(ln for ln in proc.stdout.splitlines() if ln.startswith("# DUMP "))
    return _ints(json.loads(line[len("# DUMP "):]))


def _ints(value):
    """Helm's values are JSON numbers (float64): compare 2.0 and 2 as equal."""
    if isinstance(value, dict):
        return {k: _ints(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_ints(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _no_nulls(value):
    if isinstance(value, dict):
        return {k: _no_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_no_nulls(v) for v in value]
    return value


def ours(chart: Path, files: list[str], sets: list[str], set_strings: list[str]) -> dict:
    loaded = chart_module.load_chart(str(chart))
    user, layers = values.user_values([(f, safeyaml.load_file(f)) for f in files], sets, set_strings)
    return _ints(values.compute(loaded, user, layers).values)


# --- --set syntax ------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("a=b", {"a": "b"}),
    ("a.b.c=d", {"a": {"b": {"c": "d"}}}),
    ("a=1,b=true,c=null,d=0,e=01,f=1.5,g=TRUE,h=-3,i=+4,j=False",
     {"a": 1, "b": True, "c": None, "d": 0, "e": "01", "f": "1.5", "g": True, "h": -3, "i": 4, "j": False}),
    ("list[0]=x,list[2]=z", {"list": ["x", None, "z"]}),
    ("a[0].b=c,a[0].d=e", {"a": [{"b": "c", "d": "e"}]}),
    ("a={x,y,1}", {"a": ["x", "y", 1]}),
    ("a={x,y},b=3", {"a": ["x", "y"], "b": 3}),
    ("name=a\\,b\\.c", {"name": "a,b.c"}),
    ("a\\.b=c", {"a.b": "c"}),
    ("flower\\.ai/enabled=true", {"flower.ai/enabled": True}),
    ("a=", {"a": ""}),
    ("a=,b=c", {"a": "", "b": "c"}),
    ("a[0][1]=x", {"a": [[None, "x"]]}),
    ("a=x=y", {"a": "x=y"}),
    ("big=9223372036854775808", {"big": "9223372036854775808"}),
    ("", {}),
])
def test_set_syntax(text, expected):
    assert strvals.parse(text) == expected


def test_set_string_keeps_strings():
    assert strvals.parse("a=1,b=true,c=null,d={1,2}", string_values=True) == {
        "a": "1", "b": "true", "c": "null", "d": ["1", "2"]}


@pytest.mark.parametrize("text, message", [
    ("a", "has no value"),
    ("a.b", "has no value"),
    ("a,b=c", "cannot end with ,"),
    ("a[x]=1", "not an integer"),
    ("a[-1]=1", "negative"),
    ("a[70000]=1", "greater than maximum"),
    ("a={1,2", "must terminate"),
    ("a[0]x=1", "unexpected data"),
    ("." * 40 + "a=1", "nested level"),
])
def test_set_errors(text, message):
    with pytest.raises(StrvalsError, match=message):
        strvals.parse(text)


def test_set_into_a_string_from_a_file_is_an_error():
    with pytest.raises(values.SetError, match="not a map"):
        values.user_values([("f.yaml", {"a": "text"})], ["a.b=c"], [])


def test_precedence_files_then_set_then_set_string():
    user, layers = values.user_values(
        [("one.yaml", {"a": {"x": 1, "y": 1}, "l": [1, 2]}), ("two.yaml", {"a": {"y": 2}, "l": [3]})],
        ["a.z=3,s=1", "a.z=4"], ["s=2"])
    assert user == {"a": {"x": 1, "y": 2, "z": 4}, "l": [3], "s": "2"}
    assert [layer.label for layer in layers] == ["one.yaml", "two.yaml", "--set a.z=3,s=1", "--set a.z=4",
                                                 "--set-string s=2"]


# --- against the real helm -----------------------------------------------------------------------

SET_CASES = [
    ["a=b,c.d=1,e=true,f=null,g=01,h=1.5"],
    ["list[0]=x,list[2]=z", "list[1]=y"],
    ["a[0].b=c,a[0].d=e,a[1].b=f"],
    ["a={x,y,1},b=3"],
    ["name=a\\,b\\.c,flower\\.ai/x=1"],
    ["a=,b=c"],
    ["a[0][1]=x"],
    ["a=x=y"],
]


@pytest.mark.helm
@pytest.mark.parametrize("helm", sorted(HELMS))
def test_set_parser_matches_helm(helm, tmp_path):
    chart = _dump_chart(None, tmp_path / "dump")
    for sets in SET_CASES:
        assert ours(chart, [], sets, []) == helm_values(HELMS[helm], chart, [], sets, []), sets
    sets = ["a=1,b=true,c={1,2}"]
    assert ours(chart, [], [], sets) == helm_values(HELMS[helm], chart, [], [], sets)
    mixed = (["s=1", "t=1"], ["s=2"])  # --set-string applies after every --set
    assert ours(chart, [], *mixed) == helm_values(HELMS[helm], chart, [], *mixed) == {"s": "2", "t": 1}


@pytest.mark.helm
def test_set_errors_match_helm(tmp_path):
    chart = _dump_chart(None, tmp_path / "dump")
    for text in ["a", "a,b=c", "a[x]=1", "a={1,2"]:
        with pytest.raises(RuntimeError):
            helm_values(HELMS["4"], chart, [], [text], [])
        with pytest.raises(StrvalsError):
            strvals.parse(text)


MERGE_CASES = [
    ([], []),
    ([str(p) for p in CI[:2]], []),
    ([], ["superlink.enabled=false", "hubAddon.enabled=false", "clientApp.enabled=false"]),
    ([], ["hubAddon.supernode.resources.limits=null,global.imageRegistry=mirror.example.com"]),
    ([], ["superlink.global.flower.version=9.9.9"]),
    ([str(CI[-1])], ["clientApp.enabled=false", "hubAddon.placements[0].name=zz"]),
]


@pytest.mark.helm
@pytest.mark.parametrize("helm", sorted(HELMS))
def test_merged_values_match_helm(helm, tmp_path):
    chart = _dump_chart(CHART, tmp_path / "flower-federation")
    for files, sets in MERGE_CASES:
        try:
            expected = helm_values(HELMS[helm], chart, files, sets, [])
        except RuntimeError as exc:  # the chart refuses these values: nothing to compare
            pytest.fail(f"helm template failed for {files} {sets}: {exc}")
        mine = ours(chart, files, sets, [])
        if helm == "3":
            # Helm 3.17 drops null values that come from chart defaults (trimNilValues when it
            # processes dependencies); Helm 4 keeps them, and so does validate (the stricter view).
            mine, expected = _no_nulls(mine), _no_nulls(expected)
        assert mine == expected, (files, sets)


@pytest.mark.helm
def test_every_ci_values_file_merges_like_helm(tmp_path):
    chart = _dump_chart(CHART, tmp_path / "flower-federation")
    for path in CI:
        assert ours(chart, [str(path)], [], []) == helm_values(HELMS["4"], chart, [str(path)], [], []), path


# --- chart loading and provenance --------------------------------------------------------------


def test_chart_with_subcharts_and_aliases():
    loaded = chart_module.load_chart(str(CHART))
    keys = {d.key: d for d in loaded.dependencies}
    assert {"superlink", "hubAddon", "clientApp", "flower-common"} <= set(keys)
    assert keys["superlink"].condition == "superlink.enabled"
    assert keys["superlink"].chart is not None and keys["superlink"].chart.name == "flower-superlink"


def test_packaged_chart_loads_like_the_directory(tmp_path):
    subprocess.run([str(HELMS["4"]), "package", str(CHART), "-d", str(tmp_path)], check=True,
                   capture_output=True)
    archive = next(tmp_path.glob("flower-federation-*.tgz"))
    packed, plain = chart_module.load_chart(str(archive)), chart_module.load_chart(str(CHART))
    assert packed.values == plain.values and packed.schema == plain.schema
    assert [d.key for d in packed.dependencies] == [d.key for d in plain.dependencies]
    assert [d.chart.values for d in packed.dependencies] == [d.chart.values for d in plain.dependencies]


@pytest.mark.parametrize("name, content, message", [
    ("", None, "no Chart.yaml"),
    ("missing", None, "chart not found"),
    ("x.tgz", b"not a tarball", "not a chart archive"),
])
def test_unusable_charts(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(safeyaml.InputProblem, match=message):
        chart_module.load_chart(str(path))


def test_disabled_subchart_defaults_are_left_out():
    loaded = chart_module.load_chart(str(CHART))
    user, layers = values.user_values([], ["superlink.enabled=false"], [])
    merged = values.compute(loaded, user, layers)
    assert merged.enabled["superlink"] is False and merged.enabled["hubAddon"] is True
    assert merged.values["superlink"] == {"enabled": False}
    assert "supernode" in merged.values["hubAddon"]


def test_null_deletes_a_default():
    loaded = chart_module.load_chart(str(CHART))
    user, layers = values.user_values([], ["superlink.resources.limits=null"], [])
    merged = values.compute(loaded, user, layers)
    assert "limits" not in merged.values["superlink"]["resources"]


def test_provenance_names_the_file_that_set_a_value(tmp_path):
    first, second = tmp_path / "base.yaml", tmp_path / "prod.yaml"
    first.write_text("superlink:\n  replicaCount: 2\n  exposure:\n    host: a\n")
    second.write_text("superlink:\n  exposure:\n    host: b\n")
    loaded = chart_module.load_chart(str(CHART))
    files = [(str(p), safeyaml.load_file(str(p))) for p in (first, second)]
    user, layers = values.user_values(files, ["superlink.port=1234"], [])
    merged = values.compute(loaded, user, layers)
    assert merged.source(("superlink", "replicaCount")) == str(first)
    assert merged.source(("superlink", "exposure", "host")) == str(second)
    assert merged.source(("superlink", "port")) == "--set superlink.port=1234"
    assert merged.source(("superlink", "exposure", "type")).endswith("flower-superlink/values.yaml")
    assert merged.source(("global", "tls", "mode")).endswith("flower-federation/values.yaml")
