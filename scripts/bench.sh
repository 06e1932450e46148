#!/usr/bin/env bash
# Benchmarks (not tests). Each writes CSV (and where it applies an SVG) under bench/results/.
#   scripts/bench.sh server   hybridnode vs nginx on the same 256 KiB chunk files, wrk -t2 -c64
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-}
case "$what" in
  server) shift; exec bash bench/server.sh "$@" ;;
  *) echo "usage: scripts/bench.sh server" >&2; exit 2 ;;
esac
