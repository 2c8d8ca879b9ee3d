#!/usr/bin/env bash
# Builds the Go programs the project runs from pinned wrapper modules, one folder per module under
# hack/go/ (go.mod and go.sum committed: every module is checked against go.sum, nothing is resolved
# anew), into .tools/bin. Idempotent: a binary whose inputs (go.mod, go.sum, Go sources, Go version,
# flags) have not changed is kept, so a second run takes a second. Go's module and build caches stay
# in their default places: a cold build of everything is ~25 min on 2 cores, later builds reuse them.
#
#   hack/install-go-tools.sh [name...]     names: see RECIPES below; default: all of them
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin="$root/.tools/bin"
stamps="$root/.tools/go-stamps"
mkdir -p "$bin" "$stamps"

log() { printf '[install-go-tools] %s\n' "$*" >&2; }

# name | module folder | package to build ('-': nothing to build, see the function named after it) | links to the binary (multi-call binaries) | what it is
RECIPES='
kube|kube|.|kube-apiserver kube-controller-manager kube-scheduler kubectl|Kubernetes control plane and kubectl (k8s.io/kubernetes)
etcd|etcd|.||etcd server (go.etcd.io/etcd/server/v3)
kwok|kwok|sigs.k8s.io/kwok/cmd/kwok||kwok fake nodes (sigs.k8s.io/kwok)
ocm|ocm|.|registration work placement addon registration-operator webhooks|Open Cluster Management (open-cluster-management.io/ocm)
ocm-crds|ocm-api|-||OCM CustomResourceDefinitions (open-cluster-management.io/api)
actionlint|actionlint|github.com/rhysd/actionlint/cmd/actionlint||GitHub workflow linter (rhysd/actionlint)
ct|ct|github.com/helm/chart-testing/v3/ct||chart-testing, ct lint (helm/chart-testing)
helm-docs|helm-docs|github.com/norwoodj/helm-docs/cmd/helm-docs||chart README generator (norwoodj/helm-docs)
cyclonus|cyclonus|github.com/mattfenwick/cyclonus/cmd/cyclonus||NetworkPolicy analyzer, the independent judge of the rendered policies in tests (mattfenwick/cyclonus)
clusteradm|clusteradm|open-cluster-management.io/clusteradm/cmd/clusteradm||OCM command line (open-cluster-management.io/clusteradm; charts of OCM from its go.mod replace)
'

module_version() { # module-folder module-path -> the version go.mod requires
  awk -v m="$2" '$1 == m || ($1 == "require" && $2 == m) { v = ($1 == m) ? $2 : $3 } END { print v }' \
    "$root/hack/go/$1/go.mod"
}

version_ldflags() { # name -> -X flags that make `--version` tell the truth
  local v major minor
  case "$1" in
    kube)
      v=$(module_version kube k8s.io/kubernetes); major=${v#v}; major=${major%%.*}; minor=$(cut -d. -f2 <<<"$v")
      for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
        printf -- '-X %s.gitVersion=%s -X %s.gitMajor=%s -X %s.gitMinor=%s -X %s.gitTreeState=clean ' \
          "$pkg" "$v" "$pkg" "$major" "$pkg" "$minor" "$pkg"
      done ;;
    ocm)
      v=$(module_version ocm open-cluster-management.io/ocm); major=${v#v}; major=${major%%.*}; minor=$(cut -d. -f2 <<<"$v")
      printf -- '-X open-cluster-management.io/ocm/pkg/version.%s ' \
        "versionFromGit=$v" "majorFromGit=$major" "minorFromGit=$minor" ;;
    actionlint)
      printf -- '-X github.com/rhysd/actionlint.version=%s' "$(module_version actionlint github.com/rhysd/actionlint)" ;;
    ct) # upstream release builds print the version without its leading v
      v=$(module_version ct github.com/helm/chart-testing/v3)
      printf -- '-X github.com/helm/chart-testing/v3/ct/cmd.Version=%s' "${v#v}" ;;
    helm-docs)
      v=$(module_version helm-docs github.com/norwoodj/helm-docs)
      printf -- '-X main.version=%s' "${v#v}" ;;
    cyclonus)
      printf -- '-X github.com/mattfenwick/cyclonus/pkg/cli.version=%s' "$(module_version cyclonus github.com/mattfenwick/cyclonus)" ;;
    clusteradm) # the default bundle (OCM images of init/join) is the OCM whose charts it embeds
      v=$(module_version clusteradm open-cluster-management.io/clusteradm); major=${v#v}; major=${major%%.*}; minor=$(cut -d. -f2 <<<"$v")
      local ocm
      ocm=$(awk '$1 == "replace" && $2 == "open-cluster-management.io/ocm" { print $5 }' "$root/hack/go/clusteradm/go.mod")
      [ -n "$ocm" ] || ocm=$(module_version clusteradm open-cluster-management.io/ocm)
      printf -- '-X open-cluster-management.io/clusteradm/pkg/version.%s ' \
        "versionFromGit=$v" "majorFromGit=$major" "minorFromGit=$minor" "defaultBundleVersion=${ocm#v}" ;;
  esac
}

