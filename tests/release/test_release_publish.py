"""`make release` into a real OCI registry (issue #8).

One registry (docker-registry on 127.0.0.1, ephemeral port, htpasswd basic auth over TLS with a
self-signed CA) and one release per module; then, with Helm 4.1.4 and Helm 3.17.3 each:
`helm pull --verify`, `helm template oci://...`, a second release of the same version refused,
a tampered archive rejected, and the plugin archive installed with `helm plugin install` from a
release-asset URL and run (`helm flower --help`).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

import release_registry as reg_mod
from conftest import ROOT, TOOLS

pytestmark = pytest.mark.helm

CHART_META = yaml.safe_load((ROOT / "charts" / "flower-federation" / "Chart.yaml").read_text())
NAME, VERSION = CHART_META["name"], str(CHART_META["version"])
HELMS = {"helm4": TOOLS / "bin" / "helm4", "helm3": TOOLS / "bin" / "helm3"}


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def helm_env(base: Path) -> dict:
    """An isolated Helm home (registry logins, caches, plugins) under base."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("HELM_")}
    env.update(HELM_CONFIG_HOME=str(base / "config"), HELM_CACHE_HOME=str(base / "cache"),
               HELM_DATA_HOME=str(base / "data"), HELM_PLUGINS=str(base / "data" / "plugins"))
    return env


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("release")


@pytest.fixture(scope="module")
def registry(workdir):
    try:
        registry = reg_mod.start_registry(workdir / "registry")
    except FileNotFoundError as err:
        pytest.fail(str(err), pytrace=False)
    yield registry
    registry.stop()


@pytest.fixture(scope="module")
def signing_key(workdir):
    if shutil.which("gpg") is None:
        pytest.fail("gpg is not installed: " + reg_mod.INSTALL_HINT, pytrace=False)
    return reg_mod.make_signing_key(workdir / "key")


@pytest.fixture(scope="module")
def logged_in(workdir, registry):
    """helm -> isolated env, logged in to the registry with that Helm."""
    envs = {}
    for name, helm in HELMS.items():
        env = helm_env(workdir / f"home-{name}")
        result = subprocess.run([helm, "registry", "login", registry.host, "--username", registry.username,
                                 "--password-stdin", "--ca-file", registry.ca_file],
                                input=registry.password, capture_output=True, text=True, env=env)
        assert result.returncode == 0, result.stderr
        envs[name] = env
    return envs


def make_release(workdir, registry, signing_key, env, helm: Path, dist: Path) -> subprocess.CompletedProcess:
    # `-o tools`: the tools are installed already (make test did it); do not re-run the installers.
    return subprocess.run(
        ["make", "-C", str(ROOT), "--no-print-directory", "-o", "tools", "release",
         f"REGISTRY=oci://{registry.host}/charts", f"SIGN_KEY={signing_key.name}",
         f"KEYRING={signing_key.secring}", f"PASSPHRASE_FILE={signing_key.passphrase_file}",
         f"CA_FILE={registry.ca_file}", f"DIST={dist}", f"RELEASE_HELM={helm}"],
        capture_output=True, text=True, env=env, stdin=subprocess.DEVNULL)


@pytest.fixture(scope="module")
def released(workdir, registry, signing_key, logged_in):
    dist = workdir / "dist"
    result = make_release(workdir, registry, signing_key, logged_in["helm4"], HELMS["helm4"], dist)
    assert result.returncode == 0, f"make release failed:\n{result.stdout}\n{result.stderr}"
    return {"dist": dist, "stdout": result.stdout, "stderr": result.stderr,
            "manifest": json.loads((dist / "release.json").read_text())}


