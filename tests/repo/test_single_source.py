"""One source of truth per fact: generated files and copies must not drift from their source."""
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
UMBRELLA = ROOT / "charts" / "flower-federation"


def flower_version() -> str:
    values = yaml.safe_load((UMBRELLA / "values.yaml").read_text())
    return values["global"]["flower"]["version"]


def test_chart_schemas_are_generated_from_schemas_dir():
    result = subprocess.run(
        [sys.executable, str(ROOT / "hack" / "gen_chart_schemas.py"), "--check"],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize("chart_yaml", sorted(UMBRELLA.glob("**/Chart.yaml")), ids=lambda p: p.parent.name)
def test_every_chart_app_version_is_the_flower_version(chart_yaml):
    assert yaml.safe_load(chart_yaml.read_text())["appVersion"] == flower_version()


def test_tooling_pins_the_chart_flower_version():
    requirements = (ROOT / "hack" / "requirements.in").read_text()
    assert f"flwr=={flower_version()}" in requirements.split()


def test_flower_apps_pin_the_chart_flower_version():
    pyprojects = sorted((ROOT / "flower-apps").glob("*/pyproject.toml"))
    assert pyprojects, "no Flower app found under flower-apps/"
    for pyproject in pyprojects:
        pins = re.findall(r'"flwr(?:\[[^\]]*\])?==([^"]+)"', pyproject.read_text())
        assert pins == [flower_version()], f"{pyproject}: flwr pins {pins}"


def test_subchart_defaults_are_valid_against_their_schema():
    import json

    import jsonschema

    umbrella_globals = yaml.safe_load((UMBRELLA / "values.yaml").read_text())["global"]
    for chart in (UMBRELLA / "charts").iterdir():
        schema_file = chart / "values.schema.json"
        if not schema_file.exists():
            continue
        schema = json.loads(schema_file.read_text())
        values = yaml.safe_load((chart / "values.yaml").read_text())
        values["global"] = {**umbrella_globals, **values.get("global", {})}  # Helm gives subcharts the umbrella's
        errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(values)]
        assert errors == [], f"{chart.name}: {errors}"


def test_schema_rejects_unknown_keys():
    import json

    import jsonschema

    schema = json.loads((UMBRELLA / "values.schema.json").read_text())
    values = {"global": yaml.safe_load((UMBRELLA / "values.yaml").read_text())["global"],
              "superlink": {"exposure": {"type": "ClusterIP", "typo": 1}}}
    errors = list(jsonschema.Draft7Validator(schema).iter_errors(values))
    assert [list(e.absolute_path) for e in errors] == [["superlink", "exposure"]]


def test_flower_version_table_copies_are_generated():
    result = subprocess.run([sys.executable, str(ROOT / "hack" / "gen_flower_versions.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_the_chart_default_is_the_tables_default_and_a_tested_release():
    table = yaml.safe_load((ROOT / "schemas" / "flower-versions.yaml").read_text())
    assert flower_version() == table["default"]
    minor = ".".join(table["default"].split(".")[:2])
    assert table["minors"][minor]["release"] == table["default"]


def _flower_table() -> dict:
    return yaml.safe_load((ROOT / "schemas" / "flower-versions.yaml").read_text())


def _pins(text: str) -> dict[str, str]:
    return {m.group(1).lower(): m.group(2) for m in re.finditer(r"^([A-Za-z0-9._-]+)==(\S+)", text, re.M)}


def test_every_supported_release_has_a_hash_locked_venv_and_no_other():
    """plugin/src/helm_flower/flower_locks/flwr-<release>.lock (what `helm flower rehearse` provisions
    and the venv .tools/flwr/<release> of make tools-test) exists for every release of schemas/flower-versions.yaml, pins exactly that flwr and the digits app's
    numpy and scikit-learn as hack/requirements.in does, every package with hashes; and there is no
    lock (or .in) for a release the table does not list."""
    releases = {m["release"] for m in _flower_table()["minors"].values()}
    flwr_dir = ROOT / "plugin" / "src" / "helm_flower" / "flower_locks"
    locks = {p.name[len("flwr-"):-len(".lock")]: p for p in flwr_dir.glob("flwr-*.lock")}
    ins = {p.name[len("flwr-"):-len(".in")]: p for p in flwr_dir.glob("flwr-*.in")}
    assert set(locks) == releases, f"locks for {sorted(locks)}, supported releases {sorted(releases)}"
    assert set(ins) == releases, f".in files for {sorted(ins)}, supported releases {sorted(releases)}"
    tooling = _pins((ROOT / "hack" / "requirements.in").read_text())
    for release, lock in sorted(locks.items()):
        text = lock.read_text()
        pins = _pins(text)
        assert pins.get("flwr") == release, f"{lock.name}: flwr=={pins.get('flwr')}"
        assert _pins(ins[release].read_text()) == {"flwr": release, "numpy": tooling["numpy"], "scikit-learn": tooling["scikit-learn"]}, ins[release].name
        for name in ("numpy", "scikit-learn"):
            assert pins.get(name) == tooling[name], f"{lock.name}: {name}=={pins.get(name)}, hack/requirements.in {tooling[name]}"
        # Every requirement block carries hashes (uv pip compile --generate-hashes).
        blocks = re.split(r"\n(?=[A-Za-z0-9._-]+==)", text.split("\n", 2)[2] if text.startswith("#") else text)
        unhashed = [b.split()[0] for b in blocks if "==" in b.split("\n", 1)[0] and "--hash=sha256:" not in b]
        assert not unhashed, f"{lock.name}: no hashes for {unhashed}"
        assert "--index-url" not in text and "--extra-index-url" not in text, f"{lock.name}: index URL in the lock"