inputs_digest() { # module-folder ldflags
  local dir="$root/hack/go/$1"
  { go version; printf '%s\n' "$2"; cat "$dir/go.mod" "$dir/go.sum"; cat "$dir"/*.go 2>/dev/null || true; } |
    sha256sum | cut -d' ' -f1
}

# `go build -v` names each package it compiles: print a line every 200 of them, so a cold build that
# compiles thousands of packages shows it is moving. Lines with a space are compiler messages: shown.
progress() { # name
  awk -v n="$1" '{ c++; if (c % 200 == 0) { printf "[install-go-tools] %s: %d packages compiled\n", n, c > "/dev/stderr" } }
                 / / { print > "/dev/stderr" }'
}

build() { # name folder package links description
  local name=$1 folder=$2 pkg=$3 links=$4 what=$5
  local ldflags digest stamp="$stamps/$name"
  ldflags="-s -w $(version_ldflags "$name")"
  digest=$(inputs_digest "$folder" "$ldflags")
  if [ -x "$bin/$name" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$digest" ]; then
    link_all "$name" "$links"
    return 0
  fi
  rm -f "$stamp"
  log "building $name: $what (cold: minutes, with Go's caches warm: seconds)"
  local started=$SECONDS
  (cd "$root/hack/go/$folder" &&
    GOFLAGS=-mod=readonly GOTOOLCHAIN=local go build -v -trimpath -ldflags "$ldflags" -o "$bin/$name.tmp" "$pkg" 2>&1 |
      progress "$name"; exit "${PIPESTATUS[0]}") || { rm -f "$bin/$name.tmp"; log "FAILED to build $name"; return 1; }
  mv "$bin/$name.tmp" "$bin/$name"
  link_all "$name" "$links"
  if declare -F "after_$name" >/dev/null; then "after_$name"; fi
  echo "$digest" >"$stamp"
  log "built $name in $((SECONDS - started)) s"
}

# The CRDs of open-cluster-management.io/api, checked against go.sum, flattened into .tools/ocm-crds as
# <group>_<version>__<file> (addon_v1beta1__0000_00_addon...crd.yaml): the one copy that tests, schema
# checks and the test fleet's hub use.
install_ocm_crds() { # folder
  local dir="$root/hack/go/$1" out="$root/.tools/ocm-crds" digest module
  digest=$(inputs_digest "$1" "")
  if [ -f "$stamps/ocm-crds" ] && [ "$(cat "$stamps/ocm-crds")" = "$digest" ] && [ -d "$out" ]; then
    return 0
  fi
  log "fetching the OCM CRDs (open-cluster-management.io/api $(module_version "$1" open-cluster-management.io/api))"
  module=$(cd "$dir" && GOFLAGS=-mod=readonly GOTOOLCHAIN=local go mod download -json open-cluster-management.io/api |
    python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(d["Error"]) if d.get("Error") else print(d["Dir"])')
  rm -rf "$out.tmp" && mkdir -p "$out.tmp"
  (cd "$module" && find addon cluster work -name '*.crd.yaml' -path '*/v*/*') | while read -r rel; do
    local group=${rel%%/*} rest=${rel#*/}
    cp "$module/$rel" "$out.tmp/${group}_${rest%%/*}__${rel##*/}"
    chmod 0644 "$out.tmp/${group}_${rest%%/*}__${rel##*/}"
  done
  rm -rf "$out" && mv "$out.tmp" "$out"
  echo "$digest" >"$stamps/ocm-crds"
  log "$(ls "$out" | wc -l) CRDs in .tools/ocm-crds"
}

