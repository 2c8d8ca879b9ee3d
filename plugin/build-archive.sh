#!/bin/sh
# Build the Helm plugin archive dist/helm-flower-<version>.tgz (reproducible: sorted entries,
# fixed owners and mtimes). Usage: plugin/build-archive.sh [OUTPUT_DIR]  (default: dist/)
#   helm plugin install dist/helm-flower-<version>.tgz --verify=false   # Helm 4 (no .prov yet)
#   helm plugin install https://host/helm-flower-<version>.tgz          # Helm 3 (URL only)
set -eu
here=$(CDPATH= cd -- "$(dirname -- "$0")" && pwd)
exec "${PYTHON:-python3}" "$here/tools/build_archive.py" "$@"
