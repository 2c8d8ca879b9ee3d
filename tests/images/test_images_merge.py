"""-o FILE: merging keeps comments and unrelated keys, --check reports drift, writes are atomic."""

from __future__ import annotations

import os
import string

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from images_helpers import CHART, DIGITS, FIXTURES
from helm_flower.chart import load_chart
from helm_flower.images import valuesdoc
from helm_flower.images.app import read_app
from helm_flower.images.context import load_context
from helm_flower.images.plan import Options, build_plan

EXISTING = """\
# Production values of the federation (hand-written).
global:
  flower:
    version: "1.42.0"   # keep in step with the apps
superlink:
  exposure:
    type: LoadBalancer
    host: flower.example.com  # DNS name managed clusters dial
  serverApp:
    image:
      repository: old/repo   # replaced
      pullPolicy: IfNotPresent  # mine: stays
    appLabels:
      team: ml   # my own label
    extraEnv:
      - name: LOG_LEVEL
        value: debug
hubAddon:
  placements:
    - name: cpu
      clusterSets: [default]
    - name: gpu   # clusters with GPUs
      clusterSets: [gpu]
clientApp:
  apps:
    # an app maintained by hand
    - name: legacy
      image:
        repository: acme/legacy
        tag: "0.9"
      placements: [cpu]
    - name: gpu-app-gpu
      image:
        registry: old.example.com
        repository: x/y
        tag: stale
      placements: [cpu]
      # GPU scheduling is mine
      nodeSelector:
        nvidia.com/gpu.present: "true"
      resources:
        limits:
          nvidia.com/gpu: "1"
"""


@pytest.fixture
def existing(tmp_path):
    path = tmp_path / "values.yaml"
    path.write_text(EXISTING)
    return path


ARGS = [FIXTURES / "gpu-app", "--variant", "gpu=gpu.Containerfile", "--placement-map", "gpu-app:gpu=gpu",
        "--registry", "reg.example.com"]


def test_merge_keeps_comments_and_unrelated_keys(cli, existing):
    result = cli(*ARGS, "-o", existing)
    assert result.rc == 0, result.err
    assert result.out == ""
    text = existing.read_text()
    for comment in ("# Production values of the federation (hand-written).", "# keep in step with the apps",
                    "# DNS name managed clusters dial", "# mine: stays", "# my own label", "# clusters with GPUs",
                    "# an app maintained by hand", "# GPU scheduling is mine"):
        assert comment in text, comment
    values = yaml.safe_load(text)
    assert values["superlink"]["exposure"] == {"type": "LoadBalancer", "host": "flower.example.com"}
    server = values["superlink"]["serverApp"]
    assert server["image"] == {"repository": "fixtures/gpu-app", "pullPolicy": "IfNotPresent",
                               "registry": "reg.example.com", "tag": "0.4.1"}
    assert server["appLabels"]["team"] == "ml"
    assert server["appLabels"]["flower.ai/app-name"] == "gpu-app"
    assert server["extraEnv"] == [{"name": "LOG_LEVEL", "value": "debug"}]
    apps = values["clientApp"]["apps"]
    assert [a["name"] for a in apps] == ["legacy", "gpu-app-gpu", "gpu-app"]
    assert apps[0] == {"name": "legacy", "image": {"repository": "acme/legacy", "tag": "0.9"}, "placements": ["cpu"]}
    gpu = apps[1]
    assert gpu["image"] == {"registry": "reg.example.com", "repository": "fixtures/gpu-app-gpu", "tag": "0.4.1"}
    assert gpu["placements"] == ["gpu"]
    assert gpu["nodeSelector"] == {"nvidia.com/gpu.present": "true"}
    assert gpu["resources"] == {"limits": {"nvidia.com/gpu": "1"}}
    assert gpu["appLabels"]["flower.ai/variant"] == "gpu"
    assert apps[2]["placements"] == ["cpu"]  # the placements of the file, not the chart's default
    # a flow-style list stays flow style
    assert "placements: [gpu]" in text
    # the hand-written parts of the file are byte-identical
    assert text.startswith(EXISTING[:EXISTING.index("  serverApp:")])


def test_rerun_is_a_no_op_and_check_passes(cli, existing):
    assert cli(*ARGS, "-o", existing).rc == 0
    first = existing.read_bytes()
    mtime = existing.stat().st_mtime_ns
    result = cli(*ARGS, "-o", existing)
    assert result.rc == 0 and "up to date" in result.err
    assert existing.read_bytes() == first
    assert existing.stat().st_mtime_ns == mtime  # not even rewritten
    result = cli(*ARGS, "-o", existing, "--check")
    assert result.rc == 0, result.out + result.err
    assert result.out == ""


