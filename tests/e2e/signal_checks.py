"""End-to-end checks of the signaller with an independent WebSocket client (Debian's python3-websockets)."""
import asyncio, base64, json, sys, time, urllib.request
import websockets

PORT = int(sys.argv[1])
URL = f"ws://127.0.0.1:{PORT}/ws"
failures = []


def check(cond, what):
    print(("ok  " if cond else "BAD ") + what)
    if not cond:
        failures.append(what)


async def rpc(ws, msg, raw=False):
    await ws.send(msg if raw else json.dumps(msg))
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


def metric(name):
    text = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics").read().decode()
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            if line.split(" ")[0] == name or "{" in name:
                return float(line.split(" ")[-1])
    return None


def metric_labelled(name, label):
    text = urllib.request.urlopen(f"http://127.0.0.1:{PORT}/metrics").read().decode()
    for line in text.splitlines():
        if line.startswith(f"{name}{{{label}}}"):
            return float(line.split(" ")[-1])
    return 0.0


async def join(ws, peer, count=16, have=b"", video="vid"):
    msg = {"type": "join", "video": video, "peer": peer, "chunk_count": count}
    if have:
        msg["have"] = base64.b64encode(have).decode()
    return await rpc(ws, msg)


async def expect_close(ws, code, what):
    try:
        while True:
            await asyncio.wait_for(ws.recv(), 5)
    except websockets.ConnectionClosed as e:
        check(e.rcvd is not None and e.rcvd.code == code, f"{what}: closed with {code} (got {e.rcvd.code if e.rcvd else None})")
        return
    except asyncio.TimeoutError:
        check(False, f"{what}: not closed")


