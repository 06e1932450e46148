#!/usr/bin/env bash
# The API reference: Doxygen over include/hybridnode/ into OUT (default build/apidocs/html/index.html).
# Fails on any Doxygen warning.   scripts/apidocs.sh [BUILD_DIR]
set -euo pipefail
cd "$(dirname "$0")/.."
dir=$(realpath "${1:-build}")
export HN_VERSION_H_DIR="$dir/include/hybridnode" HN_APIDOCS_OUT=${OUT:-$dir/apidocs}
[[ -f "$HN_VERSION_H_DIR/version.h" ]] || { echo "apidocs: configure $dir first (scripts/build.sh)" >&2; exit 1; }
mkdir -p "$HN_APIDOCS_OUT"
doxygen docs/Doxyfile
echo "apidocs: $HN_APIDOCS_OUT/html/index.html"
