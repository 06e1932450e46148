#!/usr/bin/env bash
# Abuse while serving: many idle and half-open connections, slowloris, oversized headers and a request
# flood; the good client completes and the server's memory stays bounded (peak RSS printed).
source "$(dirname "$0")/lib.sh"
IDLE=${HN_ABUSE_IDLE:-8000}
ulimit -n "$(ulimit -Hn)"
limit=$(ulimit -n)
(( IDLE > limit / 2 - 200 )) && IDLE=$((limit / 2 - 200))
make_video "$T/clip.mp4" 6
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --id clip --chunk-size 65536 >/dev/null
start_server srv --store="$T/store" --max-transfers=4 --max-connections=$((IDLE + 500)) --header-timeout-ms=60000
"$PY" "$HN_SRC/tests/e2e/server_abuse.py" "$PORT_srv" "$IDLE" >"$T/abuse.out" 2>&1 || rc=$?
cat "$T/abuse.out"
[[ ${rc:-0} -eq 0 ]] || fail "abuse client failed"
grep -q "good client fetched" "$T/abuse.out" || fail "good client did not complete"
kill -0 "$PID_srv" || fail "server died"
peak=$(awk '/^VmHWM/ {print $2}' /proc/"$PID_srv"/status)
echo "server peak RSS under abuse: $((peak / 1024)) MiB with $IDLE idle connections"
# ~31 MiB measured for the release build with 8000 connections; ASan's shadow memory and quarantine add a lot.
cap=$(( ${HN_SANITIZED:-0} == 1 ? 400 : 96 ))
(( peak < cap * 1024 )) || fail "server memory not bounded: peak $((peak / 1024)) MiB (cap $cap MiB)"
[[ $(metric "$PORT_srv" hybridnode_http_bad_requests_total) -gt 0 ]] || fail "oversized headers not refused"
stop_and_check "$PID_srv" srv
echo "PASS server_abuse"
