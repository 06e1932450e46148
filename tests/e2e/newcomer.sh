#!/usr/bin/env bash
# What a new user hits first: typos in flags, config files and --store, wrong URLs, a dead signaller or
# server, an interrupted download, a finished one re-run. Each must say what is wrong, once, and exit right.
source "$(dirname "$0")/lib.sh"

head -c 700000 /dev/urandom >"$T/clip.mp4"
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --chunk-size 65536 >/dev/null

note "unknown flags: the nearest name, and the --flag=false form"
out=$("$HN_BIN" --role=server --max_transfers=3 2>&1) && fail "--max_transfers accepted"
grep -q "did you mean --max-transfers?" <<<"$out" || fail "no suggestion: $out"
out=$("$HN_BIN" --role=peer --vidoe=clip 2>&1) && fail "--vidoe accepted"
grep -q "did you mean --video?" <<<"$out" || fail "no suggestion: $out"
out=$("$HN_BIN" --role=peer --video=clip --no-endgame 2>&1) && fail "--no-endgame accepted"
grep -q "did you mean --endgame=false?" <<<"$out" || fail "no suggestion: $out"
out=$("$HN_BIN" --role=server --live=a=- --live=b=- 2>&1) && fail "two --live flags accepted"
grep -q "given twice" <<<"$out" || fail "two --live: $out"

note "config files: position of a syntax error, the key of a bad value, a role that disagrees"
printf '{\n  "role": "server",\n  "max-transfers": 4,,\n}\n' >"$T/syntax.json"
out=$("$HN_BIN" --config "$T/syntax.json" 2>&1) && fail "bad JSON accepted"
grep -q "line 3, column" <<<"$out" || fail "no line/column: $out"
printf '{\n  "role": "server",\n  "max-transfers": "4"\n}\n' >"$T/type.json"
out=$("$HN_BIN" --config "$T/type.json" 2>&1) && fail "bad type accepted"
grep -q "key /max-transfers (line 3, column 3)" <<<"$out" || fail "no key path: $out"
echo '{"role":"signal"}' >"$T/role.json"
out=$("$HN_BIN" --role=server --config "$T/role.json" 2>&1) && fail "conflicting roles accepted"
grep -q 'config file says "role": "signal"' <<<"$out" || fail "role conflict: $out"

note "help: ingest's --title; urgent-chunks' live default; TEST ONLY switches only in --help-test"
"$HN_BIN" --help | grep -q -- "--title" || fail "--help omits --title"
"$HN_BIN" --role=peer --help | grep -- "--urgent-chunks" | grep -q "live viewers: 1" || fail "--urgent-chunks help"
# The TEST ONLY switches are not the user's: --help-test lists them, --help does not (issue 16).
help=$("$HN_BIN" --role=peer --help)
if grep -- "--test-" <<<"$help"; then fail "--help lists TEST ONLY switches"; fi
grep -q -- "--help-test" <<<"$help" || fail "--help does not point at --help-test"
help=$("$HN_BIN" --role=peer --help-test)
for f in test-lie test-corrupt-uploads test-send-garbage test-far-prefix; do
  grep -q -- "--$f" <<<"$help" || fail "--help-test omits --$f"
done
if grep -q -- "--urgent-chunks" <<<"$help"; then fail "--help-test lists the user's options"; fi

note "ingest: a missing file leaves no store behind; a directory is named as such"
out=$("$HN_BIN" ingest "$T/nope.mp4" --store "$T/newstore" 2>&1) && fail "missing file ingested"
grep -q "No such file" <<<"$out" || fail "$out"
[[ ! -e "$T/newstore" ]] || fail "ingest of a missing file created the store"
out=$("$HN_BIN" ingest "$T" --store "$T/newstore" 2>&1) && fail "directory ingested"
grep -q "is a directory" <<<"$out" || fail "$out"

