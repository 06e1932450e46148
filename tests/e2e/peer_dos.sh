#!/usr/bin/env bash
# A remote that stops taking data must not hold a seeder's upload slots (security review, defect A): an aiortc
# peer asks the only seeder for every chunk, then drops every SCTP DATA chunk it gets (HEARTBEATs still
# answered). A peers-only leecher must still get the whole video from that seeder (one remote holds at most
# half of --upload-slots), and the seeder must drop the stalled link (10 s without progress). Also: a
# description the remote got wrong earns no NAT advice, and refused data channels are logged sparingly.
source "$(dirname "$0")/lib.sh"
make_video "$T/clip.mp4" 16 -b:v 8M -minrate 8M -maxrate 8M -bufsize 2M -x264-params nal-hrd=cbr
"$HN_BIN" ingest "$T/clip.mp4" --store "$T/store" --id clip --raw --chunk-size 1048576 >/dev/null  # 4 fit in SCTP's 4 MiB, 8 more in our queue
start_role sig signal
SIG="ws://127.0.0.1:$PORT_sig/ws"
start_server srv --store="$T/store" --signal-url="$SIG"
SRV="http://127.0.0.1:$PORT_srv"
start_peer seed --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1 --metrics-listen=127.0.0.1:0 --port-file="$T/seed.mport"
wait_file "$T/seed.mp4" 30 || fail "seeder did not complete"
for _ in $(seq 1 100); do [[ -s "$T/seed.mport" ]] && break; sleep 0.05; done
MPORT=$(cat "$T/seed.mport")
# want N: run section N (HN_ONLY="2 3" runs only those; used to show each fails against an old binary).
want() { [[ -z "${HN_ONLY:-}" || " $HN_ONLY " == *" $1 "* ]]; }

if want 1; then
note "1. a bad remote description (the seeder has no other link) is the remote's fault: no 'set --stun/--turn' advice"
"$PY" "$HN_SRC/tests/e2e/peer_dos.py" badsdp "$SIG" "$SRV" clip seed >"$T/bad.log" 2>&1 || fail "badsdp: $(tail -n 5 "$T/bad.log")"
for _ in $(seq 1 40); do grep -q "more than one a=ice-ufrag" "$T/seed.log" && break; sleep 0.05; done
grep -q "more than one a=ice-ufrag" "$T/seed.log" || fail "the seeder did not refuse the description: $(tail -n 5 "$T/seed.log")"
sleep 0.2
grep "cannot reach peer" "$T/seed.log" && fail "NAT advice for a description the remote got wrong"
fi

if want 2; then
note "2. a peer that stops acknowledging SCTP DATA does not starve an honest leecher"
"$PY" "$HN_SRC/tests/e2e/peer_dos.py" stall "$SIG" "$SRV" clip seed 40 >"$T/stall.log" 2>&1 &
HN_PIDS+=($!)
for _ in $(seq 1 300); do grep -q "requests sent" "$T/stall.log" && break; sleep 0.1; done
grep -q "requests sent" "$T/stall.log" || fail "the stalling peer did not get going: $(tail -n 20 "$T/stall.log")"
sleep 2   # the seeder's SCTP send buffer and link queue fill up
start_peer leech --server="$SRV" --video=clip --signal-url="$SIG" --server-slots=0
for _ in $(seq 1 250); do kill -0 "$PID_leech" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID_leech" 2>/dev/null && fail "leecher starved by a stalled peer holding the seeder's upload slots: $(tail -n 4 "$T/leech.log")"
wait "$PID_leech" || fail "leecher failed: $(tail -n 20 "$T/leech.log")"
cmp "$T/clip.mp4" "$T/leech.mp4" || fail "output differs"
echo "leecher complete from the seeder beside a stalled peer"
for _ in $(seq 1 150); do [[ "$(metric "$MPORT" hybridnode_peer_stalled_links_total)" -ge 1 ]] 2>/dev/null && break; sleep 0.1; done
[[ "$(metric "$MPORT" hybridnode_peer_stalled_links_total)" -ge 1 ]] 2>/dev/null ||
  fail "seeder did not drop the stalled link: $(grep -i stall "$T/seed.log" | tail -n 3)"
