#!/usr/bin/python3
"""Lying remotes for tests/e2e/peer_hostile.sh: a content server and a signaller that send what a real
one never would. Usage: hostile_remotes.py server|signal MODE PORT_FILE [COUNT_FILE]
Each writes its port to PORT_FILE once listening; COUNT_FILE (server) gets the number of chunk GETs."""
import asyncio
import hashlib
import json
import os
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ROLE, MODE, PORT_FILE = sys.argv[1], sys.argv[2], sys.argv[3]
COUNT_FILE = sys.argv[4] if len(sys.argv) > 4 else None
VIDEO = "v"


def write_port(port):
    tmp = PORT_FILE + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(port))
    os.rename(tmp, PORT_FILE)


def manifest(chunks, chunk_size, total):
    return {"video_id": VIDEO, "title": "t", "media_type": "video/mp4", "total_size": total,
            "chunk_size": chunk_size, "chunk_count": len(chunks), "chunks": chunks}


# ---------------------------------------------------------------- content server
CHUNK = b"x" * 4096
GOOD = manifest([{"id": hashlib.sha256(CHUNK).hexdigest(), "size": 4096}] * 3, 4096, 3 * 4096)
lock = threading.Lock()
state = {"chunk_gets": 0, "live_next": 0}


def huge_manifest():
    # 100 000 chunks of 64 MiB: a 6.1 TiB video in a ~9 MB manifest.
    size = 64 << 20
    ids = [{"id": hashlib.sha256(str(i).encode()).hexdigest(), "size": size} for i in range(100000)]
    return manifest(ids, size, size * len(ids))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def reply(self, status, body, ctype="application/json", extra=()):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?")[0]
        if path == f"/videos/{VIDEO}":
            if MODE == "zero":
                return self.reply(200, json.dumps(manifest([], 4096, 0)))
            if MODE == "huge":
                return self.reply(200, HUGE)
            return self.reply(200, json.dumps(GOOD))
        if path.startswith("/chunks/"):
            with lock:
                state["chunk_gets"] += 1
                if COUNT_FILE:
                    with open(COUNT_FILE, "w") as f:
                        f.write(str(state["chunk_gets"]))
            if MODE == "signal5":  # a refusal whose signal_url is a number
                return self.reply(503, json.dumps({"error": "busy", "signal_url": 5, "signal_urls": [5, None]}),
                                  extra=[("Retry-After", "1")])
            if MODE == "badbytes":  # right size, wrong bytes
                return self.reply(200, b"y" * 4096, "application/octet-stream")
            return self.reply(503, json.dumps({"error": "busy"}), extra=[("Retry-After", "1")])
        if path == f"/live/{VIDEO}" and MODE == "livegrow":
            # Every poll: 1024 new sequence numbers, far ahead of any playhead.
            with lock:
                start = state["live_next"]
                state["live_next"] += 1024
            chunks = [{"seq": s, "id": hashlib.sha256(str(s).encode()).hexdigest(), "size": 4096, "duration": 1.0,
                       "published_ms": 0} for s in range(start, start + 1024)]
            body = {"live": True, "video_id": VIDEO, "epoch": "00000000000000e1", "ended": False, "target_duration": 1.0, "ring": 4096,
                    "chunks": chunks}
            return self.reply(200, json.dumps(body))
        self.reply(404, json.dumps({"error": "not here"}))


# ---------------------------------------------------------------- signaller
SDP_CANDIDATES = int(os.environ.get("HOSTILE_CANDIDATES", "60000"))
connections = {"n": 0}


async def process_request(path, headers):
    connections["n"] += 1
    if MODE == "reconnect" and connections["n"] >= 2:
        # Hold the reconnect's handshake so that the peer is stopped while the dial is in flight.
        print("holding handshake", flush=True)
        await asyncio.sleep(float(os.environ.get("HOSTILE_HOLD", "3")))
    return None


async def signal_handler(ws, path=None):
    nconn = connections["n"]
    async for text in ws:
        try:
            m = json.loads(text)
        except ValueError:
            continue
        t = m.get("type")
        if t == "join":
            await ws.send(json.dumps({"type": "joined", "peers": 0}))
            if MODE == "garbage":
                # Each of these aborted the peer (nlohmann type_error) before the fields were type-checked.
                bad = [{"type": "offer", "from": "x", "sdp": 1},
                       {"type": "answer", "from": "x", "sdp": [1]},
                       {"type": "candidate", "from": "x", "candidate": 5},
                       {"type": "offer", "from": 7, "sdp": "v=0"},
                       {"type": "error", "code": 5},
                       {"type": "error", "code": "x", "message": {"a": 1}},
                       {"type": "error", "id": []},
                       {"type": "peers", "id": 5, "chunks": []},
                       {"type": 5},
                       [1, 2, 3]]
                for b in bad:
                    await ws.send(json.dumps(b))
                await ws.send("{not json")
                print("sent garbage", flush=True)
            elif MODE == "reconnect" and nconn == 1:
                await asyncio.sleep(0.3)
                await ws.close()  # the peer reconnects; the next handshake is held (process_request)
                return
            elif MODE == "reconnect":
                # The dial completed after the peer was told to stop: an offer here made it build a link
                # after its P2P hub had shut down.
                await ws.send(json.dumps({"type": "offer", "from": "x", "sdp": "v=0\r\n"}))
                print("offered after the held handshake", flush=True)
        elif t == "lookup" and MODE == "candidates":
            await ws.send(json.dumps({"type": "peers", "id": m.get("id"), "chunks": {"0": ["x"]}}))
        elif t == "offer" and MODE == "candidates" and m.get("to") == "x":
            # Answer with the peer's own description (valid by construction), then trickle a flood.
            sdp = m.get("sdp").replace("a=setup:actpass", "a=setup:active")  # an answer picks a DTLS role
            await ws.send(json.dumps({"type": "answer", "from": "x", "sdp": sdp}))
            for i in range(SDP_CANDIDATES):
                port = 20000 + i % 40000
                c = f"candidate:{i} 1 UDP {2130706431 - i} 127.0.0.1 {port} typ host"
                await ws.send(json.dumps({"type": "candidate", "from": "x", "candidate": c}))
            print(f"sent {SDP_CANDIDATES} candidates", flush=True)


async def run_signal():
    import websockets
    async with websockets.serve(signal_handler, "127.0.0.1", 0, process_request=process_request,
                                max_size=None, ping_interval=None) as server:
        write_port(server.sockets[0].getsockname()[1])
        await asyncio.Future()


if ROLE == "server":
    HUGE = json.dumps(huge_manifest()) if MODE == "huge" else ""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    write_port(httpd.server_address[1])
    httpd.serve_forever()
else:
    asyncio.run(run_signal())
