"""A client of the content server that retries 10 ms after each 503 (as an impatient player would) and
records, for every accepted chunk, when its body started and finished arriving (CLOCK_MONOTONIC, shared
by all namespaces). Usage: slot_client.py HOST PORT SECONDS OUT CHUNK_ID..."""
import http.client
import json
import random
import sys
import time

host, port, secs, out, ids = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), sys.argv[4], sys.argv[5:]
end = time.monotonic() + secs
rows, refused = [], 0
conn = http.client.HTTPConnection(host, port, timeout=10)
while time.monotonic() < end:
    conn.request("GET", "/chunks/" + random.choice(ids))
    resp = conn.getresponse()
    first = resp.read(1)
    start = time.monotonic()
    n = len(first) + len(resp.read())
    done = time.monotonic()
    if resp.status == 200:
        rows.append({"start": start, "end": done, "bytes": n})
    elif resp.status == 503:
        refused += 1
        time.sleep(0.01)
    else:
        raise SystemExit(f"unexpected status {resp.status}")
json.dump({"transfers": rows, "refused": refused}, open(out, "w"))
