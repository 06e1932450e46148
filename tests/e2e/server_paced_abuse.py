"""Abuse of a paced content server (--limit-rate) from issue 22: junk streamed while a paced body waits
(input must stay bounded), and thousands of pipelined requests behind a chunk (answered without the stack
growing per request). Prints what it measured."""
import json, socket, sys, threading, time, urllib.request

port, what = int(sys.argv[1]), sys.argv[2]
pid = int(sys.argv[3])
base = f"http://127.0.0.1:{port}"
manifest = json.loads(urllib.request.urlopen(f"{base}/videos/clip", timeout=10).read())
chunk = manifest["chunks"][0]
cid = chunk["id"] if isinstance(chunk, dict) else chunk
GET = f"GET /chunks/{cid} HTTP/1.1\r\nHost: x\r\n\r\n".encode()


def rss_kib():
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1])
    return 0


def alive():
    try:
        return urllib.request.urlopen(f"{base}/healthz", timeout=10).status == 200
    except Exception:
        return False


if what == "junk":
    # One paced GET, then junk as fast as the server takes it, for 2 s or 256 MiB.
    before = rss_kib()
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(GET)
    s.settimeout(0.2)
    junk = b"J" * (1 << 20)
    sent, t0 = 0, time.time()
    while sent < (256 << 20) and time.time() - t0 < 2:
        try:
            sent += s.send(junk)
        except socket.timeout:
            pass
        except OSError:
            break
    grown = (rss_kib() - before) // 1024
    s.close()
    print(f"junk behind a paced body: server took {sent >> 20} MiB in {time.time() - t0:.1f} s, RSS grew {grown} MiB")
    ok = alive() and grown < 32
elif what == "pipeline":
    # A chunk, then 80 KiB of pipelined tiny requests; read everything back.
    n = 80 * 1024 // len(b"GET /healthz HTTP/1.1\r\n\r\n")
    s = socket.create_connection(("127.0.0.1", port))
    got = bytearray()
    done = threading.Event()

    def reader():
        s.settimeout(20)
        try:
            while not done.is_set():
                b = s.recv(1 << 16)
                if not b:
                    break
                got.extend(b)
                if got.count(b"HTTP/1.1 200") >= n + 1:
                    break
        except OSError:
            pass
        done.set()

    t = threading.Thread(target=reader)
    t.start()
    s.sendall(GET + b"GET /healthz HTTP/1.1\r\n\r\n" * n)
    t.join(30)
    done.set()
    answers = got.count(b"HTTP/1.1 200")
    s.close()
    print(f"pipelined behind a chunk: {answers} of {n + 1} answered")
    ok = alive() and answers == n + 1
else:
    sys.exit(f"unknown check {what}")
print("ok" if ok else "BAD")
sys.exit(0 if ok else 1)