module_dir() { # module-folder module-path -> its directory in Go's module cache (checked against go.sum)
  (cd "$root/hack/go/$1" && GOFLAGS=-mod=readonly GOTOOLCHAIN=local go mod download -json "$2" |
    python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(d["Error"]) if d.get("Error") else print(d["Dir"])')
}

# Data files some programs need from their own module, copied next to the binaries:
# kwok's stages (fake node and pod lifecycles; kwok exits without them), and from OCM's
# cluster-manager the bootstrap ClusterRole (what a klusterlet may do before it is accepted) and the
# admission webhook configurations of its registration and work webhooks.
copy_from_module() { # folder module-path destination relative-file...
  local dir dest="$root/.tools/$3"
  dir=$(module_dir "$1" "$2")
  rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
  for rel in "${@:4}"; do install -m 0644 "$dir/$rel" "$dest.tmp/"; done
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
}

after_kwok() {
  copy_from_module kwok sigs.k8s.io/kwok kwok-stages kustomize/stage/node/fast/node-initialize.yaml \
    kustomize/stage/node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
    kustomize/stage/pod/fast/pod-ready.yaml kustomize/stage/pod/fast/pod-complete.yaml \
    kustomize/stage/pod/fast/pod-delete.yaml
}

after_ocm() {
  local hub=manifests/cluster-manager/hub
  copy_from_module ocm open-cluster-management.io/ocm ocm-manifests \
    deploy/cluster-manager/chart/cluster-manager/templates/bootstrap_cluster_role.yaml \
    $hub/registration/webhook-mutatingconfiguration.yaml $hub/registration/webhook-validatingconfiguration.yaml \
    $hub/registration/webhook-clustersetbinding-validatingconfiguration.yaml
  local dir component file
  dir=$(module_dir ocm open-cluster-management.io/ocm)
  cp "$dir/$hub/work/webhook-validatingconfiguration.yaml" "$root/.tools/ocm-manifests/work-webhook-validatingconfiguration.yaml"
  # The hub controllers' identities: ServiceAccount, ClusterRole and binding, as <component>-<file>.
  for component in addon-manager placement work; do
    for file in serviceaccount.yaml clusterrole.yaml clusterrolebinding.yaml; do
      cp "$dir/$hub/$component/$file" "$root/.tools/ocm-manifests/$component-$file"
    done
  done
  cp "$dir/$hub/work/executor-admin-clusterrole.yaml" "$root/.tools/ocm-manifests/work-executor-admin-clusterrole.yaml"
  cp "$dir/$hub/addon-manager/work-executor-admin-clusterrolebinding.yaml" \
    "$root/.tools/ocm-manifests/addon-manager-work-executor-admin-clusterrolebinding.yaml"
  chmod 0644 "$root/.tools/ocm-manifests/"*
}

link_all() { # name links
  local link
  for link in $2; do ln -sfn "$1" "$bin/$link"; done
}

command -v go >/dev/null || { log "go is not on PATH: install Go 1.26 (https://go.dev/doc/install)"; exit 1; }
wanted=("$@")
known=()
while IFS='|' read -r name folder pkg links what; do
  [ -n "$name" ] || continue
  known+=("$name")
  if [ ${#wanted[@]} -eq 0 ] || [[ " ${wanted[*]} " == *" $name "* ]]; then
    if [ "$pkg" = - ]; then "install_${name//-/_}" "$folder"; else build "$name" "$folder" "$pkg" "$links" "$what"; fi
  fi
done <<<"$RECIPES"
for w in "${wanted[@]}"; do
  [[ " ${known[*]} " == *" $w "* ]] || { log "unknown Go tool '$w' (known: ${known[*]})"; exit 2; }
done
