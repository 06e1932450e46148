"""Join tokens, renewals, digests and introductions against a real signaller and two content servers."""
import asyncio, hashlib, hmac, json, sys, time, urllib.request, urllib.error
import websockets

SIG, SRVA, SRVB, SECRET = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].encode()
FED = [int(x) for x in sys.argv[5:8]]  # Redis, signaller fa, signaller fb (both with the secret)
URL = f"ws://127.0.0.1:{SIG}/ws"
failures = []


def check(cond, what):
    print(("ok  " if cond else "BAD ") + what)
    if not cond:
        failures.append(what)


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}") as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, None


def mint(video, content, expires, viewer=""):
    msg = f"hn-join-v1\n{video}\n{content}\n{expires}\n{viewer}".encode()
    return f"v1.{expires}.{viewer}." + hmac.new(SECRET, msg, hashlib.sha256).hexdigest()


async def rpc(ws, msg):
    await ws.send(json.dumps(msg))
    return json.loads(await asyncio.wait_for(ws.recv(), 5))


async def closed(ws):
    try:
        await asyncio.wait_for(ws.recv(), 3)
        return False
    except websockets.ConnectionClosed:
        return True
    except asyncio.TimeoutError:
        return False


async def join(video, digest, count, peer, token=None, url=URL):
    ws = await websockets.connect(url)
    msg = {"type": "join", "video": video, "peer": peer, "chunk_count": count, "manifest_digest": digest}
    if token is not None:
        msg["token"] = token
    return ws, await rpc(ws, msg)


async def refused(video, digest, count, peer, token, code, what):
    ws, r = await join(video, digest, count, peer, token)
    check(r.get("type") == "error" and r.get("code") == code and await closed(ws), f"{what}: {code} and closed (got {r})")


