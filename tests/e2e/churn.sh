#!/usr/bin/env bash
# Churn: PEERS peers (16 in CI; HN_CHURN_PEERS=32 for the full size); the content server and the signaller
# are killed and restarted mid-swarm (before the swarm can hold the video, so every peer must come back to
# both); then ~30% of the peers are SIGKILLed at random moments (mid-download) and restarted.
# Every peer ends with a byte-identical output; restarted peers resume from their .part file.
source "$(dirname "$0")/lib.sh"
PEERS=${HN_CHURN_PEERS:-16}
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -f lavfi -i sine -t 16 \
  -c:v libx264 -preset ultrafast -b:v 4M -c:a aac -shortest "$T/clip.mp4"
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --id clip >/dev/null
sigport=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
srvport=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
SIG="ws://127.0.0.1:$sigport/ws"; SRV="http://127.0.0.1:$srvport"
start_sig() { "$HN_BIN" --role=signal --listen=127.0.0.1:$sigport >>"$T/sig.log" 2>&1 & SIGPID=$!; HN_PIDS+=($SIGPID); }
start_srv() {  # [uplink bytes/s]
  "$HN_BIN" --role=server --listen=127.0.0.1:$srvport --store="$T/store" --max-transfers=1 --uplink-rate=${1:-1500000} \
    --signal-url="$SIG" >>"$T/srv.log" 2>&1 & SRVPID=$!; HN_PIDS+=($SRVPID)
}
# Slow at first (peers start slowly under ASan): the server must still lack a whole copy's worth of
# bytes sent when it is killed below.
start_sig; start_srv 300000
for _ in $(seq 1 100); do curl -sf "$SRV/healthz" >/dev/null && break; sleep 0.05; done
run_peer() {  # index
  "$HN_BIN" --role=peer --server="$SRV" --video=clip --output="$T/p$1.mp4" --peer-id="p$1" --signal-url="$SIG" \
    --seed-for=-1 --summary="$T/p$1.json" --peer-timeout-ms=3000 --metrics-listen=127.0.0.1:0 \
    --port-file="$T/p$1.mport" >>"$T/p$1.log" 2>&1 &
  PIDS[$1]=$!; HN_PIDS+=(${PIDS[$1]})
}
declare -a PIDS
for i in $(seq 1 "$PEERS"); do run_peer "$i"; done
# wait_manifest INDEX: until the peer has its manifest (a peer that cannot get one exits: that is not churn).
wait_manifest() {
  local n=0
  for _ in $(seq 1 300); do
    n=$(curl -sf "http://127.0.0.1:$(cat "$T/p$1.mport" 2>/dev/null)/summary" 2>/dev/null |
        "$PY" -c 'import json,sys; print(json.load(sys.stdin)["chunks"])' 2>/dev/null || echo 0)
    ((n > 0)) && return 0
    sleep 0.05
  done
  fail "p$1 never got its manifest: $(tail -n 3 "$T/p$1.log")"
}
for i in $(seq 1 "$PEERS"); do wait_manifest "$i"; done
note "kill the content server and the signaller while the swarm cannot yet hold the video, restart them"
# Fewer bytes served than the video holds: no peer can finish without the restarted server, so every
# peer must come back to it (and to the restarted signaller).
served=$(metric "$srvport" hybridnode_chunk_bytes_served_total); served=${served%.*}
size=$(stat -c %s "$T/clip.mp4")
kill -KILL "$SRVPID"; wait "$SRVPID" 2>/dev/null || true
((served < size)) || fail "the server had sent $served bytes (video $size) before it was killed: the restart would prove nothing"
left=0; for i in $(seq 1 "$PEERS"); do [[ -f "$T/p$i.mp4" ]] || left=$((left + 1)); done
((left == PEERS)) || fail "$((PEERS - left)) peers finished with less than one video's bytes served"
kill -KILL "$SIGPID"; wait "$SIGPID" 2>/dev/null || true
sleep 2; start_sig; start_srv
for _ in $(seq 1 100); do curl -sf "$SRV/healthz" >/dev/null && break; sleep 0.05; done
note "server killed after sending $served of $size bytes; signaller killed; both restarted"

