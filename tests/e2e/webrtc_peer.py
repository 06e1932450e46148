#!/usr/bin/python3
"""A swarm peer written with aiortc, an independent WebRTC stack (ICE, DTLS, SCTP, DCEP in Python), speaking
hybridnode's signalling (docs/protocol.md section 2) and wire protocol (section 3) on a standard data channel.

  webrtc_peer.py leech SIG SERVER VIDEO SEEDER OUT      dial SEEDER, fetch every chunk, verify SHA-256, write OUT
  webrtc_peer.py seed SIG SERVER VIDEO STORE SECONDS     answer offers, serve chunks from STORE for SECONDS
  webrtc_peer.py bad MODE SIG SERVER VIDEO SEEDER       misbehave towards SEEDER; MODE: fingerprint, label,
                                                         oversize, silent (no DTLS), garbage (not DTLS records),
                                                         short-record (runt epoch-1 records on a working link)
  webrtc_peer.py liar MODE SIG SERVER VIDEO SECONDS      claim every chunk (join, hello) and flood `have` for all
                                                         of them on every link, answer offers for SECONDS; requests
                                                         get nothing (MODE silent) or random bytes (MODE corrupt)
Exit 0 when what was asked of it happened (for `bad`: the native side refused / dropped us as it must)."""
import asyncio
import base64
import hashlib
import json
import os
import struct
import sys
import time
import urllib.request

import websockets
from aiortc import RTCPeerConnection, RTCSessionDescription
from aiortc.rtcdtlstransport import RTCDtlsTransport
from aiortc.sdp import candidate_from_sdp

ME = f"py{os.getpid()}"
T0 = time.monotonic()


def log(*a):
    print(f"{time.monotonic() - T0:7.3f} [{ME}]", *a, file=sys.stderr, flush=True)


DIGEST = {}  # video -> manifest digest: the swarm (join) and the wire hello's VIDEO.DIGEST16 (docs/protocol.md)


def manifest(server, video):
    with urllib.request.urlopen(f"{server}/videos/{video}") as r:
        m = json.load(r)
    DIGEST[video] = m.get("manifest_digest", "")
    return m


