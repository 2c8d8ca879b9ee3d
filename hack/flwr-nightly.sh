#!/usr/bin/env bash
# make flwr-nightly: does the newest flwr-nightly still accept what the chart renders? Installs the
# newest installable flwr-nightly into .tools/flwr-nightly with uv and runs tests/charts/test_flwr_args.py
# with it as one more release, "nightly": every Flower container's rendered arguments (the chart's
# defaults and every ci/*-values.yaml, both Helms) through its parsers, and its --node-config reading.
# Each failing test is something the nightly breaks. An early warning, not a gate: CI runs it with
# continue-on-error.
#
# NOT pinned or hash-locked, unlike every other tool of this project: flwr-nightly is a moving target
# (a new dev release most days) and the point is to try the newest one. It is installed afresh on every run.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
venv="$root/.tools/flwr-nightly"
uv="$root/.tools/uv/bin/uv"
log() { printf '[flwr-nightly] %s\n' "$*" >&2; }

bash "$root/hack/install-tools.sh" helm venv test
log "installing the newest flwr-nightly into a fresh .tools/flwr-nightly (uv, NOT hash-locked: a moving target)"
rm -rf "$venv"
"$uv" venv --quiet --python "$(command -v python3)" "$venv"
# Pre-releases only for flwr-nightly itself (its requirement names one): with every package allowed
# one, uv took grpcio-health-checking 1.82.0rc2, whose generated code needs a newer protobuf than
# flwr-nightly allows, and flwr failed to import.
"$uv" pip install --quiet --python "$venv/bin/python" --prerelease if-necessary-or-explicit "flwr-nightly>=0.dev0"
log "installed: $("$venv/bin/python" -c 'import importlib.metadata as m; print("flwr-nightly", m.version("flwr-nightly"))')"
log "running tests/charts/test_flwr_args.py as release 'nightly' (its failures are what the nightly breaks)"
cd "$root"
FLWR_NIGHTLY_PYTHON="$venv/bin/python" PYTHONPATH="$root/plugin/src" "$root/.tools/venv/bin/python" -m pytest \
  tests/charts/test_flwr_args.py -k flwrnightly -q -n "${TEST_WORKERS:-2}" -p no:cacheprovider "$@"