def test_release_prints_the_pushed_digests(released, registry, signing_key, plugin_installs):
    manifest, dist = released["manifest"], released["dist"]
    chart = manifest["chart"]
    tgz, prov = dist / f"{NAME}-{VERSION}.tgz", dist / f"{NAME}-{VERSION}.tgz.prov"
    assert chart["ref"] == f"oci://{registry.host}/charts/{NAME}:{VERSION}"
    assert chart["archiveDigest"] == f"sha256:{sha256(tgz)}"
    assert chart["provenanceDigest"] == f"sha256:{sha256(prov)}"
    assert re.fullmatch(r"sha256:[0-9a-f]{64}", chart["manifestDigest"])
    assert f"{chart['ref']}@{chart['manifestDigest']}" in released["stdout"]
    assert chart["archiveDigest"] in released["stdout"] and chart["provenanceDigest"] in released["stdout"]
    assert manifest["signKey"]["fingerprint"] == signing_key.fingerprint


def test_released_chart_names_the_signing_key_for_artifact_hub(released, signing_key):
    import tarfile

    with tarfile.open(released["dist"] / f"{NAME}-{VERSION}.tgz") as tar:
        meta = yaml.safe_load(tar.extractfile(f"{NAME}/Chart.yaml").read())
    sign_key = yaml.safe_load(meta["annotations"]["artifacthub.io/signKey"])
    assert sign_key["fingerprint"] == signing_key.fingerprint
    # and the source tree still holds the placeholder (filled only in the packaged copy)
    assert '"' + "0" * 40 + '"' in (ROOT / "charts" / NAME / "Chart.yaml").read_text()


@pytest.mark.parametrize("helm_name", HELMS)
def test_pull_verify(helm_name, released, registry, signing_key, logged_in, tmp_path):
    result = subprocess.run([HELMS[helm_name], "pull", f"oci://{registry.host}/charts/{NAME}", "--version", VERSION,
                             "--verify", "--keyring", signing_key.pubring, "--ca-file", registry.ca_file,
                             "-d", tmp_path], capture_output=True, text=True, env=logged_in[helm_name])
    assert result.returncode == 0, result.stderr
    assert signing_key.fingerprint in result.stdout + result.stderr
    pulled = tmp_path / f"{NAME}-{VERSION}.tgz"
    assert sha256(pulled) == sha256(released["dist"] / pulled.name), "the registry does not serve the signed bytes"


@pytest.mark.parametrize("helm_name", HELMS)
def test_template_from_the_registry_renders_the_umbrella(helm_name, released, registry, logged_in):
    result = subprocess.run([HELMS[helm_name], "template", "fed", f"oci://{registry.host}/charts/{NAME}",
                             "--version", VERSION, "--ca-file", registry.ca_file,
                             "--set", "superlink.exposure.host=flower.hub.example.com"],
                            capture_output=True, text=True, env=logged_in[helm_name])
    assert result.returncode == 0, result.stderr
    kinds = set(re.findall(r"^kind: (\S+)", result.stdout, re.M))
    assert {"Deployment", "ClusterManagementAddOn", "AddOnTemplate", "Placement", "ManifestWorkReplicaSet"} <= kinds


@pytest.mark.parametrize("helm_name", HELMS)
def test_second_release_of_the_same_version_is_refused(helm_name, released, workdir, registry, signing_key,
                                                        logged_in, tmp_path):
    before = subprocess.run([HELMS[helm_name], "pull", f"oci://{registry.host}/charts/{NAME}", "--version", VERSION,
                             "--ca-file", registry.ca_file, "-d", tmp_path],
                            capture_output=True, text=True, env=logged_in[helm_name])
    assert before.returncode == 0, before.stderr
    result = make_release(workdir, registry, signing_key, logged_in[helm_name], HELMS[helm_name], tmp_path / "dist")
    assert result.returncode != 0
    assert f"{NAME} {VERSION} already exists in oci://{registry.host}/charts: refusing to overwrite" in result.stderr
    assert not (tmp_path / "dist" / f"{NAME}-{VERSION}.tgz").exists(), "it packaged before refusing"
    assert "release: error" in result.stderr and "Error 3" in result.stderr  # make reports exit code 3


