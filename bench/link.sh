#!/usr/bin/env bash
# One peer link on loopback moving SIZE_MB (default 1024) of chunks: hybridnode over ICE + SCTP
# (libnice + usrsctp, real processes) at several SCTP path MTUs, vs the same bytes over TCP (the content
# server, one keep-alive connection) in the same run. The peer path includes SHA-256 verification and
# the disk write of every chunk, like a real download.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build.sh >/dev/null
SIZE_MB=${SIZE_MB:-1024}; MTUS=${MTUS:-"1200 9000 60000"}
BIN=$PWD/build/hybridnode
T=$(mktemp -d /tmp/hn-link-XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$T"' EXIT
wait_port() { for _ in $(seq 1 200); do [[ -s "$1" ]] && return 0; sleep 0.05; done; return 1; }

head -c $((SIZE_MB << 20)) /dev/urandom >"$T/blob.bin"
$BIN ingest "$T/blob.bin" --store "$T/store" --id blob >/dev/null
$BIN --role=signal --listen=127.0.0.1:0 --port-file="$T/sig.port" >"$T/sig.log" 2>&1 & pids+=($!)
wait_port "$T/sig.port"; SIG="ws://127.0.0.1:$(cat "$T/sig.port")/ws"
$BIN --role=server --listen=127.0.0.1:0 --port-file="$T/srv.port" --store="$T/store" --max-transfers=0 \
  --log-level=warn >"$T/srv.log" 2>&1 & pids+=($!)
wait_port "$T/srv.port"; SRV="http://127.0.0.1:$(cat "$T/srv.port")"

mkdir -p bench/results
csv=bench/results/link.csv
echo "path,mtu,bytes,seconds,gbit_per_s" >"$csv"
# TCP: every chunk over one keep-alive connection (curl), bytes to /dev/null.
python3 - "$T/store/videos/blob.json" "$SRV" >"$T/curl.cfg" <<'PY'
import json, sys
for c in json.load(open(sys.argv[1]))["chunks"]:
    print('url = "%s/chunks/%s"' % (sys.argv[2], c["id"]))
    print('output = "/dev/null"')
PY
t0=$(date +%s.%N); curl -sf -K "$T/curl.cfg"; t1=$(date +%s.%N)
tcp=$(python3 -c "print(f'{$SIZE_MB*8*1048576/1e9/($t1-$t0):.2f}')")
echo "tcp,-,$((SIZE_MB << 20)),$(python3 -c "print($t1-$t0)"),$tcp" >>"$csv"
echo "TCP (content server, 1 connection): $tcp Gbit/s"

# The seeder downloads from the server once, then serves; each leecher takes chunks from peers only.
$BIN --role=peer --server="$SRV" --video=blob --output="$T/seed.bin" --peer-id=seed --signal-url="$SIG" \
  --seed-for=-1 --upload-slots=64 --log-level=warn >"$T/seed.log" 2>&1 & pids+=($!)
for _ in $(seq 1 600); do [[ -f "$T/seed.bin" ]] && break; sleep 0.1; done
for mtu in $MTUS; do
  rm -f "$T/leech.bin"*
  $BIN --role=peer --server="$SRV" --video=blob --output="$T/leech.bin" --peer-id="leech$mtu" --signal-url="$SIG" \
    --server-slots=0 --max-links=1 --requests-per-link=8 --mtu="$mtu" --summary="$T/leech.json" --log-level=warn >"$T/leech.log" 2>&1
  secs=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["bytes_from_peers"]==j["total_size"]; print(j["seconds"])' "$T/leech.json")
  g=$(python3 -c "print(f'{$SIZE_MB*8*1048576/1e9/$secs:.2f}')")
  echo "sctp,$mtu,$((SIZE_MB << 20)),$secs,$g" >>"$csv"
  echo "SCTP over ICE, path MTU $mtu: $g Gbit/s ($(python3 -c "print(f'{$g/$tcp:.2f}')")x TCP)"
done
