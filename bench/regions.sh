#!/usr/bin/env bash
# RTT-aware vs random peer selection across two "regions" in the same run. This kernel has no sch_netem
# (tc: "Specified qdisc kind is unknown"), so latency is added in the peers' send path (TEST ONLY flags):
# messages between regions are held FAR_MS one way (RTT 2xFAR_MS), within a region NEAR_MS one way.
# Four seeders (2 per region, --upload-rate each) hold a SIZE_MB video; LEECHERS leechers in region A fetch
# it from peers only (--server-slots=0), once with --peer-select=rtt and once with =random, alternating for
# ROUNDS rounds. Writes bench/results/regions.csv: completion times and bytes from near vs far peers.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build.sh >/dev/null
LEECHERS=${LEECHERS:-6}; ROUNDS=${ROUNDS:-2}; NEAR_MS=${NEAR_MS:-2}; FAR_MS=${FAR_MS:-40}; SIZE_S=${SIZE_S:-64}
SEED_RATE=${SEED_RATE:-12000000}
H=$PWD/build/hybridnode
D=$(mktemp -d /tmp/hn-bregions-XXXXXX)
PIDS=()
trap 'kill ${PIDS[@]:-} 2>/dev/null; rm -rf "$D"' EXIT
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -t "$SIZE_S" -c:v libx264 -preset ultrafast \
  -b:v 4M -maxrate 4M -bufsize 8M "$D/video.mp4"
"$H" ingest "$D/video.mp4" --raw --store "$D/store" --id v >/dev/null
"$H" --role=signal --listen=127.0.0.1:0 --port-file="$D/sig.port" --log-level=warn >"$D/sig.log" 2>&1 &
PIDS+=($!)
"$H" --role=server --listen=127.0.0.1:0 --port-file="$D/srv.port" --store="$D/store" --max-transfers=0 --log-level=warn >"$D/srv.log" 2>&1 &
PIDS+=($!)
while [[ ! -s $D/sig.port || ! -s $D/srv.port ]]; do sleep 0.05; done
SIG=ws://127.0.0.1:$(cat "$D/sig.port")/ws; SRV=http://127.0.0.1:$(cat "$D/srv.port")
region_flags() {  # region_flags a|b
  if [[ $1 == a ]]; then echo "--test-far-prefix=b- --test-far-delay-ms=$FAR_MS --test-near-delay-ms=$NEAR_MS"
  else echo "--test-far-prefix=a- --test-far-delay-ms=$FAR_MS --test-near-delay-ms=$NEAR_MS"; fi
}
for s in a-s1 a-s2 b-s1 b-s2; do
  "$H" --role=peer --server="$SRV" --video=v --signal-url="$SIG" --peer-id="$s" --output="$D/$s.mp4" --seed-for=-1 \
    --upload-rate="$SEED_RATE" --log-level=warn $(region_flags "${s:0:1}") >"$D/$s.log" 2>&1 &
  PIDS+=($!)
done
for s in a-s1 a-s2 b-s1 b-s2; do while [[ ! -f $D/$s.mp4 ]]; do sleep 0.1; done; done
mkdir -p bench/results
csv=bench/results/regions.csv
echo "mode,round,leechers,near_ms,far_ms,median_s,p95_s,max_s,bytes_near,bytes_far,endgame_requests" >"$csv"
for r in $(seq 1 "$ROUNDS"); do
  for mode in rtt random; do
    lp=()
    for i in $(seq 1 "$LEECHERS"); do
      id=a-$mode$r-$i
      "$H" --role=peer --server="$SRV" --video=v --signal-url="$SIG" --peer-id="$id" --output="$D/$id.mp4" \
        --summary="$D/$id.json" --server-slots=0 --peer-select="$mode" --max-links=8 --log-level=warn \
        $(region_flags a) >"$D/$id.log" 2>&1 &
      lp+=($!)
    done
    for p in "${lp[@]}"; do wait "$p" || echo "leecher exited with an error" >&2; done
    for i in $(seq 1 "$LEECHERS"); do cmp -s "$D/video.mp4" "$D/a-$mode$r-$i.mp4" || echo "a-$mode$r-$i: output differs" >&2; done
    python3 - "$D" "$mode" "$r" "$LEECHERS" "$NEAR_MS" "$FAR_MS" >>"$csv" <<'PY'
import json, statistics, sys
d, mode, r, n, near, far = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5], sys.argv[6]
s = [json.load(open(f"{d}/a-{mode}{r}-{i}.json")) for i in range(1, n + 1)]
t = sorted(x["seconds"] for x in s)
bn = sum(l["bytes_in"] for x in s for l in x["links"] if l["peer"].startswith("a-"))
bf = sum(l["bytes_in"] for x in s for l in x["links"] if l["peer"].startswith("b-"))
p95 = t[min(len(t) - 1, int(round(0.95 * (len(t) - 1))))]
print(f"{mode},{r},{n},{near},{far},{statistics.median(t):.2f},{p95:.2f},{t[-1]:.2f},{bn},{bf},{sum(x['endgame_requests'] for x in s)}")
PY
    tail -n 1 "$csv"
  done
done
python3 - "$csv" <<'PY'
import csv, statistics, sys
rows = list(csv.DictReader(open(sys.argv[1])))
for mode in ("rtt", "random"):
    m = [float(r["median_s"]) for r in rows if r["mode"] == mode]
    far = sum(int(r["bytes_far"]) for r in rows if r["mode"] == mode); near = sum(int(r["bytes_near"]) for r in rows if r["mode"] == mode)
    print(f"{mode}: median completion {statistics.mean(m):.2f} s (mean over rounds), {100.0 * far / max(1, far + near):.0f}% of peer bytes from the far region")
PY
