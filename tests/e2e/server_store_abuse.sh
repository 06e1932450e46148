#!/usr/bin/env bash
# A store and live sources that are not what they should be, and clients that abuse long polls
# (issue 23): symlinked, FIFO, directory and wrong-size chunks; /dev/zero and FIFO manifests (at start
# and later); an fd limit below the open-file cache; long polls reset by their clients or past
# --max-long-polls; live sources that are files, /dev/null or directories; a keyless live stream;
# out-of-range --limit-rate and nan flags. The server must answer, never hang, abort or leak.
source "$(dirname "$0")/lib.sh"
code() { curl -s -o /dev/null -m "${2:-5}" -w '%{http_code}' "$1" || true; }

note "store: chunks that are not regular files of the right size"
head -c 1600000 /dev/urandom >"$T/v.bin"
"$HN_BIN" ingest "$T/v.bin" --store "$T/s" --chunk-size 4096 --id v >/dev/null
mapfile -t ids < <("$PY" -c "import json; print('\n'.join(c['id'] for c in json.load(open('$T/s/videos/v.json'))['chunks']))")
cpath() { echo "$T/s/chunks/${1:0:2}/$1"; }
rm "$(cpath "${ids[0]}")" && ln -s /etc/passwd "$(cpath "${ids[0]}")"
rm "$(cpath "${ids[1]}")" && mkfifo "$(cpath "${ids[1]}")"
rm "$(cpath "${ids[2]}")" && mkdir "$(cpath "${ids[2]}")"
head -c 100 /dev/urandom >"$(cpath "${ids[3]}")"   # replaced by a file of another size
ln -s /dev/zero "$T/s/videos/zero.json"            # an endless manifest
# Serve with few fds: the soft limit is raised to the hard one, 256, and the cache sized from it.
HN_EXEC=(prlimit --nofile=256:256 --)
start_server s --store="$T/s" --catalog-refresh-ms=200 --max-transfers=0
HN_EXEC=()
base="http://127.0.0.1:$PORT_s"
for i in 0 1 2 3; do
  c=$(code "$base/chunks/${ids[$i]}")
  [[ $c != 200 && $c != 000 ]] || fail "chunk $i (symlink/FIFO/dir/wrong size) answered '$c'"
done
curl -s -m 5 "$base/chunks/${ids[0]}" | grep -q "root:" && fail "a symlinked chunk served /etc/passwd"
[[ $(code "$base/healthz") == 200 ]] || fail "healthz after bad chunks"
echo "symlink, FIFO, directory and wrong-size chunks refused"

note "store: a FIFO manifest added later does not wedge the refresh"
mkfifo "$T/s/videos/late.json"
"$HN_BIN" ingest "$T/v.bin" --store "$T/s" --chunk-size 65536 --id w >/dev/null
for _ in $(seq 1 50); do [[ $(code "$base/videos/w") == 200 ]] && break; sleep 0.1; done
[[ $(code "$base/videos/w") == 200 ]] || fail "a video ingested after a FIFO manifest appeared never showed up"
echo "new video served after a FIFO manifest appeared"

note "fds: more distinct chunks than the fd limit allows open"
bad=0
for id in "${ids[@]:4:380}"; do
  printf 'url = "%s/chunks/%s"\noutput = /dev/null\n' "$base" "$id"
done >"$T/urls"
codes=$(curl -s -K "$T/urls" -w '%{http_code}\n' | sort | uniq -c)
echo "$codes"
[[ $(echo "$codes" | awk '$2==200 {print $1}') == 380 ]] || fail "380 distinct chunks under a 256-fd limit: $codes"
stop_and_check "$PID_s" s

note "store: a FIFO manifest at start does not keep the server from listening"
rm "$T/s/videos/late.json" && mkfifo "$T/s/videos/fifo.json"
start_server s2 --store="$T/s"
[[ $(code "http://127.0.0.1:$PORT_s2/videos/w") == 200 ]] || fail "started with a FIFO manifest: video w not served"
stop_and_check "$PID_s2" s2

note "live: long polls reset by their clients leave nothing behind; --max-long-polls caps the rest"
mkfifo "$T/live.fifo"
start_server l --store="$T/l" --live=ch="$T/live.fifo" --max-long-polls=100
"$PY" "$HN_SRC/tests/e2e/long_poll_abuse.py" "$PORT_l" reset 500
for _ in $(seq 1 30); do [[ $(metric "$PORT_l" hybridnode_live_long_polls_waiting) == 0 ]] && break; sleep 0.1; done
[[ $(metric "$PORT_l" hybridnode_live_long_polls_waiting) == 0 ]] ||
  fail "reset long polls still parked: $(metric "$PORT_l" hybridnode_live_long_polls_waiting)"
