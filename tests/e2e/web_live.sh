#!/usr/bin/env bash
# Live in the browser (issue 18): ffmpeg encodes a test pattern into the content server (one transfer slot,
# paced at 150 kB/s); one native live viewer and two Chromium windows on /watch/news play it for 20 s through
# hls.js with the hybrid loader (LiveEngine: live manifest by long poll, ring indexes, peers first for chunks
# they hold, the server when none does or the player runs short). Each tab's currentTime and decoded frames keep
# growing, every chunk handed to hls.js is verified, most of the tabs' bytes come from peers, and a screenshot of the player
# (kept as test-artifacts/web_live_tab0.png beside the binary, or in $HN_ARTIFACT_DIR) shows a decoded frame,
# not a uniform box.
source "$(dirname "$0")/lib.sh"
need_browser
SECS=60  # the encoder outlives the test; the server is stopped at the end
start_role sig signal
SIG="ws://127.0.0.1:$PORT_sig/ws"
# The encoder feeds the server through a process substitution, so $! is the server (its exit status is checked)
# and the encoder ends on EPIPE when the server goes.
"$HN_BIN" --role=server --listen=127.0.0.1:0 --port-file="$T/srv.port" --store="$T/store" --max-transfers=1 \
  --signal-url="$SIG" --live=news=- --limit-rate=150000 --web-root="$HN_SRC/web" >"$T/srv.log" 2>&1 \
  < <(ffmpeg -nostdin -v error -re -f lavfi -i "testsrc=size=320x240:rate=25" -f lavfi -i "sine=frequency=440" -t $SECS \
        -c:v libx264 -preset ultrafast -tune zerolatency -g 25 -pix_fmt yuv420p -c:a aac -f mpegts - 2>"$T/encoder.log") &
PID_srv=$!
HN_PIDS+=("$PID_srv")
wait_file "$T/srv.port" 10 || fail "server did not start"
SRV=http://127.0.0.1:$(cat "$T/srv.port")
for _ in $(seq 1 100); do
  [[ $(curl -s "$SRV/live" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['channels'][0]['next_seq'])" 2>/dev/null) -ge 3 ]] && break
  sleep 0.1
done
start_peer nat1 --server="$SRV" --live=news --signal-url="$SIG"
note "a native viewer and two tabs watch the channel for 20 s"
mkdir -p "$T/web"
timeout 90 "$PY" "$HN_SRC/tests/e2e/web_live.py" "$(cat "$T/srv.port")" news 2 "$T/web" 20 >"$T/tabs.json" 2>"$T/tabs.log" ||
  fail "tabs: $(tail -c 3000 "$T/tabs.json") $(tail -5 "$T/tabs.log")"
stop_and_check "$PID_nat1" nat1
"$PY" - "$T/tabs.json" "$T/nat1.json" <<'PY' || fail "live tabs"
import json, sys
r = json.load(open(sys.argv[1])); nat = json.load(open(sys.argv[2]))
tot = {"server": nat["bytes_from_server"], "peers": nat["bytes_from_peers"]}
print(f"  native viewer: {nat['chunks_delivered']} chunks, server {nat['bytes_from_server']} B, peers {nat['bytes_from_peers']} B, "
      f"missed {nat['missed_deadlines']}, links {[l['peer'] for l in nat.get('links', [])]}")
for k, t in enumerate(r["tabs"]):
    f, s, ss = t["final"], t["final"]["stats"], t["samples"]
    print(f"  tab {k} {f['peer']}: currentTime {[round(x['t'], 1) for x in ss]}, frames {ss[0]['frames']} -> {ss[-1]['frames']} "
          f"(dropped {ss[-1]['dropped']}); server {s['fromServer']} B, native {s['fromNative']} B, browsers {s['fromBrowsers']} B; "
          f"sent to browsers {s['toBrowsers']} B, to native {s['toNative']} B; {s.get('delivered', 0)} segments, {s['verified']} verified, "
          f"503s {s['serverRefusals']}, urgent {s.get('urgent', 0)}, timeouts {s['peerTimeouts']}, bad {s['badChunks']}, peers {s['peers']}, signaller {s['signal']}; "
          f"hls.js errors {f['errors']}")
    assert f["live"], "the page did not take the channel as live"
    # Playback advances all along: every 2 s sample later than the one before, frames decoded throughout.
    assert all(b["t"] > a["t"] for a, b in zip(ss, ss[1:])), ("currentTime stalled", [x["t"] for x in ss])
    assert all(b["frames"] > a["frames"] for a, b in zip(ss, ss[1:])), ("no frames decoded", [x["frames"] for x in ss])
    assert ss[-1]["t"] - ss[0]["t"] >= 12, ("played too little", ss[0]["t"], ss[-1]["t"])
    assert s["badChunks"] == 0 and s["verified"] >= s.get("delivered", 0) > 10, s
    tot["server"] += s["fromServer"]; tot["peers"] += s["fromNative"] + s["fromBrowsers"]
tabs = [t["final"]["stats"] for t in r["tabs"]]
tab_peers = sum(s["fromNative"] + s["fromBrowsers"] for s in tabs); tab_server = sum(s["fromServer"] for s in tabs)
print(f"  tabs: {tab_server} B from the server, {tab_peers} B from peers ({100 * tab_peers / (tab_server + tab_peers):.0f}% from peers)")
# Most of the tabs' bytes come from peers (the native viewer, there first, took the server's chunks alone).
assert tab_peers > tab_server, "most live bytes of the tabs must come from peers"
shot = r["screenshot"]
print(f"  screenshot {shot['path']}: {shot['w']}x{shot['h']}, luminance mean {shot['mean']:.0f}, variance {shot['variance']:.0f}, "
      f"{shot['distinct']} distinct levels")
assert shot["variance"] > 100 and shot["distinct"] > 16, ("the player shows no decoded frame", shot)
print(f"  all viewers: {tot['server']} B from the server, {tot['peers']} B from peers "
      f"({100 * tot['peers'] / (tot['server'] + tot['peers']):.0f}% from peers)")
PY
# The screenshot outlives $T: kept beside the binary (HN_ARTIFACT_DIR to choose), as the test's artifact.
ART=${HN_ARTIFACT_DIR:-$(dirname "$HN_BIN")/test-artifacts}
mkdir -p "$ART" && cp "$T/web/live_tab0.png" "$ART/web_live_tab0.png" && note "screenshot kept: $ART/web_live_tab0.png"
stop_and_check "$PID_srv" srv
stop_and_check "$PID_sig" sig
echo "PASS web_live"
