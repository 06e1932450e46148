#!/usr/bin/env bash
# A WebSocket frame header declaring more than --max-message-bytes is refused at once with 1009, on the
# signaller (server side) and in the peer's signal client (client side), without waiting for a payload.
source "$(dirname "$0")/lib.sh"

start_role sig signal --max-message-bytes=65536
note "signaller: a 16 MiB frame header alone gets 1009 at once"
"$PY" - "$PORT_sig" <<'PY'
import base64, os, socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
key = base64.b64encode(os.urandom(16)).decode()
s.sendall(f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
          f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
buf = b""
while b"\r\n\r\n" not in buf:
    d = s.recv(4096); assert d, "closed during handshake"; buf += d
assert buf.startswith(b"HTTP/1.1 101"), buf[:80]
buf = buf.split(b"\r\n\r\n", 1)[1]
# Header only: FIN+binary, masked, 64-bit length 16 MiB, mask key; no payload follows.
t0 = time.monotonic()
s.sendall(bytes([0x82, 0xFF]) + struct.pack(">Q", 16 << 20) + b"\x01\x02\x03\x04")
s.settimeout(2)  # "at once": well before any payload could have arrived
while len(buf) < 4:
    d = s.recv(4096); assert d, "closed without a close frame"; buf += d
assert buf[0] == 0x88, f"not a close frame: {buf[:8]!r}"
code = struct.unpack(">H", buf[2:4])[0]
assert code == 1009, code
print(f"close {code} after {time.monotonic() - t0:.3f} s: {buf[4:2 + buf[1]].decode()}")
PY

note "peer: a signaller that announces a 16 MiB frame gets 1009 back"
"$PY" - "$T/fake.port" >"$T/fake.log" 2>&1 <<'PY' &
import base64, hashlib, socket, struct, sys
l = socket.socket(); l.bind(("127.0.0.1", 0)); l.listen(1)
open(sys.argv[1], "w").write(str(l.getsockname()[1]))
c, _ = l.accept(); c.settimeout(10)
req = b""
while b"\r\n\r\n" not in req:
    d = c.recv(4096); assert d; req += d
key = [l.split(b": ", 1)[1] for l in req.split(b"\r\n") if l.lower().startswith(b"sec-websocket-key")][0]
acc = base64.b64encode(hashlib.sha1(key + b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11").digest())
c.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acc + b"\r\n\r\n")
c.sendall(bytes([0x81, 0x7F]) + struct.pack(">Q", 16 << 20))
buf = b""
while True:  # skip the peer's own messages (hello/join) until its close frame
    while len(buf) < 2:
        d = c.recv(65536); assert d, "peer closed without a close frame"; buf += d
    n = buf[1] & 0x7F; hl = 2 + (2 if n == 126 else 8 if n == 127 else 0) + 4
    while len(buf) < hl:
        buf += c.recv(65536)
    if n == 126: n = struct.unpack(">H", buf[2:4])[0]
    elif n == 127: n = struct.unpack(">Q", buf[2:10])[0]
    while len(buf) < hl + n:
        d = c.recv(65536); assert d; buf += d
    mask, payload = buf[hl - 4:hl], bytes(b ^ buf[hl - 4 + i % 4] for i, b in enumerate(buf[hl:hl + n]))
    op, buf = buf[0] & 0x0F, buf[hl + n:]
    if op == 8:
        print("peer close", struct.unpack(">H", payload[:2])[0]); break
PY
fake=$!
HN_PIDS+=("$fake")
wait_file "$T/fake.port" 5 || fail "fake signaller did not start"
sleep 0.1
make_video "$T/clip.mp4" 1
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" >/dev/null
start_server srv --store="$T/store" --signal-url="ws://127.0.0.1:$(cat "$T/fake.port")/ws"
start_peer p1 --server="http://127.0.0.1:$PORT_srv" --video=clip --seed-for=30 --signal-url="ws://127.0.0.1:$(cat "$T/fake.port")/ws"
for _ in $(seq 1 100); do grep -q "peer close" "$T/fake.log" && break; sleep 0.1; done
grep -q "peer close 1009" "$T/fake.log" || fail "peer did not close with 1009: $(cat "$T/fake.log")"
kill "$PID_p1" 2>/dev/null || true
stop_and_check "$PID_srv" srv
echo "PASS ws_frame_limit"
