#!/usr/bin/env bash
# make flwr-nightly: does the newest flwr-nightly still accept what the chart renders? Installs the
# newest installable flwr-nightly into .tools/flwr-nightly with uv and runs every Flower container's
# rendered arguments (the chart's defaults and every ci/*-values.yaml, Helm 4) through its parsers
# (hack/flwr_nightly_check.py, the check of tests/charts/test_flwr_args.py), printing each argument
# list it rejects. An early warning, not a gate: CI runs it with continue-on-error.
#
# NOT pinned or hash-locked, unlike every other tool of this project: flwr-nightly is a moving target
# (a new dev release most days) and the point is to try the newest one. It is upgraded on every run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.tools/flwr-nightly"
uv="$root/.tools/uv/bin/uv"
log() { printf '[flwr-nightly] %s\n' "$*" >&2; }

bash "$root/hack/install-tools.sh" helm venv
if [ ! -x "$venv/bin/python" ]; then
  "$uv" venv --quiet --python "$(command -v python3)" "$venv"
fi
log "installing the newest flwr-nightly into .tools/flwr-nightly (uv, NOT hash-locked: a moving target)"
"$uv" pip install --quiet --python "$venv/bin/python" --upgrade --prerelease allow flwr-nightly
log "installed: $("$venv/bin/python" -c 'import importlib.metadata as m; print("flwr-nightly", m.version("flwr-nightly"))')"
PYTHONPATH="$root/plugin/src" "$root/.tools/venv/bin/python" "$root/hack/flwr_nightly_check.py" --python "$venv/bin/python"
