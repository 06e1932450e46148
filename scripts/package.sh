#!/usr/bin/env bash
# Builds the Debian packages hybridnode_VERSION_ARCH.deb (binary, /etc/hybridnode configs, systemd units)
# and libhybridnode-dev_VERSION_ARCH.deb (headers, static + shared library, CMake and pkg-config files).
#   scripts/package.sh [--no-build] [BUILD_DIR]      packages land in $OUT (default: BUILD_DIR/packages)
# Install with: apt install ./hybridnode_*.deb   (then: systemctl enable --now hybridnode-server)
set -euo pipefail
cd "$(dirname "$0")/.."
build=1
if [[ "${1:-}" == "--no-build" ]]; then build=0; shift; fi
dir=$(realpath "${1:-build}")
if ((build)); then bash scripts/build.sh; fi
out=${OUT:-$dir/packages}
mkdir -p "$out"
(cd "$dir" && cpack -G DEB -B "$out" -D CPACK_STRIP_FILES=ON >"$out/cpack.log" 2>&1) \
  || { tail -40 "$out/cpack.log" >&2; exit 1; }
rm -rf "$out/_CPack_Packages"
ls "$out"/*.deb
