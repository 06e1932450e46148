#!/usr/bin/env bash
# Interop with an independent WebRTC stack (Debian's python3-aiortc: its own ICE, DTLS, SCTP and DCEP):
#  - bad input first, against a native seeder: a wrong a=fingerprint is refused (log + metric), a channel
#    with another label is refused while the `hybridnode` one then works, an oversize message closes the
#    link, datagrams that are not DTLS close it, a handshake that never completes times out, runt records on a working link are dropped;
#  - the seeder keeps serving: an aiortc peer dials it, opens `hybridnode`, says hello, requests every
#    chunk and verifies each by SHA-256 (byte-identical file);
#  - the other way: a native leecher (peers only) dials an aiortc seeder and downloads the whole video.
source "$(dirname "$0")/lib.sh"
"$PY" -c "import aiortc" 2>/dev/null || { echo "SKIP: python3-aiortc is not installed (scripts/setup.sh)"; exit 77; }
W="$HN_SRC/tests/e2e/webrtc_peer.py"
make_video "$T/clip.mp4" 8 -b:v 2M
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --id clip >/dev/null
start_role sig signal
SIG="ws://127.0.0.1:$PORT_sig/ws"
start_server srv --store="$T/store" --signal-url="$SIG"
SRV="http://127.0.0.1:$PORT_srv"
start_peer seeder --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1 --dtls-timeout-ms=3000 \
  --metrics-listen=127.0.0.1:0 --port-file="$T/seeder.mport" --log-level=debug
wait_file "$T/seeder.mp4" 30 || fail "native seeder did not complete"
sleep 0.5

note "wrong fingerprint"
"$PY" "$W" bad fingerprint "$SIG" "$SRV" clip seeder 2>"$T/bad_fp.log" || fail "fingerprint: $(tail -5 "$T/bad_fp.log")"
grep -q "does not match the a=fingerprint" "$T/seeder.log" || fail "no fingerprint mismatch line in the seeder's log"
[[ $(metric "$(cat "$T/seeder.mport")" hybridnode_peer_dtls_fingerprint_mismatches_total) == 1 ]] || fail "mismatch not counted"
note "another label"
"$PY" "$W" bad label "$SIG" "$SRV" clip seeder 2>"$T/bad_label.log" || fail "label: $(tail -5 "$T/bad_label.log")"
grep -q "refused data channel 'other'" "$T/seeder.log" || fail "channel 'other' not refused in the seeder's log"
note "oversize message"
"$PY" "$W" bad oversize "$SIG" "$SRV" clip seeder 2>"$T/bad_big.log" || fail "oversize: $(tail -5 "$T/bad_big.log")"
grep -q "over 262144 bytes" "$T/seeder.log" || fail "oversize message did not close the link"
note "garbage instead of DTLS"
"$PY" "$W" bad garbage "$SIG" "$SRV" clip seeder 2>"$T/bad_garbage.log" || fail "garbage: $(tail -5 "$T/bad_garbage.log")"
grep -q "datagrams that are not DTLS records" "$T/seeder.log" || fail "garbage did not close the link"
note "runt DTLS records on a working link are dropped (one spoofed datagram must not end it)"
"$PY" "$W" bad short-record "$SIG" "$SRV" clip seeder 2>"$T/bad_short.log" || fail "short records: $(tail -5 "$T/bad_short.log")"
note "handshake never completes"
"$PY" "$W" bad silent "$SIG" "$SRV" clip seeder 2>"$T/bad_silent.log" || fail "silent: $(tail -5 "$T/bad_silent.log")"
grep -q "handshake timed out" "$T/seeder.log" || fail "a silent DTLS peer did not time out"

note "aiortc leecher <- native seeder"
"$PY" "$W" leech "$SIG" "$SRV" clip seeder "$T/py.mp4" 2>"$T/py_leech.log" || fail "aiortc leecher: $(tail -5 "$T/py_leech.log")"
cmp "$T/clip.mp4" "$T/py.mp4" || fail "aiortc leecher's file differs"
kill -0 "$PID_seeder" || fail "the native seeder died"
stop_and_check "$PID_seeder" seeder

note "native leecher -> aiortc seeder"
"$PY" "$W" seed "$SIG" "$SRV" clip "$T/store" 40 2>"$T/py_seed.log" &
PY_SEED=$!
HN_PIDS+=("$PY_SEED")
sleep 1
start_peer leech --server="$SRV" --video=clip --signal-url="$SIG" --server-slots=0
for _ in $(seq 1 300); do kill -0 "$PID_leech" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID_leech" 2>/dev/null && fail "native leecher stalled: $(tail -n 20 "$T/leech.log")"
wait "$PID_leech" || fail "native leecher failed: $(tail -n 20 "$T/leech.log")"
cmp "$T/clip.mp4" "$T/leech.mp4" || fail "native leecher's file differs"
"$PY" - "$T/leech.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
assert s["bytes_from_peers"] == s["total_size"] and s["bytes_from_server"] == 0, s
l = [l for l in s["links"] if l["bytes_in"] > 0][0]
print(f"  native leecher <- {l['peer']}: {l['bytes_in']} bytes, dtls {l['dtls']}, {l['cipher']}")
assert l["dtls"] and l["cipher"] and len(l["remote_fingerprint"]) == 95, l
PY
echo "PASS webrtc_aiortc"
