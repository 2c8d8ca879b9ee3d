"""The values fragment: image names, tags, digests, labels, placements, variants, several apps;
the chart's JSON schema; determinism; flag errors."""

from __future__ import annotations

import json
import re

import jsonschema
import pytest
import yaml

from images_helpers import CHART, DIGITS, FIXTURES, git
from helm_flower import values as values_mod
from helm_flower.chart import load_chart

DIGEST_A = "sha256:" + "a" * 64
DIGEST_B = "sha256:" + "b" * 64
LABEL_VALUE = re.compile(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$")


def values_of(result):
    assert result.rc == 0, result.err
    return yaml.safe_load(result.out)


def assert_schema_valid(fragment: dict) -> None:
    """The fragment merged with the chart's defaults (as Helm coalesces them) passes values.schema.json."""
    chart = load_chart(str(CHART))
    user, layers = values_mod.user_values([("fragment", fragment)], [], [])
    merged = values_mod.compute(chart, user, layers).values
    schema = json.loads((CHART / "values.schema.json").read_text())
    jsonschema.Draft7Validator(schema).validate(merged)


def test_single_app_fragment(cli):
    values = values_of(cli(DIGITS, "--registry", "ghcr.io/acme"))
    image = {"registry": "ghcr.io", "repository": "acme/flower-ocm/digits", "tag": "1.0.0"}
    labels = {"flower.ai/app-name": "digits", "flower.ai/app-publisher": "flower-ocm",
              "flower.ai/app-version": "1.0.0", "flower.ai/flower-version": "1.42.0"}
    assert values == {
        "superlink": {"serverApp": {"image": image, "appLabels": labels}},
        "clientApp": {"apps": [{"name": "digits", "image": image, "placements": ["default"], "appLabels": labels}]},
    }
    assert_schema_valid(values)


def test_default_registry_is_docker_hub(cli):
    values = values_of(cli(DIGITS))
    assert values["clientApp"]["apps"][0]["image"]["registry"] == "docker.io"
    assert values["clientApp"]["apps"][0]["image"]["repository"] == "flower-ocm/digits"


@pytest.mark.parametrize(("registry", "host", "repository"), [
    ("registry.example.com", "registry.example.com", "flower-ocm/digits"),
    ("localhost:5000/team/ml/", "localhost:5000", "team/ml/flower-ocm/digits"),
    ("[::1]:5000", "[::1]:5000", "flower-ocm/digits"),
])
def test_registry_host_and_path(cli, registry, host, repository):
    image = values_of(cli(DIGITS, "--registry", registry))["superlink"]["serverApp"]["image"]
    assert (image["registry"], image["repository"]) == (host, repository)


@pytest.mark.parametrize("registry", ["https://ghcr.io", "ghcr.io/Acme", "bad_host!", ""])
def test_bad_registry(cli, registry):
    result = cli(DIGITS, "--registry", registry)
    assert result.rc == 2 and "--registry" in result.err


def test_two_apps_first_is_serverapp(cli):
    values = values_of(cli(DIGITS, FIXTURES / "second-app", "--registry", "reg.example.com"))
    assert values["superlink"]["serverApp"]["image"]["repository"] == "flower-ocm/digits"
    apps = values["clientApp"]["apps"]
    assert [a["name"] for a in apps] == ["digits", "second-app"]
    assert apps[1]["image"] == {"registry": "reg.example.com", "repository": "acme-labs/second-app", "tag": "2.3.0"}
    assert apps[1]["appLabels"]["flower.ai/app-publisher"] == "acme-labs"
    assert_schema_valid(values)


def test_explicit_serverapp(cli):
    values = values_of(cli(DIGITS, FIXTURES / "second-app", "--serverapp", "second-app"))
    assert values["superlink"]["serverApp"]["image"]["repository"] == "acme-labs/second-app"
    assert values["superlink"]["serverApp"]["appLabels"]["flower.ai/app-name"] == "second-app"
    result = cli(DIGITS, "--serverapp", "nope")
    assert result.rc == 2 and "no app named 'nope'" in result.err


def test_same_app_twice_or_same_name(cli, app_copy):
    assert cli(DIGITS, DIGITS).rc == 2
    other = app_copy(DIGITS, "digits-copy")
    result = cli(DIGITS, other)
    assert result.rc == 2 and "same name" in result.err


def test_gpu_variant_with_its_own_containerfile(cli):
    app = FIXTURES / "gpu-app"
    values = values_of(cli(app, "--variant", f"gpu={app / 'gpu.Containerfile'}", "--registry", "reg.example.com"))
    apps = {a["name"]: a for a in values["clientApp"]["apps"]}
    assert list(apps) == ["gpu-app", "gpu-app-gpu"]
    assert apps["gpu-app-gpu"]["image"]["repository"] == "fixtures/gpu-app-gpu"
    assert apps["gpu-app-gpu"]["appLabels"]["flower.ai/variant"] == "gpu"
    assert "flower.ai/variant" not in apps["gpu-app"]["appLabels"]
    assert "flower.ai/variant" not in values["superlink"]["serverApp"]["appLabels"]
    # the ServerApp runs the base image, never a variant
    assert values["superlink"]["serverApp"]["image"]["repository"] == "fixtures/gpu-app"
    assert_schema_valid(values)


def test_variant_containerfile_relative_to_app_dir(cli):
    result = cli(FIXTURES / "gpu-app", "--variant", "gpu=gpu.Containerfile")
    assert result.rc == 0, result.err


@pytest.mark.parametrize(("containerfile", "rc", "message"), [
    ("old.Containerfile", 1, "is Flower 1.40, the chart's global.flower.version is 1.42.0"),
    ("cuda.Containerfile", 2, "is not a Flower SuperExec image"),
    ("latest.Containerfile", 2, "'latest'"),
    ("missing.Containerfile", 2, "not found"),
])
def test_variant_base_must_be_superexec_of_the_same_minor(cli, containerfile, rc, message):
    result = cli(FIXTURES / "gpu-app", "--variant", f"gpu={containerfile}")
    assert result.rc == rc, result.err
    assert message in result.err


def test_variant_from_with_arg_without_default(cli, tmp_path, app_copy):
    app = app_copy(FIXTURES / "gpu-app")
    (app / "x.Containerfile").write_text("ARG V\nFROM docker.io/flwr/superexec:${V}\n")
    result = cli(app, "--variant", "x=x.Containerfile")
    assert result.rc == 2 and "$V" in result.err


def test_app_containerfile_of_another_minor_is_a_finding(cli, app_copy):
    app = app_copy(DIGITS)
    text = (app / "Containerfile").read_text().replace("ARG FLWR_VERSION=1.42.0", "ARG FLWR_VERSION=1.40.0")
    (app / "Containerfile").write_text(text)
    result = cli(app)
    assert result.rc == 1 and "is Flower 1.40" in result.err


def test_placement_map(cli, tmp_path):
    values_file = tmp_path / "values.yaml"
    values_file.write_text("hubAddon:\n  placements:\n    - name: cpu\n    - name: gpu\n    - name: edge\n")
    app = FIXTURES / "gpu-app"
    values = values_of(cli(app, "--variant", "gpu=gpu.Containerfile", "--placement-map", "gpu-app:gpu=gpu",
                           "-f", values_file))
    apps = {a["name"]: a["placements"] for a in values["clientApp"]["apps"]}
    # the base image gets every placement the variant does not claim
    assert apps == {"gpu-app": ["cpu", "edge"], "gpu-app-gpu": ["gpu"]}
    values = values_of(cli(app, "--variant", "gpu=gpu.Containerfile", "--placement-map", "gpu-app:gpu=gpu,edge",
                           "--placement-map", "gpu-app=cpu", "-f", values_file))
    apps = {a["name"]: a["placements"] for a in values["clientApp"]["apps"]}
    assert apps == {"gpu-app": ["cpu"], "gpu-app-gpu": ["gpu", "edge"]}


@pytest.mark.parametrize(("flags", "message"), [
    (["--placement-map", "gpu-app:gpu=nope"], "'nope' is not a SuperNode placement"),
    (["--placement-map", "gpu-app:gpu=default"], "every placement (default) is mapped to another image"),
    (["--placement-map", "gpu-app:gpu=default", "--placement-map", "gpu-app=default"], "mapped to both"),
    (["--placement-map", "gpu-app:cpu=default"], "has no variant 'cpu'"),
    (["--placement-map", "other=default"], "no app named 'other'"),
    (["--placement-map", "gpu-app"], "expected APP[:VARIANT]=PLACEMENT"),
])
def test_placement_map_errors(cli, flags, message):
    result = cli(FIXTURES / "gpu-app", "--variant", "gpu=gpu.Containerfile", *flags)
    assert result.rc == 2, result.err
    assert message in result.err


def test_manual_install_strategy_takes_no_placements(cli, tmp_path):
    values_file = tmp_path / "values.yaml"
    values_file.write_text("hubAddon:\n  installStrategy: Manual\n  clusters: [{name: c1}]\n")
    values = values_of(cli(DIGITS, "-f", values_file))
    assert values["clientApp"]["apps"][0]["placements"] == []
    result = cli(DIGITS, "-f", values_file, "--placement-map", "digits=default")
    assert result.rc == 2 and "installStrategy is Manual" in result.err
    result = cli(FIXTURES / "gpu-app", "--variant", "gpu=gpu.Containerfile", "-f", values_file)
    assert result.rc == 2 and "side by side" in result.err


def test_digests(cli):
    app = FIXTURES / "gpu-app"
    values = values_of(cli(app, "--variant", "gpu=gpu.Containerfile", "--digest", f"gpu-app={DIGEST_A}",
                           "--digest", f"gpu-app:gpu={DIGEST_B}"))
    apps = {a["name"]: a["image"] for a in values["clientApp"]["apps"]}
    assert apps["gpu-app"]["digest"] == DIGEST_A and apps["gpu-app"]["tag"] == "0.4.1"
    assert apps["gpu-app-gpu"]["digest"] == DIGEST_B
    assert values["superlink"]["serverApp"]["image"]["digest"] == DIGEST_A
    assert_schema_valid(values)


def test_tag_from_digest(cli):
    app = FIXTURES / "gpu-app"
    result = cli(app, "--variant", "gpu=gpu.Containerfile", "--tag-from", "digest", "--digest", f"gpu-app={DIGEST_A}")
    assert result.rc == 2 and "no --digest for gpu-app:gpu" in result.err
    values = values_of(cli(app, "--variant", "gpu=gpu.Containerfile", "--tag-from", "digest",
                           "--digest", f"gpu-app={DIGEST_A}", "--digest", f"gpu-app:gpu={DIGEST_B}"))
    for item in values["clientApp"]["apps"]:
        assert "tag" not in item["image"] and item["image"]["digest"] in (DIGEST_A, DIGEST_B)
    assert_schema_valid(values)


@pytest.mark.parametrize(("flag", "message"), [
    ("digits=sha256:abc", "is not a digest"),
    (f"digits={DIGEST_A.upper()}", "is not a digest"),
    (f"digits:gpu={DIGEST_A}", "has no variant 'gpu'"),
    (f"nope={DIGEST_A}", "no app named 'nope'"),
])
def test_bad_digests(cli, flag, message):
    result = cli(DIGITS, "--digest", flag)
    assert result.rc == 2 and message in result.err


def test_tag_from_git(cli, app_copy):
    app = app_copy(DIGITS)
    result = cli(app, "--tag-from", "git")
    assert result.rc == 2 and "needs a git repository" in result.err
    git(app, "init", "-q")
    git(app, "add", ".")
    git(app, "commit", "-q", "-m", "app")
    commit = git(app, "rev-parse", "--short=12", "HEAD").strip()
    values = values_of(cli(app, "--tag-from", "git"))
    assert values["clientApp"]["apps"][0]["image"]["tag"] == commit
    assert values["clientApp"]["apps"][0]["appLabels"]["flower.ai/app-version"] == "1.0.0"
    # untracked files do not matter, changed tracked files do
    (app / "notes.txt").write_text("untracked\n")
    assert cli(app, "--tag-from", "git").rc == 0
    with open(app / "digits" / "task.py", "a") as handle:
        handle.write("# edit\n")
    result = cli(app, "--tag-from", "git")
    assert result.rc == 2 and "changed since the last commit" in result.err and "task.py" in result.err


def test_odd_names_are_sanitised(cli):
    values = values_of(cli(FIXTURES / "odd-names"))
    item = values["clientApp"]["apps"][0]
    assert item["name"] == "odd-names-app"
    assert item["image"]["tag"] == "1.2.3_build.7"
    assert re.fullmatch(r"[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*",
                        item["image"]["repository"])
    for value in item["appLabels"].values():
        assert len(value) <= 63 and LABEL_VALUE.match(value), value
    assert item["appLabels"]["flower.ai/app-publisher"].startswith("ACME-Research")
    assert_schema_valid(values)


def test_entry_name_too_long(cli, tmp_path):
    (tmp_path / "pyproject.toml").write_text(
        "[project]\nname='" + "a" * 50 + "'\nversion='1'\ndependencies=['flwr==1.42.0']\n[tool.flwr.app]\n"
        "publisher='p'\n[tool.flwr.app.components]\nserverapp='x.s:app'\nclientapp='x.c:app'\n")
    assert cli(tmp_path).rc == 0
    (tmp_path / "v.Containerfile").write_text("FROM docker.io/flwr/superexec:1.42.0\n")
    result = cli(tmp_path, "--variant", "gpu=v.Containerfile")
    assert result.rc == 2 and "longer than 53" in result.err


@pytest.mark.parametrize("flags", [
    ["--variant", "GPU=gpu.Containerfile"],
    ["--variant", "gpu"],
    ["--variant", "gpu=gpu.Containerfile", "--variant", "gpu=gpu.Containerfile"],
    ["--tag-from", "branch"],
    ["--check"],
    ["--force"],
])
def test_usage_errors_exit_2(cli, flags):
    assert cli(FIXTURES / "gpu-app", *flags).rc == 2


def test_variant_prefix_needed_with_several_apps(cli):
    result = cli(FIXTURES / "gpu-app", DIGITS, "--variant", "gpu=gpu.Containerfile")
    assert result.rc == 2 and "prefix the app" in result.err
    result = cli(FIXTURES / "gpu-app", DIGITS, "--variant", "gpu-app:gpu=gpu.Containerfile")
    assert result.rc == 0, result.err


def test_output_is_deterministic(cli, tmp_path):
    args = [DIGITS, FIXTURES / "gpu-app", "--variant", "gpu-app:gpu=gpu.Containerfile", "--registry", "r.example"]
    first, second = cli(*args), cli(*args)
    assert first.rc == 0 and first.out == second.out
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    assert cli(*args, "-o", a).rc == 0 and cli(*args, "-o", b).rc == 0
    assert a.read_bytes() == b.read_bytes() == first.out.encode()
