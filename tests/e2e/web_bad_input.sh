#!/usr/bin/env bash
# Bad input for the browser peer (issue 18): a native seeder with --test-corrupt-uploads feeds a Chromium tab
# beside an honest one: the tab detects the bad chunk (SHA-256 with crypto.subtle), bans that peer, refetches the
# chunk and plays on to the end. Then the signaller goes down: a new tab plays the video from the server alone.
# The server has one transfer slot kept busy part of the time by another reader, so the tabs meet 503s.
source "$(dirname "$0")/lib.sh"
for need in /usr/bin/chromium /usr/bin/chromedriver "$HN_SRC/web/node_modules/hls.js/dist/hls.min.js"; do
  [[ -e "$need" ]] || fail "$need missing: run scripts/setup.sh"
done
"$PY" -c "import selenium" 2>/dev/null || fail "python3-selenium missing: run scripts/setup.sh"
make_video "$T/clip.mp4" 10 -g 25
"$HN_BIN" ingest "$T/clip.mp4" --store "$T/store" --id clip --hls --segment-seconds 1 >/dev/null || fail "ingest"
start_role sig signal
SIG="ws://127.0.0.1:$PORT_sig/ws"
start_server srv --store="$T/store" --web-root="$HN_SRC/web" --signal-url="$SIG" --max-transfers=1 --limit-rate=150000
SRV="http://127.0.0.1:$PORT_srv"
start_peer bad --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1 --test-corrupt-uploads
start_peer good --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1
wait_file "$T/bad.mp4" 40 && wait_file "$T/good.mp4" 40 || fail "native seeders did not complete"
BIG=$("$PY" -c "import json,sys; c=json.load(open(sys.argv[1]))['chunks']; print(max(c, key=lambda x: x['size'])['id'])" "$T/store/videos/clip.json")
echo 0.2 >"$T/busy.sleep"
( while [[ ! -e "$T/busy.stop" ]]; do curl -s --limit-rate 40k "$SRV/chunks/$BIG" -o /dev/null; sleep "$(cat "$T/busy.sleep")"; done ) &
BUSY=$!
HN_PIDS+=("$BUSY")

note "a tab beside a corrupting and an honest native seeder"
mkdir -p "$T/web1" "$T/web2"; touch "$T/web1/release" "$T/web2/release"
timeout 120 "$PY" "$HN_SRC/tests/e2e/web_swarm.py" "$PORT_srv" clip 1 "$T/web1" >"$T/tab1.json" 2>"$T/tab1.log" ||
  fail "tab: $(tail -c 3000 "$T/tab1.json") $(tail -5 "$T/tab1.log")"
"$PY" - "$T/tab1.json" "$T/store/videos/clip.json" <<'PY' || fail "corrupt seeder"
import json, sys
t = json.load(open(sys.argv[1]))[0]; n = len(json.load(open(sys.argv[2]))["chunks"]); s = t["stats"]
print(f"  tab: played {t['t']:.1f}/{t['d']:.1f} s, {len(s['segments'])}/{n} segments, verified {s['verified']}, "
      f"bad chunks {s['badChunks']}, banned {s['banned']}, server {s['fromServer']} B, native {s['fromNative']} B")
assert t["ended"] and sorted(s["segments"]) == list(range(n)), t
assert s["badChunks"] >= 1 and s["banned"] == ["bad"], ("corrupt seeder not caught", s)
assert s["fromNative"] > 0, ("nothing from the honest seeder", s)
PY

note "the signaller goes down: a new tab plays from the server alone"
stop_and_check "$PID_sig" sig
echo 1 >"$T/busy.sleep"
timeout 120 "$PY" "$HN_SRC/tests/e2e/web_swarm.py" "$PORT_srv" clip 1 "$T/web2" >"$T/tab2.json" 2>"$T/tab2.log" ||
  fail "tab without signaller: $(tail -c 3000 "$T/tab2.json") $(tail -5 "$T/tab2.log")"
"$PY" - "$T/tab2.json" "$T/store/videos/clip.json" <<'PY' || fail "signaller down"
import json, sys
t = json.load(open(sys.argv[1]))[0]; m = json.load(open(sys.argv[2])); s = t["stats"]
total = sum(c["size"] for c in m["chunks"])
print(f"  tab: played {t['t']:.1f}/{t['d']:.1f} s from the server alone ({s['fromServer']} B, 503s {s['serverRefusals']}); "
      f"signaller: {s['signal']}")
assert t["ended"] and len(s["segments"]) == len(m["chunks"]), t
assert s["fromServer"] == total and s["fromNative"] + s["fromBrowsers"] == 0, s
assert s["serverRefusals"] >= 1 and (s["signal"] == "down" or s["signal"].startswith("unreachable")), ("the tab never tried the signaller", s)
PY
touch "$T/busy.stop"; wait "$BUSY"
stop_and_check "$PID_bad" bad
stop_and_check "$PID_good" good
stop_and_check "$PID_srv" srv
echo "PASS web_bad_input"
