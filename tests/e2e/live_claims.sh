#!/usr/bin/env bash
# A remote that claims every live chunk and answers every request busy (red team s5): a viewer waits for a
# claimed chunk only so long. Before the player starts its deadlines move with the clock, so "wait until
# urgent" never ended, and the viewer's start-up buffer never filled. v1 joins a young channel with a
# 5-chunk buffer (its start waits for chunk 4 to be cut), the liar links to it meanwhile.
# In steady play a deeper buffer keeps a claimed chunk waiting for its holder past the fixed wait (slack
# rule, docs/live.md): v2 (8-chunk buffer) must use that slack against a second liar and still miss no deadline.
source "$(dirname "$0")/lib.sh"

start_role sig signal
"$HN_BIN" --role=server --listen=127.0.0.1:0 --port-file="$T/srv.port" --store="$T/store" \
  --signal-url="ws://127.0.0.1:$PORT_sig/ws" --live=news=- --live-chunk-ms=1000 >"$T/srv.log" 2>&1 \
  < <(ffmpeg -nostdin -v error -re -f lavfi -i "testsrc=size=320x240:rate=25" -t 20 -c:v libx264 -preset ultrafast \
        -tune zerolatency -g 25 -pix_fmt yuv420p -b:v 300k -f mpegts - 2>"$T/encoder.log") &
PID_srv=$!
HN_PIDS+=("$PID_srv")
wait_file "$T/srv.port" 10 || fail "server did not start"
SRV=http://127.0.0.1:$(cat "$T/srv.port")
for _ in $(seq 1 50); do curl -sf "$SRV/live/news" | grep -q '"seq"' && break; sleep 0.1; done

"$HN_BIN" --role=peer --server="$SRV" --live=news --signal-url="ws://127.0.0.1:$PORT_sig/ws" --peer-id=v1 \
  --live-buffer=5 --player-listen=127.0.0.1:0 --port-file="$T/v1.port" --output="$T/v1.ts" >"$T/v1.log" 2>&1 &
PID_v1=$!
HN_PIDS+=("$PID_v1")
wait_file "$T/v1.port" 10 || fail "v1 has no player endpoint"
summary() { curl -sf "http://127.0.0.1:$(cat "$T/${1:-v1}.port")/summary"; }
"$HN_BIN" --role=peer --server="$SRV" --live=news --signal-url="ws://127.0.0.1:$PORT_sig/ws" --peer-id=v2 \
  --live-buffer=8 --player-listen=127.0.0.1:0 --port-file="$T/v2.port" --output="$T/v2.ts" >"$T/v2.log" 2>&1 &
PID_v2=$!
HN_PIDS+=("$PID_v2")
wait_file "$T/v2.port" 10 || fail "v2 has no player endpoint"

note "a liar claims every chunk and answers busy"
"$PY" "$HN_SRC/tests/e2e/peer_dos.py" livebusy "ws://127.0.0.1:$PORT_sig/ws" "$SRV" news v1 14 >"$T/liar.log" 2>&1 &
PID_liar=$!
HN_PIDS+=("$PID_liar")
"$PY" "$HN_SRC/tests/e2e/peer_dos.py" livebusy "ws://127.0.0.1:$PORT_sig/ws" "$SRV" news v2 19 >"$T/liar2.log" 2>&1 &
PID_liar2=$!
HN_PIDS+=("$PID_liar2")
delivered() { summary "$@" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['chunks_delivered'])"; }
for _ in $(seq 1 48); do (( $(delivered) >= 7 )) && break; sleep 0.25; done
summary | "$PY" -c "import json,sys; s=json.load(sys.stdin); print(f\"v1: delivered {s['chunks_delivered']}, {s['peer_busy']} busy refusals, server bytes by reason {s.get('server_bytes_by_reason')}\")"
grep -q "live link to py[0-9]* ready" "$T/v1.log" || fail "the liar never linked to v1: $(tail -n 20 "$T/liar.log")"
(( $(grep -o '"peer_busy": *[0-9]*' <(summary) | grep -o '[0-9]*$') > 0 )) || fail "the liar was never asked: the test shows nothing"
(( $(delivered) >= 7 )) || fail "v1's start-up starved behind a remote that claims every chunk and answers busy: $(summary)"
kill "$PID_liar" 2>/dev/null || true; wait "$PID_liar" 2>/dev/null || true

note "steady play with slack: v2 waits for the busy liar's claim past the fixed wait, and misses nothing"
for _ in $(seq 1 60); do (( $(delivered v2) >= 13 )) && break; sleep 0.25; done
summary v2 >"$T/v2.json"
"$PY" - "$T/v2.json" <<'PY' || fail "v2 (8-chunk buffer, busy liar): $(cat "$T/v2.json")"
import json, sys
s = json.load(open(sys.argv[1]))
print(f"v2: delivered {s['chunks_delivered']}, {s['peer_busy']} busy refusals, {s.get('slack_waits')} slack waits, "
      f"{s['missed_deadlines']} missed, server bytes by reason {s['server_bytes_by_reason']}")
assert s["chunks_delivered"] >= 13, "v2 did not get into steady play"
assert s["peer_busy"] > 0, "the liar was never asked by v2: the step shows nothing"
assert s.get("slack_waits", 0) > 0, "no chunk used the buffer's slack to wait for a claimed holder"
assert s["missed_deadlines"] == 0, "waiting on a busy liar cost v2 a deadline"
PY
grep -q "live link to py[0-9]* ready" "$T/v2.log" || fail "the second liar never linked to v2: $(tail -n 20 "$T/liar2.log")"
kill "$PID_liar2" 2>/dev/null || true; wait "$PID_liar2" 2>/dev/null || true
stop_and_check "$PID_v2" v2
stop_and_check "$PID_v1" v1
stop_and_check "$PID_srv" srv
echo "PASS live_claims"
