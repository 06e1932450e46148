#!/usr/bin/env bash
# Browser benchmark (scripts/bench.sh browser): TABS headless Chromium tabs (each its own browser and profile)
# play a SECS-second 640x360 HLS video on /watch/demo at once, beside one native seeder (--seed-for=-1), from a
# content server with one transfer slot paced at RATE bytes/s; first with P2P off (?p2p=0: server only), then
# on, in the same run. Per run: share of bytes from peers, time to first frame (page start -> first 'playing'),
# rebuffer ratio (time stalled after the first frame / playing time). Writes bench/results/browser.csv.
#   TABS=8 SECS=30 RATE=400000 scripts/bench.sh browser
set -euo pipefail
cd "$(dirname "$0")/.."
TABS=${TABS:-4}; SECS=${SECS:-20}; RATE=${RATE:-400000}
if [[ -z "${HN_BIN:-}" ]]; then bash scripts/build.sh >/dev/null; fi
H=${HN_BIN:-$PWD/build/hybridnode}
PY=/usr/bin/python3
D=$(mktemp -d /tmp/hn-bbrowser-XXXXXX)
PIDS=()
trap 'kill ${PIDS[@]:-} 2>/dev/null || true; wait 2>/dev/null; rm -rf "$D"' EXIT
wait_port() { for _ in $(seq 1 200); do [[ -s "$1" ]] && return 0; sleep 0.05; done; echo "no port in $1" >&2; return 1; }
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=640x360:rate=25" -f lavfi -i "sine=frequency=440" -t "$SECS" \
  -c:v libx264 -preset ultrafast -b:v 1M -g 25 -pix_fmt yuv420p -c:a aac -shortest "$D/video.mp4"
"$H" ingest "$D/video.mp4" --hls --segment-seconds 1 --store "$D/store" --id demo >/dev/null
"$H" --role=signal --listen=127.0.0.1:0 --port-file="$D/sig.port" >"$D/sig.log" 2>&1 & PIDS+=($!)
wait_port "$D/sig.port"
SIG="ws://127.0.0.1:$(cat "$D/sig.port")/ws"
"$H" --role=server --listen=127.0.0.1:0 --port-file="$D/srv.port" --store="$D/store" --web-root="$PWD/web" \
  --max-transfers=1 --limit-rate="$RATE" --signal-url="$SIG" >"$D/srv.log" 2>&1 & PIDS+=($!)
wait_port "$D/srv.port"
PORT=$(cat "$D/srv.port")
"$H" --role=peer --server="http://127.0.0.1:$PORT" --video=demo --signal-url="$SIG" --seed-for=-1 --peer-id=seeder \
  --output="$D/seeder.ts" >"$D/seeder.log" 2>&1 & PIDS+=($!)
for _ in $(seq 1 1200); do [[ -f "$D/seeder.ts" ]] && break; sleep 0.1; done
[[ -f "$D/seeder.ts" ]] || { echo "native seeder did not complete" >&2; exit 1; }
mkdir -p bench/results
csv=bench/results/browser.csv
echo "p2p,tabs,video_s,bytes_server,bytes_native,bytes_browsers,share_peers,ttff_mean_ms,ttff_max_ms,rebuffer_ratio,stalls" >"$csv"
for mode in off on; do
  mkdir -p "$D/$mode"; touch "$D/$mode/release"
  q=""; [[ $mode == off ]] && q="?p2p=0"
  HN_NO_DOWNLOAD=1 HN_TABS_TIMEOUT=$((SECS * 6 + 60)) "$PY" tests/e2e/web_swarm.py "$PORT" demo "$TABS" "$D/$mode" 0 "$q" \
    >"$D/$mode.json" 2>"$D/$mode.log" || { echo "$mode: $(tail -c 2000 "$D/$mode.json") $(tail -5 "$D/$mode.log")" >&2; exit 1; }
  "$PY" - "$D/$mode.json" "$mode" "$TABS" "$SECS" >>"$csv" <<'PY'
import json, sys
tabs = json.load(open(sys.argv[1]))
S = lambda k: sum(t["stats"][k] for t in tabs)
peers = S("fromNative") + S("fromBrowsers")
ttff = [t["qoe"]["firstFrameMs"] for t in tabs]
stall = sum(t["qoe"]["stallMs"] for t in tabs); play = sum(t["qoe"]["playMs"] for t in tabs)
print(f"{sys.argv[2]},{sys.argv[3]},{sys.argv[4]},{S('fromServer')},{S('fromNative')},{S('fromBrowsers')},"
      f"{peers / (peers + S('fromServer')):.3f},{sum(ttff) / len(ttff):.0f},{max(ttff):.0f},{stall / play:.3f},"
      f"{sum(t['qoe']['stalls'] for t in tabs)}")
PY
done
column -s, -t "$csv"
