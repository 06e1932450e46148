#!/usr/bin/env bash
# A transfer slot lives until the client has the bytes: the content server behind a real 20 Mbit/s
# uplink (tc tbf), no pacing flags, three clients in three homes retrying 10 ms after every 503. With
# --max-transfers=1 the accepted bodies must not overlap on the wire (measured at the clients) for more
# than a few percent of the transfer time; with 2, no more than two at once.
source "$(dirname "$0")/lib_nat.sh"
source "$HN_NAT_DIR/shape.sh"
netns_setup cone
shape_internet 20mbit
head -c $((3 << 20)) /dev/urandom >"$T/data.bin"
"$HN_BIN" ingest "$T/data.bin" --store "$T/store" --id data --chunk-size $((256 << 10)) >/dev/null
HN_LISTEN_HOST=198.51.100.1
run_cap() {  # CAP LIMIT MAX_SHARE
  HN_EXEC=(ip netns exec "$(ns pub)")
  start_server "srv$1" --store="$T/store" --max-transfers="$1"
  HN_EXEC=()
  local port i pids=()
  port=$(eval echo "\$PORT_srv$1")
  mapfile -t ids < <(in_ns pub curl -sf "http://198.51.100.1:$port/videos/data" | "$PY" -c \
    'import json,sys; print("\n".join(c["id"] for c in json.load(sys.stdin)["chunks"]))')
  (( ${#ids[@]} == 12 )) || fail "expected 12 chunks, got ${#ids[@]}"
  for i in 1 2 3; do
    in_ns "home$i" "$PY" "$HN_NAT_DIR/slot_client.py" 198.51.100.1 "$port" 6 "$T/cap$1-c$i.json" "${ids[@]}" &
    pids+=($!)
  done
  for i in "${pids[@]}"; do wait "$i" || fail "a client failed (cap $1)"; done
  note "cap $1"
  "$PY" "$HN_NAT_DIR/overlap.py" "$2" "$3" "$T"/cap$1-c*.json || fail "cap $1: more than $2 bodies on the wire at once"
  stop_and_check "$(eval echo "\$PID_srv$1")" "srv$1"
}
run_cap 1 1 0.05
run_cap 2 2 0.02
echo "PASS shaped_slots"
