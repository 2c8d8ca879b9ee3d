"""``helm flower rehearse``: run the release's federation locally (see helm_flower.rehearse).

The flags and the work live in :mod:`helm_flower.rehearse.cli`; this module plugs them into
``helm flower`` (helm's global flags and value flags come from :mod:`helm_flower.options`).
"""

from __future__ import annotations

import argparse
from typing import Any

from ..rehearse.cli import DESCRIPTION, EPILOG, add_arguments
from ..rehearse.cli import run as _run

NAME = "rehearse"
SUMMARY = "render, place and run the federation locally with a Flower app, then tear it down"


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    try:
        from ..options import add_values_options, new_command  # pylint: disable=import-outside-toplevel
    except ImportError:  # the shared CLI conventions are not there: plain argparse
        parser = subparsers.add_parser(NAME, help=SUMMARY, description=DESCRIPTION, epilog=EPILOG,
                                       formatter_class=argparse.RawDescriptionHelpFormatter)
        add_arguments(parser)
        return parser
    parser = new_command(subparsers, NAME, summary=SUMMARY, description=DESCRIPTION, epilog=EPILOG)
    add_values_options(parser)
    add_arguments(parser, namespace=False, helm_values=False)
    return parser


def run(args: argparse.Namespace) -> int:
    return _run(args)
