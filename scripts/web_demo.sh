#!/usr/bin/env bash
# The browser demo (scripts/demo.sh --web): a content server with the web root (catalog at /, player at
# /watch/ID), a signaller and two native super-seeders (--seed-for=-1) on one HLS video made with ffmpeg.
# Prints the URL to open; open it in two or more browser windows and watch the panel's peer share.
#   scripts/web_demo.sh [--listen IP] [--port N] [--cap N] [--rate BYTES_PER_S] [--seconds S] [--dir DIR] [--for SECONDS]
# --listen 0.0.0.0 serves other machines (browsers need a secure context for crypto.subtle: http://localhost or
# 127.0.0.1 only, HTTPS otherwise). --for ends the demo after that many seconds (default: until Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
LISTEN=127.0.0.1; PORT=8080; CAP=1; RATE=400000; SECS=60; DIR=""; FOR=0
while (($#)); do
  case "$1" in
    --listen) LISTEN=$2; shift 2 ;;
    --port) PORT=$2; shift 2 ;;
    --cap) CAP=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --for) FOR=$2; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
BIN=${HN_BIN:-$PWD/build/hybridnode}
[[ -f web/node_modules/hls.js/dist/hls.min.js ]] || { echo "hls.js missing: run scripts/setup.sh (npm ci in web/)" >&2; exit 1; }
DIR=${DIR:-$(mktemp -d /tmp/hn-web-XXXXXX)}
mkdir -p "$DIR"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
trap 'exit 0' INT TERM
wait_port() { for _ in $(seq 1 200); do [[ -s "$1" ]] && return 0; sleep 0.05; done; echo "no port in $1" >&2; return 1; }

if [[ ! -f "$DIR/video.mp4" ]]; then
  ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -f lavfi -i "sine=frequency=440" \
    -t "$SECS" -c:v libx264 -preset ultrafast -b:v 2M -g 50 -pix_fmt yuv420p -c:a aac -shortest "$DIR/video.mp4"
fi
rm -rf "$DIR/store" "$DIR"/*.port
"$BIN" ingest "$DIR/video.mp4" --hls --store "$DIR/store" --id demo --title "Web demo" >/dev/null
"$BIN" --role=signal --listen=$LISTEN:0 --port-file="$DIR/signal.port" >"$DIR/signal.log" 2>&1 &
pids+=($!)
wait_port "$DIR/signal.port"
HOST=$LISTEN; [[ $HOST == 0.0.0.0 ]] && HOST=$(hostname -I | awk '{print $1}')
SIG="ws://$HOST:$(cat "$DIR/signal.port")/ws"
"$BIN" --role=server --listen=$LISTEN:$PORT --port-file="$DIR/server.port" --store="$DIR/store" --web-root="$PWD/web" \
  --max-transfers="$CAP" --limit-rate="$RATE" --signal-url="$SIG" >"$DIR/server.log" 2>&1 &
pids+=($!)
wait_port "$DIR/server.port"
SRV="http://127.0.0.1:$(cat "$DIR/server.port")"
for s in 1 2; do
  "$BIN" --role=peer --server="$SRV" --video=demo --signal-url="$SIG" --seed-for=-1 --peer-id="seeder$s" \
    --output="$DIR/seeder$s.ts" >"$DIR/seeder$s.log" 2>&1 &
  pids+=($!)
done
for s in 1 2; do for _ in $(seq 1 600); do [[ -f "$DIR/seeder$s.ts" ]] && break; sleep 0.1; done; done
echo "server, signaller and two native seeders are up (logs in $DIR)"
echo "open http://$HOST:$(cat "$DIR/server.port")/  (player: http://$HOST:$(cat "$DIR/server.port")/watch/demo)"
if ((FOR > 0)); then sleep "$FOR"; else echo "Ctrl-C to stop"; while :; do sleep 3600; done; fi
