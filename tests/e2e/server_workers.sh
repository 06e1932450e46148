#!/usr/bin/env bash
# --workers=2 over HTTPS: connections spread over both loops, one process-wide --max-transfers, /metrics
# totals that add up, a live channel served (long polls woken) whichever loop a client lands on, a
# SIGHUP certificate reload seen by both loops, and a clean SIGTERM exit with transfers in flight.
source "$(dirname "$0")/lib.sh"

make_tls_certs "$T/a"
make_tls_certs "$T/b"
cp "$T/a/srv.pem" "$T/live.pem"; cp "$T/a/srv.key" "$T/live.key"
head -c $((1 << 20)) /dev/urandom >"$T/blob.bin"
"$HN_BIN" ingest "$T/blob.bin" --store "$T/store" --id blob --chunk-size 131072 >/dev/null
make_video "$T/part1.ts" 3 -g 25 -f mpegts
make_video "$T/part2.ts" 2 -g 25 -f mpegts
cp "$T/part1.ts" "$T/live.ts"
start_server srv --store="$T/store" --workers=2 --max-transfers=2 --limit-rate=65536 \
  --tls-cert="$T/live.pem" --tls-key="$T/live.key" --signal-url=ws://127.0.0.1:1/ws --live=news="$T/live.ts"
grep -q "2 worker loops" "$T/srv.log" || fail "no worker loops announced: $(cat "$T/srv.log")"
export PORT="$PORT_srv" T

# Python clients: one new TLS connection per request, so the kernel's SO_REUSEPORT hash spreads them.
cat >"$T/client.py" <<'PY'
import http.client, json, os, ssl, sys, threading, time
PORT = int(os.environ["PORT"])
def conn(ca):
    return http.client.HTTPSConnection("127.0.0.1", PORT, timeout=20, context=ssl.create_default_context(cafile=ca))
def get(path, ca, headers={}):
    c = conn(ca)
    c.request("GET", path, headers=headers)
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body
def metrics(ca):
    out = {}
    for line in get("/metrics", ca)[1].decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out
def per_worker(m, name):
    return [m.get(f'{name}{{worker="{i}"}}', 0) for i in range(2)]
def idle(ca):  # a slot is given back once the client has acknowledged the last byte (send_drain.h)
    for _ in range(100):
        m = metrics(ca)
        if m["hybridnode_active_transfers"] == 0: return m
        time.sleep(0.05)
    raise AssertionError("transfer slots still held")
def parallel(fn, n):
    res = [None] * n
    def run(i):
        try:
            res[i] = fn(i)
        except Exception as e:
            res[i] = e
    ts = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in ts: t.start()
    for t in ts: t.join()
    return res
PY

note "connections spread over both workers; the totals add up"
"$PY" - "$T/a/ca.pem" <<'PY' || fail "spread/totals"
import sys; sys.path.insert(0, __import__("os").environ["T"])
from client import *
ca = sys.argv[1]
for _ in range(24):
    assert get("/healthz", ca)[0] == 200
m = metrics(ca)
conns = per_worker(m, "hybridnode_worker_connections_total")
reqs = per_worker(m, "hybridnode_worker_requests_total")
print("connections per worker", conns, "requests per worker", reqs)
assert m["hybridnode_workers"] == 2, m["hybridnode_workers"]
assert min(conns) >= 1, f"a worker got no connection: {conns}"
assert sum(conns) == m["hybridnode_http_connections_total"] >= 25, (conns, m["hybridnode_http_connections_total"])
assert sum(reqs) == m["hybridnode_http_requests_total"], (reqs, m["hybridnode_http_requests_total"])
assert m['hybridnode_http_responses_total{code="200"}'] >= 24, m
PY

note "--max-transfers=2 holds for the process: 16 concurrent slow downloads on both workers, 2 admitted"
"$PY" - "$T/a/ca.pem" "$T/store/videos/blob.json" <<'PY' || fail "process-wide max-transfers"
import sys; sys.path.insert(0, __import__("os").environ["T"])
from client import *
ca = sys.argv[1]
ids = [c["id"] for c in json.load(open(sys.argv[2]))["chunks"]]
before = metrics(ca)
go = threading.Barrier(16)
def fetch(i):
    c = conn(ca)
    c.connect()
    go.wait()  # every connection is open (and placed on a worker) before any request
    c.request("GET", f"/chunks/{ids[i % len(ids)]}")
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body
res = parallel(fetch, 16)
after = idle(ca)
codes = sorted(r[0] if isinstance(r, tuple) else repr(r) for r in res)
reqs = [a - b for a, b in zip(per_worker(after, "hybridnode_worker_requests_total"), per_worker(before, "hybridnode_worker_requests_total"))]
print("codes", codes, "chunk requests per worker", reqs)
# With a policy per loop, each loop would admit 2: 4 in all once both have 2 requests or more.
assert min(reqs) >= 3, f"the 16 requests did not reach both workers enough to tell: {reqs}"
assert codes.count(200) == 2 and codes.count(503) == 14, codes
for st, body in res:
    if st == 503:
        j = json.loads(body)
        assert j["chunk_id"] in ids and j["signal_url"] == "ws://127.0.0.1:1/ws" and j["video_id"] == "blob", j
