"""Sends malformed and hostile HTTP to a hybridnode server and checks each answer."""
import os, re, socket, ssl, sys, time

PORT = int(sys.argv[1])
GOOD_CHUNK = sys.argv[2]
failures = []
# HN_CA set (tests/e2e/lib.sh with HN_TLS=1): the server speaks HTTPS; every exchange is wrapped in TLS.
CA = os.environ.get("HN_CA")
TLS = ssl.create_default_context(cafile=CA) if CA else None


def tls(s):
    return TLS.wrap_socket(s, server_hostname="localhost") if TLS else s


def exchange(raw, timeout=5.0, rcvbuf=None):
    s = socket.socket()
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.settimeout(timeout)
    s.connect(("127.0.0.1", PORT))
    s = tls(s)
    if raw:
        s.sendall(raw)
    data = b""
    try:
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
            if b"\r\n\r\n" in data and b"Connection: keep-alive" in data:
                break
    except (socket.timeout, ssl.SSLError, ConnectionResetError):
        pass
    s.close()
    return data


def status(data):
    try:
        return int(data.split(b" ", 2)[1])
    except Exception:
        return None


def expect(name, raw, want, **kw):
    got = exchange(raw, **kw)
    st = status(got)
    ok = st in want if isinstance(want, (list, tuple, set)) else st == want
    print(f"{'ok ' if ok else 'BAD'} {name}: {st}")
    if not ok:
        failures.append(f"{name}: wanted {want}, got {got[:200]!r}")
    return got


H = "Host: x\r\n"
expect("garbage request line", b"HELLO WORLD\r\n\r\n", 400)
expect("binary junk", bytes(range(256)) * 4, 400)
expect("bad version", b"GET / HTTP/9.9\r\n\r\n", 505)
expect("oversized header", f"GET /videos HTTP/1.1\r\n{H}X-Big: {'a' * 20000}\r\n\r\n".encode(), 431)
expect("many headers", ("GET /videos HTTP/1.1\r\n" + "".join(f"X-{i}: v\r\n" for i in range(2000)) + "\r\n").encode(), 431)
expect("huge URL", f"GET /videos/{'a' * 10000} HTTP/1.1\r\n{H}\r\n".encode(), 431)
expect("body too large", f"POST /videos HTTP/1.1\r\n{H}Content-Length: 100000000\r\n\r\n".encode(), 413)
expect("method not allowed", f"DELETE /chunks/{GOOD_CHUNK} HTTP/1.1\r\n{H}\r\n".encode(), 405)
expect("path traversal on chunks", f"GET /chunks/../../etc/passwd HTTP/1.1\r\n{H}\r\n".encode(), 400)
expect("encoded traversal on videos", f"GET /videos/..%2f..%2fetc%2fpasswd HTTP/1.1\r\n{H}\r\n".encode(), 400)
expect("dot-dot video id", f"GET /videos/.. HTTP/1.1\r\n{H}\r\n".encode(), 400)
expect("uppercase chunk id", f"GET /chunks/{GOOD_CHUNK.upper()} HTTP/1.1\r\n{H}\r\n".encode(), 400)
expect("short chunk id", f"GET /chunks/abc HTTP/1.1\r\n{H}\r\n".encode(), 400)
expect("unknown chunk id", f"GET /chunks/{'0' * 64} HTTP/1.1\r\n{H}\r\n".encode(), 404)
expect("unknown video", f"GET /videos/nope HTTP/1.1\r\n{H}\r\n".encode(), 404)
expect("unknown path", f"GET /etc/passwd HTTP/1.1\r\n{H}\r\n".encode(), 404)
expect("absolute-form target", f"GET http://evil/chunks/{GOOD_CHUNK} HTTP/1.1\r\n{H}\r\n".encode(), 200)
expect("NUL in path", f"GET /videos/a\x00b HTTP/1.1\r\n{H}\r\n".encode(), 400)

# Slowloris: a request that never finishes gets 408 once the header timeout (1 s in this test) passes.
t0 = time.time()
got = expect("unfinished headers (slowloris)", f"GET /videos HTTP/1.1\r\n{H}".encode(), 408, timeout=10)
waited = time.time() - t0
print(f"    closed after {waited:.1f}s")
if waited > 5:
    failures.append(f"slowloris connection held {waited:.1f}s")

# Many idle and half-open connections, then a good client must still be served promptly.
idle = []
for i in range(300):
    s = socket.socket()
    s.connect(("127.0.0.1", PORT))
    if i % 2:
        s.sendall(b"GET /vid")  # under TLS: garbage instead of a ClientHello
    idle.append(s)
got = expect("good request beside 300 idle/half-open connections", f"GET /chunks/{GOOD_CHUNK} HTTP/1.1\r\n{H}Connection: close\r\n\r\n".encode(), 200)
for s in idle:
    s.close()

# Pipelined requests are answered in order on one connection.
s = tls(socket.create_connection(("127.0.0.1", PORT)))
s.sendall(f"GET /videos/nope HTTP/1.1\r\n{H}\r\nGET /healthz HTTP/1.1\r\n{H}Connection: close\r\n\r\n".encode())
data = b""
s.settimeout(5)
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
codes = [int(c) for c in re.findall(rb"HTTP/1\.1 (\d{3}) ", data)]
print(f"{'ok ' if codes == [404, 200] else 'BAD'} pipelined: {codes}")
if codes != [404, 200]:
    failures.append(f"pipelining: {codes}")

# Answers the HTTP layer gives by itself carry the CORS headers like the routes' answers do, so that a
# page can read why its request failed (the server runs with the default --cors-origin=*).
O = "Origin: http://page.example\r\n"
for name, raw, want in [
    ("CORS on 505", f"GET / HTTP/9.9\r\n{O}\r\n".encode(), 505),
    ("CORS on 431", f"GET /videos HTTP/1.1\r\n{H}{O}X-Big: {'a' * 20000}\r\n\r\n".encode(), 431),
    ("CORS on 413", f"POST /videos HTTP/1.1\r\n{H}{O}Content-Length: 100000000\r\n\r\n".encode(), 413),
    ("CORS on 400", f"GET /videos HTTP/1.1\r\n{H}{O}Content-Length: x\r\n\r\n".encode(), 400),
    ("CORS on 404", f"GET /videos/nope HTTP/1.1\r\n{H}{O}Connection: close\r\n\r\n".encode(), 404),
]:
    head = expect(name, raw, want).split(b"\r\n\r\n")[0].lower()
    if b"\r\naccess-control-allow-origin: *" not in head:
        failures.append(f"{name}: no Access-Control-Allow-Origin: {head[:300]!r}")

# A client that disconnects mid-request must not disturb anything.
s = socket.create_connection(("127.0.0.1", PORT))
s.sendall(b"GET /chu")
s.close()

if failures:
    print("\n".join(failures), file=sys.stderr)
    sys.exit(1)
