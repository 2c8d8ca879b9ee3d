"""Helpers shared by the tests of the hub commands (a module of its own: `conftest` is not importable
by name when several conftest.py files exist)."""

from __future__ import annotations

import argparse


def parse(module, argv: list[str]) -> argparse.Namespace:
    """Arguments for ``module.run``, parsed by the module's own ``add_parser``."""
    parser = argparse.ArgumentParser(prog="helm flower")
    sub = parser.add_subparsers()
    module.add_parser(sub)
    return parser.parse_args(argv)
