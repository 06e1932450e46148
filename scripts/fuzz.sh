#!/usr/bin/env bash
# Long fuzzing runs outside CI:  scripts/fuzz.sh TARGET SECONDS   (TARGET: manifest, signal_message, wire,
# bitfield, options). Builds the ASan+UBSan+libFuzzer tree first.
set -euo pipefail
cd "$(dirname "$0")/.."
t=${1:?target}; secs=${2:-600}
bash scripts/build.sh --asan >/dev/null
exec bash tests/fuzz/run_fuzz.sh "build-asan/tests/fuzz_$t" "tests/fuzz/corpus/$t" "$secs"
