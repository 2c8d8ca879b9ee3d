"""Reproducible .tgz archives: sorted entries, one fixed mtime, uid/gid 0, no owner names,
normalised modes (0644, or 0755 for executables), gzip header mtime 0 and no file name.

`helm package` is not reproducible: it writes the embedded subcharts in Go map order (it changes
from run to run) and stamps every entry with the file's mtime (it changes with every checkout).
`repack()` rewrites Helm's archive deterministically, with the same file contents.

    python hack/release/archive.py repack IN.tgz OUT.tgz

The plugin archive has one builder, the plugin's own: plugin/tools/build_archive.py.
"""
from __future__ import annotations

import gzip
import io
import os
import subprocess
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

def source_date_epoch() -> int:
    """SOURCE_DATE_EPOCH when set, else the commit time of HEAD, else 0."""
    env = os.environ.get("SOURCE_DATE_EPOCH")
    if env:
        return int(env)
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%ct"],
                             capture_output=True, text=True, check=True).stdout.strip()
        return int(out) if out else 0
    except (OSError, subprocess.CalledProcessError, ValueError):
        return 0


def write_tgz(entries: dict[str, tuple[bytes, bool]], out: Path, mtime: int, directories: bool = False) -> None:
    """entries: archive name -> (content, executable). Written sorted by name. With directories,
    every parent directory gets its own entry first (Helm 3's plugin installer needs them; Helm's
    chart archives have none)."""
    raw = io.BytesIO()
    names = set(entries)
    if directories:
        for name in entries:
            parts = name.split("/")[:-1]
            names |= {"/".join(parts[:i]) + "/" for i in range(1, len(parts) + 1)}
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for name in sorted(names):
            if name.endswith("/"):
                info = tarfile.TarInfo(name.rstrip("/"))
                info.type, info.mode, info.mtime = tarfile.DIRTYPE, 0o755, int(mtime)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                tar.addfile(info)
                continue
            data, executable = entries[name]
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = int(mtime)
            info.mode = 0o755 if executable else 0o644
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.type = tarfile.REGTYPE
            tar.addfile(info, io.BytesIO(data))
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    with open(tmp, "wb") as fh:
        with gzip.GzipFile(filename="", mode="wb", fileobj=fh, compresslevel=9, mtime=0) as gz:
            gz.write(raw.getvalue())
    tmp.replace(out)


def read_tgz(path: Path) -> dict[str, tuple[bytes, bool]]:
    entries = {}
    with tarfile.open(path, "r:gz") as tar:
        for member in tar.getmembers():
            if member.isdir():
                continue
            if not member.isfile():
                raise ValueError(f"{path}: unsupported entry {member.name!r} (type {member.type!r})")
            if member.name in entries:
                raise ValueError(f"{path}: duplicate entry {member.name!r}")
            entries[member.name] = (tar.extractfile(member).read(), bool(member.mode & 0o111))
    return entries


def repack(src: Path, out: Path, mtime: int | None = None) -> None:
    write_tgz(read_tgz(src), out, source_date_epoch() if mtime is None else mtime)


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "repack":
        print(__doc__, file=sys.stderr)
        return 2
    repack(Path(argv[1]), Path(argv[2]))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