grep "took none of" "$T/seed.log" | head -n 1
fi

if want 3; then
note "3. 200 refused data channels on one link: a handful of log lines, not 200"
"$PY" "$HN_SRC/tests/e2e/peer_dos.py" channels "$SIG" "$SRV" clip seed 200 >"$T/chan.log" 2>&1 || fail "channels: $(tail -n 5 "$T/chan.log")"
lines=$(grep -c "refused data channel 'junk" "$T/seed.log" || true)
echo "refused-channel log lines for 200 refusals: $lines"
[[ $lines -ge 1 && $lines -le 10 ]] || fail "expected 1..10 lines about refused channels, got $lines"
fi

if want 5; then
note "5. offers under fresh ids, ~1000 a second: the seeder answers a bounded number and stays on the signaller"
"$PY" "$HN_SRC/tests/e2e/peer_dos.py" offerchurn "$SIG" "$SRV" clip seed 20 6 >"$T/churn.log" 2>&1 ||
  fail "offerchurn: $(tail -n 5 "$T/churn.log")"
sleep 1
lost=$(grep -c "lost the signaller" "$T/seed.log" || true)
answered=$(grep -c "closed: half-open inbound link displaced" "$T/seed.log" || true)
echo "$(cat "$T/churn.log"); the seeder displaced $answered half-open links and lost the signaller $lost times"
[[ $lost -eq 0 ]] || fail "answering offers of fresh ids cut the seeder off its signaller $lost times"
[[ $answered -le 150 ]] || fail "the seeder started $answered inbound links in 6 s (budget: 16/s, bursts of 16)"
grep -q "inbound offers past" "$T/seed.log" || fail "no word of the ignored offers in the seeder's log"
fi

stop_and_check "$PID_seed" seed

if want 4; then
note "4. --peer-select=rtt: a remote that serves one chunk 'in no time' (forged pongs), then sits on its requests, does not hold the download"
# An honest seeder paced at 4 MB/s (the download lasts about 4 s) and the liar, which holds every chunk.
start_peer rseed --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1 --upload-rate=4000000
wait_file "$T/rseed.mp4" 30 || fail "paced seeder did not complete"
"$PY" "$HN_SRC/tests/e2e/peer_dos.py" rttliar "$SIG" "$SRV" clip "$T/store" 40 >"$T/rtt.log" 2>&1 &
HN_PIDS+=($!)
for _ in $(seq 1 150); do grep -q "joined" "$T/rtt.log" && break; sleep 0.1; done
grep -q "joined" "$T/rtt.log" || fail "the rtt liar did not join: $(tail -n 5 "$T/rtt.log")"
# A peer timeout longer than the test: what the liar sits on comes back only through endgame, so a leecher
# whose requests all wait for the liar's queue never finishes here.
start_peer rleech --server="$SRV" --video=clip --signal-url="$SIG" --server-slots=0 --peer-select=rtt --peer-timeout-ms=60000
for _ in $(seq 1 200); do kill -0 "$PID_rleech" 2>/dev/null || break; sleep 0.1; done
echo "liar: $(grep -E "served|ignored" "$T/rtt.log" | tr -s ' ' | cut -d' ' -f3- | tr '\n' ' ')"
kill -0 "$PID_rleech" 2>/dev/null && fail "leecher held by a remote that lies about its speed: $(grep -c served "$T/rtt.log") served, $(grep -c ignored "$T/rtt.log") ignored; $(json "$T/rleech.json" 'j.get("chunks_have", "?")' 2>/dev/null) $(tail -n 2 "$T/rleech.log")"
wait "$PID_rleech" || fail "leecher failed: $(tail -n 20 "$T/rleech.log")"
cmp "$T/clip.mp4" "$T/rleech.mp4" || fail "output differs"
stop_and_check "$PID_rseed" rseed
grep -q served "$T/rtt.log" && grep -q ignored "$T/rtt.log" || fail "the liar was never asked for more than one chunk: the test proves nothing"
echo "leecher complete beside a remote that lies about its speed"
fi

echo "PASS peer_dos"
