#!/usr/bin/env bash
# A peer against lying remotes (issue 24): a content server and a signaller that send what a real one never
# would (tests/e2e/hostile_remotes.py). The peer must refuse, ignore or give up with a clear error; never crash.
source "$(dirname "$0")/lib.sh"
HOSTILE="$HN_SRC/tests/e2e/hostile_remotes.py"

# start_hostile NAME server|signal MODE: sets PORT_<NAME>; chunk GETs are counted in $T/NAME.count.
start_hostile() {
  local name=$1; shift
  "$PY" "$HOSTILE" "$1" "$2" "$T/$name.port" "$T/$name.count" >"$T/$name.log" 2>&1 &
  HN_PIDS+=("$!")
  for _ in $(seq 1 200); do [[ -s "$T/$name.port" ]] && break; sleep 0.05; done
  [[ -s "$T/$name.port" ]] || fail "$name did not start: $(cat "$T/$name.log")"
  printf -v "PORT_$name" '%s' "$(cat "$T/$name.port")"
}
# wait_exit PID SECONDS: the exit code, or 99 (after SIGKILL) if the process is still running.
wait_exit() {
  local pid=$1 rc=0
  for _ in $(seq 1 $(($2 * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid"; wait "$pid" 2>/dev/null; return 99; fi  # stuck: not left behind
  wait "$pid" || rc=$?
  return $rc
}
# stop_peer NAME: SIGTERM; it must exit within 5 s and not by a signal (an unfinished download exits 1).
stop_peer() {
  local pid_var="PID_$1" rc=0
  kill -0 "${!pid_var}" 2>/dev/null || { wait "${!pid_var}" || rc=$?; fail "$1 died before SIGTERM (rc $rc): $(tail -n 20 "$T/$1.log")"; }
  kill -TERM "${!pid_var}"
  wait_exit "${!pid_var}" 5 || rc=$?
  [[ $rc -eq 99 ]] && fail "$1 ignored SIGTERM for 5 s: $(tail -n 20 "$T/$1.log")"
  [[ $rc -le 1 ]] || fail "$1 exited with $rc after SIGTERM: $(tail -n 20 "$T/$1.log")"
}

# want N: run section N (HN_ONLY="1 7" runs only those; used to show each fails against an old binary).
want() { [[ -z "${HN_ONLY:-}" || " $HN_ONLY " == *" $1 "* ]]; }

if want 1; then
note "1. a manifest with zero chunks is refused (it was a SIGFPE)"
start_hostile zero server zero
start_peer p1 --server="http://127.0.0.1:$PORT_zero" --video=v
rc=0; wait_exit "$PID_p1" 10 || rc=$?
[[ $rc -eq 1 ]] || fail "zero-chunk manifest: exit $rc, want 1: $(tail -n 20 "$T/p1.log")"
grep -q "bad manifest.*no chunks" "$T/p1.log" || fail "no clear error: $(tail -n 5 "$T/p1.log")"

fi
if want 2; then
note "2. a 503 whose signal_url is a number is ignored (it was an abort)"
start_hostile s5 server signal5
start_peer p2 --server="http://127.0.0.1:$PORT_s5" --video=v
for _ in $(seq 1 100); do [[ "$(cat "$T/s5.count" 2>/dev/null || echo 0)" -ge 2 ]] && break; sleep 0.1; done
[[ "$(cat "$T/s5.count" 2>/dev/null || echo 0)" -ge 2 ]] || fail "the peer did not come back after the 503"
stop_peer p2

fi
start_hostile busy server busy   # a valid manifest; every chunk GET refused
SRV="http://127.0.0.1:$PORT_busy"
if want 3; then
note "3. a lying signaller: mistyped fields are dropped (each was an abort)"
start_hostile sg signal garbage
start_peer p3 --server="$SRV" --video=v --signal-url="ws://127.0.0.1:$PORT_sg/ws"
for _ in $(seq 1 100); do grep -q "sent garbage" "$T/sg.log" && break; sleep 0.1; done
grep -q "sent garbage" "$T/sg.log" || fail "the peer never joined the hostile signaller"
sleep 1
grep -q "malformed offer" "$T/p3.log" || fail "the mistyped offer was not reported: $(tail -n 10 "$T/p3.log")"
stop_peer p3

fi
if want 7; then
note "7. a signaller dial that completes after SIGTERM builds no link (it was a SEGV after the hub shut down)"
HOSTILE_HOLD=2 start_hostile rc signal reconnect
start_peer p7 --server="$SRV" --video=v --signal-url="ws://127.0.0.1:$PORT_rc/ws"
for _ in $(seq 1 100); do grep -q "holding handshake" "$T/rc.log" && break; sleep 0.1; done
grep -q "holding handshake" "$T/rc.log" || fail "the peer did not reconnect to the signaller"
stop_peer p7
sleep 0.5
grep -q "offered after the held handshake" "$T/rc.log" && fail "the stopped peer joined again"
fi
if want 6; then
note "6. a signaller trickling 60 000 candidates for one link: capped, the loop keeps answering"
start_hostile cf signal candidates
start_peer p6 --server="$SRV" --video=v --server-slots=0 --signal-url="ws://127.0.0.1:$PORT_cf/ws" \
  --metrics-listen=127.0.0.1:0 --port-file="$T/p6.port"
wait_file "$T/p6.port" 10 || fail "p6 did not start: $(tail -n 5 "$T/p6.log")"
slow=0 polls=0
for i in $(seq 1 300); do   # until 3 s after the last candidate left the signaller
  grep -q "sent .* candidates" "$T/cf.log" && { sent=${sent:-$i}; [[ $((i - sent)) -ge 30 ]] && break; }
  curl -sf --max-time 3 "http://127.0.0.1:$(cat "$T/p6.port")/summary" >/dev/null || slow=$((slow + 1))
  polls=$((polls + 1)); sleep 0.1
done
grep -q "sent .* candidates" "$T/cf.log" || fail "the flood never happened: $(tail -n 5 "$T/cf.log") $(tail -n 5 "$T/p6.log")"
echo "  /summary polls during the flood: $polls, unanswered within 3 s: $slow"
[[ $slow -eq 0 ]] || fail "the loop stalled under the candidate flood ($slow of $polls polls unanswered within 3 s)"
stop_peer p6
grep -q "link to x" "$T/p6.log" && echo "  link to x: $(grep -o "link to x.*" "$T/p6.log" | tail -1)"
fi
if want 10; then
note "10. a server that sends corrupt chunks is asked again after a pause, then the peer gives up clearly"
start_hostile bb server badbytes
start_peer p10 --server="http://127.0.0.1:$PORT_bb" --video=v
rc=0; wait_exit "$PID_p10" 15 || rc=$?
[[ $rc -eq 1 ]] || fail "corrupt server: exit $rc, want 1 (still re-asking?): $(tail -n 5 "$T/p10.log")"
grep -q "corrupt copies of chunk" "$T/p10.log" || fail "no clear error: $(tail -n 5 "$T/p10.log")"
gets=$(cat "$T/bb.count"); echo "  chunk GETs before giving up: $gets"
[[ $gets -le 12 ]] || fail "$gets chunk GETs to a server that only sends corrupt bytes"
fi
if want 8; then
note "8. a manifest of 100 000 x 64 MiB chunks (6.1 TiB) is refused for lack of disk space (it was 6 h of hashing)"
start_hostile huge server huge
start_peer p8 --server="http://127.0.0.1:$PORT_huge" --video=v
rc=0; wait_exit "$PID_p8" 60 || rc=$?   # parsing a 9 MB manifest under ASan on a busy host: seconds
[[ $rc -eq 1 ]] || fail "absurd manifest: exit $rc, want 1: $(tail -n 5 "$T/p8.log")"
grep -q "not enough disk space" "$T/p8.log" || fail "no clear error: $(tail -n 5 "$T/p8.log")"
[[ ! -e "$T/p8.mp4.part" ]] || fail "a part file was created: $(ls -ls "$T/p8.mp4.part")"
fi
if want 9; then
note "9. a live server announcing 1024 new chunks per poll: the viewer tracks a window and skips ahead"
start_hostile lg server livegrow
start_peer p9 --server="http://127.0.0.1:$PORT_lg" --live=v --live-seconds=4
rc=0; wait_exit "$PID_p9" 20 || rc=$?
[[ $rc -eq 0 ]] || fail "live viewer exit $rc: $(tail -n 5 "$T/p9.log")"
json "$T/p9.json" '"  tracked %d chunks, skipped %d" % (j["tracked_chunks"], j["skipped_chunks"])'
[[ $(json "$T/p9.json" 'j["tracked_chunks"] <= 400 and j["skipped_chunks"] > 0') == True ]] ||
  fail "the viewer tracks every announced chunk: $(cat "$T/p9.json")"
fi

echo "PASS peer_hostile"
