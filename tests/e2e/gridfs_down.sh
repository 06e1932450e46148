#!/usr/bin/env bash
# --store=mongodb://... with no MongoDB listening (runs everywhere): the server still starts, answers
# 503 naming the store's error (never an empty catalog, never "not found" for a chunk, never a hang), stays
# up, shuts down cleanly; ingest into that store fails with a clear message and a non-zero exit.
source "$(dirname "$0")/lib.sh"
# Each driver call waits 1.5 s for a server that is not there: a loop that ran one would stall that long.
URI="mongodb://127.0.0.1:1/hn_e2e?serverSelectionTimeoutMS=1500&connectTimeoutMS=1500"

start_server srv --store="$URI" --catalog-refresh-ms=200
S=http://127.0.0.1:$PORT_srv
# The first catalog load runs on the pool (the server listens at once): 503 from the start, naming the
# driver's error once the first attempt has failed.
for _ in $(seq 1 100); do
  code=$(curl -s -o "$T/videos.json" -w '%{http_code}' "$S/videos")
  [[ $code == 503 ]] || fail "GET /videos with MongoDB down gave $code, not 503"
  grep -q "mongodb: " "$T/videos.json" && break
  sleep 0.05
done
grep -q "mongodb: " "$T/videos.json" || fail "the 503 does not say what is wrong: $(cat "$T/videos.json")"
curl -s -D "$T/h.txt" -o /dev/null "$S/videos/some-video"
grep -qi "^retry-after:" "$T/h.txt" || fail "503 without Retry-After"
code=$(curl -s -o "$T/health.json" -w '%{http_code}' "$S/healthz")
[[ $code == 503 ]] && grep -q '"degraded"' "$T/health.json" || fail "/healthz does not report the store: $code $(cat "$T/health.json")"

note "chunk requests while the catalog is unknown: 503 (down), never 404 (not found)"
chunk=$(printf 'a%.0s' $(seq 64))
for method in -G -I; do
  code=$(curl -s -o /dev/null -D "$T/ch.txt" "$method" -w '%{http_code}' "$S/chunks/$chunk")
  [[ $code == 503 ]] || fail "curl $method /chunks/<id> with MongoDB down gave $code, not 503"
  grep -qi "^retry-after:" "$T/ch.txt" || fail "chunk 503 without Retry-After"
done

note "the loop stays responsive: driver calls (1.5 s each, refreshed every 200 ms) run on the pool"
# A loop that ran a driver call would answer some of these only after ~1.5 s; the pool answers in ms.
worst=0
for _ in $(seq 1 12); do
  t0=$(date +%s%N)
  curl -sf "$S/metrics" >/dev/null || fail "metrics unavailable while the store is down"
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  (( ms > worst )) && worst=$ms
  sleep 0.2
done
echo "slowest of 12 metrics requests over 2.4 s while MongoDB is down: ${worst} ms"
[[ $worst -lt 700 ]] || fail "the loop blocked on MongoDB (${worst} ms)"
grep -q "store unavailable" "$T/srv.log" || fail "no clear log line about the store"

make_video "$T/v.mp4" 2
rc=0
"$HN_BIN" ingest "$T/v.mp4" --raw --store "$URI" --id v >"$T/ingest.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "ingest into an unreachable MongoDB succeeded"
grep -q "mongodb" "$T/ingest.log" || fail "ingest error does not name MongoDB: $(cat "$T/ingest.log")"
stop_and_check "$PID_srv" srv
echo "PASS gridfs_down"
