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
  chromium chromium-driver python3-selenium   # headless browser tests (hls.js playback, CORS, WebRTC interop)
  firefox-esr                                 # a second, independent browser WebRTC stack (tests/e2e/webrtc_browsers.sh)
  nodejs                            # hls.js from npm into web/node_modules (npm ci below)
  # sanitizer and fuzz builds
  clang libclang-rt-14-dev
  # WebRTC interop (issue 14): an independent stack (the browser is listed above)
  python3-aiortc
  # packaging test: systemd-analyze verifies the units (tests/package/install.sh)
  systemd
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
# Debian's npm is a package of its own; some nodejs builds (NodeSource) ship npm inside and conflict with it.
command -v npm >/dev/null 2>&1 || missing+=(npm)

# hls.js for the web root (web/package-lock.json pins it); from npm, never vendored.
web_deps() {
  local web
  web="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/web"
  [[ -f "$web/package-lock.json" ]] || return 0
  if [[ ! -f "$web/node_modules/hls.js/package.json" || "$web/package-lock.json" -nt "$web/node_modules/.package-lock.json" ]]; then
    echo "setup: npm ci in web/"
    (cd "$web" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
}

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#PACKAGES[@]} packages present"
  web_deps
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
web_deps
echo "setup: done"
