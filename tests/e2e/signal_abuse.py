"""Abuse of the signaller a remote can do today (issue 22): deep JSON in a relay, a flood closed with RST,
a client streaming large messages, clients that never read, huge lookup replies and bitfields, a ping flood.
Raw sockets where the attack needs them (one write of many frames, RST), python3-websockets elsewhere."""
import asyncio, base64, json, os, socket, struct, sys, time, urllib.request
import websockets

PORT = int(sys.argv[1])
WHAT = sys.argv[2] if len(sys.argv) > 2 else "all"
URL = f"ws://127.0.0.1:{PORT}/ws"
failures = []


def check(cond, what):
    print(("ok  " if cond else "BAD ") + what, flush=True)
    if not cond:
        failures.append(what)


def metric(name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics", timeout=60).read().decode()
    for line in text.splitlines():
        if line.split(" ")[0] == name:
            return float(line.split(" ")[-1])
    return None


def alive():
    try:
        return json.loads(urllib.request.urlopen(f"http://127.0.0.1:{PORT}/healthz", timeout=10).read())["status"] == "ok"
    except Exception:
        return False


def frame(text):
    """One masked client text frame."""
    data = text.encode()
    mask = os.urandom(4)
    n = len(data)
    head = bytes([0x81])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + struct.pack("!H", n)
    else:
        head += bytes([0x80 | 127]) + struct.pack("!Q", n)
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


def raw_connect(rcvbuf=None):
    s = socket.socket()
    s.settimeout(10)
    if rcvbuf:  # before connect, so the window stays small and replies pile up at the signaller, not in the kernel
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    s.connect(("127.0.0.1", PORT))
    s.sendall(b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    buf = b""
    while b"\r\n\r\n" not in buf:
        buf += s.recv(4096)
    assert buf.startswith(b"HTTP/1.1 101"), buf[:80]
    return s, buf.split(b"\r\n\r\n", 1)[1]


def rst_close(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()


async def rpc(ws, msg, timeout=10):
    await ws.send(msg if isinstance(msg, str) else json.dumps(msg))
    return json.loads(await asyncio.wait_for(ws.recv(), timeout))


async def join(ws, peer, count=16, video="vid"):
    return await rpc(ws, {"type": "join", "video": video, "peer": peer, "chunk_count": count})


async def deep_json():
    # Item 1: an offer with a field nested 70 000 deep (140 KB, under the 1 MiB message limit).
    a = await websockets.connect(URL, max_size=None)
    b = await websockets.connect(URL, max_size=None)
    await join(a, "deep-a", video="deep")
    await join(b, "deep-b", video="deep")
    # Relays go only to members a lookup named (issue 15): b learns of a first.
    await a.send(json.dumps({"type": "have", "chunks": [0]}))
    await rpc(a, {"type": "ping"})
    await rpc(b, {"type": "lookup", "chunks": [0]})
    depth = 70000
    r = await rpc(b, '{"type":"offer","to":"deep-a","sdp":"v=0","x":' + "[" * depth + "]" * depth + "}")
    check(r.get("type") == "error" and r.get("code") == "bad_json", f"70 000-deep offer refused with bad_json (got {str(r)[:80]})")
    check(alive(), "signaller alive after a 70 000-deep offer")
    ok = '{"type":"offer","to":"deep-a","sdp":"v=0","x":' + "[" * 60 + "]" * 60 + "}"
    await b.send(ok)
    r = json.loads(await asyncio.wait_for(a.recv(), 10))
    check(r.get("type") == "offer" and r.get("from") == "deep-b", "60-deep offer still relayed")
    await a.close()
    await b.close()


def flood_rst(tries=30):
    # Item 2: join, read joined, 900 load frames in one write, close with RST; the rate-limit error send
    # fails and erases the connection in the middle of on_text.
    for i in range(tries):
        s, _ = raw_connect()
        s.sendall(frame(json.dumps({"type": "join", "video": "rst", "peer": f"r{i}", "chunk_count": 4})))
        got = b""
        while b"joined" not in got:
            got += s.recv(4096)
        s.sendall(b"".join(frame('{"type":"load","uploads":1}') for _ in range(900)))
        rst_close(s)
    time.sleep(0.3)
    check(alive(), f"signaller alive after {tries} floods closed with RST")


def rss_mib():
    for line in open(f"/proc/{os.environ['SIG_PID']}/status"):
        if line.startswith("VmHWM"):  # peak: what the attack cost at its worst
            return int(line.split()[1]) // 1024
    return 0


async def big_messages():
    # Item 5: 1 MB messages under the message rate; the bytes/s limit must stop them, and a bystander
    # keeps being answered meanwhile (its round trips are printed, not asserted).
    flood = await websockets.connect(URL, max_size=None)
    by = await websockets.connect(URL)
    pad = json.dumps({"type": "ping", "pad": "x" * 1000000})
    closed, sent, worst, r = None, 0, 0.0, {}
    t0 = time.time()
    while time.time() - t0 < 10 and closed is None:
        try:
            await flood.send(pad)
            sent += 1
        except websockets.ConnectionClosed as e:
            closed = e.rcvd.code if e.rcvd else -1
            break
        t = time.time()
        r = await rpc(by, {"type": "ping"})
        worst = max(worst, time.time() - t)
        await asyncio.sleep(0.03)  # ~30 messages/s, far under the 200 messages/s limit
    if closed is None:
        try:
            while True:
                await asyncio.wait_for(flood.recv(), 5)
        except websockets.ConnectionClosed as e:
            closed = e.rcvd.code if e.rcvd else -1
        except asyncio.TimeoutError:
            pass
    print(f"1 MB messages at ~30/s: closed with {closed} after {sent} messages; bystander's slowest ping {worst * 1000:.0f} ms")
    check(closed == 1008, "a client streaming 1 MB messages under the message rate is closed by the bytes/s limit")
    check(r.get("type") == "pong", "the bystander kept being answered")
    await by.close()


async def amplification():
    # Item 6: lookup replies bounded; clients that never read cannot make the process queue without bound;
    # chunk_count capped.
    before = rss_mib()
    ids = [f"{i:02d}" + "m" * 62 for i in range(20)]
    socks = []
    for pid in ids:  # 20 members with 64-character ids holding all 256 chunks
        s, _ = raw_connect(rcvbuf=4096)
        have = base64.b64encode(b"\xff" * 32).decode()
        s.sendall(frame(json.dumps({"type": "join", "video": "amp", "peer": pid, "chunk_count": 256, "have": have})))
        got = b""
        while b"joined" not in got:
            got += s.recv(4096)
        socks.append(s)
    asker = await websockets.connect(URL, max_size=None)
    await join(asker, "asker", count=256, video="amp")
    req = json.dumps({"type": "lookup", "chunks": list(range(256)), "max": 50})
    await asker.send(req)
    reply = await asyncio.wait_for(asker.recv(), 10)
    print(f"lookup of 256 chunks x 50 peers: request {len(req)} bytes, reply {len(reply)} bytes")
    check(len(reply) < 80 * 1024 and json.loads(reply).get("truncated") is True, "lookup reply bounded (and says truncated)")
    # Six members ask 100 lookups of 50 chunks (~64 KiB replies each) in one write, and never read.
    small = frame(json.dumps({"type": "lookup", "chunks": list(range(50)), "max": 50}))
    for s in socks[:6]:
        try:
            s.sendall(small * 100)
        except OSError:
            pass
    time.sleep(2)
    r = await rpc(asker, {"type": "ping"}, 120)  # answered once the signaller has worked through the lookups
    peak = metric("hybridnode_signal_queued_bytes_peak") or 0
    grown = rss_mib() - before
    print(f"6 clients that never read, 100 lookups each: queued at most {peak / 2**20:.1f} MiB, peak RSS grew {grown} MiB")
    check(metric("hybridnode_signal_queued_bytes") is not None and 2**20 <= peak <= 3 * 2**20,
          "outgoing bytes queued reach and stay under --max-queued-total (2 MiB here) + one message each")
    if not os.environ.get("HN_SANITIZED"):  # ASan's quarantine keeps freed memory: RSS says nothing there
        check(grown < 64, f"signaller peak RSS bounded under non-reading clients (grew {grown} MiB)")
    for s in socks:
        rst_close(s)
    r = await rpc(asker, {"type": "ping"})
    check(r.get("type") == "pong", "the asker is still served")
    big = await websockets.connect(URL)
    r = await rpc(big, {"type": "join", "video": "huge", "peer": "h", "chunk_count": 1 << 20})
    check(r.get("type") == "error" and r.get("code") == "bad_message", "chunk_count 2^20 refused (cap 2^18)")
    await big.close()
    await asker.close()


def ping_flood():
    # Pings are answered by wslay, outside send_text(): a client that pings and never reads must meet the same
    # queue limits (8 MiB per connection, --max-queued-total) and be closed, not fill memory with pongs.
    s, _ = raw_connect(rcvbuf=4096)
    s.settimeout(3)
    ping = bytes([0x89, 0x80 | 125]) + b"\0\0\0\0" + b"p" * 125
    sent, closed, t0 = 0, False, time.monotonic()
    while time.monotonic() - t0 < 6:
        try:
            s.sendall(ping * 4000)
            sent += 4000
        except OSError:  # reset, or no room left within 3 s: the signaller stopped reading us
            closed = True
            break
    peak = metric("hybridnode_signal_queued_bytes_peak") or 0
    print(f"{sent} pings from a client that never reads: closed after {time.monotonic() - t0:.1f} s, "
          f"queued at most {peak / 2**20:.1f} MiB")
    check(closed, "a client that pings and never reads is closed")
    check(peak <= 3 * 2**20, "its pongs stay under --max-queued-total (2 MiB here) + one message")
    rst_close(s)
    check(alive(), "the signaller still serves")


async def main():
    if WHAT in ("all", "big"):
        await big_messages()
    if WHAT in ("all", "amp"):
        await amplification()
    if WHAT in ("all", "deep"):
        await deep_json()
    if WHAT in ("all", "rst"):
        flood_rst()
    if WHAT in ("all", "pings"):
        ping_flood()
    if failures:
        print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
        sys.exit(1)
    print("all signaller abuse checks passed")


asyncio.run(main())
