#!/usr/bin/env bash
# Installs every Debian package hybridnode builds, tests and benchmarks with.
# Idempotent: packages already present are skipped, so re-running costs one dpkg query.
set -euo pipefail

PACKAGES=(
  # build
  build-essential cmake pkg-config git gdb
  # libraries (see README "Dependencies")
  libuv1-dev libssl-dev nlohmann-json3-dev doctest-dev libhttp-parser-dev libwslay-dev
  libcurl4-openssl-dev libnice-dev libglib2.0-dev libusrsctp-dev libmongoc-dev
  # tests: real video, real clients, real NATs
  ffmpeg curl python3 python3-websockets iproute2 iptables coturn procps psmisc
  openssl   # the CLI: test CAs and certificates (tests/e2e/lib.sh make_tls_certs), s_client
  python3-pymongo python3-gridfs   # an independent GridFS client for the MONGODB_URI tests
  libhiredis-dev redis-server       # signallers sharing swarms (issue 10)
  # sanitizer and fuzz builds
  clang libclang-rt-14-dev
  # WebRTC interop (issue 14): an independent stack and a real browser
  python3-aiortc chromium chromium-driver python3-selenium
  # benchmarks
  nginx-light wrk
  # API reference (scripts/apidocs.sh)
  doxygen
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages present"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# Debian starts services on install; tests start their own instances on private ports.
for svc in nginx coturn; do
  $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || $SUDO service "$svc" stop >/dev/null 2>&1 || true
done
echo "setup: done"
