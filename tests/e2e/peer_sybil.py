"""Sybil offers (issue 22 item 7): COUNT joined WebSocket clients send bogus-but-valid offers (ICE candidates
that never answer) to one peer every 2 s until killed."""
import asyncio, json, os, sys
import websockets

url, video, chunk_count, target, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
digest = sys.argv[6] if len(sys.argv) > 6 else ""  # the seeder's swarm: video + manifest digest
SDP = ("v=0\r\nm=application 0 ICE/SDP\r\nc=IN IP4 127.0.0.1\r\na=ice-ufrag:{u}\r\na=ice-pwd:{p}\r\n"
       "a=candidate:1 1 UDP 2015363327 127.0.0.1 9 typ host\r\n")


async def sybil(i):
    async with websockets.connect(url) as ws:
        await ws.send(json.dumps({"type": "join", "video": video, "peer": f"sybil{i:02d}", "chunk_count": chunk_count,
                                  "manifest_digest": digest}))
        await ws.send(json.dumps({"type": "lookup", "chunks": [0], "max": 50}))  # relays only to members a lookup named
        sent = 0
        while True:
            sdp = SDP.format(u=os.urandom(4).hex(), p=os.urandom(12).hex())
            await ws.send(json.dumps({"type": "offer", "to": target, "sdp": sdp}))
            sent += 1
            try:
                while True:  # drain answers/candidates/errors for 2 s
                    await asyncio.wait_for(ws.recv(), 2)
            except asyncio.TimeoutError:
                pass


async def main():
    await asyncio.gather(*(sybil(i) for i in range(count)))


asyncio.run(main())
