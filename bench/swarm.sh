#!/usr/bin/env bash
# Swarm benchmark: PEERS peers (32), a SIZE_MB video (64 MiB of real H.264 from ffmpeg), server cap 2,
# vs the same swarm with an unlimited server (no cap). Both runs pace each server transfer at RATE
# bytes/s (a per-client uplink; loopback alone has no such limit). Writes bench/results/swarm.csv.
# MTUS (default "1200 9000"; 1200 is the WebRTC datagram size) are the peers' --mtu, one hybrid run each: on one box all 32 peers share its cores,
# so the swarm is CPU-bound and the per-datagram cost (docs/decisions.md, bench link) sets its pace.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build.sh >/dev/null
PEERS=${PEERS:-32}; CAP=${CAP:-2}; RATE=${RATE:-4000000}; SECS=${SECS:-130}; MTUS=${MTUS:-"1200 9000"}
D=$(mktemp -d /tmp/hn-bswarm-XXXXXX)
trap 'rm -rf "$D"' EXIT
# ~64 MiB of video: 1280x720 at 4 Mbit/s for SECS seconds.
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -f lavfi -i sine -t "$SECS" \
  -c:v libx264 -preset ultrafast -b:v 4M -maxrate 4M -bufsize 8M -c:a aac -shortest "$D/video.mp4"
mkdir -p bench/results
csv=bench/results/swarm.csv
echo "config,mtu,peers,cap,rate,video_bytes,bytes_server,bytes_peers,share_peers,median_s,p95_s,max_s" >"$csv"
run() {  # name cap mtu
  mkdir -p "$D/$1"; cp "$D/video.mp4" "$D/$1/video.mp4"
  HN_SWARM_TIMEOUT=600 bash scripts/swarm.sh --no-build --peers "$PEERS" --cap "$2" --rate "$RATE" --dir "$D/$1" \
    -- --log-level=warn --max-links=6 --mtu="$3" >"$D/$1.out"
  tail -n 1 "$D/$1.out"
  python3 - "$D/$1" "$PEERS" "$1" "$2" "$RATE" "$3" >>"$csv" <<'PY'
import json, statistics, sys, os
d, n, name, cap, rate, mtu = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5], sys.argv[6]
s = [json.load(open(f"{d}/peer{i}.json")) for i in range(1, n + 1) if os.path.exists(f"{d}/peer{i}.json")]
t = sorted(x["seconds"] for x in s if x["complete"])
srv = sum(x["bytes_from_server"] for x in s); peers = sum(x["bytes_from_peers"] for x in s)
p95 = t[min(len(t) - 1, int(round(0.95 * (len(t) - 1))))] if t else 0
print(f"{name},{mtu},{n},{cap},{rate},{os.path.getsize(d + '/video.mp4')},{srv},{peers},{peers / max(1, srv + peers):.3f},"
      f"{statistics.median(t) if t else 0:.2f},{p95:.2f},{max(t) if t else 0:.2f}")
PY
}
for mtu in $MTUS; do run "hybrid-mtu$mtu" "$CAP" "$mtu"; done
run unlimited 0 1200
python3 - "$csv" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
u = next(r for r in rows if r["config"] == "unlimited")
for h in rows:
    if h["config"] == "unlimited":
        continue
    print(f"{h['config']}: {float(h['share_peers'])*100:.1f}% of bytes from peers, median {h['median_s']}s "
          f"(p95 {h['p95_s']}s); unlimited server: median {u['median_s']}s; ratio "
          f"{float(h['median_s'])/float(u['median_s']):.2f}x")
PY
