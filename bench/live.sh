#!/usr/bin/env bash
# Live benchmark on shaped links (bench/shaped_net.sh; needs root): a SECS-second 720p stream (ffmpeg,
# 1 s keyframes, encoded once and played out in real time) into the content server behind a SHAPE uplink, watched by 8 and then 32 live
# peers, each in its own namespace with shaped down/up links, joining over the first 2 s. No pacing flags:
# the server is loaded when its uplink queue is. For each swarm size, each policy (POLICIES) against the
# unlimited server with P2P off, in the same run ("p2p-unlimited-server": no cap, the viewers alone keep
# bytes off the server, as a P2P CDN in front of a CDN does; with the default and a 6-chunk buffer). Per
# run: lag behind the source (chunk cut -> handed to the player) p50 / worst viewer's p95, missed deadlines,
# stalls, server bytes, share of bytes from peers.
# Writes bench/results/live.csv. HN_BIN_BEFORE=/path/to/old/hybridnode runs every point with it too, right
# before the same point with HN_BIN (policy "NAME@before" / "NAME"): a before/after in one run. KEEP=DIR keeps
# every run's logs and summaries there.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build.sh >/dev/null
SECS=${SECS:-40}; SIZES=${SIZES:-"8 32"}; SHAPE=${SHAPE:-"40mbit 20mbit 5mbit"}
# name|server flags|viewer flags
POLICIES=${POLICIES:-"unlimited-no-p2p|--max-transfers=0|--max-links=0
p2p-unlimited-server|--max-transfers=0|--max-links=6
p2p-unlimited-server-buffer6|--max-transfers=0|--max-links=6 --live-buffer=6
connections-1|--max-transfers=1|--max-links=6
bandwidth-1MB/s|--policy=bandwidth --egress-bytes-per-sec=1000000|--max-links=6
adaptive-300ms|--policy=adaptive --target-ms=300 --max-transfers=16|--max-links=6"}
H=${HN_BIN:-$PWD/build/hybridnode}
VARIANTS=("|$H"); [[ -z ${HN_BIN_BEFORE:-} ]] || VARIANTS=("@before|$HN_BIN_BEFORE" "|$H")
D=$(mktemp -d /tmp/hn-blive-XXXXXX)
source bench/shaped_net.sh
PIDS=()
trap 'kill ${PIDS[@]:-} 2>/dev/null || true; wait 2>/dev/null; shaped_down; [[ -n ${KEEP:-} ]] && cp -r "$D"/. "$KEEP"/; rm -rf "$D"' EXIT
# The stream is encoded once, before any run, and each run plays it out in real time (-re, -c copy): an
# encoder running beside the viewers took a varying share of the 2 cores, and the same binary's share from
# peers spread over 15 points from run to run.
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -f lavfi -i sine -t "$SECS" \
  -c:v libx264 -preset ultrafast -tune zerolatency -b:v 3M -g 25 -c:a aac -f mpegts "$D/stream.ts"
mkdir -p bench/results
csv=${CSV:-bench/results/live.csv}
echo "peers,policy,chunks,lag_p50_ms,lag_p95_ms,lag_max_ms,missed_deadlines,stall_s,bytes_server,bytes_peers,share_peers,refusals" >"$csv"
for n in $SIZES; do
  shaped_up "$n" "$SHAPE"
  while IFS='|' read -r pol0 sflags vflags; do
    [[ -n "$pol0" ]] || continue
    for variant in "${VARIANTS[@]}"; do
    pol=$pol0${variant%%|*}; H=${variant#*|}
    R=$D/run$n-${pol//\//_}; mkdir -p "$R"
    # ip netns exec (not a shell function) so that $! is the process itself, which the kill below reaches.
    ip netns exec "$SNS-srv" "$H" --role=signal --listen="$SRV_IP:0" --port-file="$R/sig.port" --log-level=warn >"$R/sig.log" 2>&1 &
    PIDS+=($!)
    while [[ ! -s $R/sig.port ]]; do sleep 0.05; done
    SIG=ws://$SRV_IP:$(cat "$R/sig.port")/ws
    # shellcheck disable=SC2086
    ffmpeg -nostdin -v error -re -i "$D/stream.ts" -c copy -f mpegts - 2>"$R/enc.log" |
      ip netns exec "$SNS-srv" "$H" --role=server --listen="$SRV_IP:0" --port-file="$R/srv.port" --store="$R/store" $sflags \
        --signal-url="$SIG" --live=bench=- --log-level=warn >"$R/srv.log" 2>&1 &
    PIDS+=($!)
    while [[ ! -s $R/srv.port ]]; do sleep 0.05; done
    SRV=http://$SRV_IP:$(cat "$R/srv.port")
    sleep 1
    for i in $(seq 1 "$n"); do
      # shellcheck disable=SC2086
      ip netns exec "$SNS-p$i" "$H" --role=peer --server="$SRV" --live=bench --signal-url="$SIG" --summary="$R/v$i.json" $vflags \
        --log-level=warn >"$R/v$i.log" 2>&1 &
      PIDS+=($!)
      sleep "$(python3 -c "print(2.0 / $n)")"
    done
    for i in $(seq 1 "$n"); do
      for _ in $(seq 1 $(( (SECS + 60) * 10 ))); do [[ -f $R/v$i.json ]] && break; sleep 0.1; done
    done
    refusals=$(in_srv curl -sf "$SRV/metrics" | awk '$1=="hybridnode_refusals_total"{print $2}' || echo 0)
    kill "${PIDS[@]}" 2>/dev/null || true; wait 2>/dev/null || true; PIDS=()
    python3 - "$R" "$n" "$pol" "${refusals:-0}" >>"$csv" <<'PY'
import json, os, sys
d, n, pol, refusals = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
s = [json.load(open(f"{d}/v{i}.json")) for i in range(1, n + 1) if os.path.exists(f"{d}/v{i}.json")]
srv = sum(x["bytes_from_server"] for x in s); peers = sum(x["bytes_from_peers"] for x in s)
p50 = sorted(x["lag_ms_p50"] for x in s)[len(s) // 2]
p95 = max(x["lag_ms_p95"] for x in s)  # the worst viewer's p95
print(f"{len(s)},{pol},{max(x['edge_seq'] for x in s)},{p50:.0f},{p95:.0f},{max(x['lag_ms_max'] for x in s):.0f},"
      f"{sum(x['missed_deadlines'] for x in s)},{sum(x['stall_seconds'] for x in s):.2f},{srv},{peers},"
      f"{peers / max(1, srv + peers):.3f},{refusals}")
PY
    tail -n 1 "$csv"
    done
  done <<<"$POLICIES"
  shaped_down
done
python3 - "$csv" <<'PY'
import csv, sys
for r in csv.DictReader(open(sys.argv[1])):
    print(f"{r['peers']} viewers, {r['policy']}: lag p50 {r['lag_p50_ms']} ms, worst p95 {r['lag_p95_ms']} ms, "
          f"{r['missed_deadlines']} missed deadlines, {int(r['bytes_server']) / 1e6:.0f} MB from the server, "
          f"{float(r['share_peers']) * 100:.1f}% from peers")
PY
