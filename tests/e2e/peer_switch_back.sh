#!/usr/bin/env bash
# Step 6: the server refuses for a while (its only slot held by a slow client), then has capacity;
# a peer with no other peer to turn to waits out Retry-After and returns to the server.
source "$(dirname "$0")/lib.sh"

make_video "$T/clip.mp4" 8
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --id clip >/dev/null
head -c $((16 << 20)) /dev/urandom >"$T/filler.bin"
"$HN_BIN" ingest "$T/filler.bin" --store "$T/store" --id filler --chunk-size $((16 << 20)) >/dev/null
start_role sig signal
start_server srv --store="$T/store" --max-transfers=1 --signal-url="ws://127.0.0.1:$PORT_sig/ws"
filler=$(curl -sf "http://127.0.0.1:$PORT_srv/videos/filler" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["chunks"][0]["id"])')
# Hold the only transfer slot for ~3 s.
(sleep 3 | "$PY" "$HN_SRC/tests/e2e/slow_reader.py" "$PORT_srv" "/chunks/$filler" >"$T/slow.out") &
HN_PIDS+=($!)
for _ in $(seq 1 100); do [[ -s "$T/slow.out" ]] && break; sleep 0.05; done
[[ $(metric "$PORT_srv" hybridnode_active_transfers) == 1 ]] || fail "slot not held"

start_peer alone --server="http://127.0.0.1:$PORT_srv" --video=clip
wait "$PID_alone" || fail "peer failed: $(tail "$T/alone.log")"
cmp "$T/clip.mp4" "$T/alone.mp4" || fail "output differs"
grep -q "switching to the swarm" "$T/alone.log" || fail "peer never went to the swarm"
grep -q "capacity again" "$T/alone.log" || fail "peer never said it returned to the server"
[[ $(json "$T/alone.json" 'j["server_refusals"] >= 1 and j["server_returns"] >= 1') == True ]] || fail "summary: $(cat "$T/alone.json")"
[[ $(json "$T/alone.json" 'j["bytes_from_server"] == j["total_size"]') == True ]] || fail "not all bytes from the server"
[[ $(json "$T/alone.json" 'j["seconds"] >= 2') == True ]] || fail "peer did not wait for the server"
# No busy loop while refused: a handful of probes, not hundreds.
refusals=$(json "$T/alone.json" 'j["server_refusals"]')
(( refusals <= 10 )) || fail "peer hammered the refusing server: $refusals refusals in ~3 s"
echo "PASS peer_switch_back (refusals $refusals)"
