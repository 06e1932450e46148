#!/usr/bin/env bash
# Live uploads against a slow reader (red team s4): a remote asks a viewer for every chunk of the window and
# then takes its bytes slowly, one SCTP packet every 1.5 s or so (never idle long enough for the 4 s stall
# rule). Chunks are ~150 KB (1 s at 1.2 Mbit/s): more than the 64 KiB low-water mark, less than the 256 KiB an
# upload needs before the viewer measures its upload rate. The slow upload must stop holding the viewer's
# uplink after two chunk durations, so an honest remote asking for the newest chunks still gets them.
source "$(dirname "$0")/lib.sh"

start_role sig signal
# Process substitution, so $! is the server (its exit status is checked); the encoder ends on EPIPE with it.
"$HN_BIN" --role=server --listen=127.0.0.1:0 --port-file="$T/srv.port" --store="$T/store" \
  --signal-url="ws://127.0.0.1:$PORT_sig/ws" --live=news=- --live-chunk-ms=1000 >"$T/srv.log" 2>&1 \
  < <(ffmpeg -nostdin -v error -re -f lavfi -i "testsrc=size=320x240:rate=25" -t 30 -c:v libx264 -preset ultrafast \
        -tune zerolatency -g 25 -pix_fmt yuv420p -b:v 1200k -minrate 1200k -maxrate 1200k -bufsize 600k \
        -x264-params nal-hrd=cbr -f mpegts - 2>"$T/encoder.log") &
PID_srv=$!
HN_PIDS+=("$PID_srv")
wait_file "$T/srv.port" 10 || fail "server did not start"
SRV=http://127.0.0.1:$(cat "$T/srv.port")

"$HN_BIN" --role=peer --server="$SRV" --live=news --signal-url="ws://127.0.0.1:$PORT_sig/ws" --peer-id=v1 \
  --player-listen=127.0.0.1:0 --port-file="$T/v1.port" --output="$T/v1.ts" >"$T/v1.log" 2>&1 &
PID_v1=$!
HN_PIDS+=("$PID_v1")
wait_file "$T/v1.port" 10 || fail "v1 has no player endpoint"
summary() { curl -sf "http://127.0.0.1:$(cat "$T/v1.port")/summary"; }
for _ in $(seq 1 60); do
  summary | "$PY" -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['chunks_delivered'] >= 3 else 1)" && break
  sleep 0.25
done
summary | "$PY" -c "import json,sys; sys.exit(0 if json.load(sys.stdin)['chunks_delivered'] >= 3 else 1)" ||
  fail "v1 delivers nothing: $(summary)"
curl -sf "$SRV/live/news" | "$PY" -c "import json,sys; c=json.load(sys.stdin)['chunks']; print('chunk sizes', [x['size'] for x in c])"

note "a slow reader asks v1 for the whole window; an honest remote then asks for the newest chunks"
"$PY" "$HN_SRC/tests/e2e/peer_dos.py" livedrip "ws://127.0.0.1:$PORT_sig/ws" "$SRV" news v1 20 >"$T/drip.log" 2>&1 &
HN_PIDS+=($!)
for _ in $(seq 1 100); do grep -q "requests sent" "$T/drip.log" && break; sleep 0.1; done
grep -q "requests sent" "$T/drip.log" || fail "the slow reader did not get going: $(tail -n 20 "$T/drip.log")"
sleep 1
"$PY" "$HN_SRC/tests/e2e/peer_dos.py" livefetch "ws://127.0.0.1:$PORT_sig/ws" "$SRV" news v1 8 >"$T/fetch.log" 2>&1 ||
  fail "the honest remote failed: $(tail -n 20 "$T/fetch.log")"
grep fetched "$T/fetch.log"
summary | "$PY" -c "import json,sys; s=json.load(sys.stdin); print(f\"v1: {s.get('slow_uploads', 'no')} slow uploads, {s['uploads_refused_busy']} refused busy, {s['bytes_uploaded']} B uploaded, {s['stalled_links']} stalled links\")"
got=$(sed -n 's/^fetched \([0-9]*\) whole chunks.*/\1/p' "$T/fetch.log")
[[ -n $got && $got -ge 3 ]] || fail "one slow remote kept v1's uplink: the honest remote got ${got:-no} chunks in 8 s"
drip=$(grep -m1 -o "\[py[0-9]*\] requests sent" "$T/drip.log" | grep -o "py[0-9]*")
grep -q "live link to $drip closed: stopped taking data" "$T/v1.log" &&
  fail "the slow reader tripped the stall rule: the test no longer shows a slow reader"
stop_and_check "$PID_v1" v1
stop_and_check "$PID_srv" srv
echo "PASS live_slow_remote"
