#!/usr/bin/env bash
# The browser as a peer (issue 18): a content server with one transfer slot, paced, a signaller and one native
# seeder (--seed-for=-1); three headless Chromium tabs (separate browsers and profiles) play a 30 s H.264 HLS
# video on /watch/ID to its end through the hls.js loader of web/src (server first, peers on 503). Every tab verifies
# every segment with crypto.subtle; bytes move native -> browser and browser -> browser (the tabs' own
# counters), and the native seeder's summary shows the browsers' links.
source "$(dirname "$0")/lib.sh"
need_browser
make_video "$T/clip.mp4" 30 -g 25
"$HN_BIN" ingest "$T/clip.mp4" --store "$T/store" --id clip --hls --segment-seconds 1 >/dev/null || fail "ingest"
start_role sig signal
SIG="ws://127.0.0.1:$PORT_sig/ws"
start_server srv --store="$T/store" --web-root="$HN_SRC/web" --signal-url="$SIG" --max-transfers=1 --limit-rate=150000
SRV="http://127.0.0.1:$PORT_srv"
start_peer seed1 --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1 \
  --metrics-listen=127.0.0.1:0 --port-file="$T/seed1.mport"
wait_file "$T/seed1.mp4" 40 || fail "native seeder did not complete: $(tail -3 "$T/seed1.log")"
# Other viewers keep the server's only slot busy most of the time (a slow reader, again and again), so the tabs
# meet 503s as on a loaded server and the swarm has to carry them; between two reads the slot is free.
BIG=$("$PY" -c "import json,sys; c=json.load(open(sys.argv[1]))['chunks']; print(max(c, key=lambda x: x['size'])['id'])" "$T/store/videos/clip.json")
( while [[ ! -e "$T/busy.stop" ]]; do curl -s --limit-rate 40k "$SRV/chunks/$BIG" -o /dev/null; sleep 0.2; done ) &
BUSY=$!
HN_PIDS+=("$BUSY")
note "native seeder ready; three tabs play /watch/clip"
mkdir -p "$T/web"
timeout 150 "$PY" "$HN_SRC/tests/e2e/web_swarm.py" "$PORT_srv" clip 3 "$T/web" 3 >"$T/tabs.json" 2>"$T/tabs.log" &
TABS=$!
HN_PIDS+=("$TABS")
for _ in $(seq 1 500); do [[ -e "$T/web/ended" ]] || ! kill -0 "$TABS" 2>/dev/null && break; sleep 0.2; done
[[ -e "$T/web/ended" ]] || { wait "$TABS"; fail "tabs: $(tail -c 3000 "$T/tabs.json") $(tail -5 "$T/tabs.log")"; }
note "tabs played to the end; the native seeder leaves, a native newcomer fetches from the tabs (and the busy server)"
curl -sf "http://127.0.0.1:$(cat "$T/seed1.mport")/summary" >"$T/seed1_summary.json" || fail "seeder summary"
stop_and_check "$PID_seed1" seed1
start_peer late --server="$SRV" --video=clip --signal-url="$SIG"
wait "$PID_late" || fail "native newcomer: $(tail -5 "$T/late.log")"
cmp -s "$T/late.mp4" "$T/seed1.mp4" || fail "native newcomer's file differs from the seeder's"
touch "$T/web/release"
wait "$TABS" || fail "tabs: $(tail -c 3000 "$T/tabs.json") $(tail -5 "$T/tabs.log")"
touch "$T/busy.stop"; wait "$BUSY"
"$PY" - "$T/tabs.json" "$T/store/videos/clip.json" "$T/seed1_summary.json" "$T/seed1.mp4" "$T/late.json" <<'PY' || fail "counters"
import json, sys
tabs = json.load(open(sys.argv[1])); m = json.load(open(sys.argv[2])); seed = json.load(open(sys.argv[3]))
n = len(m["chunks"])
for k, t in enumerate(tabs):
    s = t["stats"]
    print(f"  tab {k} {t['peer']}: played {t['t']:.1f}/{t['d']:.1f} s; server {s['fromServer']} B, native {s['fromNative']} B, "
          f"browsers {s['fromBrowsers']} B; sent to browsers {s['toBrowsers']} B, to native {s['toNative']} B; "
          f"{len(s['segments'])}/{n} segments, {s['verified']} verified, 503s {s['serverRefusals']}, "
          f"timeouts {s['peerTimeouts']}, peers {s['peers']}, signaller {s['signal']}; hls.js errors {t['errors']}")
    assert t["ended"] and t["t"] >= t["d"] - 0.5, t
    assert sorted(s["segments"]) == list(range(n)), ("tab did not get every segment", k, s["segments"])
    assert s["verified"] >= n and s["badChunks"] == 0, s
    assert s["fromServer"] + s["fromNative"] + s["fromBrowsers"] >= sum(c["size"] for c in m["chunks"]), s
    bad = [e for e in t["errors"] if e != "mediaError:bufferSeekOverHole"]
    assert not bad, ("hls.js errors", k, bad)
tot = lambda key: sum(t["stats"][key] for t in tabs)
assert tot("fromNative") > 0, "no bytes native -> browser"
assert tot("fromBrowsers") > 0 and tot("toBrowsers") > 0, "no bytes browser -> browser"
links = [l for l in seed.get("links", []) if l["peer"].startswith("web-")]
out = sum(l["bytes_out"] for l in links)
print(f"  native seeder: {len(links)} browser links, {out} bytes sent to browsers")
assert out > 0, seed.get("links")
src = __import__("hashlib").sha256(open(sys.argv[4], "rb").read()).hexdigest()
print(f"  tab 0 Download: {tabs[0]['download']}; the native seeder's file: {src}")
assert tabs[0]["download"].get("sha256") == src, tabs[0]["download"]
late = json.load(open(sys.argv[5]))
from_tabs = sum(l.get("bytes_in", 0) for l in late.get("links", []) if l["peer"].startswith("web-"))
print(f"  native newcomer: {late.get('bytes_from_server')} B from the server, {late.get('bytes_from_peers')} B from peers, "
      f"{from_tabs} B over links to the tabs; tabs' own counters: {tot('toNative')} B sent to native peers")
assert from_tabs > 0 and tot("toNative") > 0, "no bytes browser -> native"
share = (tot("fromNative") + tot("fromBrowsers")) / (tot("fromServer") + tot("fromNative") + tot("fromBrowsers"))
print(f"  share of bytes from peers over the tabs: {share:.0%}")
PY
stop_and_check "$PID_srv" srv
echo "PASS web_swarm"
