"""`helm flower connect` and the config.toml editor: the address from each exposure, the CA file
(mode 0600), other connections and comments untouched, atomic writes; read back by flwr itself."""

from __future__ import annotations

import json
import os
import stat
import tomllib
from pathlib import Path

import fleetgen
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from helm_flower.commands import connect
from helm_flower.hub.flwrconfig import FLWR_DEFAULT_CONFIG, TomlEditError, update_connection

NS = "flower"

EXISTING = """\
# my Flower connections -- hand-written, keep these comments
[superlink]
default = "local"   # the default one

[superlink.local]
address = ":local:"

# production federation
[superlink.fed]
address = "old.example.com:443"   # was the old ingress
insecure = true
federation = "@team/fed"

[superlink.fed.options]
num-supernodes = 2

[superlink.other]
address = "10.0.0.1:9093"
root-certificates = "/etc/ca.pem"
"""


def flwr_reads(home: Path, name: str):
    """The connection as flwr 1.41 itself parses it."""
    from flwr.cli.flower_config import read_superlink_connection

    old = os.environ.get("FLWR_HOME")
    os.environ["FLWR_HOME"] = str(home)
    try:
        return read_superlink_connection(name)
    finally:
        if old is None:
            del os.environ["FLWR_HOME"]
        else:
            os.environ["FLWR_HOME"] = old


@pytest.fixture
def flwr_home(tmp_path, monkeypatch) -> Path:
    home = tmp_path / "flwr-home"
    monkeypatch.setenv("FLWR_HOME", str(home))
    return home


def test_loadbalancer_new_config_file(make_hub, run_cmd, flwr_home):
    make_hub(fleetgen.small_fleet())
    rc, out, err = run_cmd(connect, ["connect", "fed", "-n", NS])
    assert rc == 0, err
    config = flwr_home / "config.toml"
    ca = flwr_home / "certificates" / "fed-ca.crt"
    assert stat.S_IMODE(ca.stat().st_mode) == 0o600
    assert ca.read_text() == fleetgen.CA_PEM
    doc = tomllib.loads(config.read_text())
    assert doc["superlink"]["fed"] == {"address": "203.0.113.10:443", "root-certificates": str(ca)}
    assert doc["superlink"]["default"] == "local" and "supergrid" in doc["superlink"]  # flwr's own defaults
    conn = flwr_reads(flwr_home, "fed")
    assert conn.address == "203.0.113.10:443" and conn.root_certificates == str(ca) and not conn.insecure
    assert "wrote connection 'fed'" in out and "(LoadBalancer)" in out


def test_update_keeps_other_connections_and_comments(make_hub, run_cmd, flwr_home):
    make_hub(fleetgen.small_fleet())
    flwr_home.mkdir()
    config = flwr_home / "config.toml"
    config.write_text(EXISTING)
    os.chmod(config, 0o640)
    rc, _, err = run_cmd(connect, ["connect", "fed", "-n", NS, "--set-default"])
    assert rc == 0, err
    text = config.read_text()
    ca = flwr_home / "certificates" / "fed-ca.crt"
    assert text == EXISTING.replace('default = "local"   # the default one', 'default = "fed"   # the default one') \
        .replace('address = "old.example.com:443"   # was the old ingress\ninsecure = true\nfederation = "@team/fed"\n',
                 f'address = "203.0.113.10:443"   # was the old ingress\nfederation = "@team/fed"\n'
                 f'root-certificates = "{ca}"\n')
    assert stat.S_IMODE(config.stat().st_mode) == 0o640  # mode of the existing file kept
    conn = flwr_reads(flwr_home, "fed")
    assert conn.federation == "@team/fed" and conn.options is not None
    assert flwr_reads(flwr_home, "other").root_certificates == "/etc/ca.pem"
    # Idempotent: a second run changes nothing.
    rc, _, _ = run_cmd(connect, ["connect", "fed", "-n", NS, "--set-default"])
    assert rc == 0 and config.read_text() == text


