#!/usr/bin/env bash
# The main job: a local swarm on loopback. A content server with a small capacity, a signaller and N
# peers downloading one video made with ffmpeg; prints per peer and in total the completion time and
# the bytes that came from the server vs from peers.
#   scripts/swarm.sh [--peers N] [--cap N] [--rate BYTES_PER_S] [--seconds S] [--dir DIR] [--stagger S] [--no-build]
#                    [--server-arg --policy=bandwidth --server-arg --egress-bytes-per-sec=8000000]
#                    [--shaped "SERVER_UP DOWN UP"] [-- extra peer flags]
# --rate paces each server transfer like a real uplink would (loopback alone is ~10 GB/s; default 4 MB/s).
# --shaped "40mbit 20mbit 5mbit" (needs root): instead of loopback, the server behind a tc-shaped uplink and
# every peer in its own namespace with shaped down/up links (bench/shaped_net.sh); use with --rate 0.
set -euo pipefail
cd "$(dirname "$0")/.."
PEERS=8; CAP=1; SECS=20; RATE=4000000; DIR=""; BUILD=1; STAGGER=0; EXTRA=(); SERVER_ARGS=(); SEED_FIRST=0; SHAPE=""
while (($#)); do
  case "$1" in
    --peers) PEERS=$2; shift 2 ;;
    --cap) CAP=$2; shift 2 ;;
    --seconds) SECS=$2; shift 2 ;;
    --dir) DIR=$2; shift 2 ;;
    --stagger) STAGGER=$2; shift 2 ;;
    --rate) RATE=$2; shift 2 ;;
    --server-arg) SERVER_ARGS+=("$2"); shift 2 ;;
    --seed-first) SEED_FIRST=1; shift ;;
    --shaped) SHAPE=$2; shift 2 ;;
    --no-build) BUILD=0; shift ;;
    --) shift; EXTRA=("$@"); break ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
