"""Errors of a rehearsal and the exit codes they map to."""

from __future__ import annotations

EXIT_OK = 0
EXIT_FAILED = 1  # a component failed, the run failed, helm failed
EXIT_REFUSED = 2  # the rehearsal cannot be done as asked (version skew, unsupported setup, bad input)
EXIT_SIGINT = 130
EXIT_SIGTERM = 143


class RehearsalError(Exception):
    """Something failed; ``component`` names what (e.g. ``SuperLink``), ``log_tail`` its last lines."""

    exit_code = EXIT_FAILED

    def __init__(self, message: str, *, component: str = "", log_tail: str = "", log_path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.component = component
        self.log_tail = log_tail
        self.log_path = log_path

    def to_dict(self) -> dict[str, str]:
        return {
            "component": self.component,
            "message": self.message,
            "log_tail": self.log_tail,
            "log_path": self.log_path,
        }


class Refusal(RehearsalError):
    """The rehearsal refuses to start (exit 2): nothing was started."""

    exit_code = EXIT_REFUSED


class Interrupted(RehearsalError):
    """SIGINT or SIGTERM arrived; everything is torn down."""

    def __init__(self, signum: int) -> None:
        import signal  # pylint: disable=import-outside-toplevel

        name = signal.Signals(signum).name
        super().__init__(f"interrupted by {name}; all processes were stopped", component="rehearse")
        self.signum = signum
        self.exit_code = EXIT_SIGINT if signum == signal.SIGINT else EXIT_SIGTERM