def test_check_fails_after_a_hand_edit_with_a_diff(cli, existing):
    assert cli(*ARGS, "-o", existing).rc == 0
    existing.write_text(existing.read_text().replace("tag: 0.4.1", "tag: 0.4.0", 1))
    edited = existing.read_bytes()
    result = cli(*ARGS, "-o", existing, "--check")
    assert result.rc == 1
    assert "drift" in result.err
    assert result.out.startswith(f"--- {existing} (current)\n+++ {existing} (generated)\n")
    assert "-      tag: 0.4.0\n" in result.out and "+      tag: 0.4.1\n" in result.out
    assert existing.read_bytes() == edited  # --check writes nothing


def test_check_ignores_the_users_own_keys(cli, existing):
    assert cli(*ARGS, "-o", existing).rc == 0
    text = existing.read_text().replace("        tag: \"0.9\"\n", "        tag: \"1.0\"\n")
    text += "extra:\n  mine: true\n"
    existing.write_text(text)
    assert cli(*ARGS, "-o", existing, "--check").rc == 0


def test_check_of_a_missing_file_is_drift(cli, tmp_path):
    result = cli(DIGITS, "-o", tmp_path / "none.yaml", "--check")
    assert result.rc == 1 and "does not exist" in result.out
    assert not (tmp_path / "none.yaml").exists()


def test_new_file_equals_stdout(cli, tmp_path):
    out = tmp_path / "new" / "values.yaml"
    out.parent.mkdir()
    assert cli(DIGITS, "-o", out).rc == 0
    assert out.read_text() == cli(DIGITS).out
    assert out.read_text().startswith("# Images of the Flower apps, written by `helm flower images`")


def test_removed_digest_and_changed_tag_are_replaced(cli, tmp_path):
    out = tmp_path / "values.yaml"
    digest = "sha256:" + "c" * 64
    assert cli(DIGITS, "--digest", f"digits={digest}", "-o", out).rc == 0
    assert digest in out.read_text()
    assert cli(DIGITS, "-o", out).rc == 0
    assert "digest" not in out.read_text()
    assert cli(DIGITS, "--tag-from", "digest", "--digest", f"digits={digest}", "-o", out).rc == 0
    values = yaml.safe_load(out.read_text())
    assert values["clientApp"]["apps"][0]["image"] == {"registry": "docker.io", "repository": "flower-ocm/digits",
                                                       "digest": digest}


def test_stale_generated_entry_is_kept_with_a_warning(cli, tmp_path):
    out = tmp_path / "values.yaml"
    app = FIXTURES / "gpu-app"
    assert cli(app, "--variant", "gpu=gpu.Containerfile", "-o", out, "--placement-map", "gpu-app=default",
               "-f", _two_placements(tmp_path)).rc == 0
    result = cli(app, "-o", out)
    assert result.rc == 0
    assert "'gpu-app-gpu' is labelled as app 'gpu-app' but was not generated" in result.err
    assert [a["name"] for a in yaml.safe_load(out.read_text())["clientApp"]["apps"]] == ["gpu-app", "gpu-app-gpu"]


def _two_placements(tmp_path):
    path = tmp_path / "placements.yaml"
    path.write_text("hubAddon:\n  placements: [{name: default}, {name: gpu}]\n")
    return path


@pytest.mark.parametrize("app", ["flwr-old", "malformed", "not-flower"])
def test_nothing_is_written_on_error(cli, existing, app):
    before = existing.read_bytes()
    result = cli(FIXTURES / app, "-o", existing)
    assert result.rc in (1, 2)
    assert existing.read_bytes() == before
    assert sorted(os.listdir(existing.parent)) == ["values.yaml"]


