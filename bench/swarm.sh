#!/usr/bin/env bash
# Swarm benchmark: PEERS peers (32), a SIZE_MB video (64 MiB of real H.264 from ffmpeg), server cap 2,
# vs the same swarm with an unlimited server (no cap). Both runs pace each server transfer at RATE
# bytes/s (a per-client uplink; loopback alone has no such limit). Writes bench/results/swarm.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build.sh >/dev/null
PEERS=${PEERS:-32}; CAP=${CAP:-2}; RATE=${RATE:-4000000}; SECS=${SECS:-130}
D=$(mktemp -d /tmp/hn-bswarm-XXXXXX)
trap 'rm -rf "$D"' EXIT
# ~64 MiB of video: 1280x720 at 4 Mbit/s for SECS seconds.
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -f lavfi -i sine -t "$SECS" \
  -c:v libx264 -preset ultrafast -b:v 4M -maxrate 4M -bufsize 8M -c:a aac -shortest "$D/video.mp4"
mkdir -p bench/results
csv=bench/results/swarm.csv
echo "config,peers,cap,rate,video_bytes,bytes_server,bytes_peers,share_peers,median_s,p95_s,max_s" >"$csv"
run() {  # name cap
  mkdir -p "$D/$1"; cp "$D/video.mp4" "$D/$1/video.mp4"
  HN_SWARM_TIMEOUT=600 bash scripts/swarm.sh --no-build --peers "$PEERS" --cap "$2" --rate "$RATE" --dir "$D/$1" \
    -- --log-level=warn --max-links=6 >"$D/$1.out"
  tail -n 1 "$D/$1.out"
  python3 - "$D/$1" "$PEERS" "$1" "$2" "$RATE" >>"$csv" <<'PY'
import json, statistics, sys, os
d, n, name, cap, rate = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
s = [json.load(open(f"{d}/peer{i}.json")) for i in range(1, n + 1) if os.path.exists(f"{d}/peer{i}.json")]
t = sorted(x["seconds"] for x in s if x["complete"])
srv = sum(x["bytes_from_server"] for x in s); peers = sum(x["bytes_from_peers"] for x in s)
p95 = t[min(len(t) - 1, int(round(0.95 * (len(t) - 1))))] if t else 0
print(f"{name},{n},{cap},{rate},{os.path.getsize(d + '/video.mp4')},{srv},{peers},{peers / max(1, srv + peers):.3f},"
      f"{statistics.median(t) if t else 0:.2f},{p95:.2f},{max(t) if t else 0:.2f}")
PY
}
run hybrid "$CAP"
run unlimited 0
python3 - "$csv" <<'PY'
import csv, sys
r = {row["config"]: row for row in csv.DictReader(open(sys.argv[1]))}
h, u = r["hybrid"], r["unlimited"]
print(f"hybrid: {float(h['share_peers'])*100:.1f}% of bytes from peers, median {h['median_s']}s (p95 {h['p95_s']}s); "
      f"unlimited server: median {u['median_s']}s; ratio {float(h['median_s'])/float(u['median_s']):.2f}x")
PY
