#!/usr/bin/env bash
# A peer against lying peers in a real swarm (issue 24; the TEST ONLY --test-lie modes of a real peer):
# peers that claim every chunk and reject every request, and a peer that sends 5000 requests for one chunk.
source "$(dirname "$0")/lib.sh"

# want N: run section N (HN_ONLY="4" runs only that one).
want() { [[ -z "${HN_ONLY:-}" || " $HN_ONLY " == *" $1 "* ]]; }
# wait_exit PID SECONDS: the exit code, or 99 (after SIGKILL) if the process is still running.
wait_exit() {
  local pid=$1 rc=0
  for _ in $(seq 1 $(($2 * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; wait "$pid" 2>/dev/null; return 99; fi  # stuck: not left behind
  wait "$pid" || rc=$?
  return $rc
}

# HN_ATTACKER_BIN runs the attackers from another build (to show an old victim fails against the new modes).
ATTACKER_BIN=${HN_ATTACKER_BIN:-$HN_BIN}
make_video "$T/clip.mp4" 6 -b:v 2M
"$HN_BIN" ingest "$T/clip.mp4" --store "$T/store" --id clip --chunk-size=16384 >/dev/null
start_role sig signal
SIG="ws://127.0.0.1:$PORT_sig/ws"
start_server srv --store="$T/store" --uplink-rate=60000 --signal-url="$SIG"
SRV="http://127.0.0.1:$PORT_srv"
CHUNKS=$(( ($(stat -c %s "$T/clip.mp4") + 16383) / 16384 ))
if want 4; then
note "4. two peers claim every chunk and reject every request ($CHUNKS chunks): no livelock, the server serves"
HN_BIN=$ATTACKER_BIN start_peer liar_r --server="$SRV" --video=clip --signal-url="$SIG" --server-slots=0 --test-lie=reject
HN_BIN=$ATTACKER_BIN start_peer liar_b --server="$SRV" --video=clip --signal-url="$SIG" --server-slots=0 --test-lie=busy
sleep 1
start_peer victim --server="$SRV" --video=clip --signal-url="$SIG"
rc=0; wait_exit "$PID_victim" 30 || rc=$?
[[ $rc -eq 0 ]] || fail "victim of rejecting liars did not finish in 30 s (exit $rc): $(tail -n 5 "$T/victim.log")"
cmp "$T/clip.mp4" "$T/victim.mp4" || fail "victim output differs"
grep -q "link to liar_. ready" "$T/victim.log" || fail "the liars never linked to the victim: the test proves nothing"
json "$T/victim.json" '"  victim: %.1f s, %d bytes from the server, bad peers %s" % (j["seconds"], j["bytes_from_server"], j["bad_peers"])'
fi
if want 5; then
note "5. a peer sends 5000 requests for chunk 0 at once: deduplicated, one copy at a time"
start_peer seeder --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1 --metrics-listen=127.0.0.1:0 --port-file="$T/seeder.port"
wait_file "$T/seeder.mp4" 30 || fail "seeder did not complete: $(tail -n 5 "$T/seeder.log")"
HN_BIN=$ATTACKER_BIN start_peer flooder --server="$SRV" --video=clip --signal-url="$SIG" --server-slots=0 --test-lie=request-flood
out=""
for _ in $(seq 1 100); do
  out=$(curl -sf "http://127.0.0.1:$(cat "$T/seeder.port")/summary" | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
l = [x for x in s["links"] if x["peer"] == "flooder"]
if l and l[0]["bytes_out"] > 0: print(l[0]["bytes_out"])')
  [[ -n "$out" ]] && break; sleep 0.2
done
[[ -n "$out" ]] || fail "the flood did not reach the seeder: $(tail -n 5 "$T/flooder.log")"
sleep 2   # the burst arrived with the first request; the copies it queued are on their way
read -r bytes dup peak < <(curl -sf "http://127.0.0.1:$(cat "$T/seeder.port")/summary" | "$PY" -c '
import json, sys
s = json.load(sys.stdin)
print([x for x in s["links"] if x["peer"] == "flooder"][0]["bytes_out"], s["upload_requests_duplicate"], s["upload_requests_peak_per_link"])')
echo "  seeder: $((bytes / 16384)) copies sent one after another, $dup duplicates dropped, at most $peak requests of one link in hand"
# At most one copy of a chunk per requester in hand at a time (a duplicate is answered by the copy on its
# way), never more than 16 requests of one link: it was 8 upload slots + 64 waiting copies of the chunk.
[[ $peak -le 16 && $dup -ge 1000 ]] || fail "the seeder held $peak requests of one link, dropped $dup duplicates"
fi

echo "PASS peer_hostile_swarm"
