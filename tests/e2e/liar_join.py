"""A member that joins a swarm first with a lie (another chunk count or manifest digest) and stays."""
import asyncio, json, sys, urllib.request
import websockets

sig, srv, video, peer, lie = sys.argv[1:6]


async def main():
    m = json.load(urllib.request.urlopen(f"{srv}/videos/{video}"))
    count, digest = m["chunk_count"], m.get("manifest_digest", "")
    if lie == "chunk-count":
        count += 3
    elif lie == "digest":
        digest = "e" * 64
    msg = {"type": "join", "video": video, "peer": peer, "chunk_count": count, "manifest_digest": digest}
    if "token" in m:
        msg["token"] = m["token"]
    async with websockets.connect(sig) as ws:
        await ws.send(json.dumps(msg))
        print(await ws.recv(), flush=True)
        while True:
            await ws.send(json.dumps({"type": "ping"}))
            await ws.recv()
            await asyncio.sleep(5)


asyncio.run(main())
