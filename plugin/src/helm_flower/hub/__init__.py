"""Reading a Flower release on an OCM hub (``helm flower status``, ``partitions``, ``connect``).

Modules:

- :mod:`.errors`     -- :class:`HubError` (exit code 2, a message a human can act on) and the
  translation of client exceptions (connection refused, timeouts, TLS, 401, 403, 404);
- :mod:`.kube`       -- connecting with the official ``kubernetes`` client (kubeconfig, the
  context, ``HELM_KUBE*`` variables), paged lists, gets and watches returning plain dicts;
- :mod:`.resources`  -- the OCM / Kubernetes resources read and the chart's labels and names;
- :mod:`.model`      -- pure interpretation of the objects (addon and ManifestWork states);
- :mod:`.release`    -- the release's state on the hub: read with paged lists, updated by
  watch events, summarised into per-placement tables and a verdict;
- :mod:`.wait`       -- ``--wait``: watches with resourceVersion until enough clusters are ready;
- :mod:`.render`     -- table / JSON / YAML output;
- :mod:`.partitions` -- the partition-id assignment written as Helm values;
- :mod:`.exposure`   -- where the SuperLink is reachable for ``flwr``;
- :mod:`.flwrconfig` -- updating one connection in ``$FLWR_HOME/config.toml``;
- :mod:`.fileio`     -- atomic file writes;
- :mod:`.cliargs`    -- options and error handling shared by the three commands.

Only the code paths that talk to a hub import ``kubernetes`` (it costs ~270 ms).
"""

from __future__ import annotations

from .errors import HubError

__all__ = ["HubError"]
