"""``python -m helm_flower.rehearse CHART --fleet FILE --app DIR ...`` (standalone CLI)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m helm_flower.rehearse"))