def test_fleet_gateway_exposure_means_port_forward(make_hub, run_cmd, flwr_home):
    spec = fleetgen.small_fleet()
    spec.gateway = True
    make_hub(spec)
    rc, out, err = run_cmd(connect, ["connect", "fed", "-n", NS, "--name", "prod", "-o", "json"])
    assert rc == 0, err
    data = json.loads(out)
    assert data["address"] == "127.0.0.1:9092" and data["via"] == "port-forward"
    assert data["portForward"] == "kubectl -n flower port-forward svc/fed-superlink 9092:9092"
    assert "carries the Fleet API only" in data["notes"][0]
    assert tomllib.loads((flwr_home / "config.toml").read_text())["superlink"]["prod"]["address"] == "127.0.0.1:9092"


@pytest.mark.parametrize("exposure,gateway,openshift,expected", [
    ("NodePort", False, False, "198.51.100.11:31092"),
    ("Ingress", False, False, "flower.example.com:443"),
    ("Ingress", True, False, "127.0.0.1:9092"),
    ("Route", False, True, "flower.example.com:443"),
    ("Route", True, True, "127.0.0.1:9092"),
    ("ClusterIP", False, False, "127.0.0.1:9092"),
])
def test_address_from_each_exposure(make_hub, run_cmd, flwr_home, exposure, gateway, openshift, expected):
    spec = fleetgen.small_fleet()
    spec.exposure, spec.gateway = exposure, gateway
    if exposure in ("Ingress", "Route"):
        spec.exposure_host = "flower.example.com"
    make_hub(spec, openshift=openshift)
    rc, out, err = run_cmd(connect, ["connect", "fed", "-n", NS, "-o", "json"])
    assert rc == 0, err
    assert json.loads(out)["address"] == expected


def test_address_override_and_pending_loadbalancer(make_hub, run_cmd, flwr_home):
    hub = make_hub(fleetgen.small_fleet())
    svc = hub.get("v1", "Service", "fed-superlink-fleet", NS)
    del svc["status"]
    hub.replace(svc)
    rc, _, err = run_cmd(connect, ["connect", "fed", "-n", NS])
    assert rc == 1 and "has no external address yet" in err
    assert not (flwr_home / "config.toml").exists()
    rc, _, err = run_cmd(connect, ["connect", "fed", "-n", NS, "--address", "fl.example.com:443"])
    assert rc == 0, err
    assert tomllib.loads((flwr_home / "config.toml").read_text())["superlink"]["fed"]["address"] == "fl.example.com:443"
    rc, _, err = run_cmd(connect, ["connect", "fed", "-n", NS, "--address", "https://x"])
    assert rc == 2 and "host:port" in err


def test_without_tls_needs_insecure(make_hub, run_cmd, flwr_home):
    spec = fleetgen.small_fleet()
    spec.tls = False
    make_hub(spec)
    rc, _, err = run_cmd(connect, ["connect", "fed", "-n", NS])
    assert rc == 2 and "ConfigMap fed-ca-bundle" in err and "--insecure" in err
    assert not flwr_home.exists() or not (flwr_home / "config.toml").exists()
    rc, _, err = run_cmd(connect, ["connect", "fed", "-n", NS, "--insecure"])
    assert rc == 0, err
    assert flwr_reads(flwr_home, "fed").insecure is True


def test_invalid_existing_config_is_left_alone(make_hub, run_cmd, flwr_home):
    make_hub(fleetgen.small_fleet())
    flwr_home.mkdir()
    (flwr_home / "config.toml").write_text("[superlink\nbroken")
    rc, _, err = run_cmd(connect, ["connect", "fed", "-n", NS])
    assert rc == 2 and "not valid TOML" in err
    assert (flwr_home / "config.toml").read_text() == "[superlink\nbroken"
    assert not (flwr_home / "certificates" / "fed-ca.crt").exists()  # nothing half-done


def test_missing_superlink_service(make_hub, run_cmd, flwr_home):
    hub = make_hub(fleetgen.small_fleet())
    hub.delete("v1", "Service", "fed-superlink", NS)
    rc, _, err = run_cmd(connect, ["connect", "fed", "-n", NS])
    assert rc == 2 and "no SuperLink Service fed-superlink" in err


def test_bad_connection_name(run_cmd):
    rc, _, err = run_cmd(connect, ["connect", "fed", "--name", "a.b"])
    assert rc == 2 and "letters, digits" in err


# --- the editor ------------------------------------------------------------------------------------


def edit(text: str, **kw) -> str:
    kw.setdefault("address", "h:1")
    kw.setdefault("root_certificates", "/ca.crt")
    return update_connection(text, kw.pop("name", "fed"), **kw)