@pytest.mark.parametrize("helm_name", HELMS)
def test_tampered_archive_fails_verification(helm_name, released, registry, signing_key, logged_in, archive_mod,
                                             tmp_path):
    dist = released["dist"]
    entries = archive_mod.read_tgz(dist / f"{NAME}-{VERSION}.tgz")
    values_name = f"{NAME}/values.yaml"
    data, executable = entries[values_name]
    entries[values_name] = (data.replace(b"imageRegistry: \"\"", b"imageRegistry: \"evil.example\""), executable)
    assert entries[values_name][0] != data
    tampered = tmp_path / "upload" / f"{NAME}-{VERSION}.tgz"
    archive_mod.write_tgz(entries, tampered, 0)
    shutil.copy(dist / f"{NAME}-{VERSION}.tgz.prov", tampered.with_name(tampered.name + ".prov"))
    helm, env = HELMS[helm_name], logged_in[helm_name]

    local = subprocess.run([helm, "verify", "--keyring", signing_key.pubring, tampered],
                           capture_output=True, text=True, env=env)
    assert local.returncode != 0 and "sha256 sum does not match" in local.stderr

    # The same tampered archive with the genuine provenance, served by the registry: pull --verify refuses it.
    repo = f"oci://{registry.host}/tampered-{helm_name}"
    pushed = subprocess.run([helm, "push", tampered, repo, "--ca-file", registry.ca_file],
                            capture_output=True, text=True, env=env)
    assert pushed.returncode == 0, pushed.stderr
    (tmp_path / "pulled").mkdir()
    pulled = subprocess.run([helm, "pull", f"{repo}/{NAME}", "--version", VERSION, "--verify",
                             "--keyring", signing_key.pubring, "--ca-file", registry.ca_file, "-d", tmp_path / "pulled"],
                            capture_output=True, text=True, env=env)
    assert pulled.returncode != 0
    assert "sha256 sum does not match" in pulled.stderr


@pytest.fixture(scope="module")
def plugin_installs(released, signing_key, workdir):
    """`helm plugin install <release-asset URL>` with Helm 4 and Helm 3, started in the background
    as soon as the release exists: the plugin's install hook builds its Python environment with pip
    (a minute or more), so both run while the registry tests do."""
    plugin = released["manifest"]["plugin"]
    assert plugin, "the release built no plugin archive"
    url, stop = reg_mod.serve_directory(released["dist"])
    jobs = {}
    for helm_name, helm in HELMS.items():
        env = helm_env(workdir / f"plugin-home-{helm_name}")
        cmd = [str(helm), "plugin", "install", f"{url}/{plugin['archive']}"]
        if helm_name == "helm4":  # Helm 4 verifies a plugin tarball against the .prov beside it
            cmd += ["--keyring", str(signing_key.pubring)]
        jobs[helm_name] = (subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                            env=env, stdin=subprocess.DEVNULL), env)
    yield plugin, jobs
    for process, _ in jobs.values():
        if process.poll() is None:
            process.kill()
            process.wait()
    stop()


@pytest.mark.parametrize("helm_name", HELMS)
def test_plugin_archive_installs_and_runs(helm_name, plugin_installs):
    plugin, jobs = plugin_installs
    process, env = jobs[helm_name]
    output, _ = process.communicate(timeout=900)
    assert process.returncode == 0, output
    if helm_name == "helm4":
        assert "Plugin Hash Verified: " + plugin["digest"] in output
    helm = HELMS[helm_name]
    listed = subprocess.run([helm, "plugin", "list"], capture_output=True, text=True, env=env)
    assert re.search(r"^flower\s", listed.stdout, re.M), listed.stdout
    ran = subprocess.run([helm, "flower", "--help"], capture_output=True, text=True, env=env, timeout=120)
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert "usage: helm flower" in ran.stdout
