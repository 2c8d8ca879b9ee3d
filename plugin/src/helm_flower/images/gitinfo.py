"""What git knows about an app directory (``git -C APP_DIR``): the short commit for
``--tag-from git``, whether tracked files changed, and the last commit time (SOURCE_DATE_EPOCH)."""

from __future__ import annotations

import shutil
import subprocess

from .errors import EXIT_USAGE, ImagesError

SHORT_LENGTH = 12  # fixed, so the tag does not grow or shrink with the repository


def _git(app_dir: str, *args: str) -> subprocess.CompletedProcess[str]:
    git = shutil.which("git")
    if git is None:
        raise ImagesError("--tag-from git: git is not installed", EXIT_USAGE)
    return subprocess.run([git, "-C", app_dir, *args], capture_output=True, text=True, timeout=30,
                          check=False)


def short_commit(app_dir: str) -> str:
    """The commit of HEAD (12 hex digits); refuses a work tree whose tracked files under
    APP_DIR differ from it, since the tag would then name code that is not in the image."""
    proc = _git(app_dir, "rev-parse", f"--short={SHORT_LENGTH}", "HEAD")
    if proc.returncode != 0:
        reason = (proc.stderr.strip().splitlines() or ["not a git repository"])[-1]
        raise ImagesError(f"{app_dir}: --tag-from git needs a git repository with a commit ({reason})\n"
                          "  hint: commit the app, or use --tag-from version", EXIT_USAGE)
    status = _git(app_dir, "status", "--porcelain", "--untracked-files=no", "--", ".")
    if status.returncode == 0 and status.stdout.strip():
        changed = ", ".join(line[3:] for line in status.stdout.splitlines()[:5])
        raise ImagesError(f"{app_dir}: --tag-from git: tracked files changed since the last commit ({changed}); "
                          "the tag would name code that is not in the image\n"
                          "  hint: commit (or stash) the changes first, or use --tag-from version", EXIT_USAGE)
    return proc.stdout.strip()


def commit_epoch(app_dir: str) -> int | None:
    """Unix time of the last commit that touched APP_DIR, or None outside git."""
    try:
        proc = _git(app_dir, "log", "-1", "--format=%ct", "--", ".")
    except (ImagesError, OSError, subprocess.SubprocessError):
        return None
    text = proc.stdout.strip()
    return int(text) if proc.returncode == 0 and text.isdigit() else None
