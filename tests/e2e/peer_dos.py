#!/usr/bin/python3
"""peer_dos.py stall SIG SERVER VIDEO SEEDER SECONDS: an aiortc peer dials SEEDER, says hello, asks for every
chunk, then drops every SCTP DATA chunk it receives (neither delivered nor acknowledged; HEARTBEATs are still
answered, so the association stays up) and stays SECONDS. Prints "requests sent" once the requests are out,
and "closed" if the seeder drops the link.
peer_dos.py livestall SIG SERVER CHANNEL VIEWER SECONDS: the same against a live viewer: joins the channel's
swarm (its current epoch), asks VIEWER for the ring index of every chunk in the server's window, then drops
every DATA chunk.
peer_dos.py liveliar SIG SERVER CHANNEL VIEWER SECONDS: joins the channel's swarm like livestall, dials VIEWER
with a hello claiming every ring index, and answers every request `reject not_held` for SECONDS; then prints
"requests N distinct D" (a viewer that forgets the claim asks about once per chunk, not again and again).
peer_dos.py livebusy|livesilent ...: liveliar, but every request is answered `reject busy` / never answered.
peer_dos.py livedrip SIG SERVER CHANNEL VIEWER SECONDS: the same, but it takes the next DATA chunk in order
every 1.5 s or so: a slow reader that never stops taking bytes long enough to trip the stall rule.
peer_dos.py livefetch SIG SERVER CHANNEL VIEWER SECONDS: an honest remote asking VIEWER for the newest chunks;
prints "fetched N whole chunks, B busy refusals".
peer_dos.py rttliar SIG SERVER VIDEO STORE SECONDS: a seeder that claims every chunk and lies to
--peer-select=rtt: it answers each ping at once, serves the first request of each link after pongs that
claim a 3 s round trip (so the chunk seems to take no time at all), then claims a round trip of zero and
answers no further request. Logs "served I" / "ignored I" per request.
peer_dos.py offerchurn SIG SERVER VIDEO TARGET WORKERS SECONDS: WORKERS loops, each joining VIDEO's swarm
under a fresh id, naming TARGET in a lookup, offering it a description that never connects and leaving; prints
"ids N". (Offers of fresh ids must not make TARGET answer past the signaller's rate limit.)
peer_dos.py channels SIG SERVER VIDEO SEEDER N: dials SEEDER with N extra data channels it must refuse, then
the real one; prints "open" once the real channel opened.
peer_dos.py badsdp SIG SERVER VIDEO SEEDER: offers SEEDER a description with two a=ice-ufrag lines (the
seeder refuses it: the remote's fault, not a NAT problem)."""
import asyncio
import os
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import webrtc_peer as W  # noqa: E402


async def stall(sig_url, server, video, seeder, secs):
    n = len(W.manifest(server, video)["chunks"])
    sig = W.Signal(sig_url, video, n, False)
    await sig.start()
    pc, ch, w = await W.dial_hello(sig, seeder, video, n)
    ch.remove_all_listeners("message")
    ch.on("close", lambda: W.log("closed"))

    async def drop(chunk):  # the native side can only retransmit into a window that never opens
        return

    pc.sctp._receive_data_chunk = drop
    for i in range(n):
        ch.send(bytes([1]) + struct.pack(">I", i))
    W.log("requests sent", n)
    for _ in range(int(secs)):
        await asyncio.sleep(1)
        if pc.sctp.state == "closed" or pc.connectionState in ("closed", "failed"):
            W.log("closed")
            return


RING = 4096  # media::kLiveRing: chunk seq S is index S % 4096 on the wire and at the signaller


def live_window(server, channel):
    import json
    import urllib.request
    with urllib.request.urlopen(f"{server}/live/{channel}") as r:
        m = json.load(r)
    return m, [c["seq"] % RING for c in m["chunks"]]