def hello(peer, video, n, full):
    bits = bytearray((n + 7) // 8)
    if full:
        for i in range(n):
            bits[i // 8] |= 0x80 >> (i % 8)
    if DIGEST.get(video):
        video = video[:47] + "." + DIGEST[video][:16]
    return bytes([0, 1, len(peer)]) + peer.encode() + bytes([len(video)]) + video.encode() + struct.pack(">I", n) + bytes(bits)


class Signal:
    def __init__(self, url, video, n, full):
        self.url, self.video, self.n, self.full = url, video, n, full
        self.queue = asyncio.Queue()

    async def start(self):
        self.ws = await websockets.connect(self.url)
        have = hello(ME, self.video, self.n, self.full)[-((self.n + 7) // 8):]
        await self.ws.send(json.dumps({"type": "join", "video": self.video, "peer": ME, "chunk_count": self.n,
                                       "manifest_digest": DIGEST.get(self.video, ""),
                                       "have": base64.b64encode(have).decode()}))
        asyncio.ensure_future(self._read())

    async def _read(self):
        async for text in self.ws:
            m = json.loads(text)
            if m.get("type") in ("offer", "answer", "candidate"):
                await self.queue.put(m)
            elif m.get("type") == "joined":
                log("joined", m)

    async def send(self, m):
        await self.ws.send(json.dumps(m))


async def close(pc):
    # aiortc 1.4's close can linger for seconds (ICE/DTLS teardown); the native side sees the link go anyway.
    try:
        await asyncio.wait_for(pc.close(), 1)
    except asyncio.TimeoutError:
        pass


async def add_candidate(pc, m):
    c = m.get("candidate", "")
    if not c:
        await pc.sctp.transport.transport.addRemoteCandidate(None)
        return
    cand = candidate_from_sdp(c.split(":", 1)[1])
    cand.sdpMid = m.get("mid", "0")
    cand.sdpMLineIndex = 0
    await pc.addIceCandidate(cand)


async def pump_candidates(sig, pc):
    """Trickled candidates from the native side (aiortc itself does not trickle: its own are in its SDP)."""
    while True:
        m = await sig.queue.get()
        if m["type"] == "candidate":
            await add_candidate(pc, m)


class Wire:
    """The wire protocol over one data channel: hello, request, piece, have, ping/pong."""

    def __init__(self, channel, video, n, full):
        self.ch, self.video, self.n, self.full = channel, video, n, full
        self.got_hello = asyncio.Event()
        self.chunks = {}  # index -> bytearray being assembled
        self.done = {}    # index -> bytes
        self.waiters = {}
        self.requests = asyncio.Queue()
        self.closed = asyncio.Event()
        channel.on("message", self.on_message)
        channel.on("close", lambda: self.closed.set())

    def send_hello(self):
        self.ch.send(hello(ME, self.video, self.n, self.full))

    def on_message(self, m):
        if isinstance(m, str):
            m = m.encode()
        t = m[0]
        if t == 0:
            self.got_hello.set()
        elif t == 1:
            self.requests.put_nowait(struct.unpack(">I", m[1:5])[0])
        elif t == 2:
            idx, off, total = struct.unpack(">III", m[1:13])
            buf = self.chunks.setdefault(idx, bytearray())
            assert off == len(buf), f"piece of chunk {idx} at {off}, expected {len(buf)}"
            buf += m[13:]
            if len(buf) == total:
                self.done[idx] = bytes(self.chunks.pop(idx))
                if idx in self.waiters:
                    self.waiters.pop(idx).set()
        elif t == 5:
            raise SystemExit(f"seeder rejected chunk {struct.unpack('>I', m[1:5])[0]}")
        elif t == 6:
            self.ch.send(bytes([7]) + m[1:9])

    async def fetch(self, idx):
        ev = self.waiters[idx] = asyncio.Event()
        self.ch.send(bytes([1]) + struct.pack(">I", idx))
        await ev.wait()
        return self.done.pop(idx)


async def dial(sig, seeder, mutate_sdp=None, label="hybridnode", protocol="hybridnode/1", lookup=(0,)):
    pc = RTCPeerConnection()
    ch = pc.createDataChannel(label, protocol=protocol, ordered=True)
    await pc.setLocalDescription(await pc.createOffer())
    sdp = pc.localDescription.sdp
    if mutate_sdp:
        sdp = mutate_sdp(sdp)
    # Relays reach only members a lookup named (same connection: handled before the offer).
    await sig.send({"type": "lookup", "chunks": list(lookup), "max": 50})
    await sig.send({"type": "offer", "to": seeder, "sdp": sdp})
    early = []
    while True:
        try:
            m = await asyncio.wait_for(sig.queue.get(), 10)
        except asyncio.TimeoutError:
            raise SystemExit(f"no answer from {seeder} within 10 s")
        if m["type"] == "answer":
            break
        if m["type"] == "candidate":  # before the answer: kept for after it
            early.append(m)
    for c in early:
        await sig.queue.put(c)
    log("answer:", m["sdp"].replace("\r\n", " | ")[:600])
    await pc.setRemoteDescription(RTCSessionDescription(sdp=m["sdp"], type="answer"))
    asyncio.ensure_future(pump_candidates(sig, pc))
    return pc, ch


async def dial_hello(sig, seeder, video, n, lookup=(0,), full=False):
    """A link to the seeder whose channel is open and whose hellos have crossed (ours claims every chunk if full)."""
    pc, ch = await dial(sig, seeder, lookup=lookup)
    w = Wire(ch, video, n, full)  # listening before "open": the remote's hello may come with its ACK
    if not await wait_open(ch):
        raise SystemExit("data channel did not open")
    w.send_hello()
    await asyncio.wait_for(w.got_hello.wait(), 10)
    return pc, ch, w


async def wait_open(ch, secs=15):
    opened = asyncio.Event()
    if ch.readyState == "open":
        return True
    ch.on("open", lambda: opened.set())
    try:
        await asyncio.wait_for(opened.wait(), secs)
        return True
    except asyncio.TimeoutError:
        return False


async def leech(sig_url, server, video, seeder, out):
    man = manifest(server, video)
    n = len(man["chunks"])
    sig = Signal(sig_url, video, n, False)
    await sig.start()
    pc, ch, w = await dial_hello(sig, seeder, video, n)
    log("hello exchanged; channel", ch.label, ch.protocol, "id", ch.id)
    with open(out, "wb") as f:
        for i, c in enumerate(man["chunks"]):
            data = await asyncio.wait_for(w.fetch(i), 20)
            if hashlib.sha256(data).hexdigest() != c["id"]:
                raise SystemExit(f"chunk {i} fails SHA-256")
            f.write(data)
    log(f"fetched and verified {n} chunks")
    await close(pc)


async def answer_offers(sig, pcs, on_channel):
    """The answering side of a seeder: each offer gets a connection in PCS and an answer; the remote's data
    channel goes to ON_CHANNEL; trickled candidates go to the connection they belong to."""
    while True:
        m = await sig.queue.get()
        if m["type"] == "offer":
            log("offer from", m["from"])
            pc = pcs[m["from"]] = RTCPeerConnection()
            pc.on("datachannel", on_channel)
            await pc.setRemoteDescription(RTCSessionDescription(sdp=m["sdp"], type="offer"))
            await pc.setLocalDescription(await pc.createAnswer())
            await sig.send({"type": "answer", "to": m["from"], "sdp": pc.localDescription.sdp})
        elif m["type"] == "candidate" and m["from"] in pcs:
            await add_candidate(pcs[m["from"]], m)


async def seed(sig_url, server, video, store, seconds):
    man = manifest(server, video)
    n = len(man["chunks"])
    sig = Signal(sig_url, video, n, True)
    await sig.start()
    pcs = {}

    async def serve(w):
        w.send_hello()
        while True:
            idx = await w.requests.get()
            cid = man["chunks"][idx]["id"]
            data = open(os.path.join(store, "chunks", cid[:2], cid), "rb").read()
            # We announce aiortc's a=max-message-size:65536; the native side honours it with 65523-byte
            # blocks, and so do we (a 64 KiB block plus the 13-byte header would be over it).
            block = 65536 - 13
            for off in range(0, len(data), block):
                w.ch.send(bytes([2]) + struct.pack(">III", idx, off, len(data)) + data[off:off + block])

    def on_channel(ch):
        log("data channel", ch.label, ch.protocol, "id", ch.id)
        asyncio.ensure_future(serve(Wire(ch, video, n, True)))

    asyncio.ensure_future(answer_offers(sig, pcs, on_channel))
    await asyncio.sleep(seconds)
    for pc in pcs.values():
        await close(pc)


async def bad(mode, sig_url, server, video, seeder):
    man = manifest(server, video)
    n = len(man["chunks"])
    sig = Signal(sig_url, video, n, False)
    await sig.start()
    if mode == "fingerprint":
        def swap(sdp):
            out = []
            for line in sdp.split("\r\n"):
                if line.startswith("a=fingerprint:sha-256 "):
                    line = "a=fingerprint:sha-256 " + ":".join(["AB"] * 32)
                out.append(line)
            return "\r\n".join(out)
        pc, ch = await dial(sig, seeder, mutate_sdp=swap)
        for _ in range(80):  # the native side refuses our certificate: our DTLS transport ends
            if ch.readyState == "open":
                raise SystemExit("the channel opened despite a wrong fingerprint")
            if pc.sctp.transport.state in ("closed", "failed"):
                break
            await asyncio.sleep(0.1)
        await close(pc)
        log("refused, as it must be")
    elif mode == "label":
        pc, ch = await dial(sig, seeder, label="other", protocol="x")
        other_closed = asyncio.Event()
        ch.on("close", lambda: other_closed.set())
        await asyncio.wait_for(other_closed.wait(), 8)
        log("channel 'other' was refused (stream reset)")
        good = pc.createDataChannel("hybridnode", protocol="hybridnode/1")
        w = Wire(good, video, n, False)
        if not await wait_open(good, 8):
            raise SystemExit("the hybridnode channel did not open after the refused one")
        w.send_hello()
        await asyncio.wait_for(w.got_hello.wait(), 10)
        data = await asyncio.wait_for(w.fetch(0), 10)
        if hashlib.sha256(data).hexdigest() != man["chunks"][0]["id"]:
            raise SystemExit("chunk 0 fails SHA-256")
        log("then the hybridnode channel works")
        await close(pc)
    elif mode == "oversize":
        pc, ch, w = await dial_hello(sig, seeder, video, n)
        ch.send(bytes([1]) + b"x" * 300000)
        for _ in range(100):  # the native side's close_notify closes our DTLS transport
            if pc.sctp.transport.state in ("closed", "failed") or ch.readyState == "closed":
                break
            await asyncio.sleep(0.1)
        else:
            raise SystemExit("the link stayed up after an oversize message")
        log("native side closed the link after an oversize message:", pc.sctp.transport.state)
        await close(pc)
    elif mode == "short-record":
        # Once the link works: DTLS records of epoch 1 shorter than AES-GCM's nonce + tag, as anyone who can
        # spoof our address could send. They must be dropped (RFC 6347 4.1.2.7), not end the link.
        pc, ch, w = await dial_hello(sig, seeder, video, n)
        for length in (0, 1, 8, 16, 23):
            await pc.sctp.transport.transport._send(b"\x17\xfe\xfd\x00\x01" + os.urandom(6) + struct.pack(">H", length)
                                                    + os.urandom(length))
        await asyncio.sleep(0.5)
        try:
            data = await asyncio.wait_for(w.fetch(0), 10)
        except asyncio.TimeoutError:
            raise SystemExit("the link died after short DTLS records")
        if hashlib.sha256(data).hexdigest() != man["chunks"][0]["id"]:
            raise SystemExit("chunk 0 fails SHA-256")
        log("short records dropped; the link still serves")
        await close(pc)
    elif mode in ("silent", "garbage"):
        async def no_dtls(self, remote):
            if mode == "garbage":
                for i in range(20):
                    await self.transport._send(b"\x16\xfe\xfd" + os.urandom(40))
                    await self.transport._send(os.urandom(60))
                    await asyncio.sleep(0.05)
            await asyncio.sleep(3600)
        RTCDtlsTransport.start = no_dtls
        pc, ch = await dial(sig, seeder)
        await asyncio.sleep(4 if mode == "silent" else 2)  # the test runs the seeder with --dtls-timeout-ms=3000
        await close(pc)
    else:
        raise SystemExit("unknown mode " + mode)


async def liar(mode, sig_url, server, video, seconds):
    man = manifest(server, video)
    n = len(man["chunks"])
    sig = Signal(sig_url, video, n, True)
    await sig.start()
    pcs, sent = {}, {"haves": 0, "requests": 0}

    async def lie(w):
        w.send_hello()

        async def flood():  # every index, again and again, while the link lasts
            while not w.closed.is_set() and w.ch.readyState == "open":
                for i in range(n):
                    w.ch.send(bytes([3]) + struct.pack(">I", i))
                sent["haves"] += n
                await asyncio.sleep(0.005)
        asyncio.ensure_future(flood())
        while True:
            idx = await w.requests.get()
            sent["requests"] += 1
            if mode == "corrupt" and idx < n:
                size = man["chunks"][idx]["size"]
                data = os.urandom(size)
                for off in range(0, size, 65536 - 13):
                    w.ch.send(bytes([2]) + struct.pack(">III", idx, off, size) + data[off:off + 65536 - 13])

    asyncio.ensure_future(answer_offers(sig, pcs, lambda ch: asyncio.ensure_future(lie(Wire(ch, video, n, True)))))
    await asyncio.sleep(seconds)
    print(json.dumps({"peer": ME, "mode": mode, "links": len(pcs), **sent}), flush=True)
    for pc in pcs.values():
        await close(pc)


def main():
    cmd = sys.argv[1]
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    if cmd == "leech":
        coro = leech(*sys.argv[2:7])
    elif cmd == "seed":
        coro = seed(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6]))
    elif cmd == "liar":
        coro = liar(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], float(sys.argv[6]))
    elif cmd == "bad":
        coro = bad(*sys.argv[2:7])
    else:
        raise SystemExit(__doc__)
    # Not asyncio.run(): its shutdown waits ~10 s for aiortc's leftover tasks and executor; the work is done.
    asyncio.new_event_loop().run_until_complete(coro)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
