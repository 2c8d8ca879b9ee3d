"""Errors of ``helm flower images``: messages a human can act on, with the exit code.

Exit codes follow the plugin's convention: 0 ok, 1 findings (a Flower version the chart would
refuse, drift under ``--check``), 2 usage or input errors (a file that is not a Flower app, a
malformed pyproject.toml, a bad flag).
"""

from __future__ import annotations

EXIT_OK = 0
EXIT_FINDINGS = 1
EXIT_USAGE = 2


class ImagesError(Exception):
    """One or more problems; ``exit_code`` is what the command returns."""

    def __init__(self, messages: str | list[str], exit_code: int = EXIT_USAGE) -> None:
        self.messages = [messages] if isinstance(messages, str) else list(messages)
        self.exit_code = exit_code
        super().__init__("\n".join(self.messages))

    def __str__(self) -> str:
        return "\n".join(self.messages)