async def main():
    # The digest is SHA-256 of the canonical manifest (sorted keys, no spaces) without the swarm fields.
    _, ma = get(SRVA, "/videos/vida")
    _, mb = get(SRVB, "/videos/vidb")
    _, cat = get(SRVA, "/videos")
    canon = {k: v for k, v in ma.items() if k not in ("manifest_digest", "token")}
    dig = hashlib.sha256(json.dumps(canon, separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    check(ma["manifest_digest"] == dig, "manifest_digest is SHA-256 of the canonical manifest")
    check({v["id"]: v["manifest_digest"] for v in cat["videos"]}["vida"] == dig, "catalog entry carries manifest_digest")
    da, db, na, nb = ma["manifest_digest"], mb["manifest_digest"], ma["chunk_count"], mb["chunk_count"]
    check(ma["token"].startswith("v1.") and mb["token"].startswith("v1."), "manifests carry a token")
    exp_b = int(mb["token"].split(".")[1])
    check(abs(exp_b - (time.time() + 60)) < 5, "--token-ttl sets the expiry")

    await refused("vida", da, na, "nobody", None, "unauthorized", "join without a token")
    forged = ma["token"][:-4] + ("0000" if not ma["token"].endswith("0000") else "1111")
    await refused("vida", da, na, "forger", forged, "unauthorized", "forged token")
    await refused("vida", da, na, "late", mint("vida", da, int(time.time()) - 5), "token_expired", "expired token")
    await refused("vida", da, na, "thief", mb["token"], "unauthorized", "token of another video")
    await refused("vida", "0" * 64, na, "stale", ma["token"], "unauthorized", "token of another manifest digest")
    await refused("vida", da, na, "viewer", mint("vida", da, int(time.time()) + 60, "mallory")[:-1] + "x", "unauthorized",
                  "malformed token")
    # The signed form is canonical: leading zeros on the expiry would give one MAC many spellings.
    await refused("vida", da, na, "zeros", ma["token"].replace("v1.", "v1.00", 1), "unauthorized",
                  "token whose expiry has leading zeros")

    a, r = await join("vida", da, na, "alice", ma["token"])
    check(r.get("type") == "joined" and r.get("expires") == int(ma["token"].split(".")[1]), f"valid token from server A admitted: {r}")
    b, r = await join("vida", da, na, "bob", get(SRVB, "/videos/vida")[1]["token"])
    check(r.get("type") == "joined" and r.get("members") == 2, f"token from server B (same secret) admitted: {r}")

    # Renew: a fresh token moves the expiry; a forged one closes the connection.
    fresh = mint("vida", da, int(time.time()) + 900)
    r = await rpc(a, {"type": "renew", "token": fresh, "id": "r1"})
    check(r.get("type") == "renewed" and r.get("expires") == int(fresh.split(".")[1]) and r.get("id") == "r1", f"renew: {r}")
    r = await rpc(a, {"type": "renew", "token": mb["token"]})
    check(r.get("code") == "unauthorized" and await closed(a), "renew with another video's token: unauthorized and closed")
    a, r = await join("vida", da, na, "alice", ma["token"])
    # A member whose token lapses without a renew is dropped.
    s, r = await join("vida", da, na, "short", mint("vida", da, int(time.time()) + 2))
    check(r.get("type") == "joined", "short-lived token admitted")
    r = json.loads(await asyncio.wait_for(s.recv(), 6))
    check(r.get("code") == "token_expired" and await closed(s), f"member dropped when its token lapses: {r}")

    # Signed manifest URL: the viewer id is bound into the token; a bad signature is refused.
    sig = hmac.new(SECRET, b"hn-viewer-v1\nvida\nviewer42", hashlib.sha256).hexdigest()
    st, mv = get(SRVA, f"/videos/vida?viewer=viewer42&sig={sig}")
    check(st == 200 and mv["token"].split(".")[2] == "viewer42", "signed manifest URL binds the viewer id")
    st, _ = get(SRVA, f"/videos/vida?viewer=viewer43&sig={sig}")
    check(st == 403, "bad viewer signature -> 403")
    v, r = await join("vida", da, na, "viewer42", mv["token"])
    check(r.get("type") == "joined", "viewer-bound token admitted")
    await v.close()

    # Liars: another chunk count or digest (with a valid token for it) lands in a swarm of its own.
    liar, r = await join("vida", da, na + 7, "liar", get(SRVA, "/videos/vida")[1]["token"])
    check(r.get("type") == "joined" and r.get("members") == 1, "another chunk count: a swarm of its own")
    l2, r = await join("vida", "f" * 64, na, "liar2", mint("vida", "f" * 64, int(time.time()) + 60))
    check(r.get("type") == "joined" and r.get("members") == 1, "another digest: a swarm of its own")
    c, r = await join("vida", da, na, "carol", ma["token"])
    check(r.get("type") == "joined" and r.get("members") == 3, f"honest members share one swarm: {r}")

    # Introductions: carol was never told of alice, so she cannot signal her; after a lookup she can.
    await b.send(json.dumps({"type": "have", "chunks": list(range(na))}))
    await a.send(json.dumps({"type": "have", "chunks": list(range(na))}))
    await rpc(a, {"type": "ping"})
    await rpc(b, {"type": "ping"})
    r = await rpc(c, {"type": "offer", "to": "alice", "sdp": "v=0\r\n"})
    check(r.get("code") == "not_introduced", f"offer to a never-introduced member refused: {r}")
    r = await rpc(liar, {"type": "offer", "to": "alice", "sdp": "v=0\r\n"})
    check(r.get("code") == "unknown_peer", f"a member of another swarm cannot reach alice: {r}")
    r = await rpc(c, {"type": "lookup", "chunks": [0], "max": 1})
    check(r.get("type") == "peers" and len(r["chunks"]["0"]) == 1, f"lookup honours max=1: {r}")
    named = r["chunks"]["0"][0]
    other = "bob" if named == "alice" else "alice"
    other_ws = b if named == "alice" else a
    named_ws = a if named == "alice" else b
    r = await rpc(c, {"type": "offer", "to": other, "sdp": "v=0\r\n"})
    check(r.get("code") == "not_introduced", "the member the lookup did not name stays unreachable")
    await c.send(json.dumps({"type": "offer", "to": named, "sdp": "v=0\r\n"}))
    r = json.loads(await asyncio.wait_for(named_ws.recv(), 5))
    check(r.get("type") == "offer" and r.get("from") == "carol", "offer to the introduced member relayed")
    await named_ws.send(json.dumps({"type": "answer", "to": "carol", "sdp": "v=0\r\n"}))
    r = json.loads(await asyncio.wait_for(c.recv(), 5))
    check(r.get("type") == "answer" and r.get("from") == named, "the offered member may answer")
    r = await rpc(other_ws, {"type": "candidate", "to": "carol", "candidate": "x"})
    check(r.get("code") == "not_introduced", "a third member still cannot reach carol")

    # Lookups: never more than max per chunk, and rate-limited per member.
    extra = []
    for i in range(10):
        w, r = await join("vida", da, na, f"seed{i}", ma["token"])
        await w.send(json.dumps({"type": "have", "chunks": list(range(na))}))
        await rpc(w, {"type": "ping"})
        extra.append(w)
    d, _ = await join("vida", da, na, "dave", ma["token"])
    r = await rpc(d, {"type": "lookup", "chunks": list(range(na)), "max": 3})
    check(all(len(p) <= 3 for p in r["chunks"].values()), "lookup: at most max=3 per chunk")
    r = await rpc(d, {"type": "lookup", "chunks": [0]})
    check(len(r["chunks"]["0"]) <= 8, "lookup: at most --lookup-max by default")
    codes = []
    for _ in range(40):
        codes.append((await rpc(d, {"type": "lookup", "chunks": [0]})).get("type"))
    check("error" in codes, f"lookups rate-limited per member ({codes.count('error')} of 40 refused)")
    for w in extra + [a, b, c, d, liar, l2]:
        await w.close()
    text = urllib.request.urlopen(f"http://127.0.0.1:{SIG}/metrics").read().decode()
    check("hybridnode_signal_unauthorized_total " in text and "hybridnode_signal_not_introduced_total " in text, "metrics")


def redis_publish(channel, payload):
    import socket
    with socket.create_connection(("127.0.0.1", FED[0]), 5) as s:
        parts = [b"PUBLISH", channel.encode(), payload.encode()]
        s.sendall(b"*3\r\n" + b"".join(b"$%d\r\n%s\r\n" % (len(p), p) for p in parts))
        s.recv(64)


async def federation():
    """Members of other instances cross Redis only with a valid token for the swarm they are in."""
    _, ma = get(SRVA, "/videos/vida")
    da, na, tok = ma["manifest_digest"], ma["chunk_count"], ma["token"]
    fa, fb = f"ws://127.0.0.1:{FED[1]}/ws", f"ws://127.0.0.1:{FED[2]}/ws"
    m1, r = await join("vida", da, na, "m1", tok, fa)
    await m1.send(json.dumps({"type": "have", "chunks": list(range(na))}))
    m2, r = await join("vida", da, na, "m2", tok, fb)
    check(r.get("type") == "joined", "m2 admitted on fb")

    async def finds(peer, tries=6):
        for _ in range(tries):
            r = await rpc(m2, {"type": "lookup", "chunks": [0], "max": 50})
            if peer in r.get("chunks", {}).get("0", []):
                return True
            await asyncio.sleep(0.4)
        return False
    check(await finds("m1"), "federation: an admitted member of fa is found on fb")
    key = f"vida/{da}/{na}"
    bits = __import__("base64").b64encode(bytes([(0xff << (8 - na % 8)) & 0xff if na % 8 and i == (na - 1) // 8 else 0xff
                                                 for i in range((na + 7) // 8)])).decode()
    ev = {"ev": "join", "inst": "fa", "video": key, "chunk_count": na, "bitfield": bits}
    # A forged signature: its last two characters changed (to "11" when they were "00": 1 run in ~256 had
    # forged nothing at all and failed).
    forged = tok[:-2] + ("11" if tok.endswith("00") else "00")
    redis_publish("hn:swarm:" + key, json.dumps({**ev, "peer": "ghost1", "token": forged}))
    redis_publish("hn:swarm:" + key, json.dumps({**ev, "peer": "ghost2"}))
    redis_publish("hn:swarm:" + key, json.dumps({**ev, "peer": "ghost3", "token": mint("vida", "a" * 64, int(time.time()) + 60)}))
    redis_publish("hn:swarm:" + key, json.dumps({**ev, "peer": "ghost4", "chunk_count": na + 1, "token": tok}))
    redis_publish("hn:swarm:" + key, json.dumps({**ev, "peer": "admitted", "token": tok}))
    check(await finds("admitted"), "federation: a join with a valid token is shared (the check can pass)")
    r = await rpc(m2, {"type": "lookup", "chunks": [0], "max": 50})
    found = r.get("chunks", {}).get("0", [])
    check(not any(g in found for g in ("ghost1", "ghost2", "ghost3", "ghost4")),
          f"federation: forged, missing, other-digest and other-count tokens of another instance refused ({found})")
    await m1.close()
    await m2.close()


asyncio.run(main())
if FED:
    asyncio.run(federation())
if failures:
    print("FAILED:\n  " + "\n  ".join(failures))
    sys.exit(1)
