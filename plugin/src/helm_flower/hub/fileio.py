"""Atomic file writes: a temporary file in the same directory, fsync, then rename over the target.

A reader sees the old file or the new one, never half of one; on any error the target is
untouched and the temporary file is removed.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from .errors import HubError


def _default_mode() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: str | os.PathLike[str], data: str | bytes, *, mode: int | None = None) -> Path:
    """Write ``data`` to ``path`` atomically. ``mode``: the new file's permissions (default: keep
    an existing file's, else 0666 minus the umask). A symlink is followed (its target is replaced)."""
    target = Path(os.path.realpath(os.fspath(path)))
    directory = target.parent
    if not directory.is_dir():
        raise HubError(f"cannot write {path}: directory {directory} does not exist")
    if mode is None:
        try:
            mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            mode = _default_mode()
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise HubError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            raise HubError(f"cannot write {path}: {exc.strerror or exc}") from None
        raise
    try:  # make the rename durable (best effort)
        dfd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(dfd)
        finally:
            os.close(dfd)
    except OSError:
        pass
    return target
