#!/usr/bin/env bash
# HTTPS on the content server: versions and ALPN (openssl s_client), a CA made here, an untrusted
# certificate, garbage instead of a ClientHello, a handshake never finished (timed out, no slot held),
# and SIGHUP swapping the certificate while a download runs (it completes; new connections get the new one);
# an idle connection after a slowly read body does not spin; a wss burst is read to its last message;
# unfinished handshakes are capped (the oldest is displaced); new handshakes have a per-address budget.
source "$(dirname "$0")/lib.sh"

make_tls_certs "$T/a"
make_tls_certs "$T/b"
cp "$T/a/srv.pem" "$T/live.pem"; cp "$T/a/srv.key" "$T/live.key"
make_video "$T/clip.mp4" 2 -qp 0
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --chunk-size 131072 >/dev/null
# A handshake budget of 15/s (bursts of 30): the flood below must pass it even when the machine is slow.
export HN_TLS_BUDGET=15
start_server srv --store="$T/store" --tls-cert="$T/live.pem" --tls-key="$T/live.key" --header-timeout-ms=1000 \
  --max-transfers=1 --limit-rate=50000 --tls-handshakes-per-ip=$HN_TLS_BUDGET
base="https://127.0.0.1:$PORT_srv"
m() { command curl -sf --cacert "$T/a/ca.pem" "$base/metrics" | awk -v n="$1" '$1==n {print $2}'; }
id=$(command curl -sf --cacert "$T/a/ca.pem" "$base/videos/clip" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["chunks"][0]["id"])')

note "TLS 1.2 and 1.3 accepted, 1.1 refused; ALPN http/1.1"
for v in tls1_2 tls1_3; do
  out=$(openssl s_client -connect "127.0.0.1:$PORT_srv" -$v -alpn h2,http/1.1 -CAfile "$T/a/ca.pem" </dev/null 2>&1) || true
  grep -q "Verify return code: 0 (ok)" <<<"$out" || fail "$v: handshake/verify failed: $(tail -5 <<<"$out")"
  grep -q "ALPN protocol: http/1.1" <<<"$out" || fail "$v: ALPN http/1.1 not selected"
done
out=$(openssl s_client -connect "127.0.0.1:$PORT_srv" -tls1_1 </dev/null 2>&1) && fail "TLS 1.1 accepted"
grep -q "Cipher is (NONE)\|alert\|error" <<<"$out" || fail "TLS 1.1: unexpected output $(tail -3 <<<"$out")"

note "an untrusted certificate is a clear error"
err=$(command curl -sS -o /dev/null "$base/healthz" 2>&1) && fail "untrusted certificate accepted"
grep -qi "certificate" <<<"$err" || fail "curl error does not mention the certificate: $err"

note "garbage instead of a ClientHello; a handshake never finished"
"$PY" - "$PORT_srv" <<'PY'
import socket, sys, time
port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"GET /videos HTTP/1.1\r\nHost: x\r\n\r\n")
data = b""
try:
    while True:
        d = s.recv(4096)
        if not d: break
        data += d
except ConnectionResetError:
    pass
assert b"HTTP/1.1 200" not in data, "plain HTTP answered on the TLS port"
t0 = time.monotonic()
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"\x16\x03\x01")  # the first bytes of a record, then nothing
try:
    d = s.recv(4096)
except ConnectionResetError:
    d = b""
waited = time.monotonic() - t0
assert d == b"" or d[:1] == b"\x15", d  # closed (perhaps after an alert)
assert waited < 5, f"half-done handshake held {waited:.1f}s"
print(f"half-done handshake closed after {waited:.1f}s")
PY
[[ $(m hybridnode_tls_handshake_failures_total) -ge 1 ]] || fail "handshake failure not counted"
[[ $(m hybridnode_http_timeouts_total) -ge 1 ]] || fail "handshake timeout not counted"
[[ $(m hybridnode_active_transfers) == 0 ]] || fail "a slot is held"

note "a handshake flood from one address is reset at accept; another address is served meanwhile"
"$PY" "$HN_SRC/tests/e2e/tls_abuse.py" handshake-flood "$PORT_srv" "$T/a/ca.pem" "$PID_srv" || fail "handshake flood"
[[ $(m hybridnode_tls_handshakes_refused_total) -ge 1 ]] || fail "refused handshakes not counted"

