#!/usr/bin/env bash
# Installs checkov (for `make scan`) into its own venv .tools/scan-venv from a hash-locked
# requirements file: its dependency tree is large and must not constrain the main venv.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.tools/scan-venv"
lock="$root/hack/scan/requirements.lock"
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ -f "$venv/.lock-sha256" ] && [ "$(cat "$venv/.lock-sha256")" = "$want" ]; then
  exit 0
fi
echo "[install-scan-tools] creating .tools/scan-venv (checkov) from hack/scan/requirements.lock" >&2
rm -rf "$venv"
python3 -m venv "$venv" || { rm -rf "$venv"; python3 -m venv "$venv"; }
"$venv/bin/pip" install --quiet --require-hashes --no-deps -r "$lock"
echo "$want" >"$venv/.lock-sha256"
