#!/usr/bin/env bash
# A cancel is honoured by the sender (issue 27): a seeder whose messages to the leecher take 1.5 s (a far
# region, --test-far-delay-ms) still holds the pieces of chunks the leecher then got from a nearer seeder
# (endgame duplicates, the first copy wins) when their cancel arrives, and drops them instead of sending
# whole chunks nobody wants. Seen as the far seeder's link carrying fewer bytes than it began to upload.
source "$(dirname "$0")/lib.sh"
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -t 16 \
  -c:v libx264 -preset ultrafast -b:v 3M "$T/clip.mp4"
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --id clip >/dev/null
start_role sig signal
SIG="ws://127.0.0.1:$PORT_sig/ws"
start_server srv --store="$T/store" --max-transfers=0 --signal-url="$SIG"
SRV="http://127.0.0.1:$PORT_srv"
# The near seeder uploads at 2 MB/s, so the leecher's download lasts long enough for the far one to join in.
start_peer near --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1 --upload-rate=2000000
wait_file "$T/near.mp4" 30 || fail "near seeder did not complete"
# The far seeder fetches from the near one only, so everything it uploads afterwards goes to the leecher.
start_peer far --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1 --server-slots=0 \
  --test-far-prefix=leech --test-far-delay-ms=1500 --metrics-listen=127.0.0.1:0 --port-file="$T/far.port"
wait_file "$T/far.mp4" 30 || fail "far seeder did not complete"
start_peer leech --server="$SRV" --video=clip --signal-url="$SIG" --server-slots=0 --peer-timeout-ms=6000
for _ in $(seq 1 400); do kill -0 "$PID_leech" 2>/dev/null || break; sleep 0.1; done
wait "$PID_leech" || fail "leecher failed: $(tail -n 20 "$T/leech.log")"
cmp "$T/clip.mp4" "$T/leech.mp4" || fail "output differs"
sleep 2  # whatever the far seeder still sends has left its 1.5 s queue
curl -sf "http://127.0.0.1:$(cat "$T/far.port")/summary" >"$T/far.now.json" || fail "no summary from the far seeder"
"$PY" - "$T/leech.json" "$T/far.now.json" <<'PY'
import json, sys
leech, far = (json.load(open(p)) for p in sys.argv[1:3])
to_leech = [l for l in far["links"] if l["peer"] == "leech"]
assert to_leech, f"the far seeder never linked to the leecher: {far['links']}"
out = to_leech[0]["bytes_out"]
from_far = sum(l["bytes_in"] for l in leech["links"] if l["peer"] == "far")
print(f"leech: {leech['endgame_requests']} endgame requests, {from_far} bytes from far; far began {far['bytes_uploaded']} "
      f"bytes of uploads, its link to the leecher carried {out}")
assert far["bytes_uploaded"] > 0, "the far seeder was never asked for anything"
assert out < far["bytes_uploaded"], "the far seeder sent every chunk it began, cancels notwithstanding"
PY
stop_and_check "$PID_far" far
echo "PASS peer_cancel"
