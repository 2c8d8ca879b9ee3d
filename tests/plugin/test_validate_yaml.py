"""Hostile values files: every one ends in a clear message and exit code 2, never a traceback,
a hang or an exhausted memory (helm_flower.safeyaml and `helm flower validate`)."""

from __future__ import annotations

import contextlib
import io
import json
import os
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helm_flower import safeyaml
from helm_flower.cli import main
from helm_flower.safeyaml import InputProblem

REPO = Path(__file__).resolve().parents[2]
CHART = str(REPO / "charts" / "flower-federation")


def run(*args: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", CHART, *args])
    return code, out.getvalue(), err.getvalue()


def findings(*args: str) -> tuple[int, list[dict]]:
    code, out, err = run(*args, "-o", "json")
    assert "Traceback" not in err
    return code, json.loads(out)["findings"]


def problem(text: str | bytes) -> InputProblem:
    with pytest.raises(InputProblem) as caught:
        if isinstance(text, bytes):
            safeyaml.load_bytes(text, "values.yaml")
        else:
            safeyaml.load_text(text, "values.yaml")
    return caught.value


# --- the loader ------------------------------------------------------------------------------


def test_plain_values_load_as_json_data():
    data = safeyaml.load_text("a: 1\nb: [x, {c: 2.5}]\nday: 2024-01-31\n10: ten\non: yes\nn: N\n", "v")
    # dates stay strings, keys become strings, YAML 1.1 booleans like Go's decoder (y/n too)
    assert data == {"a": 1, "b": ["x", {"c": 2.5}], "day": "2024-01-31", "10": "ten", "true": True, "false": False}


def test_empty_file_is_empty_values():
    assert safeyaml.load_text("", "v") == {}
    assert safeyaml.load_text("# only a comment\n", "v") == {}
    assert safeyaml.load_text("---\n", "v") == {}


def test_syntax_error_has_line_and_column():
    found = problem("a:\n  b: 1\n c: 2\n")
    assert (found.rule, found.line, found.column) == ("FLW001", 3, 2)
    assert str(found).startswith("values.yaml:3:2: invalid YAML")


def test_duplicate_keys_are_errors_with_both_lines():
    found = problem("superlink:\n  port: 1\n  port: 2\n")
    assert found.rule == "FLW002" and found.line == 3
    assert "duplicate key 'port' (first at line 2)" in found.message


def test_merge_keys_may_repeat_keys():
    data = safeyaml.load_text("base: &b {p: 1, q: 2}\nd:\n  <<: *b\n  p: 3\n", "v")
    assert data["d"] == {"p": 3, "q": 2}


def test_billion_laughs_is_refused_quickly():
    lines = ['a0: &a0 "lol"'] + [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    found = problem("\n".join(lines))
    assert found.rule == "FLW003" and "billion laughs" in found.message


def test_recursive_alias_is_refused():
    assert problem("a: &x [1, *x]\n").rule == "FLW003"


def test_too_many_anchors_and_aliases():
    anchors = "\n".join(f"k{i}: &a{i} {i}" for i in range(safeyaml.MAX_ANCHORS + 1))
    assert problem(anchors).rule == "FLW003"
    aliases = "a: &a 1\nb: [" + ", ".join(["*a"] * (safeyaml.MAX_ALIASES + 1)) + "]\n"
    assert problem(aliases).rule == "FLW003"


def test_small_aliases_are_fine():
    assert safeyaml.load_text("a: &a [1, 2]\nb: *a\nc: *a\n", "v") == {"a": [1, 2], "b": [1, 2], "c": [1, 2]}


@pytest.mark.parametrize("text", [
    "a: " + "[" * 5000 + "]" * 5000,
    "a: " + "{b: " * 3000 + "1" + "}" * 3000,
    "".join(f"{' ' * (2 * i)}k:\n" for i in range(400)),
])
def test_deep_nesting_is_refused(text):
    assert problem(text).rule == "FLW005"


def test_alias_chains_cannot_build_deep_trees():
    text = "a0: &a0 [1]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, 150))
    assert problem(text).rule == "FLW005"


@pytest.mark.parametrize("data, where", [
    (b"a: caf\xe9\n", (1, 7)),
    (b"a: 1\nb: \xff\xfe\n", (2, 4)),
])
def test_non_utf8_bytes_are_located(data, where):
    found = problem(data)
    assert found.rule == "FLW006" and (found.line, found.column) == where
    assert "not UTF-8" in found.message


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", b"\x00\x01\x02garbage", b"\xff\xfea\x00:\x00"])
def test_binary_garbage_is_not_yaml(data):
    assert problem(data).rule == "FLW006"


def test_control_characters_are_yaml_errors():
    found = problem("a: b\x07c\n")
    assert found.rule == "FLW001" and "#x0007" in found.message and found.line == 1


def test_utf8_bom_is_accepted():
    assert safeyaml.load_bytes(b"\xef\xbb\xbfa: 1\n", "v") == {"a": 1}


@pytest.mark.parametrize("text, kind", [("- a\n", "list"), ("just text\n", "string"), ("42\n", "number")])
def test_document_must_be_a_mapping(text, kind):
    found = problem(text)
    assert found.rule == "FLW008" and f"is a {kind}" in found.message


def test_several_documents_are_refused():
    assert problem("a: 1\n---\nb: 2\n").rule == "FLW009"


def test_unhashable_keys_are_yaml_errors():
    assert problem("? [a, b]\n: c\n").rule == "FLW001"


# --- through the command ---------------------------------------------------------------------


def test_missing_file(tmp_path):
    code, found = findings("-f", str(tmp_path / "nope.yaml"))
    assert code == 2 and found[0]["rule"] == "FLW007" and "not found" in found[0]["message"]


def test_directory_instead_of_file(tmp_path):
    code, found = findings("-f", str(tmp_path))
    assert code == 2 and found[0]["rule"] == "FLW007" and "directory" in found[0]["message"]


def test_unreadable_file(tmp_path, monkeypatch):
    path = tmp_path / "secret.yaml"
    path.write_text("a: 1\n")
    path.chmod(0)
    if os.geteuid() == 0:
        # root reads every file: make the read itself fail the way it does for other users.
        real_open = open

        def refusing_open(file, *args, **kwargs):
            if str(file) == str(path):
                raise PermissionError(13, "Permission denied", str(file))
            return real_open(file, *args, **kwargs)

        monkeypatch.setattr("builtins.open", refusing_open)
        real_read_bytes = Path.read_bytes
        monkeypatch.setattr(Path, "read_bytes", lambda self: refusing_open(self) if str(self) == str(path) else real_read_bytes(self))
    code, found = findings("-f", str(path))
    assert code == 2 and found[0]["rule"] == "FLW007"


def test_100_mb_file_is_refused_without_reading_it(tmp_path):
    path = tmp_path / "huge.yaml"
    with open(path, "wb") as handle:
        handle.truncate(100 * 1024 * 1024)  # sparse: 100 MB of NUL bytes on paper
    code, found = findings("-f", str(path))
    assert code == 2 and found[0]["rule"] == "FLW004"
    assert "100.0 MiB" in found[0]["message"] and "10.0 MiB" in found[0]["message"]


def test_oversized_stream_is_cut_at_the_cap(monkeypatch):
    """No file size to look at (a pipe): reading stops just past the cap."""
    data = b"a: " + b"x" * (safeyaml.MAX_BYTES + 100) + b"\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, found = findings("-f", "-")
    assert code == 2 and found[0]["rule"] == "FLW004" and found[0]["file"] == "<stdin>"


def test_large_but_allowed_file_with_real_text(tmp_path):
    path = tmp_path / "big.yaml"
    path.write_text("superlink:\n  podAnnotations:\n" + "".join(f"    k{i}: v{i}\n" for i in range(5_000)))
    code, found = findings("-f", str(path))
    assert code in (0, 1) and not [f for f in found if f["rule"] < "FLW100"]


def test_billion_laughs_file(tmp_path):
    path = tmp_path / "bomb.yaml"
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, 10)]
    path.write_text("\n".join(lines) + "\nsuperlink:\n  extraArgs: *a9\n")
    code, found = findings("-f", str(path))
    assert code == 2 and found[0]["rule"] == "FLW003" and found[0]["file"] == str(path)