def test_failed_replace_leaves_the_old_file_and_no_temp_file(cli, existing, monkeypatch):
    before = existing.read_bytes()

    def broken_replace(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    result = cli(*ARGS, "-o", existing)
    assert result.rc == 2 and "No space left on device" in result.err
    assert existing.read_bytes() == before
    assert sorted(os.listdir(existing.parent)) == ["values.yaml"]


def test_file_mode_is_kept(cli, existing):
    existing.chmod(0o640)
    assert cli(*ARGS, "-o", existing).rc == 0
    assert existing.stat().st_mode & 0o777 == 0o640


@pytest.mark.parametrize(("text", "message"), [
    ("a: [1\n", "invalid YAML"),
    ("a: 1\na: 2\n", "duplicate"),
    ("- 1\n- 2\n", "not a mapping"),
    ("superlink: [1]\n", "superlink is a"),
    ("clientApp:\n  apps: {a: 1}\n", "clientApp.apps is a"),
    ("a: 1\n---\nb: 2\n", "more than one YAML document"),
])
def test_unusable_values_file(cli, tmp_path, text, message):
    path = tmp_path / "values.yaml"
    path.write_text(text)
    result = cli(DIGITS, "-o", path)
    assert result.rc == 2
    assert message in result.err or message in result.err.replace("'", "")
    assert path.read_text() == text


def test_explicit_document_start_and_sequence_indent_are_kept(cli, tmp_path):
    path = tmp_path / "values.yaml"
    path.write_text("---\n# mine\nhubAddon:\n  placements:\n  - name: default\n")
    assert cli(DIGITS, "-o", path).rc == 0
    text = path.read_text()
    assert text.startswith("---\n# mine\nhubAddon:\n  placements:\n  - name: default\n")
    assert "  apps:\n  - name: digits\n" in text


def test_null_sections_are_filled(cli, tmp_path):
    path = tmp_path / "values.yaml"
    path.write_text("superlink:\nclientApp:\n  apps:\n")
    assert cli(DIGITS, "-o", path).rc == 0
    values = yaml.safe_load(path.read_text())
    assert values["clientApp"]["apps"][0]["name"] == "digits"
    assert values["superlink"]["serverApp"]["image"]["repository"] == "flower-ocm/digits"


def test_schema_problems_elsewhere_in_the_file_are_warnings(cli, tmp_path):
    path = tmp_path / "values.yaml"
    path.write_text("superlink:\n  replicaCount: many\n")
    result = cli(DIGITS, "-o", path)
    assert result.rc == 0
    assert "warning:" in result.err and "superlink.replicaCount" in result.err


# ---- property: any unrelated content survives a merge, and a second merge changes nothing ----

_PLAN = build_plan([read_app(str(DIGITS))], load_context(load_chart(str(CHART)), []), Options())
_KEYS = st.text(alphabet="abcdefgh_.-/", min_size=1, max_size=6).filter(
    lambda k: k not in ("superlink", "clientApp") and k[0].isalpha())
_SCALARS = st.one_of(st.integers(-5, 10**6), st.booleans(), st.none(),
                     st.text(alphabet=string.ascii_letters + string.digits + " :#-'\".", max_size=12))
_TREES = st.recursive(_SCALARS, lambda c: st.lists(c, max_size=3) | st.dictionaries(_KEYS, c, max_size=3),
                      max_leaves=12)
_OTHER_APPS = st.lists(st.fixed_dictionaries({"name": st.sampled_from(["alpha", "beta", "gamma-1"]),
                                              "replicas": st.integers(0, 3)}),
                       max_size=2, unique_by=lambda a: a["name"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(top=st.dictionaries(_KEYS, _TREES, max_size=4), others=_OTHER_APPS,
       flow=st.booleans(), indent=st.sampled_from([2, 4]), comments=st.integers(0, 3))
def test_merge_keeps_unrelated_content_and_is_idempotent(tmp_path, top, others, flow, indent, comments):
    data = dict(top)
    if others:
        data["clientApp"] = {"apps": others, "enabled": True}
    text = yaml.safe_dump(data, default_flow_style=flow, indent=indent, sort_keys=False) if data else ""
    text = "".join(f"# comment {i}\n" for i in range(comments)) + text
    path = tmp_path / "values.yaml"
    path.write_text(text)
    doc = valuesdoc.load(str(path))
    valuesdoc.apply(doc, _PLAN)
    merged = valuesdoc.dump(doc)
    after = yaml.safe_load(merged)
    for key, value in top.items():
        assert after[key] == value
    names = [a["name"] for a in after["clientApp"]["apps"]]
    assert names == [a["name"] for a in others] + ["digits"]
    for other in others:
        assert other in after["clientApp"]["apps"]
    for i in range(comments):
        assert f"# comment {i}\n" in merged
    path.write_text(merged)
    again = valuesdoc.load(str(path))
    valuesdoc.apply(again, _PLAN)
    assert valuesdoc.dump(again) == merged
