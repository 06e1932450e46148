#!/usr/bin/env bash
# Peers that lie: two join the swarm first with another chunk count or digest, one claims every chunk and answers nothing, one says it is in another video's swarm,
# one floods pieces nobody asked for. Each is detected and dropped; the leecher completes from the
# honest seeder without being stalled.
source "$(dirname "$0")/lib.sh"
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -f lavfi -i sine -t 20 \
  -c:v libx264 -preset ultrafast -b:v 3M -c:a aac -shortest "$T/clip.mp4"
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --id clip >/dev/null
start_role sig signal
SIG="ws://127.0.0.1:$PORT_sig/ws"
start_server srv --store="$T/store" --max-transfers=0 --signal-url="$SIG"
SRV="http://127.0.0.1:$PORT_srv"
# Liars that join the swarm before anyone else, with another chunk count or manifest digest: they land in
# swarms of their own and block no one (the first joiner used to fix the swarm's chunk count).
for lie in chunk-count digest; do
  "$PY" "$HN_SRC/tests/e2e/liar_join.py" "$SIG" "$SRV" clip "first_${lie/-/_}" "$lie" >"$T/first_$lie.log" 2>&1 &
  HN_PIDS+=("$!")
  for _ in $(seq 1 100); do grep -q '"type"' "$T/first_$lie.log" && break; sleep 0.05; done
  note "first liar ($lie): $(head -c 200 "$T/first_$lie.log")"
done
start_peer honest --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1
wait_file "$T/honest.mp4" 30 || fail "honest seeder did not complete"
for lie in claim wrong-video flood; do
  start_peer "liar_${lie/-/_}" --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1 --test-lie="$lie"
done
for lie in claim wrong-video flood; do wait_file "$T/liar_${lie/-/_}.mp4" 30 || fail "liar $lie did not complete"; done
sleep 1
# The leecher uses peers only, so it must get past all three liars.
# Endgame off: with it the leecher asks a second peer for what the claimer sits on and finishes before the
# claimer's deadline, so the claimer would never be caught; detection is what this test is about.
start_peer leech --server="$SRV" --video=clip --signal-url="$SIG" --server-slots=0 --peer-timeout-ms=2000 --endgame=false
for _ in $(seq 1 600); do kill -0 "$PID_leech" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID_leech" 2>/dev/null && fail "leecher stalled: $(tail -n 20 "$T/leech.log")"
wait "$PID_leech" || fail "leecher failed: $(tail -n 20 "$T/leech.log")"
cmp "$T/clip.mp4" "$T/leech.mp4" || fail "output differs"
"$PY" - "$T/leech.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
links = {l["peer"]: l for l in s["links"]}
for p, l in links.items():
    print(f"  {p}: in {l['bytes_in']} closed: {l['closed']}")
assert links["honest"]["bytes_in"] == s["total_size"], "not everything came from the honest seeder"
PY
grep -q "did not deliver chunk" "$T/leech.log" || fail "the silent claimer was not dropped"
grep -q "another swarm" "$T/leech.log" || fail "the wrong-video peer was not refused"
# The flooder specifically, for the flood itself (any other peer's protocol error proves nothing here).
grep -qE "link to liar_flood closed: protocol error: (piece of a chunk not requested|piece with wrong chunk size|more piece bytes)" "$T/leech.log" ||
  fail "the flooder was not cut off for its unrequested pieces: $(grep liar_flood "$T/leech.log" | tail -3)"

echo "PASS peer_liars"
