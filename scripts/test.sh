#!/usr/bin/env bash
# The whole suite from a fresh machine: install packages, build normal + ASan/UBSan trees, run ctest.
# ctest runs the doctest unit tests and the end-to-end scripts, each against both builds.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh --asan
HN_CMAKE_ARGS="-DHN_ASAN_DIR=$PWD/build-asan" bash scripts/build.sh
ulimit -n 65536 2>/dev/null || true
cd build
ctest --output-on-failure -j "${HN_TEST_JOBS:-2}" "$@"
