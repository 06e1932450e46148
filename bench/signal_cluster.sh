#!/usr/bin/env bash
# Signallers sharing one hot swarm through Redis: N simulated members (bench/signal_load.cpp) spread
# round-robin over 1, 2 and 3 signaller instances on this machine, relaying offers to random members
# (with k instances, (k-1)/k of the relays cross instances through Redis). Records members held,
# relays/s, relay p50/p99, each process's CPU seconds. Writes bench/results/signal_cluster.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build.sh >/dev/null
N=${N:-3000}; SECS=${SECS:-10}; RATE=${RATE:-3000}
ulimit -n "$(ulimit -Hn)"
T=$(mktemp -d /tmp/hn-sigcluster-XXXXXX)
PIDS=()
trap 'kill ${PIDS[@]:-} 2>/dev/null || true; rm -rf "$T"' EXIT
RPORT=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
redis-server --bind 127.0.0.1 --port "$RPORT" --save "" --appendonly no >"$T/redis.log" 2>&1 &
RPID=$!; PIDS+=($RPID)
sleep 0.5
mkdir -p bench/results
csv=bench/results/signal_cluster.csv
echo "instances,members,join_s,relays_per_s,relay_p50_ms,relay_p99_ms,signaller_cpu_s,redis_cpu_s,redis_msgs" >"$csv"
cpu() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }
for k in 1 2 3; do
  urls=(); sigs=()
  for i in $(seq 1 "$k"); do
    rm -f "$T/s$i.port"
    ./build/hybridnode --role=signal --listen=127.0.0.1:0 --port-file="$T/s$i.port" --rate=1000000 --burst=1000000 \
      --max-connections=1000000 --member-timeout-ms=600000 --log-level=warn --redis=127.0.0.1:$RPORT --instance="i$k-$i" \
      >"$T/s$i.log" 2>&1 &
    sigs+=($!); PIDS+=($!)
    while [[ ! -s $T/s$i.port ]]; do sleep 0.05; done
    urls+=("ws://127.0.0.1:$(cat "$T/s$i.port")/ws")
  done
  sleep 1.5   # siblings hear each other's heartbeats
  r0=$(cpu $RPID); m0=$(redis-cli -p "$RPORT" info stats | awk -F: '/total_commands_processed/ {print $2+0}')
  ./build/signal_load "$(IFS=,; echo "${urls[*]}")" "$N" "$SECS" "$RATE" >"$T/load.out" 2>"$T/load.err" || true
  r1=$(cpu $RPID); m1=$(redis-cli -p "$RPORT" info stats | awk -F: '/total_commands_processed/ {print $2+0}')
  scpu=0; for p in "${sigs[@]}"; do scpu=$(python3 -c "print($scpu + $(cpu "$p"))"); done
  kill "${sigs[@]}"; wait "${sigs[@]}" 2>/dev/null || true
  get() { awk -F, -v k="$1" '$1==k {print $2}' "$T/load.out"; }
  echo "$k,$(get members),$(get join_seconds),$(get relays_per_s),$(get relay_p50_ms),$(get relay_p99_ms),$scpu,$(python3 -c "print(round($r1 - $r0, 2))"),$((m1 - m0))" >>"$csv"
  tail -n 1 "$csv"
  head -3 "$T/load.err" >&2 || true
done
