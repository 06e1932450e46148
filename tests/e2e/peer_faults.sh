#!/usr/bin/env bash
# Peers that misbehave or die: a corrupting seeder is detected and dropped; a seeder SIGKILLed
# mid-transfer is replaced by another; a peer sending garbage is cut off; the others complete.
source "$(dirname "$0")/lib.sh"

ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -f lavfi -i sine -t 20 \
  -c:v libx264 -preset ultrafast -b:v 3M -c:a aac -shortest "$T/clip.mp4"
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --id clip >/dev/null
head -c $((32 << 20)) /dev/urandom >"$T/filler.bin"
"$HN_BIN" ingest "$T/filler.bin" --store "$T/store" --id filler --chunk-size $((32 << 20)) >/dev/null
start_role sig signal
SIG="ws://127.0.0.1:$PORT_sig/ws"
start_server srv --store="$T/store" --max-transfers=1 --signal-url="$SIG" --send-timeout-ms=300000
SRV="http://127.0.0.1:$PORT_srv"
total=$(stat -c %s "$T/clip.mp4")

note "seeders fetch from the server while it is free"
start_peer honest --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1 --upload-rate=3000000
start_peer liar --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1 --test-corrupt-uploads
start_peer doomed --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1 --upload-rate=3000000
for p in honest liar doomed; do wait_file "$T/$p.mp4" 30 || fail "$p did not complete"; done

note "block the server for the rest of the test"
filler=$(curl -sf "$SRV/videos/filler" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["chunks"][0]["id"])')
exec {hold}> >("$PY" "$HN_SRC/tests/e2e/slow_reader.py" "$PORT_srv" "/chunks/$filler" >"$T/slow.out")
for _ in $(seq 1 100); do [[ -s "$T/slow.out" ]] && break; sleep 0.05; done
[[ $(metric "$PORT_srv" hybridnode_active_transfers) == 1 ]] || fail "slot not held"

note "a garbage-sending peer is cut off by the seeders, who keep serving"
start_peer junk --server="$SRV" --video=clip --signal-url="$SIG" --test-send-garbage
sleep 2
kill "$PID_junk" 2>/dev/null || true

note "leecher: meets a liar and a seeder that gets SIGKILLed mid-transfer"
start_peer leech --server="$SRV" --video=clip --signal-url="$SIG" --peer-timeout-ms=3000
# Kill 'doomed' once the leecher is under way (uploads are paced at 3 MB/s, so it is mid-transfer).
for _ in $(seq 1 100); do grep -q "link to doomed ready" "$T/leech.log" && break; sleep 0.05; done
sleep 0.5
kill -KILL "$PID_doomed"
wait "$PID_leech" || fail "leecher failed: $(tail -n 20 "$T/leech.log")"
cmp "$T/clip.mp4" "$T/leech.mp4" || fail "leecher output differs"
"$PY" - "$T/leech.json" "$total" <<'PY'
import json, sys
s = json.load(open(sys.argv[1])); total = int(sys.argv[2])
links = {l["peer"]: l for l in s["links"]}
print("leech:", {k: (v["bytes_in"], v["closed"]) for k, v in links.items()})
assert s["bytes_from_peers"] == total and s["bytes_from_server"] == 0, s
assert "liar" in s["bad_peers"] and s["bad_chunks"] >= 1, "corrupting peer not detected"
assert "doomed" in links and links["doomed"]["bytes_in"] > 0, "never got bytes from the killed seeder"
assert links["doomed"]["closed"], "killed seeder's link not closed"
assert links["honest"]["bytes_in"] > 0
PY
grep -q "failed SHA-256 verification" "$T/leech.log" || fail "no verification failure logged"
kill -0 "$PID_honest" 2>/dev/null || fail "honest seeder crashed"
kill -0 "$PID_liar" 2>/dev/null || fail "liar crashed"
grep -q "protocol error" "$T/honest.log" || fail "seeder did not report the garbage peer's protocol error"
exec {hold}>&-
echo "PASS peer_faults"
