#!/usr/bin/env bash
# Installs checkov (for `make scan` and the scan tests) into its own venv .tools/scan-venv from a
# hash-locked requirements file: its dependency tree is large and must not constrain the main venv.
# Created with uv (bootstrapped by hack/install-tools.sh venv); idempotent.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
venv="$root/.tools/scan-venv"
lock="$root/hack/scan/requirements.lock"
uv="$root/.tools/uv/bin/uv"
want=$(sha256sum "$lock" | cut -d' ' -f1)
if [ -f "$venv/.lock-sha256" ] && [ "$(cat "$venv/.lock-sha256")" = "$want" ]; then
  # A venv made before the install compiled bytecode gets it once, in place (see below).
  if [ ! -f "$venv/.bytecode" ]; then
    echo "[install-scan-tools] compiling .tools/scan-venv to bytecode (once)" >&2
    "$venv/bin/python" -m compileall -q -j 0 \
      "$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null || true
    : >"$venv/.bytecode"
  fi
  exit 0
fi
[ -x "$uv" ] || bash "$root/hack/install-tools.sh" venv
echo "[install-scan-tools] creating .tools/scan-venv (checkov) from hack/scan/requirements.lock (uv, hash-checked)" >&2
rm -rf "$venv"
"$uv" venv --quiet --python "$(command -v python3)" "$venv"
# --compile-bytecode: checkov runs once per core in every scan, and compiling its large tree again on every
# start (nothing writes __pycache__ under PYTHONDONTWRITEBYTECODE) costs more than the scan itself.
"$uv" pip install --quiet --python "$venv/bin/python" --require-hashes --no-deps --compile-bytecode -r "$lock"
: >"$venv/.bytecode"
echo "$want" >"$venv/.lock-sha256"
