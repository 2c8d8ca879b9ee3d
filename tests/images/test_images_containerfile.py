"""--containerfile: reproducible multi-stage Containerfiles FROM the chart's Flower SuperExec image,
the exact build / push / digest commands, overwrite protection, --check and --dry-run."""

from __future__ import annotations

import os
import re

import pytest

from images_helpers import DIGITS, FIXTURES, git
from helm_flower.images import containerfile as cf
from helm_flower.images.errors import ImagesError

OFFICIAL = "docker.io/flwr/superexec:1.42.0"
MIRROR = "registry.example.com/mirror/flwr/superexec:1.42.0-py3.11-ubuntu24.04"


def stages(text: str) -> list[list[str]]:
    """Instructions per stage (continuation lines joined, comments dropped)."""
    out: list[list[str]] = []
    for _, instruction in cf._logical_lines(text):
        if instruction.upper().startswith("FROM "):
            out.append([])
        if out:
            out[-1].append(instruction)
    return out


def check_reproducible_containerfile(text: str, base: str, requirement: str) -> None:
    assert text.startswith(cf.GENERATED_MARKER)
    assert "latest" not in text
    builder, final = stages(text)
    assert builder[0] == f"FROM {base} AS builder"
    assert final[0] == f"FROM {base}"
    # the builder builds wheels (app + dependencies), with flwr pinned to the federation's version
    assert any("pip wheel" in i and "--constraint /build-constraints.txt" in i for i in builder)
    assert any("flwr==%s" in i and "'1.42.0'" in i for i in builder)
    assert any(i.startswith("ARG SOURCE_DATE_EPOCH=") for i in builder)
    # the final stage: offline install of exactly those wheels from a bind mount, nothing built
    final_text = "\n".join(final)
    assert "ARG SOURCE_DATE_EPOCH=" in final_text and "SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH} python -m pip" \
        in final_text
    runs = [i for i in final if i.startswith("RUN ")]
    assert len(runs) == 1
    assert "--mount=type=bind,from=builder,source=/build,target=/tmp/build" in runs[0]
    assert "--no-index" in runs[0] and f"'{requirement}'" in runs[0]
    for tool in ("pip wheel", "apt-get", "apk ", "dnf ", "gcc", "build-essential", "hatchling", "COPY"):
        assert tool not in final_text, tool
    users = [i for i in final if i.startswith("USER ")]
    assert users == ["USER 49999:49999"]
    uid, gid = users[0].split()[1].split(":")
    assert int(uid) > 0 and int(gid) > 0
    assert final[-1] == 'ENTRYPOINT ["flower-superexec"]'
    assert "FLWR_TELEMETRY_ENABLED=0" in final_text


@pytest.fixture
def gpu_app(app_copy):
    return app_copy(FIXTURES / "gpu-app")


def test_containerfiles_for_app_and_gpu_variant(cli, gpu_app, tmp_path):
    values = tmp_path / "values.yaml"
    result = cli(gpu_app, "--variant", "gpu=gpu.Containerfile", "--registry", "reg.example.com", "--containerfile",
                 "-o", values)
    assert result.rc == 0, result.err
    base = (gpu_app / "Containerfile").read_text()
    variant = (gpu_app / "Containerfile.gpu").read_text()
    check_reproducible_containerfile(base, OFFICIAL, "gpu-app")
    # the variant keeps its own Containerfile's (mirrored, ARG-built) SuperExec base and installs the gpu extra
    check_reproducible_containerfile(variant, MIRROR, "gpu-app[gpu]")
    assert "'.[gpu]'" in variant
    # the variant's hand-written file is untouched
    assert (gpu_app / "gpu.Containerfile").read_text() == (FIXTURES / "gpu-app" / "gpu.Containerfile").read_text()
    assert values.is_file()
    out = result.out
    for ref, file, digest_file in (("reg.example.com/fixtures/gpu-app:0.4.1", gpu_app / "Containerfile",
                                    "gpu-app.digest"),
                                   ("reg.example.com/fixtures/gpu-app-gpu:0.4.1", gpu_app / "Containerfile.gpu",
                                    "gpu-app-gpu.digest")):
        assert (f"docker buildx build --platform linux/amd64 --provenance=false \\\n"
                f"  --build-arg SOURCE_DATE_EPOCH=") in out
        assert f"--output type=docker,name={ref},rewrite-timestamp=true \\\n  -f {file} {gpu_app}\n" in out
        assert f"docker push {ref}\n" in out
        assert f"docker buildx imagetools inspect {ref} --format" in out and f"> {digest_file}\n" in out
        assert f"-t {ref} -f {file} {gpu_app}\n" in out
        assert f"podman push --digestfile {digest_file} {ref}\n" in out
    assert "podman build --platform linux/amd64 --source-date-epoch" in out
    assert "--tag-from digest" in out
    assert "--digest gpu-app=$(cat gpu-app.digest)" in out and "--digest gpu-app:gpu=$(cat gpu-app-gpu.digest)" in out
    assert f"-o {values}" in out
    assert "no requirements.lock" in result.err


