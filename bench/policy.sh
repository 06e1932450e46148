#!/usr/bin/env bash
# Switching-policy sweep: server cost vs fetch time. For each swarm size (PEERS_LIST) and each policy
# point, one swarm run (scripts/swarm.sh, peers arriving together = flash crowd, or STAGGER s apart =
# steady arrival). Baselines in the
# same run: an unlimited server with P2P off, and P2P with a single seeder (server used once).
# Links are real and shaped (scripts/swarm.sh --shaped, bench/shaped_net.sh; needs root): the server behind
# a SHAPE uplink, every peer in its own namespace with its own down/up links; no pacing flags, so a policy
# refuses because the uplink's queue is full, not because the application paces itself.
# Writes bench/results/policy.csv and policy.svg (server bytes vs p95 completion, one line per policy)
# and prints, per policy, the point that keeps p95 within 1.2x of the unlimited baseline at minimum
# server bytes.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build.sh >/dev/null
PEERS_LIST=${PEERS_LIST:-"8 32"}; SECS=${SECS:-20}; SHAPE=${SHAPE:-"40mbit 20mbit 5mbit"}; STAGGER=${STAGGER:-0}
# QUICK=1: fewer points per policy (1 cap, 1 budget, 1 target around the knee) for a shorter run.
if [[ -n "${QUICK:-}" ]]; then CAPS="1 2"; MBPS="1"; TARGETS="300"; else CAPS="1 2 4 8"; MBPS="0.5 1 2 3"; TARGETS="150 300 1000"; fi
# CAPS_OVERRIDE / MBPS_OVERRIDE / TARGETS_OVERRIDE (possibly empty) replace the points; BASELINES=0 skips the
# two baselines (for extra points next to an earlier run).
CAPS=${CAPS_OVERRIDE-$CAPS}; MBPS=${MBPS_OVERRIDE-$MBPS}; TARGETS=${TARGETS_OVERRIDE-$TARGETS}
ARRIVAL=$([[ "$STAGGER" == 0 ]] && echo flash || echo "steady-${STAGGER}s")
D=$(mktemp -d /tmp/hn-policy-XXXXXX)
trap 'rm -rf "$D"' EXIT
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -f lavfi -i sine -t "$SECS" \
  -c:v libx264 -preset ultrafast -b:v 4M -maxrate 4M -bufsize 8M -c:a aac -shortest "$D/video.mp4"
mkdir -p bench/results
# Flash crowd -> policy.csv / policy.svg; steady arrival (STAGGER > 0) -> policy-steady.csv / .svg.
name=${OUT:-$([[ "$STAGGER" == 0 ]] && echo policy || echo policy-steady)}  # OUT=name: other runs side by side
csv=bench/results/$name.csv
echo "peers,arrival,policy,param,video_bytes,server_bytes,peer_bytes,server_share,median_s,p95_s,max_s,refusals,ttfc_median_s,ttfc_p95_s,server_peak_Bps" >"$csv"
point() {  # peers policy param [swarm.sh args...]
  local n=$1 pol=$2 param=$3; shift 3
  local dir="$D/run"; rm -rf "$dir"; mkdir -p "$dir"; cp "$D/video.mp4" "$dir/"
  HN_SWARM_TIMEOUT=900 bash scripts/swarm.sh --no-build --peers "$n" --rate 0 --stagger "$STAGGER" --dir "$dir" \
    --shaped "$SHAPE" "$@" >"$dir.out" 2>&1 || true
  python3 - "$dir" "$n" "$pol" "$param" "$ARRIVAL" >>"$csv" <<'PY'
import json, os, statistics, sys
d, n, pol, param, arrival = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], sys.argv[5]
s = [json.load(open(f"{d}/peer{i}.json")) for i in range(1, n + 1) if os.path.exists(f"{d}/peer{i}.json")]
t = sorted(x["seconds"] for x in s if x["complete"])
srv = sum(x["bytes_from_server"] for x in s); peers = sum(x["bytes_from_peers"] for x in s)
p95 = t[min(len(t) - 1, int(round(0.95 * (len(t) - 1))))] if t else float("nan")
ref = sum(x["server_refusals"] for x in s)
f = sorted(x["first_chunk_seconds"] for x in s if x.get("first_chunk_seconds", -1) >= 0)
f95 = f[min(len(f) - 1, int(round(0.95 * (len(f) - 1))))] if f else float("nan")
# Peak server egress: the largest increase of bytes served over any window of >= 1 s.
e = []
if os.path.exists(d + "/egress.txt"):
    for line in open(d + "/egress.txt"):
        p = line.split()
        if len(p) == 2: e.append((float(p[0]), float(p[1])))
peak, j = 0.0, 0
for i in range(len(e)):
    while j < i and e[i][0] - e[j + 1][0] >= 1.0: j += 1
    if e[i][0] - e[j][0] >= 1.0: peak = max(peak, (e[i][1] - e[j][1]) / (e[i][0] - e[j][0]))
print(f"{n},{arrival},{pol},{param},{os.path.getsize(d + '/video.mp4')},{srv},{peers},{srv / max(1, srv + peers):.3f},"
      f"{statistics.median(t) if len(t) == n else float('nan'):.2f},{p95 if len(t) == n else float('nan'):.2f},{max(t) if t else 0:.2f},{ref},"
      f"{statistics.median(f) if f else float('nan'):.2f},{f95:.2f},{peak:.0f}")
PY
  tail -n 1 "$csv"
}
for n in $PEERS_LIST; do
  if [[ "${BASELINES:-1}" != 0 ]]; then
    point "$n" unlimited-no-p2p 0 --cap 0 -- --log-level=warn --max-links=0
    point "$n" single-seeder 1 --cap 0 --seed-first -- --log-level=warn --max-links=6
  fi
  for cap in $CAPS; do point "$n" connections "$cap" --cap "$cap" -- --log-level=warn --max-links=6; done
  for mbps in $MBPS; do
    point "$n" bandwidth "${mbps}MB/s" --cap 0 --server-arg --policy=bandwidth --server-arg "--egress-bytes-per-sec=$(python3 -c "print(int($mbps * 1e6))")" \
      -- --log-level=warn --max-links=6
  done
  for ms in $TARGETS; do
    point "$n" adaptive "${ms}ms" --cap 16 --server-arg --policy=adaptive --server-arg "--target-ms=$ms" -- --log-level=warn --max-links=6
  done
done
python3 bench/plot_policy.py "$csv" "bench/results/$name.svg" "Switching policies, $ARRIVAL arrival, shaped links (server up, peer down, peer up: $SHAPE)"
