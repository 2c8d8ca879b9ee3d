"""``helm flower images``: from Flower app directories to the image values of the
flower-federation chart (and reproducible SuperExec Containerfiles).

Modules: :mod:`.app` (pyproject.toml), :mod:`.flwrversion` (flwr requirement vs the chart's
Flower version), :mod:`.context` (chart values and schema), :mod:`.naming` (image, entry and
label names), :mod:`.plan` (entries, placements, labels), :mod:`.valuesdoc` (round-trip merge
into a values file), :mod:`.containerfile` (Containerfiles and build commands),
:mod:`.generate` (all of it, nothing written), :mod:`.writer` (atomic writes).
"""

from .errors import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, ImagesError
from .generate import Request, Result, generate
from .plan import Options

__all__ = ["EXIT_FINDINGS", "EXIT_OK", "EXIT_USAGE", "ImagesError", "Options", "Request", "Result", "generate"]
