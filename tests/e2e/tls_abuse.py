# TLS-specific abuse, run by server_tls.sh against the real binary.
#   idle-spin PORT CA PID: a keep-alive HTTPS client that read a large body slowly (the server's SSL_write
#     returned WANT_WRITE on the way) then idles; the server must sleep, not poll for writable in a loop.
#   wss-burst PORT CA PID: a burst of WebSocket messages that lands in one piece must all be answered over
#     wss: decrypted bytes waiting in OpenSSL (the socket is not readable for them) must not be left there
#     when the per-wakeup read budget runs out inside a record.
#   half-hello PORT CA PID: 3000 connections stuck halfway through their ClientHello hold at most ~1024 slots.
#   handshake-flood PORT CA PID: 127.0.0.1 opens full handshakes back to back for 2 s; the server (default
#     --tls-handshakes-per-ip=50, bursts of 100) resets most at accept, while 127.0.0.2 asking 5 times a second
#     is served every time, and 127.0.0.1 is served again once it slows down. The content server and the
#     signaller (its /healthz) both.
import base64, json, os, select, signal, socket, ssl, sys, time

mode, port, ca, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])


def cpu_seconds():
    f = open(f"/proc/{pid}/stat").read().rsplit(") ", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def idle_spin():
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # small window: the server's socket fills
    raw.connect(("127.0.0.1", port))
    s = ssl.create_default_context(cafile=ca).wrap_socket(raw, server_hostname="localhost")
    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.5)
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, _, body = bytes(buf).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:100]
    n = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
    body = bytearray(body)
    while len(body) < n:
        d = s.recv(1 << 20)
        assert d, "closed early"
        body += d
    c0 = cpu_seconds()
    time.sleep(2)
    used = cpu_seconds() - c0
    print(f"server CPU while one HTTPS keep-alive connection idles 2 s: {used:.2f} s")
    # An idle server uses ~0 (measured 0.00); polling for writable on an idle socket spins the loop (measured
    # 0.14-1.9 s of CPU in 2-3 s on a loaded 2-core machine).
    if used > 0.1:
        raise SystemExit(f"FAIL: the server spins on an idle HTTPS connection ({used:.2f} s CPU in 2 s)")
    s.close()


class Tls:
    def __init__(self):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ssl.create_default_context(cafile=ca).wrap_bio(self.inc, self.out, server_hostname="localhost")
        self.buf = b""
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                self.flush()
                self.pump(2)
        self.flush()

    def flush(self):
        d = self.out.read()
        if d:
            self.sock.sendall(d)

    def pump(self, timeout):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return False
        d = self.sock.recv(65536)
        if not d:
            raise SystemExit("FAIL: the server closed the connection")
        self.inc.write(d)
        return True

    def read_until(self, what, timeout):
        end = time.monotonic() + timeout
        while what not in self.buf:
            try:
                self.buf += self.tls.read(65536)
                continue
            except ssl.SSLWantReadError:
                pass
            left = end - time.monotonic()
            if left <= 0 or not self.pump(left):
                return False
        return True


def frame(payload):
    mask = os.urandom(4)
    n = len(payload)
    head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big"))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def message(kind, size):
    m = {"type": kind, "id": "x", "chunks": [], "pad": ""}
    m["pad"] = "x" * (size - 4 - len(json.dumps(m)))
    return frame(json.dumps(m).encode())


def wss_burst():
    stalled = []
    # Records of ~4.8 kB, read 4 KiB at a time: for some sizes the 64 KiB budget runs out inside the last one.
    for size in (4700, 4800, 4900, 5000):
        c = Tls()
        key = base64.b64encode(os.urandom(16)).decode()
        c.tls.write((f"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n").encode())
        c.flush()
        assert c.read_until(b"\r\n\r\n", 5) and c.buf.startswith(b"HTTP/1.1 101"), c.buf[:80]
        c.buf = b""
        c.tls.write(frame(json.dumps({"type": "join", "video": "v", "peer": f"b{size}", "chunk_count": 4}).encode()))
        c.flush()
        assert c.read_until(b'"joined"', 5), c.buf
        c.buf = b""
        for _ in range(13):  # "have" gets no reply; one TLS record each
            c.tls.write(message("have", size))
        c.tls.write(message("ping", size))
        burst = c.out.read()
        # The whole burst must be in the server's socket before it reads: hold the server still meanwhile.
        os.kill(pid, signal.SIGSTOP)
        try:
            c.sock.sendall(burst)
            time.sleep(0.2)
        finally:
            os.kill(pid, signal.SIGCONT)
        if not c.read_until(b'"pong"', 3):
            stalled.append(size)
        c.sock.close()
    if stalled:
        raise SystemExit(f"FAIL: the last message of a wss burst was never read (record sizes {stalled})")
    print("bursts over wss answered in full")


