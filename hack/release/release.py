#!/usr/bin/env python3
"""Release the flower-federation chart (issue #8): package reproducibly, sign, push to an OCI
registry, and build the `helm flower` plugin archive.

    release.py package        [--out dist]        deterministic, unsigned chart archive
    release.py plugin-archive [--out dist]        deterministic plugin archive (dist/helm-flower-V.tgz)
    release.py release --registry oci://host/path --sign-key NAME --keyring secring.gpg
                      [--passphrase-file F] [--plain-http] [--ca-file CA] [--sign-key-url URL]

`release` (what `make release` runs):
 1. refuses when the chart version already exists in the registry (`helm show chart`; a registry
    silently overwrites a pushed tag, so this is the only guard);
 2. `ct lint` (hack/lint/lint.sh with the Helm that packages; `make lint` uses Helm 4 and 3):
    the registry check replaces the version-bump check, which compares with the target branch
    and belongs to pull requests;
 3. `helm package --sign --key --keyring` on a staged copy of the chart whose
    artifacthub.io/signKey annotation carries the signing key's real fingerprint;
 4. repacks Helm's archive deterministically (Helm writes embedded subcharts in Go map order and
    stamps file mtimes: two `helm package` runs differ), and re-signs Helm's own provenance message
    with the digest of the repacked archive, using the same key through GnuPG (Helm has no command
    that signs an existing archive). `helm verify` then checks it before anything is pushed;
 5. pushes the chart with its provenance (`helm push` uploads the .prov beside the .tgz), then pulls
    it back with `helm pull --verify` against the exported public key;
 6. builds the plugin archive and signs it the same way (Helm 4 verifies plugin tarballs against a
    .prov beside them). OCI registries cannot take a plugin through `helm push` (it wants a
    Chart.yaml), so the plugin archive is a release asset (the release workflow attaches it);
 7. prints the pushed digests and writes them to dist/release.json.
Exit codes: 0 released, 3 version already in the registry, 2 usage or registry errors, 1 other.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import archive  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
CHART = ROOT / "charts" / "flower-federation"
PLUGIN = ROOT / "plugin"
DEFAULT_HELM = ROOT / ".tools" / "bin" / "helm"
# Placeholders in the umbrella's artifacthub.io/signKey annotation, filled in the staged copy.
SIGNKEY_FINGERPRINT_PLACEHOLDER = "0" * 40
SIGNKEY_URL_PLACEHOLDER = "https://example.invalid/flower-ocm/signing-key.asc"
EXIT_EXISTS = 3
EXIT_USAGE = 2


class ReleaseError(Exception):
    def __init__(self, message: str, code: int = 1):
        super().__init__(message)
        self.code = code


def log(message: str) -> None:
    print(f"[release] {message}", file=sys.stderr, flush=True)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], capture_output=True, text=True, **kwargs)


def chart_meta(chart: Path = CHART) -> dict:
    import yaml

    return yaml.safe_load((chart / "Chart.yaml").read_text())


def plugin_meta(plugin: Path = PLUGIN) -> dict:
    import yaml

    path = plugin / "plugin.yaml"
    if not path.is_file():
        raise ReleaseError(f"{path} is missing: the helm flower plugin is not ready to package")
    return yaml.safe_load(path.read_text())


# --------------------------------------------------------------------------- packaging
def package_chart(helm: Path, out_dir: Path, work: Path, chart: Path = CHART, sign: dict | None = None,
                  fill_sign_key: tuple[str, str] | None = None) -> tuple[Path, Path | None]:
    """helm package (optionally --sign) a staged copy, then repack deterministically into out_dir.
    Returns (archive, helm's provenance or None)."""
    staged = work / "stage" / chart.name
    shutil.rmtree(staged.parent, ignore_errors=True)
    shutil.copytree(chart, staged, symlinks=False)
    if fill_sign_key:
        fingerprint, url = fill_sign_key
        chart_yaml = staged / "Chart.yaml"
        text = chart_yaml.read_text()
        text = text.replace(SIGNKEY_FINGERPRINT_PLACEHOLDER, fingerprint)
        if url:
            text = text.replace(SIGNKEY_URL_PLACEHOLDER, url)
        chart_yaml.write_text(text)
    helm_out = work / "helm-package"
    shutil.rmtree(helm_out, ignore_errors=True)
    helm_out.mkdir(parents=True)
    cmd = [helm, "package", staged, "-d", helm_out]
    if sign:
        cmd += ["--sign", "--key", sign["key"], "--keyring", sign["keyring"]]
        if sign.get("passphrase_file"):
            cmd += ["--passphrase-file", sign["passphrase_file"]]
    result = run(cmd, stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise ReleaseError(f"helm package failed:\n{result.stderr.strip()}")
    meta = chart_meta(staged)
    name = f"{meta['name']}-{meta['version']}.tgz"
    helm_tgz = helm_out / name
    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / name
    archive.repack(helm_tgz, target)
    prov = helm_out / (name + ".prov")
    return target, (prov if prov.exists() else None)


def build_plugin_archive(out_dir: Path, plugin: Path = PLUGIN) -> Path:
    """The plugin's own builder (plugin/tools/build_archive.py): one archive layout, which both
    Helms install and which carries the offline OCM schemas `validate --rendered` defaults to."""
    spec = importlib.util.spec_from_file_location("plugin_build_archive", plugin / "tools" / "build_archive.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    return builder.build(out_dir)


# --------------------------------------------------------------------------- signing
class Signer:
    """The signing key of a legacy (exported) secret keyring, imported into a throwaway GnuPG home."""

    def __init__(self, keyring: Path, key_name: str, passphrase_file: Path | None):
        self.home = Path(tempfile.mkdtemp(prefix="flower-release-gnupg-"))
        os.chmod(self.home, 0o700)
        self.passphrase_file = passphrase_file
        self._gpg(["--import", str(keyring)], "import the keyring")
        listing = self._gpg(["--with-colons", "--list-secret-keys"], "list secret keys").stdout
        candidates, current = [], None
        for line in listing.splitlines():
            fields = line.split(":")
            if fields[0] == "sec":
                current = {"uids": []}
                candidates.append(current)
            elif fields[0] == "fpr" and current is not None and "fpr" not in current:
                current["fpr"] = fields[9]
            elif fields[0] == "uid" and current is not None:
                current["uids"].append(fields[9])
        matches = [c for c in candidates if any(key_name in uid for uid in c["uids"]) or c.get("fpr") == key_name]
        if len(matches) != 1:
            found = "; ".join(", ".join(c["uids"]) for c in candidates) or "no secret keys"
            raise ReleaseError(f"SIGN_KEY {key_name!r} must match exactly one secret key in {keyring} "
                               f"(found {len(matches)}; keyring holds: {found})", EXIT_USAGE)
        self.fingerprint = matches[0]["fpr"]
        self.uid = matches[0]["uids"][0]

    def _gpg(self, args: list[str], what: str, **kwargs) -> subprocess.CompletedProcess:
        cmd = ["gpg", "--homedir", str(self.home), "--batch", "--no-tty", "--pinentry-mode", "loopback"]
        if self.passphrase_file:
            cmd += ["--passphrase-file", str(self.passphrase_file)]
        result = run(cmd + args, stdin=subprocess.DEVNULL, **kwargs)
        if result.returncode != 0:
            raise ReleaseError(f"gpg could not {what}:\n{result.stderr.strip()}")
        return result

    def clearsign(self, message: str, out: Path) -> None:
        src = self.home / "message.txt"
        src.write_text(message)
        self._gpg(["--yes", "--digest-algo", "SHA512", "--local-user", self.fingerprint + "!",
                   "--clearsign", "--output", str(out), str(src)], "sign")

    def export_public(self, out_binary: Path, out_armored: Path) -> None:
        self._gpg(["--yes", "--output", str(out_binary), "--export", self.fingerprint], "export the public key")
        self._gpg(["--yes", "--armor", "--output", str(out_armored), "--export", self.fingerprint],
                  "export the public key")

    def close(self) -> None:
        subprocess.run(["gpgconf", "--homedir", str(self.home), "--kill", "gpg-agent"], capture_output=True)
        shutil.rmtree(self.home, ignore_errors=True)


def provenance_message(prov_text: str) -> str:
    """The signed plain text of a clear-signed provenance file (dash-escaping undone)."""
    match = re.search(r"-----BEGIN PGP SIGNED MESSAGE-----\n(?:[^\n]+\n)*\n(.*?)-----BEGIN PGP SIGNATURE-----",
                      prov_text, re.S)
    if not match:
        raise ReleaseError("cannot read Helm's provenance file")
    lines = match.group(1).split("\n")
    return "\n".join(line[2:] if line.startswith("- ") else line for line in lines)


def with_file_digest(message: str, archive_path: Path) -> str:
    """Helm's provenance message ('<metadata>\\n...\\nfiles:\\n  <name>: sha256:<hex>') for archive_path."""
    metadata, sep, _ = message.partition("\n...\n")
    if not sep:
        raise ReleaseError("unexpected provenance message layout (no '...' separator)")
    return f"{metadata}\n...\nfiles:\n  {archive_path.name}: sha256:{sha256(archive_path)}\n"


def plugin_provenance_message(meta: dict, archive_path: Path) -> str:
    import yaml

    metadata = yaml.safe_dump({k: meta[k] for k in ("name", "version", "usage", "description") if k in meta},
                              sort_keys=True, default_flow_style=False)
    return f"{metadata}\n...\nfiles:\n  {archive_path.name}: sha256:{sha256(archive_path)}\n"


# --------------------------------------------------------------------------- registry
def registry_flags(args) -> list[str]:
    flags = []
    if args.plain_http:
        flags.append("--plain-http")
    if args.ca_file:
        flags += ["--ca-file", str(args.ca_file)]
    return flags


def version_exists(helm: Path, ref: str, version: str, flags: list[str]) -> bool:
    result = run([helm, "show", "chart", ref, "--version", version, *flags], stdin=subprocess.DEVNULL)
    if result.returncode == 0:
        return True
    if re.search(r"\bnot found\s*$", result.stderr.strip(), re.I | re.M):
        return False
    raise ReleaseError(f"cannot tell whether {ref}:{version} exists (log in with `helm registry login`?):\n"
                       f"{result.stderr.strip()}", EXIT_USAGE)


def release(args) -> int:
    helm = Path(args.helm)
    registry = args.registry.rstrip("/")
    if not registry.startswith("oci://"):
        raise ReleaseError(f"REGISTRY must be oci://host/path, got {args.registry!r}", EXIT_USAGE)
    for what, value in (("SIGN_KEY", args.sign_key), ("KEYRING", args.keyring)):
        if not value:
            raise ReleaseError(f"{what} is required", EXIT_USAGE)
    keyring = Path(args.keyring).resolve()
    if not keyring.is_file():
        raise ReleaseError(f"KEYRING {keyring} does not exist", EXIT_USAGE)
    passphrase_file = Path(args.passphrase_file).resolve() if args.passphrase_file else None
    out_dir = Path(args.out).resolve()
    meta = chart_meta()
    name, version = meta["name"], meta["version"]
    ref = f"{registry}/{name}"
    flags = registry_flags(args)

    dirty = run(["git", "-C", ROOT, "status", "--porcelain", "--", "charts", "plugin"]).stdout.strip()
    if dirty:
        log("warning: uncommitted changes under charts/ or plugin/: the archives reflect the working tree")

    log(f"checking that {ref}:{version} is not in the registry yet")
    if version_exists(helm, ref, version, flags):
        raise ReleaseError(f"{name} {version} already exists in {registry}: refusing to overwrite it "
                           f"(a registry silently replaces a pushed tag). Bump `version` in "
                           f"charts/{name}/Chart.yaml.", EXIT_EXISTS)

    if not args.skip_lint:
        log("linting (hack/lint/lint.sh: ct lint; the registry check above replaces the version-bump check)")
        lint = subprocess.run(["bash", str(ROOT / "hack" / "lint" / "lint.sh"), "--no-version-check",
                               "--helm", str(helm)], stdout=sys.stderr)
        if lint.returncode != 0:
            raise ReleaseError("lint failed: nothing was packaged or pushed")

    work = Path(tempfile.mkdtemp(prefix="flower-release-"))
    secret_tmp = None
    if passphrase_file is None and os.environ.get("HELM_KEY_PASSPHRASE"):
        secret_tmp = work / "passphrase"
        secret_tmp.write_text(os.environ["HELM_KEY_PASSPHRASE"])
        os.chmod(secret_tmp, 0o600)
        passphrase_file = secret_tmp
    signer = Signer(keyring, args.sign_key, passphrase_file)
    try:
        pubring, pubkey_asc = out_dir / "signing-key.gpg", out_dir / "signing-key.asc"
        out_dir.mkdir(parents=True, exist_ok=True)
        signer.export_public(pubring, pubkey_asc)
        log(f"signing key {signer.uid} ({signer.fingerprint})")

        sign = {"key": args.sign_key, "keyring": keyring, "passphrase_file": passphrase_file}
        tgz, helm_prov = package_chart(helm, out_dir, work, sign=sign,
                                       fill_sign_key=(signer.fingerprint, args.sign_key_url))
        if helm_prov is None:
            raise ReleaseError("helm package --sign wrote no provenance file")
        prov = tgz.with_name(tgz.name + ".prov")
        signer.clearsign(with_file_digest(provenance_message(helm_prov.read_text()), tgz), prov)
        verify = run([helm, "verify", "--keyring", pubring, tgz])
        if verify.returncode != 0:
            raise ReleaseError(f"helm verify rejected the signed archive:\n{verify.stderr.strip()}")
        log(f"packaged and signed {tgz.name} sha256:{sha256(tgz)}")

        plugin_tgz = plugin_prov = None
        if not args.skip_plugin:
            plugin_tgz = build_plugin_archive(out_dir, args.plugin_dir)
            plugin_prov = plugin_tgz.with_name(plugin_tgz.name + ".prov")
            signer.clearsign(plugin_provenance_message(plugin_meta(args.plugin_dir), plugin_tgz), plugin_prov)
            log(f"plugin archive {plugin_tgz.name} sha256:{sha256(plugin_tgz)}")

        push = run([helm, "push", tgz, registry, *flags], stdin=subprocess.DEVNULL)
        if push.returncode != 0:
            raise ReleaseError(f"helm push failed:\n{push.stderr.strip()}", EXIT_USAGE)
        pushed = push.stdout + push.stderr
        digest = re.search(r"Digest:\s*(sha256:[0-9a-f]{64})", pushed)
        if not digest:
            raise ReleaseError(f"helm push printed no digest:\n{pushed}")
        manifest_digest = digest.group(1)

        check_dir = work / "pulled"
        check_dir.mkdir()
        pulled = run([helm, "pull", ref, "--version", version, "--verify", "--keyring", pubring,
                      "-d", check_dir, *flags], stdin=subprocess.DEVNULL)
        if pulled.returncode != 0:
            raise ReleaseError(f"the pushed chart does not verify (helm pull --verify):\n{pulled.stderr.strip()}")

        result = {
            "chart": {"name": name, "version": version, "ref": f"{ref}:{version.replace('+', '_')}",
                      "manifestDigest": manifest_digest, "archive": tgz.name,
                      "archiveDigest": f"sha256:{sha256(tgz)}", "provenanceDigest": f"sha256:{sha256(prov)}"},
            "signKey": {"fingerprint": signer.fingerprint, "uid": signer.uid,
                        "public": [pubring.name, pubkey_asc.name]},
            "plugin": None if plugin_tgz is None else {
                "archive": plugin_tgz.name, "digest": f"sha256:{sha256(plugin_tgz)}",
                "provenance": plugin_prov.name, "published": "release asset (not pushed to the OCI registry)"},
        }
        (out_dir / "release.json").write_text(json.dumps(result, indent=2) + "\n")
        print(f"released {name} {version}")
        print(f"  chart      {result['chart']['ref']}@{manifest_digest}")
        print(f"  layers     chart {result['chart']['archiveDigest']}  provenance {result['chart']['provenanceDigest']}")
        print(f"  signed by  {signer.uid} {signer.fingerprint}")
        if plugin_tgz is not None:
            print(f"  plugin     {plugin_tgz} {result['plugin']['digest']} (+ .prov; release asset, not pushed)")
        print(f"  manifest   {out_dir / 'release.json'}")
        return 0
    finally:
        signer.close()
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- CLI
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("package", "plugin-archive", "release"):
        p = sub.add_parser(name)
        p.add_argument("--out", default=str(ROOT / "dist"), help="output directory (default dist/)")
        p.add_argument("--helm", default=os.environ.get("HELM") or str(DEFAULT_HELM))
        p.add_argument("--plugin-dir", type=Path, default=PLUGIN, help="the plugin's directory (default plugin/)")
    sub.choices["package"].add_argument("--chart", type=Path, default=CHART, help="chart directory (default: the umbrella)")
    rel = sub.choices["release"]
    rel.add_argument("--registry", required=True)
    rel.add_argument("--sign-key", default="")
    rel.add_argument("--keyring", default="")
    rel.add_argument("--passphrase-file", default="")
    rel.add_argument("--plain-http", action="store_true")
    rel.add_argument("--ca-file", default="")
    rel.add_argument("--sign-key-url", default="", help="URL of the public key for artifacthub.io/signKey")
    rel.add_argument("--skip-plugin", action="store_true", help="do not build the plugin archive")
    rel.add_argument("--skip-lint", action="store_true", help="do not run hack/lint/lint.sh first")
    args = parser.parse_args(argv)
    try:
        if args.command == "package":
            work = Path(tempfile.mkdtemp(prefix="flower-package-"))
            try:
                tgz, _ = package_chart(Path(args.helm), Path(args.out).resolve(), work, chart=args.chart.resolve())
            finally:
                shutil.rmtree(work, ignore_errors=True)
            print(f"{tgz} sha256:{sha256(tgz)}")
            return 0
        if args.command == "plugin-archive":
            tgz = build_plugin_archive(Path(args.out).resolve(), args.plugin_dir)
            print(f"{tgz} sha256:{sha256(tgz)}")
            return 0
        return release(args)
    except ReleaseError as err:
        print(f"release: error: {err}", file=sys.stderr)
        return err.code


if __name__ == "__main__":
    sys.exit(main())
