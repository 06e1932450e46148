#!/usr/bin/env bash
# No STUN/TURN and no direct route between the homes: the peer says clearly that it cannot reach the
# swarm and completes from the content server once it has capacity, instead of hanging.
source "$(dirname "$0")/lib_nat.sh"
nat_world cone 1
peer_in home1 seeder --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1
wait_file "$T/seeder.mp4" 30 || fail "seeder did not download from the server"
# Hold the server's only slot for ~8 s with a slow client in the public namespace.
head -c $((32 << 20)) /dev/urandom >"$T/filler.bin"
"$HN_BIN" ingest "$T/filler.bin" --store "$T/store" --id filler --chunk-size $((32 << 20)) >/dev/null
sleep 2.5  # catalog refresh
filler=$(ip netns exec "$(ns pub)" curl -sf "$SRV/videos/filler" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["chunks"][0]["id"])')
(sleep 8 | ip netns exec "$(ns pub)" "$PY" -c '
import socket, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("198.51.100.1", int(sys.argv[1]))); s.sendall(("GET /chunks/%s HTTP/1.1\r\nHost: x\r\n\r\n" % sys.argv[2]).encode())
print(s.recv(100).split(b"\r\n")[0].decode(), flush=True); sys.stdin.read()' "$PORT_srv" "$filler" >"$T/slow.out") &
HN_PIDS+=($!)
for _ in $(seq 1 100); do [[ -s "$T/slow.out" ]] && break; sleep 0.05; done
grep -q "200" "$T/slow.out" || fail "could not hold the server slot"
peer_in home2 leecher --server="$SRV" --video=clip --signal-url="$SIG"
for _ in $(seq 1 900); do kill -0 "$PID_leecher" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID_leecher" 2>/dev/null && fail "leecher hangs: $(tail -n 20 "$T/leecher.log")"
wait "$PID_leecher" || fail "leecher failed: $(tail -n 20 "$T/leecher.log")"
cmp "$T/clip.mp4" "$T/leecher.mp4" || fail "bytes differ"
grep -q "cannot reach peer seeder" "$T/leecher.log" || fail "no clear message about the unreachable swarm: $(cat "$T/leecher.log")"
[[ $(json "$T/leecher.json" 'j["bytes_from_server"] == j["total_size"] and j["unreachable_peers"] >= 1') == True ]] \
  || fail "summary: $(cat "$T/leecher.json")"
grep "cannot reach" "$T/leecher.log" | head -1
echo "PASS nat_no_stun"
