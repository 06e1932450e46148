#!/usr/bin/env bash
# Headless Chromium (Debian chromium + chromium-driver, python3-selenium) plays an HLS-ingested video from
# /videos/ID.m3u8 with hls.js (npm, web/node_modules) on a page from the content server's web root until
# video.currentTime passes 8 s; a page from another origin reads the API through CORS, and one server with
# --cors-origin=none stays unreadable. Needs scripts/setup.sh (it installs the browser and runs npm ci in web/).
source "$(dirname "$0")/lib.sh"

need_browser
make_video "$T/clip.mp4" 16 -g 50
"$HN_BIN" ingest "$T/clip.mp4" --store "$T/store" --id clip --hls >/dev/null || fail "ingest"
start_server srv --store="$T/store" --web-root="$HN_SRC/web"
mkdir -p "$T/other"
echo '<!doctype html><title>another origin</title>' >"$T/other/cross.html"
start_server other --store="$T/store" --web-root="$T/other" --cors-origin=none
start_server nocors --store="$T/store" --cors-origin=none
timeout 120 "$PY" "$HN_SRC/tests/e2e/hls_browser.py" "$PORT_srv" clip "$PORT_other" "$PORT_nocors" "$T/profile" \
  >"$T/browser.log" 2>&1 || fail "browser: $(tail -5 "$T/browser.log")"
cat "$T/browser.log"
[[ $(metric "$PORT_srv" hybridnode_vod_playlists_served_total) -ge 1 ]] || fail "playlist not fetched from the server"
stop_and_check "$PID_srv" srv
echo "PASS hls_browser"
