#!/usr/bin/env bash
# Claims of the README / docs/security.md that no other test exercises, each against a real server:
# /healthz counts the videos; --send-timeout-ms frees the transfer slot of a reader that stalls;
# --idle-timeout-ms closes an idle keep-alive connection; --max-connections closes the surplus at accept;
# SIGINT shuts server and signaller down with exit 0; examples/embed_server runs and serves.
source "$(dirname "$0")/lib.sh"

make_video "$T/clip.mp4" 3
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --chunk-size 65536 >/dev/null
head -c $((16 << 20)) /dev/urandom >"$T/filler.bin"
"$HN_BIN" ingest "$T/filler.bin" --store "$T/store" --id filler --chunk-size $((16 << 20)) >/dev/null

start_server srv --store="$T/store" --max-transfers=1 --send-timeout-ms=1000 --idle-timeout-ms=600
start_server lim --store="$T/store" --max-connections=6 --header-timeout-ms=20000
S=http://127.0.0.1:$PORT_srv

note "/healthz counts the videos"
[[ $(curl -sf "$S/healthz" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["videos"])') == 2 ]] ||
  fail "/healthz does not count 2 videos: $(curl -s "$S/healthz")"

note "--send-timeout-ms: a reader that stops reading loses its slot"
filler=$(curl -sf "$S/videos/filler" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["chunks"][0]["id"])')
# Reads the status line, then never reads again (16 MiB cannot fit in the socket buffers).
(sleep 30 | "$PY" "$HN_SRC/tests/e2e/slow_reader.py" "$PORT_srv" "/chunks/$filler" >"$T/slow.out") &
HN_PIDS+=($!)
for _ in $(seq 1 100); do [[ -s "$T/slow.out" ]] && break; sleep 0.05; done
grep -q " 200" "$T/slow.out" || fail "the stalled reader did not get its transfer: $(cat "$T/slow.out")"
[[ $(metric "$PORT_srv" hybridnode_active_transfers) == 1 ]] || fail "the stalled reader holds no slot"
freed=0
for _ in $(seq 1 100); do  # 1 s send timeout; allow 5 s for a loaded machine
  [[ $(metric "$PORT_srv" hybridnode_active_transfers) == 0 ]] && { freed=1; break; }
  sleep 0.05
done
((freed)) || fail "the slot of a reader stalled for 5 s was not released (--send-timeout-ms=1000)"
(( $(metric "$PORT_srv" hybridnode_http_timeouts_total) >= 1 )) || fail "no timeout counted"
clip0=$(curl -sf "$S/videos/clip" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["chunks"][0]["id"])')
[[ $(curl -s -o /dev/null -w '%{http_code}' "$S/chunks/$clip0") == 200 ]] || fail "slot still taken after the send timeout"

note "--idle-timeout-ms and --max-connections at accept"
"$PY" - "$PORT_srv" "$clip0" "$PORT_lim" <<'PY' || fail "connection limits"
import socket, sys, time
port, chunk, lim = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])

def conn(p=None):
    return socket.create_connection(("127.0.0.1", p or port), timeout=5)

def closed_by_server(s, within):
    s.settimeout(within)
    try:
        return s.recv(1) == b""
    except socket.timeout:
        return False
    except ConnectionResetError:
        return True

# Idle keep-alive: one request answered, then silence; the server closes after ~0.6 s.
s = conn()
s.sendall(f"HEAD /chunks/{chunk} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
s.settimeout(5)
head = s.recv(4096)
assert head.startswith(b"HTTP/1.1 200"), head
t0 = time.monotonic()
assert closed_by_server(s, 5), "idle keep-alive connection still open after 5 s (--idle-timeout-ms=600)"
print(f"idle connection closed after {time.monotonic() - t0:.2f} s")
s.close()

# Six connections (the limit) stay open, a seventh is closed at once, before any byte is sent.
port = lim
held = [conn() for _ in range(6)]
time.sleep(0.3)
for h in held:
    assert not closed_by_server(h, 0.05), "a connection within --max-connections was closed"
extra = conn()
assert closed_by_server(extra, 3), "a connection past --max-connections=6 was not closed at accept"
print("7th connection closed at accept")
# Room again once one is gone.
held.pop().close()
time.sleep(0.3)
s = conn()
s.sendall(f"HEAD /chunks/{chunk} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode())
s.settimeout(5)
assert s.recv(64).startswith(b"HTTP/1.1 200"), "no room after a connection closed"
for h in held: h.close()
PY
(( $(metric "$PORT_lim" hybridnode_http_connections_rejected_total) >= 1 )) || fail "no rejected connection counted"
stop_and_check "$PID_lim" lim

note "SIGINT: server and signaller exit 0"
start_role sig signal
for p in "$PID_srv:srv" "$PID_sig:sig"; do
  pid=${p%%:*}; name=${p#*:}; rc=0
  kill -INT "$pid"
  wait "$pid" || rc=$?
  [[ $rc -eq 0 ]] || fail "$name exited with $rc after SIGINT: $(tail -n 5 "$T/$name.log")"
done

note "examples/embed_server runs and serves what it ingested"
EMBED=$(dirname "$HN_BIN")/embed_server
[[ -x $EMBED ]] || fail "no embed_server next to $HN_BIN (built with hybridnode)"
"$EMBED" "$T/clip.mp4" "$T/estore" >"$T/embed.log" 2>&1 &
PID_embed=$!
HN_PIDS+=($PID_embed)
for _ in $(seq 1 100); do grep -q "^serving " "$T/embed.log" && break; kill -0 $PID_embed || fail "embed_server exited: $(cat "$T/embed.log")"; sleep 0.05; done
url=$(awk '/^serving /{print $4}' "$T/embed.log")
[[ -n $url ]] || fail "embed_server did not say where it serves: $(cat "$T/embed.log")"
curl -sf "$url" >"$T/emb.json" || fail "embed_server: no manifest at $url"
base=${url%/videos/*}
: >"$T/emb.mp4"
for id in $(json "$T/emb.json" '" ".join(c["id"] for c in j["chunks"])'); do
  curl -sf "$base/chunks/$id" >>"$T/emb.mp4" || fail "embed_server: chunk $id"
done
cmp "$T/clip.mp4" "$T/emb.mp4" || fail "embed_server served different bytes"
echo "PASS server_limits"
