#!/usr/bin/env bash
# make lint: chart-testing's own `ct lint` (pinned: hack/go/ct) with ct.yaml, with each Helm, plus the
# YAML checks ct does not make. ct runs the `helm`, `yamllint`, `yamale` and `git` it finds on PATH;
# each Helm gets a directory of its own, first on PATH, holding it as `helm`.
#
#  1. version bump (ct.yaml check-version-increment): `ct lint` of the charts that changed since the
#     merge base with <remote>/<target-branch>; when that ref does not exist (a clone without the
#     remote) the local <target-branch> is the base (`--remote refs/heads`);
#  2. `ct lint --all` with every Helm (default .tools/bin/helm4 and helm3): yamale on Chart.yaml,
#     yamllint on Chart.yaml, values.yaml and ci/*-values.yaml, `helm lint` with every ci/*-values.yaml;
#  3. yamllint and yamale of what ct does not lint: the subcharts embedded in an umbrella's charts/
#     (ct lints only the charts directly under chart-dirs), ct.yaml and the GitHub workflows.
#
#   hack/lint/lint.sh [--no-version-check] [--helm PATH]...
# Exit code 1 when a check fails, 2 on usage errors. Every check runs even after one failed.
set -uo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
tools=${TOOLS:-$root/.tools}
usage() { echo "usage: hack/lint/lint.sh [--no-version-check] [--helm PATH]..." >&2; exit 2; }
version_check=1
helms=()
while [ $# -gt 0 ]; do
  case "$1" in
    --no-version-check) version_check=0 ;;
    --helm) [ $# -ge 2 ] || usage; helms+=("$2"); shift ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) usage ;;
  esac
  shift
done
[ ${#helms[@]} -gt 0 ] || helms=("$tools/bin/helm4" "$tools/bin/helm3")
for i in "${!helms[@]}"; do [ -e "${helms[$i]}" ] && helms[$i]=$(realpath "${helms[$i]}"); done
cd "$root" || exit 2
export PATH="$tools/bin:$tools/venv/bin:$PATH"  # yamllint and yamale live in the venv

missing=()
for tool in "$tools/bin/ct" "${helms[@]}"; do [ -x "$tool" ] || missing+=("$tool"); done
for tool in yamllint yamale git; do command -v "$tool" >/dev/null || missing+=("$tool (on PATH)"); done
if [ ${#missing[@]} -gt 0 ]; then
  printf '[lint] missing: %s\n' "${missing[@]}" >&2
  echo "[lint] run \`make tools\` (ct is built by hack/install-go-tools.sh ct; yamllint and yamale are in .tools/venv)" >&2
  exit 2
fi

setting() { # ct.yaml key, default
  local v
  v=$(awk -v k="$1:" '$1 == k { print $2; exit }' ct.yaml)
  echo "${v:-$2}"
}

failures=()
check() { # name, command...
  local name=$1
  shift
  echo "[lint] ---- $name"
  if "$@"; then echo "[lint] ok   $name"; else echo "[lint] FAIL $name"; failures+=("$name"); fi
}

helm_dirs=$(mktemp -d)
trap 'rm -rf "$helm_dirs"' EXIT
with_helm() { # helm, command...: runs the command with that Helm as `helm` first on PATH
  local dir
  dir=$(mktemp -d "$helm_dirs/helm.XXXXXX") && ln -s "$1" "$dir/helm" && PATH="$dir:$PATH" "${@:2}"
}

ct=("$tools/bin/ct" lint --config ct.yaml)

if [ "$version_check" = 1 ]; then
  remote=$(setting remote origin)
  target=$(setting target-branch main)
  base_args=()
  if git rev-parse --verify -q "$remote/$target^{commit}" >/dev/null; then
    base="$remote/$target"
  elif git rev-parse --verify -q "refs/heads/$target^{commit}" >/dev/null; then
    base="$target (local branch: there is no $remote/$target)"
    base_args=(--remote refs/heads)
  else
    base=""
  fi
  if [ -n "$base" ]; then
    check "version bump of changed charts vs $base (ct lint, $(basename "${helms[0]}"))" \
      with_helm "${helms[0]}" "${ct[@]}" "${base_args[@]}"
  else
    echo "[lint] FAIL version bump: neither $remote/$target nor $target exists (fetch the target branch, or --no-version-check)"
    failures+=("version bump")
  fi
fi

for helm in "${helms[@]}"; do
  check "every chart (ct lint --all, $(basename "$helm"))" with_helm "$helm" "${ct[@]}" --all --check-version-increment=false
done

# 3: files ct does not lint
mapfile -t chart_dirs < <(awk '/^chart-dirs:/ { on = 1; next } on && /^ *- / { print $2; next } on { exit }' ct.yaml)
[ ${#chart_dirs[@]} -gt 0 ] || chart_dirs=(charts)
embedded_chart_yaml=()
embedded_yaml=()
for dir in "${chart_dirs[@]}"; do
  while IFS= read -r -d '' chart_yaml; do
    sub=$(dirname "$chart_yaml")
    embedded_chart_yaml+=("$chart_yaml")
    for f in "$sub/Chart.yaml" "$sub/values.yaml" "$sub"/ci/*-values.yaml; do [ -f "$f" ] && embedded_yaml+=("$f"); done
  done < <(find "$dir" -mindepth 4 -path '*/charts/*/Chart.yaml' -not -path '*/templates/*' -print0 | sort -z)
done
workflows=()
[ -d .github/workflows ] && mapfile -t workflows < <(find .github/workflows -name '*.y*ml' | sort)
check "yamllint of what ct does not lint (embedded subcharts, ct.yaml, workflows)" \
  yamllint --strict --format parsable --config-file "$(setting lint-conf hack/lint/yamllint.yaml)" \
  ct.yaml "${embedded_yaml[@]}" "${workflows[@]}"
if [ ${#embedded_chart_yaml[@]} -gt 0 ]; then
  check "yamale of embedded subcharts' Chart.yaml" \
    yamale --cpu-num 1 --schema "$(setting chart-yaml-schema hack/lint/chart_schema.yaml)" "${embedded_chart_yaml[@]}"
fi

if [ ${#failures[@]} -gt 0 ]; then
  printf '[lint] %d check(s) failed:\n' "${#failures[@]}"
  printf '[lint]   %s\n' "${failures[@]}"
  exit 1
fi
echo "[lint] all checks passed"