async def live_link(sig_url, server, channel, viewer):
    """Joins the channel's swarm (its current epoch) and opens a link to VIEWER; hellos exchanged."""
    import base64
    import json
    import websockets
    m, idx = live_window(server, channel)
    W.DIGEST[channel] = m["epoch"]  # the hello's swarm key is CHANNEL.EPOCH16 for live
    sig = W.Signal(sig_url, channel, RING, False)
    sig.ws = await websockets.connect(sig_url)
    await sig.ws.send(json.dumps({"type": "join", "video": channel, "peer": W.ME, "chunk_count": RING,
                                  "epoch": m["epoch"], "have": base64.b64encode(bytes(RING // 8)).decode()}))
    asyncio.ensure_future(sig._read())
    pc, ch, w = await W.dial_hello(sig, viewer, channel, RING, lookup=idx)
    ch.remove_all_listeners("message")
    ch.on("close", lambda: W.log("closed"))
    return pc, ch, w, idx


async def livestall(sig_url, server, channel, viewer, secs, drip=False):
    pc, ch, w, idx = await live_link(sig_url, server, channel, viewer)
    real = pc.sctp._receive_data_chunk
    last = [0.0]

    async def drop(chunk):
        # drip: the next DATA chunk in order, at most one per 1.5 s, is taken (and acknowledged); the sender
        # retransmits within its 2 s RTO cap, so some bytes are taken every few seconds, never 4 s without.
        if drip and pc.sctp._last_received_tsn is not None and chunk.tsn == (pc.sctp._last_received_tsn + 1) % (1 << 32) \
                and asyncio.get_event_loop().time() - last[0] >= 1.5:
            last[0] = asyncio.get_event_loop().time()
            await real(chunk)
        return

    pc.sctp._receive_data_chunk = drop
    for i in idx:
        ch.send(bytes([1]) + struct.pack(">I", i))
    W.log("requests sent", len(idx))
    for _ in range(int(secs)):
        await asyncio.sleep(1)
        if pc.sctp.state == "closed" or pc.connectionState in ("closed", "failed"):
            W.log("closed")
            return


async def liveliar(sig_url, server, channel, viewer, secs, answer=1):
    import base64
    import json
    import urllib.request
    import websockets
    with urllib.request.urlopen(f"{server}/live/{channel}") as r:
        m = json.load(r)
    ring = 4096
    W.DIGEST[channel] = m["epoch"]
    sig = W.Signal(sig_url, channel, ring, True)
    sig.ws = await websockets.connect(sig_url)
    await sig.ws.send(json.dumps({"type": "join", "video": channel, "peer": W.ME, "chunk_count": ring,
                                  "epoch": m["epoch"], "have": base64.b64encode(bytes([255]) * (ring // 8)).decode()}))
    asyncio.ensure_future(sig._read())
    # The hello claims every index.
    pc, ch, w = await W.dial_hello(sig, viewer, channel, ring, lookup=[c["seq"] % ring for c in m["chunks"]], full=True)
    asked = []
    loop = asyncio.get_running_loop()
    end = loop.time() + secs
    while loop.time() < end and not w.closed.is_set():
        try:
            i = await asyncio.wait_for(w.requests.get(), 0.5)
        except asyncio.TimeoutError:
            continue
        asked.append(i)
        if answer:
            ch.send(bytes([5]) + struct.pack(">IB", i, answer))  # reject: 1 not_held, 2 busy; 0 silent
    W.log("requests", len(asked), "distinct", len(set(asked)))


async def livefetch(sig_url, server, channel, viewer, secs):
    """An honest remote: asks VIEWER for the newest chunk of the server's window every 0.5 s (those it does
    not hold yet are refused as not held) and counts the whole chunks it got and the busy refusals."""
    pc, ch, w, idx = await live_link(sig_url, server, channel, viewer)
    busy, got, asked = [0], set(), set()

    def on_message(m):
        if m[0] == 5:
            if m[5] == 2:
                busy[0] += 1
            return
        w.on_message(m)

    ch.on("message", on_message)
    t0 = asyncio.get_event_loop().time()
    while asyncio.get_event_loop().time() - t0 < secs:
        _, idx = live_window(server, channel)
        for i in idx[-3:-1]:
            if i not in asked and i not in w.done:
                asked.add(i)
                ch.send(bytes([1]) + struct.pack(">I", i))
        await asyncio.sleep(0.5)
        got.update(w.done)
    print(f"fetched {len(got)} whole chunks, {busy[0]} busy refusals", flush=True)
    await pc.close()


async def offerchurn(sig_url, server, video, target, workers, secs):
    import base64
    import json
    import random
    import string
    import time
    import websockets
    W.manifest(server, video)
    n = len(W.manifest(server, video)["chunks"])
    used = [0]

    def rnd(k):
        return "".join(random.choice(string.ascii_letters + string.digits) for _ in range(k))

    def sdp():
        fp = ":".join("%02X" % random.randrange(256) for _ in range(32))
        return ("v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
                "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n"
                f"a=ice-ufrag:{rnd(8)}\r\na=ice-pwd:{rnd(24)}\r\na=fingerprint:sha-256 {fp}\r\n"
                "a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\n")

    async def one(k):
        end = time.monotonic() + secs
        while time.monotonic() < end:
            used[0] += 1
            try:
                async with websockets.connect(sig_url) as ws:
                    await ws.send(json.dumps({"type": "join", "video": video, "peer": f"churn{os.getpid()}x{k}x{used[0]}",
                                              "chunk_count": n, "manifest_digest": W.DIGEST.get(video, ""),
                                              "have": base64.b64encode(bytes((n + 7) // 8)).decode()}))
                    await ws.recv()
                    await ws.send(json.dumps({"type": "lookup", "chunks": [0], "max": 50}))
                    await ws.send(json.dumps({"type": "offer", "to": target, "sdp": sdp()}))
                    await asyncio.wait_for(ws.recv(), 2)
            except Exception:
                pass

    await asyncio.gather(*(one(k) for k in range(workers)))
    print(f"ids {used[0]}", flush=True)


async def channels(sig_url, server, video, seeder, count):
    from aiortc import RTCPeerConnection, RTCSessionDescription
    n = len(W.manifest(server, video)["chunks"])
    sig = W.Signal(sig_url, video, n, False)
    await sig.start()
    pc = RTCPeerConnection()
    junk = [pc.createDataChannel(f"junk{i}", protocol="x") for i in range(count)]
    ch = pc.createDataChannel("hybridnode", protocol="hybridnode/1", ordered=True)
    await pc.setLocalDescription(await pc.createOffer())
    await sig.send({"type": "lookup", "chunks": [0], "max": 50})  # relays reach only members a lookup named
    await sig.send({"type": "offer", "to": seeder, "sdp": pc.localDescription.sdp})
    while True:
        m = await asyncio.wait_for(sig.queue.get(), 10)
        if m["type"] == "answer":
            break
    await pc.setRemoteDescription(RTCSessionDescription(sdp=m["sdp"], type="answer"))
    asyncio.ensure_future(W.pump_candidates(sig, pc))
    assert await W.wait_open(ch), "channel did not open"
    await asyncio.sleep(1)  # the refusals of the junk channels reach the seeder
    W.log("open", len(junk))
    os._exit(0)  # no orderly SCTP shutdown: the seeder sees the link go, which is all this needs


async def badsdp(sig_url, server, video, seeder):
    from aiortc import RTCPeerConnection
    n = len(W.manifest(server, video)["chunks"])
    sig = W.Signal(sig_url, video, n, False)
    await sig.start()
    pc = RTCPeerConnection()
    pc.createDataChannel("hybridnode", protocol="hybridnode/1", ordered=True)
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp.replace("a=ice-ufrag:", "a=ice-ufrag:abcd\r\na=ice-ufrag:", 1)
    await sig.send({"type": "lookup", "chunks": [0], "max": 50})  # relays reach only members a lookup named
    await sig.send({"type": "offer", "to": seeder, "sdp": sdp})
    await asyncio.sleep(0.5)
    W.log("offered")
    os._exit(0)


async def rttliar(sig_url, server, video, store, secs):
    import time
    man = W.manifest(server, video)
    n = len(man["chunks"])
    sig = W.Signal(sig_url, video, n, True)
    await sig.start()
    pcs, count = {}, {"served": 0, "ignored": 0, "links": 0, "forged": 0}

    async def lie(ch):
        w = W.Wire(ch, video, n, True)
        clock = {}  # the remote's clock (its ping nonce, ns) at our monotonic time: it learns nothing else

        def pong(ago_ms):  # a pong the remote reads as a round trip of ago_ms that ends now
            if clock:
                now = clock["nonce"] + time.monotonic_ns() - clock["at"]
                ch.send(bytes([7]) + struct.pack(">Q", max(0, now - int(ago_ms * 1e6))))
                count["forged"] += 1

        def on_message(m):
            if m[0] == 6:
                clock.update(nonce=struct.unpack(">Q", m[1:9])[0], at=time.monotonic_ns())
                pong(0)
                return
            w.on_message(m)

        ch.remove_all_listeners("message")
        ch.on("message", on_message)
        count["links"] += 1
        w.send_hello()
        served = False
        while not w.closed.is_set():
            idx = await w.requests.get()
            if served:
                count["ignored"] += 1
                W.log("ignored", idx)
                continue
            served = True
            for _ in range(12):
                pong(3000)
            cid = man["chunks"][idx]["id"]
            data = open(os.path.join(store, "chunks", cid[:2], cid), "rb").read()
            for off in range(0, len(data), 65536 - 13):
                ch.send(bytes([2]) + struct.pack(">III", idx, off, len(data)) + data[off:off + 65536 - 13])
            for _ in range(40):
                pong(0)
            count["served"] += 1
            W.log("served", idx)

    asyncio.ensure_future(W.answer_offers(sig, pcs, lambda ch: asyncio.ensure_future(lie(ch))))
    await asyncio.sleep(secs)
    W.log("served {served} ignored {ignored} links {links} forged {forged}".format(**count))
    os._exit(0)


# mode -> (coroutine, converters for the arguments after the first four (URLs and ids), fixed keywords)
MODES = {
    "stall": (stall, (float,), {}),
    "livestall": (livestall, (float,), {}),
    "liveliar": (liveliar, (float,), {}),
    "livebusy": (liveliar, (float,), {"answer": 2}),
    "livesilent": (liveliar, (float,), {"answer": 0}),
    "livedrip": (livestall, (float,), {"drip": True}),
    "livefetch": (livefetch, (float,), {}),
    "rttliar": (rttliar, (float,), {}),
    "offerchurn": (offerchurn, (int, float), {}),
    "channels": (channels, (int,), {}),
    "badsdp": (badsdp, (), {}),
}

if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    if mode not in MODES:
        raise SystemExit(f"unknown mode {mode}")
    fn, conv, kw = MODES[mode]
    asyncio.run(fn(*args[:4], *(c(v) for c, v in zip(conv, args[4:])), **kw))