note "bad --signal-url refused at start"
rc=0; out=$("$HN_BIN" --role=peer --video=clip --signal-url=http://127.0.0.1:1/ws 2>&1) || rc=$?
[[ $rc == 2 ]] && grep -q "must start with ws://" <<<"$out" || fail "http:// signal URL: rc $rc: $out"
rc=0; out=$("$HN_BIN" --role=peer --video=clip --signal-url=ws://127.0.0.1:1 2>&1) || rc=$?
[[ $rc == 2 ]] && grep -q "ws://127.0.0.1:1/ws" <<<"$out" || fail "signal URL without path: rc $rc: $out"
out=$("$HN_BIN" --role=server --signal-url=htp://x:1/ws 2>&1) && fail "server accepted a bad --signal-url"

note "a live server whose stdin cannot be watched says so (it used to abort in libuv)"
rc=0; out=$(timeout 10 "$HN_BIN" --role=server --listen=127.0.0.1:0 --store="$T/store" --live=news=- </dev/null 2>&1) || rc=$?
[[ $rc == 1 ]] && grep -q "pipe an encoder" <<<"$out" || fail "live from /dev/null: rc $rc: $out"

note "a misspelt --store: warned at start and in /healthz; --log-level=warn hides the info lines"
start_server typo --store="$T/stroe" --log-level=warn
grep -q "does not exist" "$T/typo.log" || fail "no warning for a missing store: $(cat "$T/typo.log")"
grep -q "holds no videos" "$T/typo.log" || fail "no warning for an empty store: $(cat "$T/typo.log")"
! grep -q " info " "$T/typo.log" || fail "--log-level=warn printed info lines: $(cat "$T/typo.log")"
curl -sf "http://127.0.0.1:$PORT_typo/healthz" | grep -q '"warning":"the store holds no videos"' || fail "healthz has no warning"
stop_and_check "$PID_typo" typo

start_server srv --store="$T/store" --uplink-rate=150000
SRV=http://127.0.0.1:$PORT_srv
first=$(curl -sf "$SRV/videos/clip" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["chunks"][0]["id"])')
note "If-None-Match: * -> 304 for a chunk that exists"
[[ $(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: *' "$SRV/chunks/$first") == 304 ]] || fail "If-None-Match: * not 304"
[[ $(curl -s -o /dev/null -w '%{http_code}' -H 'If-None-Match: "x", W/"'"$first"'"' "$SRV/chunks/$first") == 304 ]] || fail "tag list not 304"

note "a download interrupted by SIGINT: one message naming the .part, exit 1; a re-run resumes"
"$HN_BIN" --role=peer --server="$SRV" --video=clip --output="$T/clip.out" >"$T/int.log" 2>&1 &
pid=$!; HN_PIDS+=("$pid")
for _ in $(seq 1 100); do [[ -s "$T/clip.out.part" ]] && break; sleep 0.05; done
sleep 1
kill -INT "$pid"; rc=0; wait "$pid" || rc=$?
[[ $rc == 1 ]] || fail "interrupted peer exited $rc"
[[ $(grep -c "stopped before completion" "$T/int.log") == 1 ]] || fail "message not printed once: $(cat "$T/int.log")"
grep -q "clip.out.part; run the same command again to resume" "$T/int.log" || fail "no resume hint: $(cat "$T/int.log")"

note "a dead signaller is named with its URL and 'Connection refused'"
"$HN_BIN" --role=peer --server="$SRV" --video=clip --output="$T/clip.out" --signal-url=ws://127.0.0.1:1/ws >"$T/dead.log" 2>&1 \
  || fail "download with a dead signaller failed: $(cat "$T/dead.log")"
grep -q "resuming" "$T/dead.log" || fail "the re-run did not resume: $(cat "$T/dead.log")"
grep -q "ws://127.0.0.1:1/ws.*Connection refused" "$T/dead.log" || fail "dead signaller message: $(grep -i signal "$T/dead.log")"
cmp "$T/clip.mp4" "$T/clip.out" || fail "downloaded bytes differ"

note "a finished download re-run with --signal-url and --seed-for=0 exits at once, without joining"
start_role sig signal
timeout 20 "$HN_BIN" --role=peer --server="$SRV" --video=clip --output="$T/clip.out" --seed-for=0 \
  --signal-url="ws://127.0.0.1:$PORT_sig/ws" >"$T/again.log" 2>&1 || fail "re-run failed or hung: $(cat "$T/again.log")"
sleep 0.3
joins=$(curl -sf "http://127.0.0.1:$PORT_sig/metrics" | awk '$1=="hybridnode_signal_messages_total{type=\"join\"}" {print $2}')
[[ -z "$joins" || "$joins" == 0 ]] || fail "the finished peer joined the swarm ($joins joins)"

note "a live viewer whose server is dead exits non-zero"
rc=0; "$HN_BIN" --role=peer --live=news --server=http://127.0.0.1:1 --live-seconds=1.5 >"$T/live.log" 2>&1 || rc=$?
[[ $rc == 1 ]] || fail "live viewer against a dead server exited $rc: $(cat "$T/live.log")"
grep -q "before any manifest" "$T/live.log" || fail "$(cat "$T/live.log")"
[[ $(grep -c "before any manifest" "$T/live.log") == 1 ]] || fail "error printed twice: $(cat "$T/live.log")"

stop_and_check "$PID_sig" sig
stop_and_check "$PID_srv" srv
echo "PASS newcomer"