def test_generated_containerfile_is_a_valid_variant_base(cli, gpu_app):
    assert cli(gpu_app, "--containerfile").rc == 0
    base = cf.superexec_base(cf.final_base(str(gpu_app / "Containerfile")), "x", "1.42.0", "chart", required=True)
    assert base is not None and base.reference == OFFICIAL and base.version == "1.42.0"
    result = cli(gpu_app, "--variant", "again=Containerfile")
    assert result.rc == 0, result.err


def test_containerfile_output_is_deterministic(cli, gpu_app):
    args = (gpu_app, "--variant", "gpu=gpu.Containerfile", "--containerfile", "--platform", "linux/arm64")
    first = cli(*args)
    files = {p: p.read_bytes() for p in (gpu_app / "Containerfile", gpu_app / "Containerfile.gpu")}
    second = cli(*args)
    assert first.rc == second.rc == 0
    assert first.out == second.out and "--platform linux/arm64" in first.out
    assert {p: p.read_bytes() for p in files} == files
    assert "Containerfile: up to date" in second.err


def test_hand_written_containerfile_is_not_replaced_without_force(cli, app_copy, tmp_path):
    app = app_copy(DIGITS)
    original = (app / "Containerfile").read_text()
    values = tmp_path / "values.yaml"
    result = cli(app, "--containerfile", "-o", values)
    assert result.rc == 2
    assert "was not written by `helm flower images`" in result.err and "--force" in result.err
    assert (app / "Containerfile").read_text() == original
    assert not values.exists()  # nothing half-done
    result = cli(app, "--containerfile", "--force", "-o", values)
    assert result.rc == 0, result.err
    check_reproducible_containerfile((app / "Containerfile").read_text(), OFFICIAL, "digits")
    assert values.exists()
    # the digits .dockerignore keeps only what the build needs: a lock file must be let through
    (app / "requirements.lock").write_text("numpy==2.2.6\n")
    result = cli(app, "--containerfile")
    assert result.rc == 0
    assert "--constraint requirements.lock" in (app / "Containerfile").read_text()
    assert ".dockerignore: does not mention requirements.lock" in result.err


def test_check_and_dry_run_with_containerfiles(cli, gpu_app, tmp_path):
    values = tmp_path / "values.yaml"
    args = (gpu_app, "--variant", "gpu=gpu.Containerfile", "--containerfile", "-o", values)
    result = cli(*args, "--dry-run")
    assert result.rc == 0
    assert f"# ==> {values} <==" in result.out and f"# ==> {gpu_app / 'Containerfile.gpu'} <==" in result.out
    assert not values.exists() and not (gpu_app / "Containerfile").exists()
    assert cli(*args, "--check").rc == 1
    assert cli(*args).rc == 0
    assert cli(*args, "--check").rc == 0
    path = gpu_app / "Containerfile.gpu"
    path.write_text(path.read_text().replace("USER 49999:49999", "USER 0"))
    result = cli(*args, "--check")
    assert result.rc == 1
    assert "-USER 0\n" in result.out and "+USER 49999:49999\n" in result.out
    assert "USER 0" in path.read_text()


