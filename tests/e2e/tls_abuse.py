# TLS-specific abuse, run by server_tls.sh against the real binary.
#   idle-spin PORT CA PID: a keep-alive HTTPS client that read a large body slowly (the server's SSL_write
#     returned WANT_WRITE on the way) then idles; the server must sleep, not poll for writable in a loop.
import os, socket, ssl, sys, time

mode, port, ca, pid = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4])


def cpu_seconds():
    f = open(f"/proc/{pid}/stat").read().rsplit(") ", 1)[1].split()
    return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")


def idle_spin():
    raw = socket.socket()
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)  # small window: the server's socket fills
    raw.connect(("127.0.0.1", port))
    s = ssl.create_default_context(cafile=ca).wrap_socket(raw, server_hostname="localhost")
    s.sendall(b"GET /big.bin HTTP/1.1\r\nHost: x\r\n\r\n")
    time.sleep(0.5)
    buf = bytearray()
    while b"\r\n\r\n" not in buf:
        buf += s.recv(65536)
    head, _, body = bytes(buf).partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200"), head[:100]
    n = int([l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")][0].split(b":")[1])
    body = bytearray(body)
    while len(body) < n:
        d = s.recv(1 << 20)
        assert d, "closed early"
        body += d
    c0 = cpu_seconds()
    time.sleep(2)
    used = cpu_seconds() - c0
    print(f"server CPU while one HTTPS keep-alive connection idles 2 s: {used:.2f} s")
    # An idle server uses ~0 (measured 0.00); polling for writable on an idle socket spins the loop (measured
    # 0.14-1.9 s of CPU in 2-3 s on a loaded 2-core machine).
    if used > 0.1:
        raise SystemExit(f"FAIL: the server spins on an idle HTTPS connection ({used:.2f} s CPU in 2 s)")
    s.close()


{"idle-spin": idle_spin}[mode]()
