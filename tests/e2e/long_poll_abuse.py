"""Long polls against a live channel (no encoder yet): `reset N` parks N polls for the next chunk and resets each
connection (SO_LINGER 0) once its request is sent; `hold N` parks N polls, keeps them open and
counts how many were answered at once with 503 (the --max-long-polls cap); then closes them."""
import json, socket, struct, sys, time, urllib.request

port, mode, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
live = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/live", timeout=5))["channels"][0]
req = f"GET /live/{live['video_id']}?from={live['next_seq']}&wait_ms=30000 HTTP/1.1\r\nHost: x\r\n\r\n".encode()

socks = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    socks.append(s)
if mode == "reset":
    time.sleep(0.5)  # let the server read every request and park it
    for s in socks:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        s.close()
    print(f"reset {n} parked long polls")
    sys.exit(0)
time.sleep(0.5)
refused = 0
for s in socks:
    s.setblocking(False)
    try:
        if s.recv(4096).startswith(b"HTTP/1.1 503 "):
            refused += 1
    except BlockingIOError:
        pass
for s in socks:
    s.close()
print(refused)
