"""Exceptions the command line turns into exit codes."""

from __future__ import annotations


class UsageError(Exception):
    """Wrong command-line use or unusable input: message to stderr, exit code 2."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