note "a peer downloads over https with --ca; without it, the error names the server and the certificate"
"$HN_BIN" --role=peer --server="$base" --video=clip --output="$T/p1.mp4" --ca="$T/a/ca.pem" >"$T/p1.log" 2>&1 ||
  fail "peer over https failed: $(tail -3 "$T/p1.log")"
cmp -s "$T/p1.mp4" "$T/clip.mp4" || fail "peer over https: file differs"
"$HN_BIN" --role=peer --server="$base" --video=clip --output="$T/p2.mp4" >"$T/p2.log" 2>&1 && fail "untrusted server accepted by the peer"
grep -q "127.0.0.1:$PORT_srv.*certificate" "$T/p2.log" || fail "peer error unclear: $(tail -2 "$T/p2.log")"

note "SIGHUP swaps the certificate while a download runs"
command curl -sf --cacert "$T/a/ca.pem" -o "$T/slow" "$base/chunks/$id" &
slow=$!
for _ in $(seq 1 50); do [[ $(m hybridnode_active_transfers) == 1 ]] && break; sleep 0.02; done
[[ $(m hybridnode_active_transfers) == 1 ]] || fail "the slow download is not running"
cp "$T/b/srv.pem" "$T/live.pem"; cp "$T/b/srv.key" "$T/live.key"
kill -HUP "$PID_srv"
for _ in $(seq 1 50); do grep -q "SIGHUP: reloaded" "$T/srv.log" && break; sleep 0.02; done
command curl -sf --cacert "$T/b/ca.pem" "$base/healthz" >/dev/null || fail "new connection does not get the new certificate"
command curl -sf --cacert "$T/a/ca.pem" "$base/healthz" >/dev/null && fail "new connection still gets the old certificate"
kill -0 $slow 2>/dev/null || fail "download finished before the reload: the test proves nothing"
wait $slow || fail "the download running across SIGHUP failed"
[[ $(sha256sum "$T/slow" | cut -d' ' -f1) == "$id" ]] || fail "download across SIGHUP has wrong bytes"
note "a broken certificate on SIGHUP keeps the old one"
echo broken >"$T/live.pem"
kill -HUP "$PID_srv"
for _ in $(seq 1 50); do grep -q "keeping the old certificate" "$T/srv.log" && break; sleep 0.02; done
grep -q "keeping the old certificate" "$T/srv.log" || fail "broken certificate not reported"
command curl -sf --cacert "$T/b/ca.pem" "$base/healthz" >/dev/null || fail "server stopped serving after a bad reload"

note "an idle HTTPS keep-alive connection after a slowly read body costs no CPU (no stale want-write poll)"
mkdir -p "$T/web"
head -c 6000000 /dev/urandom >"$T/web/big.bin"
# Off here: the 3000 half ClientHellos below come from one address and must reach the handshake cap.
start_server web --store="$T/store" --web-root="$T/web" --tls-cert="$T/a/srv.pem" --tls-key="$T/a/srv.key" --tls-handshakes-per-ip=0
"$PY" "$HN_SRC/tests/e2e/tls_abuse.py" idle-spin "$PORT_web" "$T/a/ca.pem" "$PID_web" || fail "idle HTTPS connection"
note "unfinished handshakes are capped: 3000 half ClientHellos displace each other, the server keeps serving"
"$PY" "$HN_SRC/tests/e2e/tls_abuse.py" half-hello "$PORT_web" "$T/a/ca.pem" "$PID_web" || fail "half-open TLS flood"
command curl -sf --cacert "$T/a/ca.pem" "https://127.0.0.1:$PORT_web/healthz" >/dev/null || fail "not serving after the flood"
stop_and_check "$PID_web" web

