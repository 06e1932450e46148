#!/usr/bin/env bash
# A paced content server (--limit-rate) under issue 22's attacks: junk streamed while a body is paced must
# not be buffered, and thousands of pipelined requests behind a chunk must not deepen the stack (the server
# runs with a 1 MiB stack here, so recursion per request would crash it).
source "$(dirname "$0")/lib.sh"
make_video "$T/clip.mp4" 4
"$HN_BIN" ingest "$T/clip.mp4" --store "$T/store" --id clip --chunk-size 131072 >/dev/null
ulimit -s 1024
start_server srv --store="$T/store" --limit-rate=16384
ulimit -s "$(ulimit -Hs)" 2>/dev/null || ulimit -s 8192
"$PY" "$HN_SRC/tests/e2e/server_paced_abuse.py" "$PORT_srv" junk "$PID_srv" || fail "junk behind a paced body"
"$PY" "$HN_SRC/tests/e2e/server_paced_abuse.py" "$PORT_srv" pipeline "$PID_srv" || fail "pipelined requests behind a chunk"
kill -0 "$PID_srv" || fail "server died"
stop_and_check "$PID_srv" srv
echo "PASS server_paced_abuse"