d = lambda k: after.get(k, 0) - before.get(k, 0)
assert d("hybridnode_refusals_total") == 14 and d("hybridnode_chunks_served_total") == 2, (d("hybridnode_refusals_total"), d("hybridnode_chunks_served_total"))
assert d('hybridnode_http_responses_total{code="503"}') == 14, d('hybridnode_http_responses_total{code="503"}')
assert d("hybridnode_chunk_bytes_served_total") == 2 * 131072, d("hybridnode_chunk_bytes_served_total")
PY
for _ in $(seq 1 100); do [[ $(curl -s --cacert "$T/a/ca.pem" "https://127.0.0.1:$PORT/metrics" | awk '$1=="hybridnode_active_transfers"{print $2}') == 0 ]] && break; sleep 0.05; done

note "live: every worker lists the same chunks and serves them; long polls on both wake on a publish"
"$PY" - "$T/a/ca.pem" "$T/live.ts" "$T/part2.ts" <<'PY' || fail "live across workers"
import sys, time; sys.path.insert(0, __import__("os").environ["T"])
from client import *
ca, live, part2 = sys.argv[1:4]
for _ in range(100):
    man = json.loads(get("/live/news", ca)[1])
    if len(man["chunks"]) >= 2: break
    time.sleep(0.1)
before = metrics(ca)
mans = [json.loads(get("/live/news", ca)[1]) for _ in range(12)]
seqs = {tuple(c["id"] for c in m["chunks"]) for m in mans}
epochs = {m["epoch"] for m in mans}
assert len(epochs) == 1 and len(seqs) == 1, (epochs, seqs)
chunks = mans[0]["chunks"]
for c in chunks:  # each on a new connection: both workers serve them
    st, body = get(f"/chunks/{c['id']}", ca)
    assert st == 200 and len(body) == c["size"], (st, len(body), c)
    st, body = get(f"/live/news/{c['seq']}.ts", ca, {"Range": "bytes=0-187"})
    assert st == 206 and body[:1] == b"\x47", (st, body[:4])
nxt = chunks[-1]["seq"] + 1
def poll(i):
    t0 = time.monotonic()
    st, body = get(f"/live/news?from={nxt}&wait_ms=20000", ca)
    return st, json.loads(body), time.monotonic() - t0
waiters = []
t = threading.Thread(target=lambda: waiters.extend(parallel(poll, 16)))
t.start()
for _ in range(100):
    if metrics(ca)["hybridnode_live_long_polls_waiting"] >= 16: break
    time.sleep(0.05)
mid = metrics(ca)
parked = per_worker(mid, "hybridnode_worker_long_polls_waiting")
assert mid["hybridnode_live_long_polls_waiting"] == 16 == sum(parked), (mid["hybridnode_live_long_polls_waiting"], parked)
with open(live, "ab") as f: f.write(open(part2, "rb").read())
t.join()
for w in waiters:
    assert not isinstance(w, Exception), w
    st, m, took = w
    assert st == 200 and any(c["seq"] >= nxt for c in m["chunks"]), (st, [c["seq"] for c in m["chunks"]], nxt)
    assert took < 15, took
after = metrics(ca)
assert after["hybridnode_live_long_polls_waiting"] == 0, after["hybridnode_live_long_polls_waiting"]
print("long polls parked per worker", parked)
assert min(parked) >= 1, parked
PY

note "SIGHUP: both workers hand out the new certificate"
cp "$T/b/srv.pem" "$T/live.pem"; cp "$T/b/srv.key" "$T/live.key"
kill -HUP "$PID_srv"
for _ in $(seq 1 50); do grep -q "SIGHUP: reloaded" "$T/srv.log" && break; sleep 0.05; done
grep -q "SIGHUP: reloaded" "$T/srv.log" || fail "no reload logged"
[[ $(grep -c "SIGHUP: reloaded" "$T/srv.log") == 1 ]] || fail "the certificate was reloaded more than once: $(grep SIGHUP "$T/srv.log")"
"$PY" - "$T/a/ca.pem" "$T/b/ca.pem" <<'PY' || fail "SIGHUP reload on both workers"
import ssl, sys; sys.path.insert(0, __import__("os").environ["T"])
from client import *
old, new = sys.argv[1:3]
before = metrics(new)
for _ in range(16):
    assert get("/healthz", new)[0] == 200
    try:
        get("/healthz", old)
        raise AssertionError("a connection still got the old certificate")
    except ssl.SSLCertVerificationError:
        pass
after = metrics(new)
conns = [a - b for a, b in zip(per_worker(after, "hybridnode_worker_connections_total"), per_worker(before, "hybridnode_worker_connections_total"))]
print("connections per worker after the reload", conns)
assert min(conns) >= 2, conns
PY

note "SIGTERM with slow downloads running on the workers: a clean exit"
for i in 1 2 3; do command curl -s --cacert "$T/b/ca.pem" -o /dev/null "https://127.0.0.1:$PORT/chunks/$(json "$T/store/videos/blob.json" 'j["chunks"][0]["id"]')" & done
sleep 0.3
start=$(date +%s%N)
stop_and_check "$PID_srv" srv
took=$((($(date +%s%N) - start) / 1000000))
echo "exited ${took} ms after SIGTERM"
grep -q "received SIGTERM" "$T/srv.log" || fail "SIGTERM not seen"
wait
echo "PASS server_workers"
