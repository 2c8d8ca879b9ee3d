#!/bin/sh
# Install/update hook of the helm flower plugin: builds the plugin's own virtual environment
# in <plugin dir>/.venv from requirements.lock (exact versions, hash-checked, no dependency
# resolution, wheels only). It never touches a global Python: pip runs inside the new venv;
# pip's own configuration (e.g. a local wheel cache or index) applies.
# Idempotent: an environment built from the same lock and Python is kept.
#   HELM_FLOWER_PYTHON  interpreter to build the venv with (default: python3; needs >= 3.11)
set -eu

plugin_dir=${HELM_PLUGIN_DIR:-$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)}
plugin_dir=$(CDPATH= cd -- "$plugin_dir" && pwd -P)
python=${HELM_FLOWER_PYTHON:-python3}
lock="$plugin_dir/requirements.lock"
venv="$plugin_dir/.venv"
stamp="$venv/.helm-flower-stamp"

log() { printf 'helm flower: %s\n' "$*" >&2; }

if ! command -v "$python" >/dev/null 2>&1; then
  log "$python not found: the plugin needs Python >= 3.11 (set HELM_FLOWER_PYTHON)"
  exit 1
fi
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  log "$("$python" -V 2>&1) is too old: the plugin needs Python >= 3.11 (set HELM_FLOWER_PYTHON)"
  exit 1
fi

want=$("$python" - "$lock" "$plugin_dir" <<'PY'
import hashlib, sys
digest = hashlib.sha256(open(sys.argv[1], "rb").read())
digest.update(sys.version.encode())
digest.update(sys.argv[2].encode())
print(digest.hexdigest())
PY
)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c 'import helm_flower' 2>/dev/null; then
  log "Python environment up to date ($venv)"
  exit 0
fi

log "creating the plugin's Python environment in $venv"
tmp="$plugin_dir/.venv.tmp.$$"
trap 'rm -rf "$tmp"' EXIT INT TERM
rm -rf "$tmp"
"$python" -m venv "$tmp"
# --no-compile, then byte-compile only what every run imports: compiling all of kubernetes
# (thousands of modules, used only by --crds-from-cluster) would double the install time;
# Python compiles the rest on first use.
"$tmp/bin/python" -m pip install -qq --disable-pip-version-check --no-input \
  --require-hashes --no-deps --only-binary=:all: --no-compile -r "$lock"
# The plugin's own code is used in place (src layout), found through a .pth file.
site=$("$tmp/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
printf '%s\n' "$plugin_dir/src" > "$site/helm_flower.pth"
(
  cd "$site" && "$tmp/bin/python" -m compileall -q -j 0 yaml jsonschema jsonschema_specifications \
    referencing rpds attr attrs rich typing_extensions.py "$plugin_dir/src" >/dev/null 2>&1
) || true
"$tmp/bin/python" -I -c 'import helm_flower.cli, yaml, jsonschema, rich, kubernetes_validate'
printf '%s\n' "$want" > "$tmp/.helm-flower-stamp"
rm -rf "$venv"
mv "$tmp" "$venv"
trap - EXIT INT TERM
log "Python environment ready ($venv)"
