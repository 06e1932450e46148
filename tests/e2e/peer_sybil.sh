#!/usr/bin/env bash
# Sybil offers (issue 22 item 7): 16 joined WebSocket clients offer links to the only seeder every 2 s and
# never connect. A peers-only leecher must still get the whole video from that seeder.
source "$(dirname "$0")/lib.sh"
make_video "$T/clip.mp4" 4
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --id clip --chunk-size 8192 >/dev/null
start_role sig signal
SIG="ws://127.0.0.1:$PORT_sig/ws"
start_server srv --store="$T/store" --max-transfers=0 --signal-url="$SIG"
SRV="http://127.0.0.1:$PORT_srv"
count=$(curl -sf "$SRV/videos/clip" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['chunk_count'])")
digest=$(curl -sf "$SRV/videos/clip" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['manifest_digest'])")
start_peer seed --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1
wait_file "$T/seed.mp4" 30 || fail "seeder did not complete"
"$PY" "$HN_SRC/tests/e2e/peer_sybil.py" "$SIG" clip "$count" seed 16 "$digest" >"$T/sybil.log" 2>&1 &
HN_PIDS+=($!)
sleep 4   # the seeder's inbound table is now full of offers that never connect
start_peer leech --server="$SRV" --video=clip --signal-url="$SIG" --server-slots=0
for _ in $(seq 1 400); do kill -0 "$PID_leech" 2>/dev/null || break; sleep 0.05; done
kill -0 "$PID_leech" 2>/dev/null && fail "leecher cut off from the seeder by Sybil offers: $(tail -n 5 "$T/leech.log")"
wait "$PID_leech" || fail "leecher failed: $(tail -n 20 "$T/leech.log")"
cmp "$T/clip.mp4" "$T/leech.mp4" || fail "output differs"
echo "leecher got all $count chunks from the seeder under 16 Sybil offerers"
grep -c "displaced by a newer offer" "$T/seed.log" || true
stop_and_check "$PID_seed" seed
echo "PASS peer_sybil"