def test_epoch_comes_from_the_last_commit(cli, app_copy):
    app = app_copy(FIXTURES / "second-app")
    git(app, "init", "-q")
    git(app, "add", ".")
    git(app, "commit", "-q", "-m", "app")
    result = cli(app, "--containerfile", "--tag-from", "git")
    assert result.rc == 0, result.err
    assert "--build-arg SOURCE_DATE_EPOCH=1735787045" in result.out
    assert "--source-date-epoch 1735787045" in result.out
    commit = git(app, "rev-parse", "--short=12", "HEAD").strip()
    assert f"docker.io/acme-labs/second-app:{commit}" in result.out
    # an app outside git builds with the fixed 1980-01-01 epoch
    result = cli(FIXTURES / "second-app", "--containerfile", "--dry-run")
    assert f"SOURCE_DATE_EPOCH={cf.DEFAULT_EPOCH}" in result.out


@pytest.mark.parametrize(("text", "reference"), [
    ("FROM docker.io/flwr/superexec:1.42.0\n", "docker.io/flwr/superexec:1.42.0"),
    ("ARG V=1.42.3\nFROM --platform=$BUILDPLATFORM flwr/superexec:${V} AS b\nFROM b\n", "flwr/superexec:1.42.3"),
    ("ARG V\nFROM flwr/superexec:${V:-1.42.0}\n", "flwr/superexec:1.42.0"),
    ("FROM python:3.11 AS build\nRUN x \\\n  && y\nFROM flwr/superexec:1.42.0@sha256:" + "e" * 64 + "\n",
     "flwr/superexec:1.42.0@sha256:" + "e" * 64),
    ("# escape=`\nFROM flwr/superexec:1.42.0 AS a\nRUN echo `\n  hi\nfrom a\n", "flwr/superexec:1.42.0"),
])
def test_final_base_parser(tmp_path, text, reference):
    path = tmp_path / "Containerfile"
    path.write_text(text)
    base = cf.final_base(str(path))
    assert base.reference == reference
    assert cf.superexec_base(base, str(path), "1.42.0", "chart", required=True) is not None


@pytest.mark.parametrize(("text", "code"), [
    ("RUN echo\n", 2),
    ("FROM localhost:5000/flwr/superexec\n", 2),
    ("FROM flwr/superexec:nightly\n", 2),
    ("FROM flwr/superexec:1.43.0\n", 1),
    ("FROM flwr/superlink:1.42.0\n", 2),
])
def test_final_base_rejections(tmp_path, text, code):
    path = tmp_path / "Containerfile"
    path.write_text(text)
    with pytest.raises(ImagesError) as info:
        cf.superexec_base(cf.final_base(str(path)), str(path), "1.42.0", "chart", required=True)
    assert info.value.exit_code == code


def test_parse_reference():
    assert cf.parse_reference("localhost:5000/a/b:1@sha256:x") == ("localhost:5000", "a/b", "1", "sha256:x")
    assert cf.parse_reference("flwr/superexec") == ("", "flwr/superexec", "", "")
    assert cf.parse_reference("reg.io/flwr/superexec:1.42.0-py3.11") == ("reg.io", "flwr/superexec",
                                                                          "1.42.0-py3.11", "")


def test_no_latest_and_no_root_anywhere_in_the_final_images(cli, gpu_app):
    assert cli(gpu_app, "--variant", "gpu=gpu.Containerfile", "--containerfile").rc == 0
    for name in ("Containerfile", "Containerfile.gpu"):
        text = (gpu_app / name).read_text()
        assert not re.search(r":latest\b", text)
        final = stages(text)[-1]
        assert not any(i.startswith("USER") and i.split()[1].split(":")[0] in ("0", "root") for i in final)
    assert sorted(os.listdir(gpu_app)) == sorted(["Containerfile", "Containerfile.gpu", "cuda.Containerfile",
                                                  "gpu.Containerfile", "gpu_app", "latest.Containerfile",
                                                  "old.Containerfile", "pyproject.toml"])
