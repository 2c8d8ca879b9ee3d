#!/usr/bin/env python3
"""Build the Helm plugin archive dist/helm-flower-<version>.tgz (standard library only).

Layout: the plugin's files at the archive root AND again under helm-flower/, because Helm
versions disagree on where plugin.yaml must be: Helm 3 (installing from an http(s) URL; it
cannot install a local archive) expects it at the root; Helm 4 installing a local archive
expects <archive name without version>/plugin.yaml; Helm 4 from a URL accepts both.
The archive is reproducible: sorted entries, owner root, fixed mtimes (SOURCE_DATE_EPOCH,
default 1980-01-01), gzip without a timestamp. The package's data ships with it: flower_versions.json
and the Flower hash locks flower_locks/flwr-<release>.lock that rehearse provisions from. The
project's fleet schema (schemas/fleet.schema.json) and its offline OCM schemas (schemas/ocm/*.json,
when present) are bundled under schemas/.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import io
import os
import re
import sys
import tarfile
from pathlib import Path

PLUGIN = Path(__file__).resolve().parents[1]
REPO = PLUGIN.parent
NAME = "helm-flower"
FILES = ("plugin.yaml", "requirements.lock", "pyproject.toml", "README.md", "bin/helm-flower",
         "scripts/install.sh")
EXECUTABLE = ("bin/helm-flower", "scripts/install.sh")


def version() -> str:
    text = (PLUGIN / "plugin.yaml").read_text(encoding="utf-8")
    match = re.search(r"^version:\s*\"?([^\"\s]+)\"?\s*$", text, re.M)
    if not match:
        raise SystemExit("plugin.yaml has no version")
    found = match.group(1)
    pyproject = re.search(r'^version\s*=\s*"([^"]+)"', (PLUGIN / "pyproject.toml").read_text(encoding="utf-8"), re.M)
    package = re.search(r'__version__\s*=\s*"([^"]+)"',
                        (PLUGIN / "src" / "helm_flower" / "__init__.py").read_text(encoding="utf-8"))
    others = {"pyproject.toml": pyproject.group(1) if pyproject else None,
              "src/helm_flower/__init__.py": package.group(1) if package else None}
    wrong = {k: v for k, v in others.items() if v != found}
    if wrong:
        raise SystemExit(f"version mismatch: plugin.yaml has {found}, " +
                         ", ".join(f"{k} has {v}" for k, v in wrong.items()))
    return found


def members() -> list[tuple[str, Path]]:
    """(path in the plugin, file) for everything the installed plugin needs."""
    found = [(name, PLUGIN / name) for name in FILES if (PLUGIN / name).is_file()]
    for path in sorted((PLUGIN / "src").rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".json", ".typed", ".lock"):
            found.append((path.relative_to(PLUGIN).as_posix(), path))
    fleet = REPO / "schemas" / "fleet.schema.json"  # rehearse's --fleet format (helm_flower.fleet finds it there)
    found.append(("schemas/fleet.schema.json", fleet))
    schemas = REPO / "schemas" / "ocm"
    if schemas.is_dir():
        for path in sorted(schemas.glob("*.json")):
            found.append((f"schemas/ocm/{path.name}", path))
    return found


def build(output_dir: Path) -> Path:
    ver = version()
    epoch = int(os.environ.get("SOURCE_DATE_EPOCH", "315532800"))
    files = members()
    entries: list[tuple[str, bytes | None, int]] = []
    for prefix in ("", f"{NAME}/"):
        dirs = sorted({prefix + "/".join(name.split("/")[:i])
                       for name, _ in files for i in range(1, name.count("/") + 1)} | ({prefix.rstrip("/")} - {""}))
        entries += [(d, None, 0o755) for d in dirs]
        entries += [(prefix + name, path.read_bytes(), 0o755 if name in EXECUTABLE else 0o644) for name, path in files]
    entries.sort(key=lambda e: e[0])
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data, mode in entries:
            info = tarfile.TarInfo(name)
            info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = epoch, mode, 0, 0, "root", "root"
            if data is None:
                info.type = tarfile.DIRTYPE
                archive.addfile(info)
            else:
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    output_dir.mkdir(parents=True, exist_ok=True)
    target = output_dir / f"{NAME}-{ver}.tgz"
    packed = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=packed, mtime=0, compresslevel=9) as gz:
        gz.write(raw.getvalue())
    target.write_bytes(packed.getvalue())
    digest = hashlib.sha256(packed.getvalue()).hexdigest()
    (output_dir / f"{target.name}.sha256").write_text(f"{digest}  {target.name}\n", encoding="utf-8")
    return target


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build dist/helm-flower-<version>.tgz")
    parser.add_argument("output_dir", nargs="?", default=str(REPO / "dist"))
    args = parser.parse_args(argv)
    target = build(Path(args.output_dir))
    print(target)
    return 0


if __name__ == "__main__":
    sys.exit(main())