if ((BUILD)); then bash scripts/setup.sh; bash scripts/build.sh >/dev/null; fi
BIN=${HN_BIN:-$PWD/build/hybridnode}
DIR=${DIR:-$(mktemp -d /tmp/hn-swarm-XXXXXX)}
mkdir -p "$DIR"
rm -rf "$DIR"/peer* "$DIR"/store "$DIR"/*.port
pids=()
HOST=127.0.0.1; SRV_EXEC=()
peer_exec() { PEER_EXEC=(); }
if [[ -n "$SHAPE" ]]; then
  source bench/shaped_net.sh
  shaped_down
  shaped_up "$PEERS" "$SHAPE"
  HOST=$SRV_IP; SRV_EXEC=(ip netns exec "$SNS-srv")
  peer_exec() { PEER_EXEC=(ip netns exec "$SNS-p$1"); }
fi
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true
  if [[ -n "$SHAPE" ]]; then shaped_down; fi
}
trap cleanup EXIT

wait_port() { for _ in $(seq 1 200); do [[ -s "$1" ]] && return 0; sleep 0.05; done; echo "no port in $1" >&2; return 1; }

if [[ ! -f "$DIR/video.mp4" ]]; then
  ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -f lavfi -i "sine=frequency=440" \
    -t "$SECS" -c:v libx264 -preset ultrafast -b:v 4M -pix_fmt yuv420p -c:a aac -shortest "$DIR/video.mp4"
fi
"$BIN" ingest "$DIR/video.mp4" --raw --store "$DIR/store" --id demo --title "Swarm demo" >/dev/null
${SRV_EXEC[@]+"${SRV_EXEC[@]}"} "$BIN" --role=signal --listen=$HOST:0 --port-file="$DIR/signal.port" >"$DIR/signal.log" 2>&1 &
pids+=($!)
wait_port "$DIR/signal.port"
SIG="ws://$HOST:$(cat "$DIR/signal.port")/ws"
${SRV_EXEC[@]+"${SRV_EXEC[@]}"} "$BIN" --role=server --listen=$HOST:0 --port-file="$DIR/server.port" --store="$DIR/store" \
  --max-transfers="$CAP" --limit-rate="$RATE" --signal-url="$SIG" ${SERVER_ARGS[@]+"${SERVER_ARGS[@]}"} >"$DIR/server.log" 2>&1 &
pids+=($!)
wait_port "$DIR/server.port"
SRV="http://$HOST:$(cat "$DIR/server.port")"
size=$(stat -c %s "$DIR/video.mp4")
echo "swarm: $PEERS peers, server cap $CAP at $((RATE / 1000)) kB/s per transfer${SHAPE:+, shaped links (server up, peer down, peer up) $SHAPE}, video $((size / 1024)) KiB, dir $DIR"

# The server's egress over time, for the whole run (bytes are counted as transfers finish):
# benchmarks derive its peak from it.
( while :; do
    echo "$(date +%s.%N) $(${SRV_EXEC[@]+"${SRV_EXEC[@]}"} curl -sf "$SRV/metrics" | awk '$1=="hybridnode_chunk_bytes_served_total"{print $2}')" >>"$DIR/egress.txt"
    sleep 0.2
  done ) &
pids+=($!)
peer_pids=()
for i in $(seq 1 "$PEERS"); do
  only=()
  # --seed-first: peer1 fetches everything from the server first; the others then use peers only
  # (the "P2P with a single seeder" baseline).
  if ((SEED_FIRST && i == 2)); then
    for _ in $(seq 1 3000); do [[ -f "$DIR/peer1.mp4" ]] && break; sleep 0.1; done
  fi
  ((SEED_FIRST && i > 1)) && only=(--server-slots=0)
  peer_exec "$i"
  ${PEER_EXEC[@]+"${PEER_EXEC[@]}"} "$BIN" --role=peer --server="$SRV" --video=demo --output="$DIR/peer$i.mp4" --peer-id="peer$i" \
    --signal-url="$SIG" --seed-for=-1 --summary="$DIR/peer$i.json" ${EXTRA[@]+"${EXTRA[@]}"} ${only[@]+"${only[@]}"} \
    >"$DIR/peer$i.log" 2>&1 &
  peer_pids+=($!)
  pids+=($!)
  [[ "$STAGGER" != 0 ]] && sleep "$STAGGER"
done
# Peers keep seeding until every one is done, then all stop together.
deadline=$((SECONDS + ${HN_SWARM_TIMEOUT:-120}))
while :; do
  done_count=0
  for i in $(seq 1 "$PEERS"); do [[ -f "$DIR/peer$i.mp4" ]] && done_count=$((done_count + 1)); done
  ((done_count == PEERS)) && break
  ((SECONDS > deadline)) && { echo "swarm: timed out with $done_count/$PEERS peers done" >&2; break; }
  sleep 0.2
done
${SRV_EXEC[@]+"${SRV_EXEC[@]}"} curl -sf "$SRV/metrics" >"$DIR/server.metrics" || true
for p in "${peer_pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
for p in "${peer_pids[@]}"; do wait "$p" 2>/dev/null || true; done

python3 - "$DIR" "$PEERS" "$size" <<'PY'
import json, os, statistics, sys
d, n, size = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rows, srv, peers, times = [], 0, 0, []
print(f"{'peer':8} {'done':>5} {'seconds':>8} {'from server':>12} {'from peers':>12} {'uploaded':>12}  links")
for i in range(1, n + 1):
    p = f"{d}/peer{i}.json"
    if not os.path.exists(p):
        print(f"peer{i:<4} no summary"); continue
    s = json.load(open(p))
    srv += s["bytes_from_server"]; peers += s["bytes_from_peers"]
    if s["complete"]: times.append(s["seconds"])
    pairs = ",".join(sorted({l["pair"] for l in s["links"] if l["pair"]}))
    print(f"{s['peer']:8} {str(s['complete']):>5} {s['seconds']:8.2f} {s['bytes_from_server']:12d} {s['bytes_from_peers']:12d} {s['bytes_uploaded']:12d}  {len(s['links'])} ({pairs})")
total = srv + peers
share = 100.0 * peers / total if total else 0
print(f"total: bytes_from_server={srv} bytes_from_peers={peers} ({share:.1f}% from peers); "
      f"completed {len(times)}/{n}; median {statistics.median(times) if times else 0:.2f}s, max {max(times) if times else 0:.2f}s")
PY
