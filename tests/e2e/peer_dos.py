#!/usr/bin/python3
"""peer_dos.py stall SIG SERVER VIDEO SEEDER SECONDS: an aiortc peer dials SEEDER, says hello, asks for every
chunk, then drops every SCTP DATA chunk it receives (neither delivered nor acknowledged; HEARTBEATs are still
answered, so the association stays up) and stays SECONDS. Prints "requests sent" once the requests are out,
and "closed" if the seeder drops the link."""
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
    pc, ch = await W.dial(sig, seeder)
    w = W.Wire(ch, video, n, False)
    assert await W.wait_open(ch), "channel did not open"
    w.send_hello()
    await asyncio.wait_for(w.got_hello.wait(), 10)
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


if __name__ == "__main__":
    mode, *args = sys.argv[1:]
    assert mode == "stall", mode
    asyncio.run(stall(*args[:4], float(args[4])))