async def main():
    a = await websockets.connect(URL)
    b = await websockets.connect(URL)
    r = await join(a, "alice", 16, bytes([0b10100000, 0b00000001]))  # chunks 0, 2, 15
    check(r["type"] == "joined" and r["members"] == 1, "alice joins")
    r = await join(b, "bob", 16)
    check(r["type"] == "joined" and r["members"] == 2, "bob joins")

    r = await rpc(b, {"type": "lookup", "chunks": [0, 1, 15], "id": "L1"})
    check(r["type"] == "peers" and r["id"] == "L1", "lookup answers with the request id")
    check(r["chunks"] == {"0": ["alice"], "1": [], "15": ["alice"]}, f"lookup finds alice's chunks: {r['chunks']}")
    await a.send(json.dumps({"type": "have", "chunks": [1]}))
    await rpc(a, {"type": "ping"})  # a's pong means its have was processed (b's lookup is another socket)
    r = await rpc(b, {"type": "lookup", "chunks": [1]})
    check(r["chunks"]["1"] == ["alice"], "have updates what lookup sees")

    sdp = "v=0\r\no=- 4611 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=ice-ufrag:Xy\u00e9\r\n"
    await b.send(json.dumps({"type": "offer", "to": "alice", "sdp": sdp, "session": 7}))
    r = json.loads(await asyncio.wait_for(a.recv(), 5))
    check(r == {"type": "offer", "from": "bob", "sdp": sdp, "session": 7}, "offer relayed byte-exact with from")
    cand = "candidate:1 1 UDP 2013266431 192.0.2.1 50000 typ host"
    await b.send(json.dumps({"type": "candidate", "to": "alice", "candidate": cand}))
    r = json.loads(await asyncio.wait_for(a.recv(), 5))
    check(r["candidate"] == cand and r["from"] == "bob", "candidate relayed byte-exact")
    await a.send(json.dumps({"type": "answer", "to": "bob", "sdp": "v=0\r\n"}))
    r = json.loads(await asyncio.wait_for(b.recv(), 5))
    check(r["type"] == "answer" and r["from"] == "alice", "answer relayed")

    # Bad input: each answered, connection stays usable.
    bad_cases = [
        ("not json", "this is not json", "bad_json"),
        ("json array", "[1,2]", "bad_json"),
        ("no type", json.dumps({"video": "x"}), "bad_message"),
        ("unknown type", json.dumps({"type": "teleport"}), "unknown_type"),
        ("wrong field type", json.dumps({"type": "lookup", "chunks": "all"}), "bad_message"),
        ("negative index", json.dumps({"type": "lookup", "chunks": [-1]}), "bad_message"),
        ("index out of range", json.dumps({"type": "lookup", "chunks": [16]}), "bad_chunk"),
        ("relay to unknown peer", json.dumps({"type": "offer", "to": "nobody", "sdp": "x"}), "unknown_peer"),
        ("relay without sdp", json.dumps({"type": "offer", "to": "alice"}), "bad_message"),
        ("join twice", json.dumps({"type": "join", "video": "vid", "peer": "bob2", "chunk_count": 16}), "already_joined"),
    ]
    for name, raw, code in bad_cases:
        r = await rpc(b, raw, raw=True)
        check(r["type"] == "error" and r["code"] == code, f"bad input '{name}' -> error {code} (got {r.get('code')})")

    # Errors name the message they answer: "ref" (its type) and its "id" (docs/protocol.md).
    r = await rpc(b, {"type": "nope", "id": "x1"})
    check(r.get("code") == "unknown_type" and r.get("ref") == "nope" and r.get("id") == "x1", f"unknown type error carries ref and id: {r}")
    r = await rpc(b, {"type": "join", "video": "../x", "peer": "b", "chunk_count": 1, "id": "j9"})
    check(r.get("code") == "bad_message" and r.get("ref") == "join" and r.get("id") == "j9", f"bad join error carries ref and id: {r}")

    c = await websockets.connect(URL)
    r = await join(c, "alice")
    check(r["type"] == "error" and r["code"] == "id_taken", "claiming another peer's id is refused")
    r = await join(c, "carol", 17)
    check(r["type"] == "joined" and r["members"] == 1, "another chunk count is another swarm: blocks no one")
    r = await rpc(c, {"type": "leave"})
    r = await join(c, "carol", 16, b"\x00\x00\x00")
    check(r["type"] == "error" and r["code"] == "bad_bitfield", "bitfield of the wrong length is refused")
    r = await join(c, "carol", 16, b"\x00")
    check(r["type"] == "error" and r["code"] == "bad_bitfield", "short bitfield is refused")
    r = await rpc(c, {"type": "join", "video": "vid", "peer": "carol", "chunk_count": 16, "have": "!!!"})
    check(r["type"] == "error" and r["code"] == "bad_bitfield", "non-base64 bitfield is refused")
    r = await rpc(c, {"type": "lookup", "chunks": [0]})
    check(r["type"] == "error" and r["code"] == "not_joined", "lookup before join is refused")
    r = await rpc(c, {"type": "join", "video": "../x", "peer": "carol", "chunk_count": 16})
    check(r["type"] == "error" and r["code"] == "bad_message", "path-like video id is refused")

    # Oversized frame: closed with 1009 (message too big); signaller limit is 64 KiB in this test.
    big = await websockets.connect(URL, max_size=None)
    await big.send(json.dumps({"type": "ping", "pad": "x" * 100000}))
    await expect_close(big, 1009, "oversized message")
    # Binary frame: closed with 1003 (unsupported data).
    binary = await websockets.connect(URL)
    await binary.send(b"\x00\x01\x02")
    await expect_close(binary, 1003, "binary frame")
    # Flood: rate limited with an error, then closed with 1008 (policy violation).
    flood = await websockets.connect(URL)
    got_rate_error = False
    for _ in range(3000):
        try:
            await flood.send('{"type":"ping"}')
        except websockets.ConnectionClosed:
            break
    try:
        while True:
            m = json.loads(await asyncio.wait_for(flood.recv(), 5))
            if m.get("code") == "rate_limited":
                got_rate_error = True
    except websockets.ConnectionClosed as e:
        check(e.rcvd is not None and e.rcvd.code == 1008, f"flood closed with 1008 (got {e.rcvd.code if e.rcvd else None})")
    except asyncio.TimeoutError:
        check(False, "flood connection not closed")
    check(got_rate_error, "flood told it is rate limited")
    # Not a WebSocket at all: plain HTTP answers.
    try:
        urllib.request.urlopen(f"http://127.0.0.1:{PORT}/ws")
        check(False, "plain GET /ws should be refused")
    except urllib.error.HTTPError as e:
        check(e.code == 426 and e.headers.get("Upgrade", "").lower() == "websocket", f"plain GET /ws -> 426 with Upgrade: websocket (got {e.code}, {e.headers.get('Upgrade')})")

    # Good clients untouched by all of the above.
    r = await rpc(b, {"type": "lookup", "chunks": [2]})
    check(r["chunks"]["2"] == ["alice"], "good clients keep working after bad input")
    r = await rpc(a, {"type": "ping"})
    check(r["type"] == "pong", "ping -> pong")

    # Issue 15: a connection holds wslay's context (~9 KiB) only while a message is in flight. Idle members
    # hold none; a message cut mid-frame (raw socket, second half sent later) holds one until it is whole.
    idle = [await websockets.connect(URL) for _ in range(40)]
    for i, w in enumerate(idle):
        await join(w, f"idle{i}")
    for w in idle:
        await rpc(w, {"type": "ping"})
    n = metric("hybridnode_signal_ws_contexts")
    check(n == 0, f"43 idle members hold no WebSocket context (got {n})")
    reader, writer = await asyncio.open_connection("127.0.0.1", PORT)
    writer.write(b"GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                 b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
    await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 5)
    body, key = b'{"type":"ping"}', b"\x01\x02\x03\x04"
    frame = bytes([0x81, 0x80 | len(body)]) + key + bytes(c ^ key[i % 4] for i, c in enumerate(body))
    writer.write(frame[:9])
    await writer.drain()
    await asyncio.sleep(0.3)
    n = metric("hybridnode_signal_ws_contexts")
    check(n == 1, f"a message cut mid-frame holds one context (got {n})")
    writer.write(frame[9:])
    await writer.drain()
    reply = await asyncio.wait_for(reader.read(64), 5)
    check(b'"pong"' in reply, f"the message completed later is answered: {reply!r}")
    n = metric("hybridnode_signal_ws_contexts")
    check(n == 0, f"and the context is released again (got {n})")
    writer.close()
    for w in idle:
        await w.close()

    # Leave, then relaying to the departed peer is an error.
    r = await rpc(a, {"type": "leave"})
    check(r["type"] == "left", "leave")
    r = await rpc(b, {"type": "offer", "to": "alice", "sdp": "x"})
    check(r["type"] == "error" and r["code"] == "unknown_peer", "relay to a departed peer -> unknown_peer")
    r = await rpc(b, {"type": "lookup", "chunks": [0]})
    check(r["chunks"]["0"] == [], "departed peer no longer found")

    # Expiry: a silent member is removed (timeout 1.5 s in this test); a pinging one stays.
    d = await websockets.connect(URL)
    await join(d, "dave", 16, b"\xff\xff")
    t0 = time.time()
    while time.time() - t0 < 3.5:
        await rpc(b, {"type": "ping"})
        await asyncio.sleep(0.3)
    r = await rpc(b, {"type": "lookup", "chunks": [0]})
    check(r["chunks"]["0"] == [], "silent member expired")
    await expect_close(d, 1001, "silent member's connection")
    check(metric("hybridnode_signal_expired_total") >= 1, "expiry counted in /metrics")
    check(metric_labelled("hybridnode_signal_messages_total", 'type="offer"') >= 1, "messages by type in /metrics")
    check(metric("hybridnode_signal_relay_errors_total") >= 2, "relay errors in /metrics")
    check(metric("hybridnode_signal_members") == 1, "members gauge: only bob left")

    for ws in (a, b, c):
        await ws.close()


asyncio.run(main())
if failures:
    print("FAILED:\n  " + "\n  ".join(failures), file=sys.stderr)
    sys.exit(1)
