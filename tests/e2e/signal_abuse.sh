#!/usr/bin/env bash
# Attacks on the signaller from issue 22 (deep JSON relayed, flood + RST, large-message streams, readers
# that never read, amplifying lookups and bitfields, pings from a client that never reads): each must leave
# the signaller serving everyone.
source "$(dirname "$0")/lib.sh"

start_role sig signal --member-timeout-ms=60000 --max-queued-total=2097152
SIG_PID=$PID_sig "$PY" "$HN_SRC/tests/e2e/signal_abuse.py" "$PORT_sig" "${1:-all}"
kill -0 "$PID_sig" || fail "signaller died"
stop_and_check "$PID_sig" sig
echo "PASS signal_abuse"
