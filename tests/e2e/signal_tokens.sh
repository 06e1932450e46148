#!/usr/bin/env bash
# Admitted swarms (issue 15, docs/security.md): join tokens of the content server, renewals, swarm
# identity by manifest digest, introductions before relays, bounded and rate-limited lookups.
source "$(dirname "$0")/lib.sh"
make_video "$T/a.mp4" 2
make_video "$T/b.mp4" 2 -b:v 200k
"$HN_BIN" ingest "$T/a.mp4" --store "$T/store" --id vida --raw >/dev/null
"$HN_BIN" ingest "$T/b.mp4" --store "$T/store" --id vidb --raw >/dev/null
SECRET=test-secret-0123456789abcdef
printf '%s\n' "$SECRET" >"$T/secret"
start_role sig signal --swarm-secret-file="$T/secret" --lookup-rate=5
grep -q "swarms are open" "$T/sig.log" && fail "signaller with a secret says swarms are open"
start_server srva --store="$T/store" --swarm-secret="$SECRET" --signal-url="ws://127.0.0.1:$PORT_sig/ws"
start_server srvb --store="$T/store" --swarm-secret-file="$T/secret" --token-ttl=60
# A wrong secret file is refused at start.
printf 'short\n' >"$T/short"
"$HN_BIN" --role=signal --swarm-secret-file="$T/short" --listen=127.0.0.1:0 >/dev/null 2>&1 && fail "a 5-byte secret was accepted"
RPORT=$("$PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
redis-server --bind 127.0.0.1 --port "$RPORT" --save "" --appendonly no >"$T/redis.log" 2>&1 &
HN_PIDS+=($!)
for _ in $(seq 1 100); do "$PY" -c "import socket; socket.create_connection(('127.0.0.1',$RPORT),0.2)" 2>/dev/null && break; sleep 0.05; done
start_role fa signal --redis=127.0.0.1:$RPORT --instance=fa --swarm-secret="$SECRET"
start_role fb signal --redis=127.0.0.1:$RPORT --instance=fb --swarm-secret="$SECRET"
"$PY" "$HN_SRC/tests/e2e/signal_tokens.py" "$PORT_sig" "$PORT_srva" "$PORT_srvb" "$SECRET" "$RPORT" "$PORT_fa" "$PORT_fb"
grep -q "refused: no valid join token" "$T/fb.log" || fail "fb did not log the refused remote members"
# Real peers with tokens: a seeder fetches vida from server A; a leecher that may not use the server
# gets every byte from it, so both were admitted and linked (wire hello by video and digest).
SIG="ws://127.0.0.1:$PORT_sig/ws"
start_peer seed --server="http://127.0.0.1:$PORT_srva" --video=vida --signal-url="$SIG" --seed-for=-1
wait_file "$T/seed.mp4" 20 || fail "seeder did not complete: $(tail -n 5 "$T/seed.log")"
start_peer leech --server="http://127.0.0.1:$PORT_srva" --video=vida --signal-url="$SIG" --server-slots=0
for _ in $(seq 1 200); do kill -0 "$PID_leech" 2>/dev/null || break; sleep 0.1; done
wait "$PID_leech" || fail "leecher with a token failed: $(tail -n 10 "$T/leech.log")"
cmp "$T/a.mp4" "$T/leech.mp4" || fail "leecher output differs"
grep -q "joined the swarm" "$T/leech.log" || fail "leecher not admitted"
kill -0 "$PID_sig" || fail "signaller died"
stop_and_check "$PID_sig" sig
stop_and_check "$PID_srva" srva
stop_and_check "$PID_srvb" srvb
stop_and_check "$PID_fa" fa
stop_and_check "$PID_fb" fb
echo "PASS signal_tokens"
