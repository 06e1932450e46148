#!/usr/bin/env bash
# A browser joins the swarm: headless Chromium (Debian's chromium + chromium-driver, driven by python3-selenium)
# loads a page from http://127.0.0.1 (a secure context), joins the signaller, dials a native seeder with
# RTCPeerConnection, fetches every chunk over the `hybridnode` data channel and checks its SHA-256 with
# crypto.subtle. The seeder's summary shows the link as DTLS with Chromium's certificate fingerprint; the seeder
# uses a certificate given with --dtls-cert/--dtls-key, and Chromium saw exactly that certificate.
source "$(dirname "$0")/lib.sh"
[[ -x /usr/bin/chromium && -x /usr/bin/chromedriver ]] && "$PY" -c "import selenium" 2>/dev/null ||
  { echo "SKIP: chromium, chromium-driver or python3-selenium missing (scripts/setup.sh)"; exit 77; }
make_video "$T/clip.mp4" 8 -b:v 3M
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --id clip >/dev/null
start_role sig signal
SIG="ws://127.0.0.1:$PORT_sig/ws"
start_server srv --store="$T/store" --signal-url="$SIG"
SRV="http://127.0.0.1:$PORT_srv"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=seeder \
  -keyout "$T/key.pem" -out "$T/cert.pem" 2>/dev/null
FP=$(openssl x509 -in "$T/cert.pem" -noout -fingerprint -sha256 | cut -d= -f2)
if "$HN_BIN" --role=peer --server="$SRV" --video=clip --dtls-cert="$T/nope.pem" --dtls-key="$T/key.pem" \
     --output="$T/x.mp4" >"$T/badcert.log" 2>&1; then fail "a missing --dtls-cert was accepted"; fi
grep -q "dtls: cannot open" "$T/badcert.log" || fail "no clear error for a missing --dtls-cert: $(cat "$T/badcert.log")"
start_peer seeder --server="$SRV" --video=clip --signal-url="$SIG" --seed-for=-1 \
  --dtls-cert="$T/cert.pem" --dtls-key="$T/key.pem" --metrics-listen=127.0.0.1:0 --port-file="$T/seeder.mport"
wait_file "$T/seeder.mp4" 30 || fail "native seeder did not complete"
mkdir -p "$T/chromium"
"$PY" "$HN_SRC/tests/e2e/chromium_peer.py" "$SIG" "$SRV" clip seeder "$T/chromium" >"$T/chromium.json" 2>"$T/chromium.log" ||
  fail "chromium peer: $(cat "$T/chromium.json") $(tail -5 "$T/chromium.log")"
curl -sf "http://127.0.0.1:$(cat "$T/seeder.mport")/summary" >"$T/seeder_summary.json"
"$PY" - "$T/chromium.json" "$T/seeder_summary.json" "$T/store/videos/clip.json" "$FP" <<'PY'
import json, sys
r = json.load(open(sys.argv[1])); s = json.load(open(sys.argv[2])); m = json.load(open(sys.argv[3]))
assert r["dtls"].get("remoteFingerprint", "").upper() == sys.argv[4], (r["dtls"], sys.argv[4])
print(f"  chromium: {r['chunks']} chunks, {r['bytes']} bytes verified with crypto.subtle in {r['ms']:.0f} ms; DTLS {r['dtls']}")
assert r["ok"] and r["chunks"] == len(m["chunks"]) and r["bytes"] == sum(c["size"] for c in m["chunks"]), r
link = [l for l in s["links"] if l["peer"] == r["me"]][0]
print(f"  seeder's link to {link['peer']}: dtls {link['dtls']}, {link['cipher']}, out {link['bytes_out']}")
assert link["dtls"] and link["cipher"] == "ECDHE-ECDSA-AES128-GCM-SHA256" and len(link["remote_fingerprint"]) == 95, link
assert link["bytes_out"] == r["bytes"], link
PY
stop_and_check "$PID_seeder" seeder
echo "PASS webrtc_chromium"
