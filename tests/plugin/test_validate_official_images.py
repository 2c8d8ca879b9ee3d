"""FLW210: the tag of an official Flower image is its Flower version, however the repository is
written (flwr/superexec, docker.io/flwr/superexec, a mirror's <host>/flwr/superexec); an app's own
image (acme/app, docker.io/acme/flwr-app) is not official and its tag is the app's version.
(An official-image check that ignored docker.io/flwr/... passed every other test.)"""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest
import yaml

from helm_flower.cli import main

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "flower-federation"
HOST = {"superlink": {"exposure": {"host": "fl.example.com"}}}
OTHER_MINOR = "1.30.0"  # a Flower version no chart default has


def _chart_version() -> str:
    return yaml.safe_load((CHART / "values.yaml").read_text())["global"]["flower"]["version"]


def _flw210(tmp_path: Path, values: dict) -> list[dict]:
    path = tmp_path / "values.yaml"
    path.write_text(yaml.safe_dump({**HOST, **values}))
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        main(["validate", str(CHART), "-f", str(path), "-o", "json"])
    return [f for f in json.loads(out.getvalue())["findings"] if f["rule"] == "FLW210"]


OFFICIAL = ["flwr/superexec", "docker.io/flwr/superexec", "mirror.example.com/flwr/superexec",
            "mirror.example.com:5000/team/flwr/superexec"]
NOT_OFFICIAL = ["acme/app", "docker.io/acme/flwr-app", "flwr-superexec", "superexec"]


@pytest.mark.parametrize("repository", OFFICIAL)
def test_official_serverapp_image_of_another_minor(tmp_path: Path, repository: str) -> None:
    found = _flw210(tmp_path, {"superlink": {**HOST["superlink"], "serverApp": {
        "image": {"repository": repository, "tag": OTHER_MINOR}}}})
    assert [f["path"] for f in found] == ["$.superlink.serverApp.image.tag"], found
    assert f"ServerApp image tag \"{OTHER_MINOR}\" is Flower 1.30, global.flower.version is " in found[0]["message"]
    assert not _flw210(tmp_path, {"superlink": {**HOST["superlink"], "serverApp": {
        "image": {"repository": repository, "tag": _chart_version()}}}})


@pytest.mark.parametrize("repository", OFFICIAL)
def test_official_clientapp_image_of_another_minor(tmp_path: Path, repository: str) -> None:
    app = {"name": "a", "placements": [], "image": {"repository": repository, "tag": OTHER_MINOR}}
    found = _flw210(tmp_path, {"clientApp": {"apps": [app]}})
    assert [f["path"] for f in found] == ["$.clientApp.apps[0].image.tag"], found
    found = _flw210(tmp_path, {"clientApp": {"defaults": {"image": {"repository": repository, "tag": OTHER_MINOR}},
                                             "apps": [{"name": "a", "placements": []}]}})
    assert [f["path"] for f in found] == ["$.clientApp.defaults.image.tag"], found


@pytest.mark.parametrize("repository", NOT_OFFICIAL)
def test_an_apps_own_image_tag_is_its_own_version(tmp_path: Path, repository: str) -> None:
    app = {"name": "a", "placements": [], "image": {"repository": repository, "tag": OTHER_MINOR}}
    assert not _flw210(tmp_path, {"clientApp": {"apps": [app]}})
    assert not _flw210(tmp_path, {"superlink": {**HOST["superlink"], "serverApp": {
        "image": {"repository": repository, "tag": OTHER_MINOR}}}})
