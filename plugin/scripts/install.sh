#!/bin/sh
# Install/update hook of the helm flower plugin: builds the plugin's own virtual environment
# in <plugin dir>/.venv from requirements.lock (exact versions, hash-checked, no dependency
# resolution, wheels only). It never touches a global Python: pip runs inside the new venv and
# installs only the locked uv wheel, then uv installs the whole lock (several times faster than
# pip). Where uv cannot run (e.g. no uv wheel for this platform) pip installs the lock itself.
# pip's and uv's own configuration (e.g. a local wheel cache or index) applies.
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
reqs="$plugin_dir/.venv.req.$$"
trap 'rm -rf "$tmp" "$reqs"' EXIT INT TERM
rm -rf "$tmp" "$reqs"
"$python" -m venv "$tmp"
# The lock split in two: uv's own entry (pins and hashes) and everything else.
mkdir -p "$reqs"
awk '/^[^ #]/ { on = /^uv==/ } on' "$lock" >"$reqs/uv.txt"
awk '/^[^ #]/ { on = !/^uv==/ } on' "$lock" >"$reqs/rest.txt"
pip_install() { # requirements file; pip in the new venv, hash-checked, wheels only
  "$tmp/bin/python" -m pip install -qq --disable-pip-version-check --no-input \
    --require-hashes --no-deps --only-binary=:all: --no-compile -r "$1"
}
first_error() { # the first error line of pip's or uv's output (else its last line)
  awk '/^(ERROR|error)/ { print; found = 1; exit } NF { last = $0 } END { if (!found) print last }' "$1"
}
# Neither installer byte-compiles (pip: --no-compile; uv does not by default): below, only what
# every run imports is compiled; compiling all of kubernetes (thousands of modules, used only by
# --crds-from-cluster) would double the install time; Python compiles the rest on first use.
why="" installer="uv $(awk -F'[= ]+' '/^uv==/ { print $2 }' "$lock")"
if ! [ -s "$reqs/uv.txt" ]; then
  why="the lock pins no uv"
elif ! pip_install "$reqs/uv.txt" 2>"$reqs/err"; then
  why="pip could not install the locked uv wheel: $(first_error "$reqs/err")"
elif ! "$tmp/bin/uv" --version >/dev/null 2>"$reqs/err"; then
  why="the uv binary does not run: $(first_error "$reqs/err")"
elif ! "$tmp/bin/uv" pip install --quiet --python "$tmp/bin/python" --require-hashes --no-deps \
    --only-binary :all: -r "$lock" 2>"$reqs/err"; then
  why="uv pip install failed: $(first_error "$reqs/err")"
fi
if [ -n "$why" ]; then
  log "uv cannot install here ($why); installing with pip instead (slower)"
  rm -rf "$tmp"
  "$python" -m venv "$tmp"
  pip_install "$reqs/rest.txt"
  installer="pip"
fi
rm -rf "$reqs"
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
log "Python environment ready ($venv, installed with $installer)"
