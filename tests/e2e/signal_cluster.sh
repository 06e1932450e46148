#!/usr/bin/env bash
# Two signallers + Redis (started here on a free port): a member on A and one on B see each other's chunks
# and exchange offer/answer/candidate byte-exact; Redis killed -> per-instance swarms with a clear log line,
# then shared again when it returns; instance A killed -> its member moves to B and the swarm continues.
source "$(dirname "$0")/lib.sh"
RPORT=$("$PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
REDIS=(redis-server --bind 127.0.0.1 --port "$RPORT" --save "" --appendonly no)
"${REDIS[@]}" >"$T/redis.log" 2>&1 &
HN_PIDS+=($!)
for _ in $(seq 1 100); do "$PY" -c "import socket; socket.create_connection(('127.0.0.1',$RPORT),0.2)" 2>/dev/null && break; sleep 0.05; done
start_role a signal --redis=127.0.0.1:$RPORT --instance=a
start_role b signal --redis=127.0.0.1:$RPORT --instance=b
sleep 0.5
"$PY" "$HN_SRC/tests/e2e/cluster_checks.py" "$PORT_a" "$PORT_b" "$RPORT" "$PID_a" "${REDIS[@]}" || fail "cluster checks failed"
grep -q "redis 127.0.0.1:$RPORT lost (.*): swarms are per-instance until it returns" "$T/b.log" ||
  fail "no clear log line when Redis went away"
grep -q "is back" "$T/b.log" || fail "no log line when Redis returned"
stop_and_check "$PID_b" b
echo "PASS signal_cluster"
