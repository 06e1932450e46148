#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS on a scratch copy of its seed corpus (the repo is never written).
# Crashes are kept under tests/fuzz/crashes/ of the build tree for a regression test.
#   run_fuzz.sh FUZZ_BINARY SEED_DIR SECONDS
set -euo pipefail
bin=$1 seeds=$2 secs=$3
work=$(mktemp -d /tmp/hn-fuzz-XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/corpus" "$(dirname "$bin")/crashes"
"$bin" -max_total_time="$secs" -rss_limit_mb=2048 -max_len=70000 -print_final_stats=1 \
  -artifact_prefix="$(dirname "$bin")/crashes/" "$work/corpus" "$seeds" 2>&1 | tail -n 12
