"""Atomic file writes: a temporary file next to the target, fsync, then os.replace.

A reader sees the old file or the new one, never a half-written one; on any error the
temporary file is removed and the target is untouched. An existing file keeps its mode.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

from .errors import EXIT_USAGE, ImagesError


def atomic_write(path: str, text: str) -> bool:
    """Write ``text`` to ``path``; returns False (and writes nothing) when it is already identical."""
    data = text.encode("utf-8")
    try:
        with open(path, "rb") as handle:
            if handle.read() == data:
                return False
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise ImagesError(f"{path}: cannot read: {exc.strerror or exc}", EXIT_USAGE) from None
    directory = os.path.dirname(os.path.abspath(path))
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    fd, tmp = -1, ""
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{os.path.basename(path)}.", suffix=".tmp", dir=directory)
        with os.fdopen(fd, "wb") as handle:
            fd = -1
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
        tmp = ""
    except OSError as exc:
        raise ImagesError(f"{path}: cannot write: {exc.strerror or exc}", EXIT_USAGE) from None
    finally:
        if fd >= 0:
            os.close(fd)
        if tmp:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
    return True
