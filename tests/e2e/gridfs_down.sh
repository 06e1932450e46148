#!/usr/bin/env bash
# --store=mongodb://... with no MongoDB listening (runs everywhere): the server still starts, answers
# 503 naming the store's error (never an empty catalog, never a hang), stays up, shuts down cleanly;
# ingest into that store fails with a clear message and a non-zero exit.
source "$(dirname "$0")/lib.sh"
URI="mongodb://127.0.0.1:1/hn_e2e?serverSelectionTimeoutMS=300&connectTimeoutMS=300"

start_server srv --store="$URI" --catalog-refresh-ms=500
S=http://127.0.0.1:$PORT_srv
code=$(curl -s -o "$T/videos.json" -w '%{http_code}' "$S/videos")
[[ $code == 503 ]] || fail "GET /videos with MongoDB down gave $code, not 503"
grep -q "mongodb: " "$T/videos.json" || fail "the 503 does not say what is wrong: $(cat "$T/videos.json")"
curl -s -D "$T/h.txt" -o /dev/null "$S/videos/some-video"
grep -qi "^retry-after:" "$T/h.txt" || fail "503 without Retry-After"
code=$(curl -s -o "$T/health.json" -w '%{http_code}' "$S/healthz")
[[ $code == 503 ]] && grep -q '"degraded"' "$T/health.json" || fail "/healthz does not report the store: $code $(cat "$T/health.json")"
sleep 1.2  # a few failed refreshes on the pool: the loop must stay responsive
t0=$(date +%s%N)
curl -sf "$S/metrics" >/dev/null || fail "metrics unavailable while the store is down"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "metrics answered in ${ms} ms while MongoDB is down"
[[ $ms -lt 1000 ]] || fail "the loop blocked on MongoDB (${ms} ms)"
grep -q "store unavailable" "$T/srv.log" || fail "no clear log line about the store"

make_video "$T/v.mp4" 2
rc=0
"$HN_BIN" ingest "$T/v.mp4" --store "$URI" --id v >"$T/ingest.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "ingest into an unreachable MongoDB succeeded"
grep -q "mongodb" "$T/ingest.log" || fail "ingest error does not name MongoDB: $(cat "$T/ingest.log")"
stop_and_check "$PID_srv" srv
echo "PASS gridfs_down"
