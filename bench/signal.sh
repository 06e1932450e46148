#!/usr/bin/env bash
# Signaller load: N simulated peers (bench/signal_load.cpp, one process) join one swarm, send haves, look up
# peers and relay offers to each other. Prints relay latency p50/p99, relays/s and the signaller's memory per
# member: RSS once all have joined, and peak RSS (VmHWM) over the whole run (lookups and relays included).
# NS="1000 10000 19000" by default (19k: this sandbox's hard fd limit is 20000); sockets spread over
# 127.0.0.2-254; fd limit raised. BIN: the signaller under test (default build/hybridnode); BASE_BIN: a
# second binary (e.g. /work/baseline2/hybridnode) run on the same N right before it, for side-by-side rows.
# Memory figures do not depend on machine load; latency does (the load generator shares the cores).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build.sh >/dev/null
NS=${NS:-"1000 10000 19000"}; SECS=${SECS:-10}; RATE=${RATE:-5000}
BIN=${BIN:-$PWD/build/hybridnode}; BASE_BIN=${BASE_BIN:-}
ulimit -n 1048576 2>/dev/null || ulimit -n "$(ulimit -Hn)"   # this sandbox caps it at 20000: N > ~19k cannot connect here
sysctl -qw net.ipv4.ip_local_port_range="10000 65000" 2>/dev/null || true
T=$(mktemp -d /tmp/hn-sigbench-XXXXXX)
sig=
trap '[[ -n "$sig" ]] && kill $sig 2>/dev/null; rm -rf "$T"' EXIT
mkdir -p bench/results
csv=bench/results/signal.csv
echo "binary,members_target,members,join_s,relays_per_s,relay_p50_ms,relay_p99_ms,rss_kib_base,rss_kib_loaded,rss_per_member_bytes,hwm_kib,hwm_per_member_bytes,lookup_cpu_ms,relay_cpu_us_per_relay" >"$csv"
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
run() {  # LABEL BINARY N
  local label=$1 bin=$2 n=$3
  rm -f "$T/sig.port"
  "$bin" --role=signal --listen=127.0.0.1:0 --port-file="$T/sig.port" --rate=1000000 --burst=1000000 \
    --max-connections=1000000 --member-timeout-ms=600000 --log-level=warn >"$T/sig.log" 2>&1 &
  sig=$!
  for _ in $(seq 1 100); do [[ -s "$T/sig.port" ]] && break; sleep 0.05; done
  local base loaded hwm
  base=$(awk '/^VmRSS/ {print $2}' /proc/$sig/status)
  rm -f "$T/load.out"  # the last run's: the waits below must see this run's lines only
  ./build/signal_load "ws://127.0.0.1:$(cat "$T/sig.port")/ws" "$n" "$SECS" "$RATE" >"$T/load.out" 2>"$T/load.err" &
  local load=$!
  # RSS once everyone has joined (the load generator prints join_seconds then).
  for _ in $(seq 1 1200); do grep -qs join_seconds "$T/load.out" && break; sleep 0.1; done
  loaded=$(awk '/^VmRSS/ {print $2}' /proc/$sig/status)
  local c0 c1 c2
  c0=$(cpu_ticks $sig)
  for _ in $(seq 1 1200); do grep -qs looked_up "$T/load.out" && break; kill -0 $load 2>/dev/null || break; sleep 0.1; done
  c1=$(cpu_ticks $sig)
  # Peak RSS with every member still connected: sampled once the relay figures are printed, before the
  # load generator exits (its exit closes every member).
  for _ in $(seq 1 3000); do grep -qs relay_p99_ms "$T/load.out" && break; kill -0 $load 2>/dev/null || break; sleep 0.1; done
  hwm=$(awk '/^VmHWM/ {print $2}' /proc/$sig/status)
  c2=$(cpu_ticks $sig)
  wait $load || true
  kill $sig; wait $sig 2>/dev/null || true
  sig=
  get() { awk -F, -v k="$1" '$1==k {print $2}' "$T/load.out"; }
  local m per hper
  m=$(get members)
  per=$(( m > 0 ? (loaded - base) * 1024 / m : 0 ))
  hper=$(( m > 0 ? (hwm - base) * 1024 / m : 0 ))
  # Signaller CPU (load-independent, unlike latency): all the lookups, and per relay delivered.
  local hz lcpu rcpu recv
  hz=$(getconf CLK_TCK); recv=$(get relays_received)
  lcpu=$(( (c1 - c0) * 1000 / hz ))
  rcpu=$(( ${recv:-0} > 0 ? (c2 - c1) * 1000000 / hz / recv : 0 ))
  echo "$label,$n,$m,$(get join_seconds),$(get relays_per_s),$(get relay_p50_ms),$(get relay_p99_ms),$base,$loaded,$per,$hwm,$hper,$lcpu,$rcpu" >>"$csv"
  echo "$label N=$n: $m members joined in $(get join_seconds)s; relays $(get relays_per_s)/s p50 $(get relay_p50_ms) ms p99 $(get relay_p99_ms) ms; signaller RSS $((loaded/1024)) MiB = $per bytes/member after joins, peak $((hwm/1024)) MiB = $hper bytes/member; CPU: lookups $lcpu ms, $rcpu us/relay"
  head -3 "$T/load.err" >&2 || true
}
for n in $NS; do
  if [[ -n "$BASE_BIN" ]]; then run base "$BASE_BIN" "$n"; fi
  run new "$BIN" "$n"
done
