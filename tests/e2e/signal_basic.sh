#!/usr/bin/env bash
# The signaller against an independent WebSocket client: join, lookup, relay, expiry, every bad input.
source "$(dirname "$0")/lib.sh"

start_role sig signal --member-timeout-ms=1500 --max-message-bytes=65536 --rate=100 --burst=50
"$PY" "$HN_SRC/tests/e2e/signal_checks.py" "$PORT_sig"
kill -0 "$PID_sig" || fail "signaller died"
curl -sf "http://127.0.0.1:$PORT_sig/healthz" | grep -q '"status":"ok"' || fail "healthz"
stop_and_check "$PID_sig" sig
echo "PASS signal_basic"
