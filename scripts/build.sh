#!/usr/bin/env bash
# Configures and builds: build/ (release with debug info) and, with --asan, build-asan/ (ASan+UBSan).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc)
if [[ "${1:-}" == "--asan" ]]; then
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DHN_SANITIZE=ON -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ >/dev/null
  cmake --build build-asan -j "$jobs"
  exit 0
fi
cmake -S . -B build ${HN_CMAKE_ARGS:-} >/dev/null
cmake --build build -j "$jobs"