note "kill ~30% of the peers at random moments, restart them"
victims=$("$PY" -c "import random; print(' '.join(map(str, random.sample(range(1, $PEERS + 1), max(1, $PEERS * 3 // 10)))))")
killed_midway=0
for v in $victims; do
  sleep "0.$((RANDOM % 6 + 2))"
  # Kill it mid-download: once it holds a verified chunk (its /summary says so), unless already done.
  for _ in $(seq 1 200); do
    held=$(curl -sf "http://127.0.0.1:$(cat "$T/p$v.mport" 2>/dev/null)/summary" 2>/dev/null \
           | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["chunks_held"])' 2>/dev/null || echo 0)
    (( held > 0 )) && break
    sleep 0.05
  done
  if [[ ! -f "$T/p$v.mp4" ]] && (( held > 0 )); then killed_midway=$((killed_midway + 1)); fi
  kill -KILL "${PIDS[$v]}" 2>/dev/null || true
  wait "${PIDS[$v]}" 2>/dev/null || true
  rm -f "$T/p$v.mport"
  run_peer "$v"
done
note "victims: $victims ($killed_midway killed mid-download, holding verified chunks)"

deadline=$((SECONDS + 150))
while :; do
  n=0; for i in $(seq 1 "$PEERS"); do [[ -f "$T/p$i.mp4" ]] && n=$((n + 1)); done
  ((n == PEERS)) && break
  ((SECONDS > deadline)) && fail "only $n/$PEERS peers completed"
  sleep 0.3
done
note "every peer (seeding until stopped) rejoined the restarted signaller"
sigmetrics=http://127.0.0.1:$sigport/metrics
for _ in $(seq 1 100); do
  members=$(curl -sf "$sigmetrics" | awk '$1=="hybridnode_signal_members"{print $2}')
  [[ ${members:-0} == "$PEERS" ]] && break
  sleep 0.2
done
[[ ${members:-0} == "$PEERS" ]] || fail "only ${members:-0} of $PEERS peers rejoined the restarted signaller"
# The swarm lacked some of the video when the server died: the peers came back to the new process.
asked=$(( $(metric "$srvport" hybridnode_chunks_served_total | cut -d. -f1) + $(metric "$srvport" hybridnode_refusals_total | cut -d. -f1) ))
((asked > 0)) || fail "no peer asked the restarted content server for a chunk"
echo "restarted server: $asked chunk requests"
for i in $(seq 1 "$PEERS"); do kill -TERM "${PIDS[$i]}" 2>/dev/null || true; done
for i in $(seq 1 "$PEERS"); do wait "${PIDS[$i]}" 2>/dev/null || true; done
for i in $(seq 1 "$PEERS"); do cmp "$T/clip.mp4" "$T/p$i.mp4" || fail "p$i output differs"; done
resumed=0
for v in $victims; do
  r=$(json "$T/p$v.json" 'j["resumed_chunks"]')
  [[ $r -gt 0 ]] && resumed=$((resumed + 1))
done
note "$resumed of the restarted peers resumed from verified chunks on disk"
((killed_midway >= 1)) || fail "no victim was killed mid-download: resuming was not exercised"
((resumed >= killed_midway)) || fail "only $resumed of $killed_midway peers killed mid-download resumed from their .part file"
# No busy loop while the server was down: refusals+errors per peer stay small.
"$PY" - "$T" "$PEERS" <<'PY'
import json, sys
d, n = sys.argv[1], int(sys.argv[2])
worst = max(json.load(open(f"{d}/p{i}.json"))["server_errors"] for i in range(1, n + 1))
print(f"max server errors seen by one peer while the server was down: {worst}")
assert worst < 20, "a peer hammered the dead server"
PY
echo "PASS churn ($PEERS peers, victims: $victims)"