def half_hello():
    # 3000 connections that send half a ClientHello and wait: OpenSSL holds ~49 KB for each (a plain HTTP
    # connection ~2 KB), so unfinished handshakes are capped (1024); a newer one displaces the oldest.
    import resource, urllib.request
    resource.setrlimit(resource.RLIMIT_NOFILE, (4096, 4096))
    ctx = ssl.create_default_context()
    ctx.check_hostname, ctx.verify_mode = False, ssl.CERT_NONE
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    o = ctx.wrap_bio(inc, out, server_hostname="localhost")
    try:
        o.do_handshake()
    except ssl.SSLWantReadError:
        pass
    hello = out.read()
    socks = []
    for _ in range(3000):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(hello[: len(hello) // 2])
        socks.append(s)
    time.sleep(0.5)
    url = f"https://127.0.0.1:{port}/metrics"
    text = urllib.request.urlopen(url, context=ssl.create_default_context(cafile=ca), timeout=10).read().decode()
    m = {l.split(" ")[0]: float(l.split(" ")[1]) for l in text.splitlines() if l and not l.startswith("#")}
    print(f"3000 half ClientHellos held: {m.get('hybridnode_http_connections_open')} connections open, "
          f"{m.get('hybridnode_tls_handshakes_displaced_total')} displaced")
    for s in socks:
        s.close()
    if not m.get("hybridnode_http_connections_open", 1e9) <= 1100:
        raise SystemExit("FAIL: unfinished TLS handshakes are not capped")


def handshake_flood():
    import threading
    # The budget the server was started with (--tls-handshakes-per-ip). A sequential flood makes ~55
    # handshakes a second against an ASan build on 2 busy cores: a low budget keeps it over the line there.
    budget = int(os.environ.get("HN_TLS_BUDGET", "50"))
    ctx = ssl.create_default_context(cafile=ca)

    def get(src):
        try:
            raw = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0))
            s = ctx.wrap_socket(raw, server_hostname="localhost")
        except (OSError, ssl.SSLError):
            return False
        try:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
        except (OSError, ssl.SSLError):
            return False
        finally:
            s.close()

    done, good = threading.Event(), []

    def good_client():
        while not done.is_set():
            good.append(get("127.0.0.2"))
            time.sleep(0.2)

    t = threading.Thread(target=good_client)
    t.start()
    ok = bad = 0
    t0 = time.monotonic()
    while time.monotonic() - t0 < 2:
        if get("127.0.0.1"):
            ok += 1
        else:
            bad += 1
            time.sleep(0.002)  # still far over 50/s; spares the shared CPU
    elapsed = time.monotonic() - t0
    done.set()
    t.join()
    print(f"flood from 127.0.0.1: {ok} served, {bad} refused in {elapsed:.1f} s; "
          f"127.0.0.2 meanwhile: {sum(good)}/{len(good)} served")
    if ok > 2 * budget + budget * elapsed + 20:
        raise SystemExit(f"FAIL: one address got {ok} handshakes in {elapsed:.1f} s (budget {budget}/s, burst {2 * budget})")
    if bad == 0:
        raise SystemExit("FAIL: the flood was never refused")
    if not good or not all(good):
        raise SystemExit(f"FAIL: another address was refused during the flood: {good}")
    time.sleep(0.5)
    if not get("127.0.0.1"):
        raise SystemExit("FAIL: the flooding address is still refused after slowing down")


{"idle-spin": idle_spin, "wss-burst": wss_burst, "half-hello": half_hello, "handshake-flood": handshake_flood}[mode]()
