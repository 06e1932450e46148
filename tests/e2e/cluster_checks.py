"""Two signallers sharing swarms through Redis, driven by an independent client (python3-websockets).
argv: port_a port_b redis_port pid_a redis_cmd..."""
import asyncio, base64, json, os, signal, subprocess, sys, time, urllib.request
import websockets

PA, PB, RPORT, PID_A = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
REDIS_CMD = sys.argv[5:]
failures = []


def check(cond, what):
    print(("ok  " if cond else "BAD ") + what, flush=True)
    if not cond:
        failures.append(what)


def metric(port, name):
    for line in urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode().splitlines():
        if line.split(" ")[0] == name:
            return float(line.split(" ")[-1])
    return None


def redis_publish(channel, payload):
    import socket
    with socket.create_connection(("127.0.0.1", RPORT), 5) as s:
        parts = [b"PUBLISH", channel.encode(), payload.encode()]
        s.sendall(b"*3\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
        s.recv(64)


def bits(count, held):
    b = bytearray((count + 7) // 8)
    for i in held:
        b[i // 8] |= 1 << (7 - i % 8)
    return base64.b64encode(bytes(b)).decode()


class Client:
    def __init__(self, peer):
        self.peer, self.ws, self.inbox, self.resume = peer, None, [], None

    async def join(self, port, held=(), video="vid", resume=None, expect="joined"):
        self.ws = await websockets.connect(f"ws://127.0.0.1:{port}/ws")
        msg = {"type": "join", "video": video, "peer": self.peer, "chunk_count": 16, "have": bits(16, held)}
        if resume:
            msg["resume"] = resume
        await self.ws.send(json.dumps(msg))
        r = await self.next(lambda m: m.get("type") in ("joined", "error"))
        assert r["type"] == expect, r
        self.resume = r.get("resume")
        return r

    async def next(self, pred, timeout=5):
        deadline = time.time() + timeout
        while True:
            for i, m in enumerate(self.inbox):
                if pred(m):
                    return self.inbox.pop(i)
            left = deadline - time.time()
            if left <= 0:
                return None
            try:
                self.inbox.append(json.loads(await asyncio.wait_for(self.ws.recv(), left)))
            except asyncio.TimeoutError:
                return None

    async def lookup(self, chunk):
        rid = f"l{time.time_ns()}"
        await self.ws.send(json.dumps({"type": "lookup", "chunks": [chunk], "id": rid}))
        r = await self.next(lambda m: m.get("id") == rid)
        return r["chunks"][str(chunk)] if r and r.get("type") == "peers" else None

    async def finds(self, chunk, peer, within):
        deadline = time.time() + within
        while time.time() < deadline:
            got = await self.lookup(chunk)
            if got is not None and peer in got:
                return True
            await asyncio.sleep(0.1)
        return False


async def main():
    p1, p2, p3 = Client("p1"), Client("p2"), Client("p3")
    await p1.join(PA, held=[3])
    await p2.join(PB)
    check(await p2.finds(3, "p1", 3), "p2 on B finds p1's chunk 3 held on A")
    sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=ünïcødé\r\na=ice-ufrag:abcd\r\n"
    await p2.ws.send(json.dumps({"type": "offer", "to": "p1", "sdp": sdp}))
    m = await p1.next(lambda m: m.get("type") == "offer")
    check(m is not None and m.get("from") == "p2" and m.get("sdp") == sdp, "offer B -> A arrives byte-exact with from=p2")
    await p1.ws.send(json.dumps({"type": "answer", "to": "p2", "sdp": sdp[::-1]}))
    m = await p2.next(lambda m: m.get("type") == "answer")
    check(m is not None and m.get("from") == "p1" and m.get("sdp") == sdp[::-1], "answer A -> B arrives byte-exact")
    cand = "candidate:1 1 UDP 2015363327 127.0.0.1 40001 typ host"
    await p1.ws.send(json.dumps({"type": "candidate", "to": "p2", "candidate": cand}))
    m = await p2.next(lambda m: m.get("type") == "candidate")
    check(m is not None and m.get("candidate") == cand, "candidate A -> B arrives byte-exact")
    await p1.ws.send(json.dumps({"type": "have", "chunks": [5]}))
    check(await p2.finds(5, "p1", 3), "a have on A reaches lookups on B")
    check(metric(PA, "hybridnode_signal_remote_members") == 1, "A sees one remote member (p2)")
    # Impersonation through federation: joining B as p1 (who is on A) without p1's resume token is refused,
    # and p2's offers still reach the real p1.
    fake = Client("p1")
    r = await fake.join(PB, expect="error")
    check(r.get("code") == "id_taken", f"joining B as p1 (held on A) without its token is refused: {r.get('code')}")
    r = await Client("p1").join(PB, resume="0" * 32, expect="error")
    check(r.get("code") == "id_taken", "a wrong resume token is refused too")
    await p2.ws.send(json.dumps({"type": "offer", "to": "p1", "sdp": sdp}))
    m = await p1.next(lambda m: m.get("type") == "offer")
    check(m is not None and m.get("from") == "p2", "after the impersonation attempt, p2's offer still reaches the real p1")

    print("--- members who left stay gone", flush=True)
    qa, qb, qn = Client("qa"), Client("qb"), Client("qn")
    await qa.join(PA, held=[1], video="vid2")
    await qb.join(PB, video="vid2")
    check(await qb.finds(1, "qa", 3), "qb on B finds qa on A")
    for c in (qb, qa):  # B's last member goes first, so B is no longer subscribed when qa leaves
        await c.ws.send(json.dumps({"type": "leave"}))
        check(await c.next(lambda m: m.get("type") == "left") is not None, f"{c.peer} left")
        await asyncio.sleep(0.3)
    await qn.join(PB, video="vid2")
    check(await qn.lookup(1) == [], "a new joiner on B is not offered qa, who left")
    await qn.ws.send(json.dumps({"type": "offer", "to": "qa", "sdp": "v=0"}))
    m = await qn.next(lambda m: m.get("type") == "error")
    check(m is not None and m.get("code") == "unknown_peer", f"an offer to qa is refused, not lost: {m}")
    # A join of a member that never says goodbye (published as if by A): A's roll call does not name it.
    redis_publish("hn:swarm:vid//16", json.dumps({"ev": "join", "inst": "a", "video": "vid//16", "peer": "ghost",
                                              "chunk_count": 16, "bitfield": bits(16, [9])}))
    check(await p2.finds(9, "ghost", 2), "B lists a member announced for A")
    gone = False
    for _ in range(80):  # a roll call every 5 s
        if await p2.lookup(9) == []:
            gone = True
            break
        await asyncio.sleep(0.1)
    check(gone, "B drops it once A's roll call does not name it")
    for c in (qa, qb, qn):
        await c.ws.close()

    print("--- relays to members of a sibling leave no introduction table behind", flush=True)
    far = [Client(f"far{i}") for i in range(8)]
    for c in far:
        await c.join(PB, held=[0], video="vid3")
    near = Client("near")
    await near.join(PA, video="vid3")
    named = []
    for _ in range(30):
        named = await near.lookup(0) or []
        if len(named) == len(far):
            break
        await asyncio.sleep(0.1)
    check(len(named) == len(far), f"A names B's {len(far)} members: {named}")
    for peer in named:
        await near.ws.send(json.dumps({"type": "offer", "to": peer, "sdp": "v=0"}))
    check(await far[0].next(lambda m: m.get("type") == "offer") is not None, "an offer reaches a member on B")
    for c in far + [near]:
        await c.ws.close()
    await asyncio.sleep(0.5)
    tables, conns = metric(PA, "hybridnode_signal_introduction_tables"), metric(PA, "hybridnode_signal_connections")
    # A remote id is never reused: a table kept for one outlives it (measured: +320 B per remote relayed to).
    check(tables is not None and tables <= conns, f"A holds {tables} introduction tables for {conns} connections")

    print("--- killing Redis", flush=True)
    subprocess.run(["pkill", "-KILL", "-f", f"redis-server .*:{RPORT}"])
    await asyncio.sleep(5)
    for c in (p1, p2):
        await c.ws.send(json.dumps({"type": "ping"}))
    check(metric(PA, "hybridnode_signal_redis_up") == 0 and metric(PB, "hybridnode_signal_redis_up") == 0, "both report Redis down")
    check(metric(PB, "hybridnode_signal_remote_members") == 0, "B dropped A's members (per-instance swarms)")
    check(await p2.lookup(3) == [], "B's lookups answer from local members only")
    await p3.join(PA, held=[7])
    check(await p1.finds(7, "p3", 2), "A keeps serving its own members while Redis is down")

    print("--- restarting Redis", flush=True)
    redis = subprocess.Popen(REDIS_CMD, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        check(await p2.finds(3, "p1", 10), "after Redis returns, B finds p1's chunk on A again")
        check(await p2.finds(7, "p3", 3), "and p3, who joined A while Redis was down")

        print("--- killing signaller A", flush=True)
        os.kill(PID_A, signal.SIGKILL)
        await asyncio.sleep(0.3)
        p1b = Client("p1")  # p1 reconnects to the surviving instance, proving the move with its token
        await p1b.join(PB, held=[3, 5], resume=p1.resume)
        check(await p2.finds(5, "p1", 2), "p1 reconnected to B and the swarm continues")
        await asyncio.sleep(4.5)
        check(metric(PB, "hybridnode_signal_remote_members") == 0, "B dropped the members of the dead instance")
        await p2.ws.send(json.dumps({"type": "offer", "to": "p1", "sdp": sdp}))
        m = await p1b.next(lambda m: m.get("type") == "offer")
        check(m is not None and m.get("sdp") == sdp, "relays reach p1 on its new instance")
    finally:
        redis.kill()
    print(f"{len(failures)} failed")
    sys.exit(1 if failures else 0)


asyncio.run(main())