def test_not_yaml_at_all(tmp_path):
    path = tmp_path / "page.yaml"
    path.write_text("<html><body>{{ not: yaml: at all }}</body>\n\t- nope\n")
    code, found = findings("-f", str(path))
    assert code == 2 and found[0]["rule"] == "FLW001" and found[0]["line"] >= 1


def test_every_bad_file_is_reported_at_once(tmp_path):
    bad1, bad2 = tmp_path / "a.yaml", tmp_path / "b.yaml"
    bad1.write_text("a: [\n")
    bad2.write_bytes(b"\x00\x00")
    code, found = findings("-f", str(bad1), "-f", str(bad2), "-f", str(tmp_path / "c.yaml"))
    assert code == 2 and [f["rule"] for f in found] == ["FLW001", "FLW006", "FLW007"]


def test_plain_output_names_file_line_and_column(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text("a: 1\na: 2\n")
    code, out, err = run("-f", str(path))
    assert code == 2 and f"{path}:2:1: error FLW002" in out and err == ""


def test_values_from_stdin(monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"superlink:\n  replicaCount: 2\n")))
    code, found = findings("-f", "-")
    assert code == 1 and any(f["rule"] == "FLW240" and f["file"] == "<stdin>" for f in found)


# --- property: random YAML never crashes the command ----------------------------------------

_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False),
                     st.text(max_size=20))
_keys = st.one_of(st.sampled_from(["global", "superlink", "hubAddon", "clientApp", "enabled", "tls", "mode",
                                   "exposure", "type", "host", "apps", "placements", "name", "resources",
                                   "requests", "limits", "cpu", "memory", "nodeConfig", "image", "tag",
                                   "matchLabels", "matchExpressions", "replicaCount", "persistence"]),
                  st.text(max_size=12))
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                        st.dictionaries(_keys, inner, max_size=5)),
                       max_leaves=25)
_documents = st.dictionaries(_keys, _values, max_size=6)


def _yaml_text(document: object) -> str:
    import yaml

    return yaml.safe_dump(document, allow_unicode=True)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=_documents)
def test_random_values_never_crash(tmp_path_factory, document):
    path = tmp_path_factory.mktemp("random") / "values.yaml"
    path.write_text(_yaml_text(document), encoding="utf-8")
    code, out, err = run("-f", str(path), "-o", "json")
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err and "internal error" not in err
    json.loads(out)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=st.text(alphabet=st.sampled_from(list("ab: -[]{},&*!|>'\"#\n\t?%@`\\0x.")), max_size=80))
def test_random_text_never_crashes(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("text") / "values.yaml"
    path.write_text(text, encoding="utf-8")
    code, out, err = run("-f", str(path), "-o", "json")
    assert code in (0, 1, 2), (code, err)
    assert "Traceback" not in err and "internal error" not in err


@settings(max_examples=60, deadline=None)
@given(data=st.binary(max_size=64))
def test_random_bytes_never_crash(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("bytes") / "values.yaml"
    path.write_bytes(data)
    code, _out, err = run("-f", str(path), "-o", "json")
    assert code in (0, 1, 2) and "Traceback" not in err and "internal error" not in err
