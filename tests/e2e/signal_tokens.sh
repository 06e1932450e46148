#!/usr/bin/env bash
# Admitted swarms (issue 15, docs/security.md): join tokens of the content server, renewals, swarm
# identity by manifest digest, introductions before relays, bounded and rate-limited lookups.
source "$(dirname "$0")/lib.sh"
make_video "$T/a.mp4" 2
make_video "$T/b.mp4" 2 -b:v 200k
"$HN_BIN" ingest "$T/a.mp4" --store "$T/store" --id vida >/dev/null
"$HN_BIN" ingest "$T/b.mp4" --store "$T/store" --id vidb >/dev/null
SECRET=test-secret-0123456789abcdef
printf '%s\n' "$SECRET" >"$T/secret"
start_role sig signal --swarm-secret-file="$T/secret" --lookup-rate=5
grep -q "swarms are open" "$T/sig.log" && fail "signaller with a secret says swarms are open"
start_server srva --store="$T/store" --swarm-secret="$SECRET" --signal-url="ws://127.0.0.1:$PORT_sig/ws"
start_server srvb --store="$T/store" --swarm-secret-file="$T/secret" --token-ttl=60
# A wrong secret file is refused at start.
printf 'short\n' >"$T/short"
"$HN_BIN" --role=signal --swarm-secret-file="$T/short" --listen=127.0.0.1:0 >/dev/null 2>&1 && fail "a 5-byte secret was accepted"
"$PY" "$HN_SRC/tests/e2e/signal_tokens.py" "$PORT_sig" "$PORT_srva" "$PORT_srvb" "$SECRET"
kill -0 "$PID_sig" || fail "signaller died"
stop_and_check "$PID_sig" sig
stop_and_check "$PID_srva" srva
stop_and_check "$PID_srvb" srvb
echo "PASS signal_tokens"