def test_editor_appends_to_files_without_the_table():
    assert edit("") == '[superlink.fed]\naddress = "h:1"\nroot-certificates = "/ca.crt"\n'
    assert edit(FLWR_DEFAULT_CONFIG).startswith(FLWR_DEFAULT_CONFIG + "\n[superlink.fed]\n")
    assert edit("a = 1", set_default=True) == (  # [superlink] goes before its first sub-table
        'a = 1\n\n[superlink]\ndefault = "fed"\n\n[superlink.fed]\naddress = "h:1"\nroot-certificates = "/ca.crt"\n')


def test_editor_keeps_crlf_line_endings():
    text = '[superlink.fed]\r\naddress = "x"\r\n\r\n[superlink.b]\r\naddress = "y"\r\n'
    assert edit(text) == '[superlink.fed]\r\naddress = "h:1"\r\nroot-certificates = "/ca.crt"\r\n\r\n' \
                         '[superlink.b]\r\naddress = "y"\r\n'


def test_editor_ignores_lookalikes_in_strings_and_arrays():
    text = ('[tool]\nnote = """\n[superlink.fed]\naddress = "not me"\n"""\nlist = [\n  [1, 2],\n  "[superlink.fed]",\n]\n'
            "lit = '[superlink.fed]'\n\n[superlink . \"fed\"]  # quoted key, spaces\naddress = 'x' # c\n")
    new = edit(text)
    assert new.startswith(text.split("[superlink . ")[0])
    assert new.endswith('[superlink . "fed"]  # quoted key, spaces\naddress = "h:1" # c\nroot-certificates = "/ca.crt"\n')


def test_editor_refuses_dotted_keys_and_inline_tables():
    with pytest.raises(TomlEditError, match="dotted keys or an inline table"):
        edit('[superlink]\nfed.address = "x"\n')
    with pytest.raises(TomlEditError, match="dotted keys or an inline table"):
        edit('[superlink]\nfed = { address = "x" }\n')


def test_editor_multiline_values_in_the_table_are_replaced_whole():
    text = '[superlink.fed]\naddress = """\nmulti\n"""\nextra = [\n 1,\n 2,\n]\n'
    assert edit(text) == '[superlink.fed]\naddress = "h:1"\nextra = [\n 1,\n 2,\n]\nroot-certificates = "/ca.crt"\n'


def test_editor_escapes_values():
    new = edit("", root_certificates='/odd "dir"\\ca\x7f.crt')
    assert tomllib.loads(new)["superlink"]["fed"]["root-certificates"] == '/odd "dir"\\ca\x7f.crt'


KEY = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
SCALAR = st.one_of(st.integers(-1000, 1000), st.booleans(),
                   st.text(st.characters(blacklist_categories=("Cs",)), max_size=12))
COMMENT = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=15)


def _toml_scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    return json.dumps(v, ensure_ascii=False).replace("\x7f", "\\u007f")


@given(st.dictionaries(KEY, st.dictionaries(KEY, SCALAR, max_size=4), max_size=5), st.lists(COMMENT, max_size=5),
       st.booleans())
@settings(max_examples=100, deadline=None)
def test_editor_changes_only_the_one_connection(others, comments, has_fed):
    lines = [f"# {c}" for c in comments] + ["[superlink]", 'default = "local"', ""]
    for name, table in others.items():
        if name == "fed":
            continue
        lines.append(f"[superlink.{name}]  # {name}")
        lines += [f"{k} = {_toml_scalar(v)}" for k, v in table.items()]
        lines.append("")
    if has_fed:
        lines += ["[superlink.fed]", 'address = "old:1"', "insecure = true", "keep = 1", ""]
    text = "\n".join(lines) + "\n"
    new = edit(text)
    before, after = tomllib.loads(text), tomllib.loads(new)
    fed = after["superlink"].pop("fed")
    assert fed == {"address": "h:1", "root-certificates": "/ca.crt", **({"keep": 1} if has_fed else {})}
    before["superlink"].pop("fed", None)
    assert after == before
    kept = [l for l in text.splitlines() if "old:1" not in l and l != "insecure = true"]
    assert [l for l in new.splitlines() if l in kept] == kept  # every other line, in order
