"""Options and error handling shared by the commands that talk to a hub.

Helm's global flags (``-n``, ``--kube-context``, ``--kubeconfig``, ``--debug``) come from
:func:`helm_flower.options.new_command`; :func:`opt` reads them whether or not
``resolve_globals`` ran (``-n`` else ``HELM_NAMESPACE`` else the kube context's namespace).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from typing import Any, TextIO

from .errors import HubError


def add_hub_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--request-timeout", default=None, type=float, metavar="SECONDS",
                        help="timeout of every request to the hub (default: 30)")


def opt(args: argparse.Namespace, name: str, default: Any = None) -> Any:
    value = getattr(args, name, None)
    return default if value is None else value


def run_guarded(body: Callable[[], int], err: TextIO | None = None) -> int:
    """Run a command body; a HubError (or Ctrl-C) becomes a one-line message and its exit code."""
    err = err or sys.stderr
    try:
        return body()
    except HubError as exc:
        err.write(f"helm flower: {exc.message}\n")
        return exc.exit_code
    except KeyboardInterrupt:
        err.write("helm flower: interrupted\n")
        return 130
    except BrokenPipeError:
        return 0
