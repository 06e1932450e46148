#!/usr/bin/env bash
# Peak RSS of peers moving a SIZE_MB (1024) video: one downloading from the content server, then one
# downloading from that peer only (ICE + SCTP) while the first serves it. Writes bench/results/rss.csv.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build.sh >/dev/null
SIZE_MB=${SIZE_MB:-1024}
BIN=$PWD/build/hybridnode
T=$(mktemp -d /tmp/hn-rss-XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$T"' EXIT
wait_port() { for _ in $(seq 1 200); do [[ -s "$1" ]] && return 0; sleep 0.05; done; return 1; }
# peak_rss PID: polls VmRSS until the process exits; prints the maximum in KiB.
peak_rss() { local max=0 v; while kill -0 "$1" 2>/dev/null; do
    v=$(awk '/^VmRSS/ {print $2}' /proc/"$1"/status 2>/dev/null || echo 0); ((v > max)) && max=$v; sleep 0.05; done; echo "$max"; }

head -c $((SIZE_MB << 20)) /dev/urandom >"$T/blob.bin"
$BIN ingest "$T/blob.bin" --store "$T/store" --id blob >/dev/null
$BIN --role=signal --listen=127.0.0.1:0 --port-file="$T/sig.port" >/dev/null 2>&1 & pids+=($!)
wait_port "$T/sig.port"; SIG="ws://127.0.0.1:$(cat "$T/sig.port")/ws"
$BIN --role=server --listen=127.0.0.1:0 --port-file="$T/srv.port" --store="$T/store" --max-transfers=0 \
  --log-level=warn >/dev/null 2>&1 & pids+=($!)
wait_port "$T/srv.port"; SRV="http://127.0.0.1:$(cat "$T/srv.port")"
mkdir -p bench/results
csv=bench/results/rss.csv
echo "role,bytes,peak_rss_kib" >"$csv"

$BIN --role=peer --server="$SRV" --video=blob --output="$T/a.bin" --peer-id=a --signal-url="$SIG" --seed-for=-1 \
  --log-level=warn >/dev/null 2>&1 &
a=$!; pids+=($a)
(for _ in $(seq 1 1200); do [[ -f "$T/a.bin" ]] && break; sleep 0.1; done; sleep 0.2; touch "$T/a.done") &
max=0; while [[ ! -f "$T/a.done" ]]; do v=$(awk '/^VmRSS/ {print $2}' /proc/$a/status); ((v > max)) && max=$v; sleep 0.05; done
echo "download from server,$((SIZE_MB << 20)),$max" >>"$csv"
echo "peer downloading $SIZE_MB MiB from the server: peak RSS $((max / 1024)) MiB"

$BIN --role=peer --server="$SRV" --video=blob --output="$T/b.bin" --peer-id=b --signal-url="$SIG" --server-slots=0 \
  --max-links=1 --log-level=warn >/dev/null 2>&1 &
b=$!
peak_b=$(peak_rss $b)
seeder=$(awk '/^VmHWM/ {print $2}' /proc/$a/status)
echo "download from one peer,$((SIZE_MB << 20)),$peak_b" >>"$csv"
echo "seeder after serving it (VmHWM),$((SIZE_MB << 20)),$seeder" >>"$csv"
echo "peer downloading $SIZE_MB MiB from one peer: peak RSS $((peak_b / 1024)) MiB; the seeder's peak $((seeder / 1024)) MiB"
cmp "$T/blob.bin" "$T/b.bin" && echo "outputs identical"