note "wss: the signaller with the same flags; python websockets over ssl; a peer joins over wss with --ca"
start_role sig signal --tls-cert="$T/a/srv.pem" --tls-key="$T/a/srv.key" --tls-handshakes-per-ip=$HN_TLS_BUDGET
"$PY" - "$PORT_sig" "$T/a/ca.pem" <<'PY'
import asyncio, json, ssl, sys, websockets
async def main():
    ctx = ssl.create_default_context(cafile=sys.argv[2])
    async with websockets.connect(f"wss://localhost:{sys.argv[1]}/ws", ssl=ctx) as ws:
        await ws.send(json.dumps({"type": "join", "video": "v", "peer": "py", "chunk_count": 4}))
        r = json.loads(await asyncio.wait_for(ws.recv(), 5))
        assert r["type"] == "joined", r
    try:  # a client that does not trust the CA fails the handshake
        async with websockets.connect(f"wss://localhost:{sys.argv[1]}/ws", ssl=ssl.create_default_context()):
            raise SystemExit("untrusted wss accepted")
    except ssl.SSLCertVerificationError:
        pass
asyncio.run(main())
PY
cat "$T/a/ca.pem" "$T/b/ca.pem" >"$T/ab.pem"   # the server now has certificate b, the signaller a
"$HN_BIN" --role=peer --server="$base" --video=clip --output="$T/p3.mp4" --ca="$T/ab.pem" --seed-for=30 \
  --signal-url="wss://127.0.0.1:$PORT_sig/ws" >"$T/p3.log" 2>&1 &
p3=$!
HN_PIDS+=("$p3")
for _ in $(seq 1 100); do
  [[ $(command curl -sf --cacert "$T/a/ca.pem" "https://127.0.0.1:$PORT_sig/metrics" | awk '$1=="hybridnode_signal_members" {print $2}') == 1 ]] && break
  sleep 0.1
done
[[ $(command curl -sf --cacert "$T/a/ca.pem" "https://127.0.0.1:$PORT_sig/metrics" | awk '$1=="hybridnode_signal_members" {print $2}') == 1 ]] ||
  fail "peer did not join over wss: $(tail -3 "$T/p3.log")"
kill "$p3"; wait "$p3" 2>/dev/null || true
note "a burst of wss messages that lands at once is read to its end (bytes held by TLS, not the socket)"
"$PY" "$HN_SRC/tests/e2e/tls_abuse.py" wss-burst "$PORT_sig" "$T/a/ca.pem" "$PID_sig" || fail "wss burst"
note "the signaller too resets a handshake flood from one address at accept (--tls-handshakes-per-ip)"
"$PY" "$HN_SRC/tests/e2e/tls_abuse.py" handshake-flood "$PORT_sig" "$T/a/ca.pem" "$PID_sig" || fail "signaller handshake flood"
[[ $(command curl -sf --cacert "$T/a/ca.pem" "https://127.0.0.1:$PORT_sig/metrics" | awk '$1=="hybridnode_tls_handshakes_refused_total" {print $2}') -ge 1 ]] ||
  fail "signaller: refused handshakes not counted"
make_tls_certs "$T/c"
start_role sig2 signal --tls-cert="$T/c/srv.pem" --tls-key="$T/c/srv.key"
"$HN_BIN" --role=peer --server="$base" --video=clip --output="$T/p4.mp4" --ca="$T/b/ca.pem" --seed-for=30 \
  --signal-url="wss://127.0.0.1:$PORT_sig2/ws" >"$T/p4.log" 2>&1 &
p4=$!
HN_PIDS+=("$p4")
for _ in $(seq 1 100); do grep -q "certificate not trusted" "$T/p4.log" && break; sleep 0.1; done
grep -q "wss://127.0.0.1:$PORT_sig2/ws.*certificate not trusted" "$T/p4.log" ||
  fail "untrusted signaller: no clear error naming it: $(grep -i signal "$T/p4.log" | tail -3)"
kill "$p4"; wait "$p4" 2>/dev/null || true
stop_and_check "$PID_sig2" sig2
stop_and_check "$PID_sig" sig

note "bad flags"
out=$("$HN_BIN" --role=server --listen=127.0.0.1:0 --store="$T/store" --tls-cert="$T/a/srv.pem" 2>&1) && fail "cert without key accepted"
grep -q "tls-key" <<<"$out" || fail "$out"
out=$("$HN_BIN" --role=server --listen=127.0.0.1:0 --store="$T/store" --tls-cert="$T/a/srv.pem" --tls-key="$T/b/srv.key" 2>&1) && fail "mismatched key accepted"
grep -qE "mismatch|does not match" <<<"$out" || fail "$out"

stop_and_check "$PID_srv" srv
echo "PASS server_tls"
