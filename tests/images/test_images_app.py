"""Reading Flower apps (pyproject.toml): the real app, and clear exit-2 errors for everything else."""

from __future__ import annotations

import pytest

from images_helpers import DIGITS, FIXTURES
from helm_flower.images.app import read_app
from helm_flower.images.errors import ImagesError


def test_digits_is_read():
    app = read_app(str(DIGITS))
    assert (app.name, app.version, app.publisher) == ("digits", "1.0.0", "flower-ocm")
    assert (app.serverapp, app.clientapp) == ("digits.server_app:app", "digits.client_app:app")
    assert [str(r) for r in app.flwr_requirements()] == ["flwr==1.42.0"]


@pytest.mark.parametrize(("fixture", "expected"), [
    ("not-flower", ["not-flower/pyproject.toml", "not a Flower app", "[tool.flwr.app]"]),
    ("no-components", ["no-components/pyproject.toml", "[tool.flwr.app.components]", "missing",
                       "serverapp", "clientapp"]),
    ("malformed", ["malformed/pyproject.toml:5:14", "TOML syntax error", "Expected '='"]),
])
def test_fixture_errors_name_file_key_and_expectation(cli, fixture, expected):
    result = cli(FIXTURES / fixture)
    assert result.rc == 2
    assert result.out == ""
    assert result.err.startswith("helm flower: ")
    for text in expected:
        assert text in result.err
    assert "Traceback" not in result.err


def write(tmp_path, text):
    (tmp_path / "pyproject.toml").write_text(text)
    return tmp_path


APP_TAIL = """
[tool.flwr.app]
publisher = "p"
[tool.flwr.app.components]
serverapp = "a.s:app"
clientapp = "a.c:app"
"""


@pytest.mark.parametrize(("text", "message"), [
    ("[tool.flwr.app]\npublisher='p'\n", "no [project] table"),
    ("[project]\nversion='1'\n" + APP_TAIL, "[project] name: expected a non-empty string"),
    ("[project]\nname='a'\n" + APP_TAIL, "[project] version: missing"),
    ("[project]\nname='a'\nversion=1\n" + APP_TAIL, "[project] version: expected a non-empty string"),
    ("[project]\nname='a'\nversion='1'\ndependencies='flwr'\n" + APP_TAIL, "[project] dependencies: expected a list"),
    ("[project]\nname='a'\nversion='1'\ndependencies=['flwr>=>1']\n" + APP_TAIL, "dependencies[0] 'flwr>=>1'"),
    ("[project]\nname='a'\nversion='1'\n[tool.flwr.app.components]\nserverapp='a:b'\nclientapp='a:b'\n",
     "[tool.flwr.app] publisher: expected a non-empty string"),
    ("[project]\nname='a'\nversion='1'\n[tool.flwr.app]\npublisher='p'\n[tool.flwr.app.components]\n"
     "clientapp='a.c:app'\n", "[tool.flwr.app.components] serverapp: missing"),
    ("[project]\nname='a'\nversion='1'\n[tool.flwr.app]\npublisher='p'\n[tool.flwr.app.components]\n"
     "serverapp='a.s:app'\nclientapp='a/c.py'\n", "clientapp: 'a/c.py' is not \"module:object\""),
    ("[project]\nname='a'\nversion='1'\n[tool.flwr]\napp='x'\n", "not a Flower app"),
])
def test_pyproject_problems(tmp_path, text, message):
    with pytest.raises(ImagesError) as info:
        read_app(str(write(tmp_path, text)))
    assert info.value.exit_code == 2
    assert str(tmp_path / "pyproject.toml") in str(info.value)
    assert message in str(info.value)


def test_missing_directory_and_pyproject(cli, tmp_path):
    result = cli(tmp_path / "nope")
    assert result.rc == 2 and "not a directory" in result.err
    result = cli(tmp_path)
    assert result.rc == 2 and "pyproject.toml: not found" in result.err


def test_not_utf8(tmp_path):
    (tmp_path / "pyproject.toml").write_bytes(b"[project]\nname = '\xff'\n")
    with pytest.raises(ImagesError, match="not UTF-8"):
        read_app(str(tmp_path))


def test_toml_error_at_end_of_document(tmp_path):
    with pytest.raises(ImagesError, match="TOML syntax error") as info:
        read_app(str(write(tmp_path, "[project\n")))
    assert info.value.exit_code == 2


def test_dynamic_version_needs_another_tag_source(cli, tmp_path):
    app = write(tmp_path, "[project]\nname='dyn'\ndynamic=['version']\ndependencies=['flwr==1.42.0']\n" + APP_TAIL)
    result = cli(app)
    assert result.rc == 2 and "version is dynamic" in result.err and "--tag-from git" in result.err
    digest = "sha256:" + "a" * 64
    result = cli(app, "--tag-from", "digest", "--digest", f"dyn={digest}")
    assert result.rc == 0, result.err
    assert "flower.ai/app-version" not in result.out
    assert digest in result.out
