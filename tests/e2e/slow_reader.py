"""Holds one chunk transfer open: tiny receive buffer, reads a few bytes, then waits for stdin to close."""
import socket, sys

port, path = int(sys.argv[1]), sys.argv[2]
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", port))
s.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
head = s.recv(512)
print(head.split(b"\r\n")[0].decode(), flush=True)
sys.stdin.read()  # the test closes our stdin when the slow transfer may end
s.close()