refused=$("$PY" "$HN_SRC/tests/e2e/long_poll_abuse.py" "$PORT_l" hold 150)
[[ $refused == 50 ]] || fail "150 long polls with --max-long-polls=100: $refused refused, want 50"
echo "reset waiters cancelled; 50 of 150 long polls refused at the cap"

note "live: a stream without keyframes is cut by time, and its chunks are marked"
ffmpeg -nostdin -v error -re -f lavfi -i sine -t 3.5 -c:a aac -f mpegts -y "$T/live.fifo"
sleep 0.3
m=$(curl -sf "http://127.0.0.1:$PORT_l/live/ch")
n=$(echo "$m" | "$PY" -c "import json,sys; print(len(json.load(sys.stdin)['chunks']))")
[[ $n -ge 2 ]] || fail "keyless audio stream: $n chunks after 3.5 s (cut only at the size cap?)"
echo "$m" | grep -q '"keyframe":false' || fail "time-cut chunks not marked keyframe:false"
echo "keyless stream: $n chunks"
stop_and_check "$PID_l" l

note "live sources: a regular file on stdin; /dev/null on stdin or as SOURCE; a directory"
make_ts() { ffmpeg -nostdin -v error -f lavfi -i "testsrc=size=160x120:rate=25" -t 3 -c:v libx264 -preset ultrafast -g 25 -f mpegts -y "$1"; }
make_ts "$T/clip.ts"
HN_EXEC=(bash -c 'exec "$@" <"$HN_STDIN"' _)   # a background job's stdin would be /dev/null
HN_STDIN="$T/clip.ts" start_server f --store="$T/f" --live=ch=-
HN_EXEC=()
for _ in $(seq 1 30); do [[ $(curl -sf "http://127.0.0.1:$PORT_f/live" | grep -c '"next_seq":[1-9]') == 1 ]] && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT_f/live" | grep -q '"next_seq":[1-9]' || fail "stdin from a file published nothing"
[[ $(code "http://127.0.0.1:$PORT_f/healthz") == 200 ]] || fail "live source from a file on stdin: server not answering"
stop_and_check "$PID_f" f
# What cannot be watched is refused at start with a clear error (exit 1), never an abort.
refused() {  # refused NAME SOURCE [stdin]
  local rc=0
  timeout 10 "$HN_BIN" --role=server --listen=127.0.0.1:0 --store="$T/x" --live=ch="$2" <"${3:-/dev/null}" >"$T/$1.log" 2>&1 || rc=$?
  [[ $rc != 0 && $rc != 124 && $rc -lt 128 ]] || fail "live source $1: exit $rc (want a clear error, not a crash or a server)"
  grep -q "live source" "$T/$1.log" || fail "live source $1: no clear error: $(cat "$T/$1.log")"
}
refused stdin-null - /dev/null
refused dev-null /dev/null
refused directory "$T"
grep -q "is a directory" "$T/directory.log" || fail "directory source: $(cat "$T/directory.log")"
echo "a file on stdin is tailed; /dev/null (stdin or SOURCE) and a directory are refused"

note "flags: --limit-rate near INT64_MAX and nan are refused"
rc=0; timeout 5 "$HN_BIN" --role=server --listen=127.0.0.1:0 --store="$T/x" --limit-rate=9200000000000000000 >"$T/rate.log" 2>&1 || rc=$?
[[ $rc == 2 ]] || fail "--limit-rate=9.2e18: exit $rc, want 2 (out of range)"
rc=0; timeout 5 "$HN_BIN" --role=signal --listen=127.0.0.1:0 --rate=nan >"$T/nan.log" 2>&1 || rc=$?
[[ $rc == 2 ]] || fail "--rate=nan: exit $rc, want 2"
note "pacing: a transfer paced longer than --send-timeout-ms completes (the timeout counts stalls, not pauses)"
head -c 500000 /dev/urandom >"$T/p.bin"
"$HN_BIN" ingest "$T/p.bin" --store "$T/p" --chunk-size 500000 --id p >/dev/null
pid=$("$PY" -c "import json; print(json.load(open('$T/p/videos/p.json'))['chunks'][0]['id'])")
start_server p --store="$T/p" --limit-rate=200000 --send-timeout-ms=1000
got=$(curl -s -o /dev/null -m 10 -w '%{size_download}' "http://127.0.0.1:$PORT_p/chunks/$pid" || true)
[[ $got == 500000 ]] || fail "paced 500 kB at 200 kB/s with a 1 s send timeout: got $got bytes"
stop_and_check "$PID_p" p
echo "PASS server_store_abuse"
