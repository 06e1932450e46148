#!/usr/bin/env bash
# Upgrade requests the signaller rejects (wrong path, bad handshake, other protocols) are answered over HTTP,
# and the signaller keeps serving: plain requests and a real WebSocket client afterwards.
source "$(dirname "$0")/lib.sh"

start_role sig signal
S=127.0.0.1:$PORT_sig
WS=(-H 'Upgrade: websocket' -H 'Connection: Upgrade' -H 'Sec-WebSocket-Version: 13')
KEY=(-H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')
# expect STATUS HEADERS-GREP CURL-ARGS...: one request; the status must match and the signaller must live.
expect() {
  local want=$1 hdr=$2; shift 2
  local out code
  out=$(curl -s -D - -o "$T/body" --max-time 5 "$@") || fail "curl $*: no answer (signaller: $(kill -0 "$PID_sig" 2>&1 || echo dead))"
  code=$(printf '%s' "$out" | awk 'NR==1 {print $2}')
  [[ "$code" == "$want" ]] || fail "curl $*: status $code, want $want"
  [[ -z "$hdr" ]] || printf '%s' "$out" | grep -qi "$hdr" || fail "curl $*: no header matching '$hdr' in: $out"
  kill -0 "$PID_sig" 2>/dev/null || fail "signaller died after curl $*"
}
note "rejected upgrades"
expect 404 '' "${WS[@]}" "${KEY[@]}" "http://$S/foo"
expect 404 '' "${WS[@]}" "${KEY[@]}" "http://$S/"
expect 400 '' "${WS[@]}" "http://$S/ws"
grep -q 'Sec-WebSocket-Key' "$T/body" || fail "400 does not say what is wrong: $(cat "$T/body")"
expect 400 '' -H 'Upgrade: websocket' -H 'Connection: Upgrade' "${KEY[@]}" "http://$S/ws"
note "an Upgrade the signaller does not speak is ignored (RFC 9110 7.8)"
expect 200 '' -H 'Upgrade: h2c' -H 'Connection: Upgrade, HTTP2-Settings' -H 'HTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA' "http://$S/metrics"
grep -q '^hybridnode_signal' "$T/body" || fail "metrics body missing"
note "plain GET /ws: 426 naming the protocol"
expect 426 '^Upgrade: websocket' "http://$S/ws"
note "still serving"
expect 200 '' "http://$S/healthz"
"$PY" - "$PORT_sig" <<'PYEOF'
import asyncio, json, sys
import websockets
async def main():
    async with websockets.connect(f"ws://127.0.0.1:{sys.argv[1]}/ws") as ws:
        await ws.send(json.dumps({"type": "ping"}))
        r = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert r["type"] == "pong", r
asyncio.run(main())
PYEOF
stop_and_check "$PID_sig" sig
echo "PASS signal_upgrade"
