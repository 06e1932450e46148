#!/usr/bin/env bash
# One peer link on loopback moving SIZE_MB (default 1024) of chunks, real processes, seeder and leecher at the
# same --mtu: the WebRTC link of this build (ICE + DTLS + SCTP + DCEP) at several MTUs, the previous plaintext
# link (ICE + SCTP; PLAIN_BIN, default /work/baseline/hybridnode, skipped when absent) at the same MTUs, and the
# same bytes over TCP (the content server, one keep-alive connection), all in one run. The peer paths include
# SHA-256 verification and the disk write of every chunk, like a real download. CPU seconds per GiB are
# user+system time of the seeder (sender) and the leecher (receiver) over the transfer.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh >/dev/null
bash scripts/build.sh >/dev/null
SIZE_MB=${SIZE_MB:-1024}; MTUS=${MTUS:-"1200 9000 16384"}
BIN=$PWD/build/hybridnode
PLAIN_BIN=${PLAIN_BIN:-/work/baseline/hybridnode}
T=$(mktemp -d /tmp/hn-link-XXXXXX)
pids=()
trap 'for p in "${pids[@]}"; do kill $p 2>/dev/null || true; done; rm -rf "$T"' EXIT
wait_port() { for _ in $(seq 1 200); do [[ -s "$1" ]] && return 0; sleep 0.05; done; return 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)

head -c $((SIZE_MB << 20)) /dev/urandom >"$T/blob.bin"
$BIN ingest "$T/blob.bin" --store "$T/store" --id blob >/dev/null
$BIN --role=signal --listen=127.0.0.1:0 --port-file="$T/sig.port" >"$T/sig.log" 2>&1 & pids+=($!)
wait_port "$T/sig.port"; SIG="ws://127.0.0.1:$(cat "$T/sig.port")/ws"
$BIN --role=server --listen=127.0.0.1:0 --port-file="$T/srv.port" --store="$T/store" --max-transfers=0 \
  --log-level=warn >"$T/srv.log" 2>&1 & pids+=($!)
wait_port "$T/srv.port"; SRV="http://127.0.0.1:$(cat "$T/srv.port")"

mkdir -p bench/results
csv=bench/results/link.csv
echo "path,mtu,bytes,seconds,gbit_per_s,sender_cpu_s_per_gib,receiver_cpu_s_per_gib" >"$csv"
GIB=$(python3 -c "print($SIZE_MB/1024)")
# TCP: every chunk over one keep-alive connection (curl), bytes to /dev/null.
python3 - "$T/store/videos/blob.json" "$SRV" >"$T/curl.cfg" <<'PY'
import json, sys
for c in json.load(open(sys.argv[1]))["chunks"]:
    print('url = "%s/chunks/%s"' % (sys.argv[2], c["id"]))
    print('output = "/dev/null"')
PY
srv_pid=${pids[1]}
c0=$(cpu_ticks "$srv_pid"); t0=$(date +%s.%N)
/usr/bin/time -f "%U %S" -o "$T/curl.time" curl -sf -K "$T/curl.cfg"
t1=$(date +%s.%N); c1=$(cpu_ticks "$srv_pid")
tcp=$(python3 -c "print(f'{$SIZE_MB*8*1048576/1e9/($t1-$t0):.2f}')")
scpu=$(python3 -c "print(f'{($c1-$c0)/$TCK/$GIB:.2f}')")
rcpu=$(python3 -c "u,s=open('$T/curl.time').read().split()[:2]; print(f'{(float(u)+float(s))/$GIB:.2f}')")
echo "tcp,-,$((SIZE_MB << 20)),$(python3 -c "print($t1-$t0)"),$tcp,$scpu,$rcpu" >>"$csv"
echo "TCP (content server -> curl, 1 connection): $tcp Gbit/s; CPU s/GiB sender $scpu, receiver $rcpu"

run_link() {  # KIND BINARY MTU
  local kind=$1 bin=$2 mtu=$3 id="$1$3"
  rm -f "$T/seed.bin"* "$T/leech.bin"*
  # The seeder downloads from the server once, then serves; the leecher takes chunks from peers only.
  $bin --role=peer --server="$SRV" --video=blob --output="$T/seed.bin" --peer-id="seed$id" --signal-url="$SIG" \
    --seed-for=-1 --upload-slots=64 --mtu="$mtu" --log-level=warn >"$T/seed.log" 2>&1 &
  local seed=$!; pids+=($seed)
  for _ in $(seq 1 1200); do [[ -f "$T/seed.bin" ]] && break; sleep 0.1; done
  sleep 0.5
  local c0 c1; c0=$(cpu_ticks "$seed")
  /usr/bin/time -f "%U %S" -o "$T/leech.time" $bin --role=peer --server="$SRV" --video=blob --output="$T/leech.bin" \
    --peer-id="leech$id" --signal-url="$SIG" --server-slots=0 --max-links=1 --requests-per-link=8 --mtu="$mtu" \
    --summary="$T/leech.json" --log-level=warn >"$T/leech.log" 2>&1
  c1=$(cpu_ticks "$seed")
  kill "$seed"; wait "$seed" 2>/dev/null || true
  local secs g scpu rcpu
  secs=$(python3 -c 'import json,sys; j=json.load(open(sys.argv[1])); assert j["bytes_from_peers"]==j["total_size"]; print(j["seconds"])' "$T/leech.json")
  g=$(python3 -c "print(f'{$SIZE_MB*8*1048576/1e9/$secs:.2f}')")
  scpu=$(python3 -c "print(f'{($c1-$c0)/$TCK/$GIB:.2f}')")
  rcpu=$(python3 -c "u,s=open('$T/leech.time').read().split()[:2]; print(f'{(float(u)+float(s))/$GIB:.2f}')")
  echo "$kind,$mtu,$((SIZE_MB << 20)),$secs,$g,$scpu,$rcpu" >>"$csv"
  echo "$kind link, --mtu $mtu: $g Gbit/s ($(python3 -c "print(f'{$g/$tcp:.2f}')")x TCP); CPU s/GiB sender $scpu, receiver $rcpu"
}
for mtu in $MTUS; do
  run_link dtls "$BIN" "$mtu"
  if [[ -x "$PLAIN_BIN" ]]; then run_link plain "$PLAIN_BIN" "$mtu"; fi
done
