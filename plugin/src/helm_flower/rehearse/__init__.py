"""``helm flower rehearse``: run a release's Flower federation locally before installing it.

The chart is rendered with the real ``helm template``; the Placements are previewed against a
fleet file; the SuperLink, the ServerApp SuperExec, one SuperNode per placed cluster (from the
AddOnTemplate, with the AddOnDeploymentConfig variables substituted as OCM does) and the
ClientApp SuperExecs (from the ManifestWorkReplicaSets) are started as local processes with
exactly the rendered arguments, except hosts, ports and mounted file paths; then a Flower app
runs through them with ``flwr run --stream``.

Entry points: :func:`helm_flower.rehearse.runner.rehearse` (library),
:mod:`helm_flower.commands.rehearse` (the ``helm flower`` subcommand) and
``python -m helm_flower.rehearse`` (standalone).
"""

from __future__ import annotations

from .errors import Interrupted, Refusal, RehearsalError

__all__ = ["Interrupted", "Refusal", "RehearsalError"]
