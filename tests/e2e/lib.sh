# Shared helpers for end-to-end scripts: temp dir, real processes, cleanup on any exit.
set -euo pipefail

HN_SRC=${HN_SRC:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
HN_BIN=${HN_BIN:-$HN_SRC/build/hybridnode}
PY=/usr/bin/python3   # Debian's python, where python3-websockets is installed
HN_BIN=$(realpath "$HN_BIN")
T=$(mktemp -d /tmp/hn-e2e-XXXXXX)
cd "$T"   # processes start here, so a core dump lands in $T
HN_PIDS=()
ulimit -c unlimited 2>/dev/null || true   # a crash leaves a core in $T; hn_cleanup prints its backtrace
HN_EXEC=()                    # command prefix for the next process started, e.g. (ip netns exec NS)
HN_LISTEN_HOST=127.0.0.1

fail() { echo "FAIL: $*" >&2; exit 1; }
note() { echo "--- $*"; }

# Every process a test starts inherits this token in its environment (ip netns exec keeps it too), so the
# teardown can find any process the test left behind, tracked or not, and fail the test for it.
export HN_TEST_TOKEN="hn-test-$$-${SRANDOM:-$RANDOM}"
HN_TEARDOWN_HOOKS=()          # functions run after every process is gone (netns removal, umount, ...)

# hn_descendants PID...: PIDs of every live descendant of the given processes (from /proc, no fork).
hn_descendants() {
  local -A kids=()
  local f stat rest ppid pid
  for f in /proc/[0-9]*/stat; do
    read -r stat 2>/dev/null <"$f" || continue
    pid=${stat%% *}; rest=${stat##*) }; rest=${rest#* }; ppid=${rest%% *}
    kids[$ppid]+=" $pid"
  done
  local queue=("$@") out=()
  while ((${#queue[@]})); do
    pid=${queue[0]}; queue=("${queue[@]:1}")
    for f in ${kids[$pid]:-}; do out+=("$f"); queue+=("$f"); done
  done
  echo "${out[@]:-}"
}

# hn_token_pids: live processes (not zombies) whose environment carries this test's token. The grep runs
# without the token, so it never finds itself; this shell's own environ never holds it (exported later).
hn_token_pids() {
  local f pid state
  for f in $(env -u HN_TEST_TOKEN grep -lzsxF "HN_TEST_TOKEN=$HN_TEST_TOKEN" /proc/[0-9]*/environ); do
    pid=${f#/proc/}; pid=${pid%/environ}
    read -r state 2>/dev/null <"/proc/$pid/stat" || continue
    state=${state##*) }; [[ ${state%% *} == Z ]] && continue
    echo "$pid"
  done
}

# hn_stop_all: SIGTERM every started process and all its descendants, reap them; SIGKILL after 5 s.
hn_stop_all() {
  local pids=() pid
  for pid in "${HN_PIDS[@]:-}"; do [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null && pids+=("$pid"); done
  ((${#pids[@]})) || return 0
  pids+=($(hn_descendants "${pids[@]}"))
  kill -TERM "${pids[@]}" 2>/dev/null || true
  for _ in $(seq 1 100); do
    local alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && [[ $(<"/proc/$pid/stat") != *") Z "* ]] && alive=1; done 2>/dev/null
    ((alive)) || break
    sleep 0.05
  done
  kill -KILL "${pids[@]}" 2>/dev/null || true
  for pid in "${HN_PIDS[@]:-}"; do [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true; done
}

hn_cleanup() {
  local rc=$?
  # Teardown decides the result itself (rc): under errexit one failing step (a racing rm, a vanished pid)
  # would end the script here with that step's status and no word about it.
  set +e
  hn_stop_all
  # A process that escaped its parent (daemonised, or orphaned because only its parent's pid was known)
  # still carries the token: name it, end it, and fail the test.
  # A pipe's writer (e.g. an encoder feeding a killed server) may take a moment to see EPIPE.
  local left
  for _ in $(seq 1 40); do left=$(hn_token_pids); [[ -z "$left" ]] && break; sleep 0.05; done
  if [[ -n "$left" ]]; then
    echo "FAIL: the test left processes running:" >&2
    for pid in $left; do echo "  $pid: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)" >&2; done
    kill -KILL $left 2>/dev/null || true
    rc=1
  fi
  local hook
  for hook in "${HN_TEARDOWN_HOOKS[@]:-}"; do [[ -n "$hook" ]] && { "$hook" || rc=1; }; done
  # Any sanitizer report from any process of the test fails it.
  if grep -rlE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T" --include='*.log' >/dev/null 2>&1; then
    echo "FAIL: sanitizer report in $(grep -rlE 'ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:' "$T" --include='*.log' | head -3)" >&2
    grep -rhE -A15 "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T" --include='*.log' | head -60 >&2
    rc=1
  fi
  for core in "$T"/core*; do
    [[ -f "$core" ]] || continue
    echo "=== core dump $core:" >&2
    gdb -batch -ex "thread apply all bt 20" "$HN_BIN" "$core" 2>/dev/null | grep -E "^#|^Thread" | head -80 >&2 || true
    rm -f "$core"
    rc=1
  done
  if [[ $rc -ne 0 ]]; then
    for f in "$T"/*.log; do [[ -f "$f" ]] && { echo "=== $f (tail)"; tail -n 30 "$f"; }; done
  fi
  cd / && { rm -rf "$T" 2>/dev/null || { sleep 0.2; rm -rf "$T" || echo "warning: could not remove $T" >&2; }; }
  exit $rc
}
trap hn_cleanup EXIT
[[ -n "${HN_KEEP:-}" ]] && trap - EXIT

# make_video OUT SECONDS [extra ffmpeg output args...]: a real H.264/AAC clip from ffmpeg's test sources.
# Browser tests need Chromium, its driver, python3-selenium and hls.js from npm (scripts/setup.sh installs all).
need_browser() {
  local need
  for need in /usr/bin/chromium /usr/bin/chromedriver "$HN_SRC/web/node_modules/hls.js/dist/hls.min.js"; do
    [[ -e "$need" ]] || fail "$need missing: run scripts/setup.sh"
  done
  "$PY" -c "import selenium" 2>/dev/null || fail "python3-selenium missing: run scripts/setup.sh"
}

make_video() {
  local out=$1 secs=$2; shift 2
  ffmpeg -nostdin -v error -y -f lavfi -i "testsrc=size=320x240:rate=25" -f lavfi -i "sine=frequency=440" \
    -t "$secs" -c:v libx264 -preset ultrafast -pix_fmt yuv420p -c:a aac -shortest "$@" "$out"
}

# make_tls_certs DIR: a throwaway CA (DIR/ca.pem) and a server certificate for localhost and 127.0.0.1
# signed by it (DIR/srv.pem, DIR/srv.key). A second call with another DIR gives a different certificate.
make_tls_certs() {
  local d=$1
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/ca.key" -out "$d/ca.pem" -days 2 -subj "/CN=hybridnode test CA $RANDOM" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -keyout "$d/srv.key" -out "$d/srv.csr" -subj "/CN=localhost" 2>/dev/null
  printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\n' >"$d/ext.cnf"
  openssl x509 -req -in "$d/srv.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial -out "$d/srv.pem" -days 2 \
    -extfile "$d/ext.cnf" 2>/dev/null
}

# HN_TLS=1: content servers started by start_server speak HTTPS (certificates made here), and curl (so also
# metric) talks https to 127.0.0.1 trusting that CA. For scripts whose only HTTP server is the content server.
HN_SCHEME=http
HN_TLS_ARGS=()
if [[ -n ${HN_TLS:-} ]]; then
  make_tls_certs "$T/tls"
  HN_SCHEME=https
  HN_CA=$T/tls/ca.pem
  export HN_CA
  # Budget off: these scripts test HTTP over TLS, hundreds of connections a second from 127.0.0.1 (the budget
  # has its own test in server_tls.sh).
  HN_TLS_ARGS=(--tls-cert="$T/tls/srv.pem" --tls-key="$T/tls/srv.key" --tls-handshakes-per-ip=0)
  curl() { command curl --cacert "$HN_CA" "${@//http:\/\/127.0.0.1:/https://127.0.0.1:}"; }
fi

# start_server NAME ARGS...: runs hybridnode --role=server on a free port; sets PORT_<NAME> and PID_<NAME>.
start_server() {
  local name=$1; shift
  local pf="$T/$name.port"
  ${HN_EXEC[@]+"${HN_EXEC[@]}"} "$HN_BIN" --role=server --listen="$HN_LISTEN_HOST:0" --port-file="$pf" \
    ${HN_TLS_ARGS[@]+"${HN_TLS_ARGS[@]}"} "$@" >"$T/$name.log" 2>&1 &
  local pid=$!
  HN_PIDS+=("$pid")
  for _ in $(seq 1 100); do
    [[ -s "$pf" ]] && break
    kill -0 "$pid" 2>/dev/null || fail "$name exited at start: $(cat "$T/$name.log")"
    sleep 0.05
  done
  [[ -s "$pf" ]] || fail "$name did not start"
  printf -v "PORT_$name" '%s' "$(cat "$pf")"
  printf -v "PID_$name" '%s' "$pid"
}

# stop_and_check PID NAME: SIGTERM, and the process must exit 0 (clean shutdown; sanitizers report here).
stop_and_check() {
  local pid=$1 name=$2 rc=0
  kill -TERM "$pid"
  wait "$pid" || rc=$?
  [[ $rc -eq 0 ]] || fail "$name exited with $rc after SIGTERM: $(tail -n 40 "$T/$name.log")"
  if grep -qE "ERROR: (AddressSanitizer|LeakSanitizer)|runtime error:" "$T/$name.log"; then
    fail "$name: sanitizer report: $(grep -A20 -E 'ERROR|runtime error' "$T/$name.log" | head -40)"
  fi
}

# metric PORT NAME: value of an unlabelled Prometheus sample.
metric() { curl -sf "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1==n {print $2}'; }

# start_role NAME ROLE ARGS...: any role on a free port; sets PORT_<NAME> and PID_<NAME>.
start_role() {
  local name=$1 role=$2; shift 2
  local pf="$T/$name.port"
  ${HN_EXEC[@]+"${HN_EXEC[@]}"} "$HN_BIN" --role="$role" --listen="$HN_LISTEN_HOST:0" --port-file="$pf" "$@" >"$T/$name.log" 2>&1 &
  local pid=$!
  HN_PIDS+=("$pid")
  for _ in $(seq 1 200); do [[ -s "$pf" ]] && break; kill -0 $pid 2>/dev/null || fail "$name exited: $(cat "$T/$name.log")"; sleep 0.05; done
  [[ -s "$pf" ]] || fail "$name did not start"
  printf -v "PORT_$name" '%s' "$(cat "$pf")"
  printf -v "PID_$name" '%s' "$pid"
}

# start_peer NAME ARGS...: a peer in the background; sets PID_<NAME>. Output $T/NAME.mp4, summary $T/NAME.json.
start_peer() {
  local name=$1; shift
  ${HN_EXEC[@]+"${HN_EXEC[@]}"} "$HN_BIN" --role=peer --output="$T/$name.mp4" --summary="$T/$name.json" --peer-id="$name" "$@" >"$T/$name.log" 2>&1 &
  local pid=$!
  HN_PIDS+=("$pid")
  printf -v "PID_$name" '%s' "$pid"
}

# wait_file PATH SECONDS
wait_file() { for _ in $(seq 1 $(($2 * 20))); do [[ -f "$1" ]] && return 0; sleep 0.05; done; return 1; }

# json FILE EXPR: evaluates a Python expression over the JSON object `j`.
json() { "$PY" -c "import json,sys; j=json.load(open(sys.argv[1])); print($2)" "$1"; }
