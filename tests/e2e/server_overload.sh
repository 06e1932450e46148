#!/usr/bin/env bash
# Cap 1: a slow transfer holds the only slot; the next chunk request gets 503 naming the chunk,
# the video and the signaller; when the slow client leaves, the slot is free again.
source "$(dirname "$0")/lib.sh"

ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -f lavfi -i sine -t 8 \
  -c:v libx264 -preset ultrafast -qp 0 -c:a aac -shortest "$T/big.mp4"
"$HN_BIN" ingest "$T/big.mp4" --raw --store "$T/store" --chunk-size $((8 << 20)) --id big >/dev/null
start_server srv --store="$T/store" --max-transfers=1 --retry-after=2 --signal-url=ws://127.0.0.1:8090/ws
base="http://127.0.0.1:$PORT_srv"
mapfile -t ids < <(curl -sf "$base/videos/big" | "$PY" -c 'import json,sys; [print(c["id"]) for c in json.load(sys.stdin)["chunks"]]')
(( ${#ids[@]} >= 2 )) || fail "need two chunks, got ${#ids[@]}"

note "hold the only slot with a slow reader"
exec {hold}> >("$PY" "$HN_SRC/tests/e2e/slow_reader.py" "$PORT_srv" "/chunks/${ids[0]}" >"$T/slow.out")
for _ in $(seq 1 100); do [[ -s "$T/slow.out" ]] && break; sleep 0.05; done
grep -q "200 OK" "$T/slow.out" || fail "slow reader did not start a transfer: $(cat "$T/slow.out")"
[[ $(metric "$PORT_srv" hybridnode_active_transfers) == 1 ]] || fail "active transfers != 1"

note "second request refused with the swarm's address"
code=$(curl -s -D "$T/h.txt" -o "$T/refusal.json" -w '%{http_code}' "$base/chunks/${ids[1]}")
[[ $code == 503 ]] || fail "expected 503, got $code"
grep -qi "^retry-after: 2" "$T/h.txt" || fail "no Retry-After: 2"
"$PY" - "$T/refusal.json" "${ids[1]}" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["chunk_id"] == sys.argv[2], r
assert r["video_id"] == "big", r
assert r["signal_url"] == "ws://127.0.0.1:8090/ws", r
assert r["retry_after"] == 2 and r["policy"] == "connections", r
PY
[[ $(metric "$PORT_srv" hybridnode_refusals_total) == 1 ]] || fail "refusals != 1"
code=$(curl -s -o /dev/null -w '%{http_code}' -I "$base/chunks/${ids[1]}")
[[ $code == 200 ]] || fail "HEAD should not need a transfer slot (got $code)"

note "many concurrent requests while full: every one refused, count exact"
for _ in $(seq 1 20); do curl -s -o /dev/null -w '%{http_code}\n' "$base/chunks/${ids[1]}" & done >"$T/codes.txt"
wait $(jobs -p | grep -v "^$PID_srv$") 2>/dev/null || true
[[ $(grep -c 503 "$T/codes.txt") == 20 ]] || fail "expected 20 refusals: $(sort "$T/codes.txt" | uniq -c)"
[[ $(metric "$PORT_srv" hybridnode_refusals_total) == 21 ]] || fail "refusals != 21"
[[ $(metric "$PORT_srv" hybridnode_active_transfers) == 1 ]] || fail "active transfers drifted"

note "slow reader leaves: slot freed, transfer counted as aborted, next request served"
exec {hold}>&-
for _ in $(seq 1 100); do [[ $(metric "$PORT_srv" hybridnode_active_transfers) == 0 ]] && break; sleep 0.05; done
[[ $(metric "$PORT_srv" hybridnode_active_transfers) == 0 ]] || fail "slot not released"
[[ $(metric "$PORT_srv" hybridnode_chunk_transfers_aborted_total) == 1 ]] || fail "abort not counted"
curl -sf -o "$T/c1" "$base/chunks/${ids[1]}" || fail "chunk not served after the slot was freed"
[[ $(sha256sum "$T/c1" | cut -d' ' -f1) == "${ids[1]}" ]] || fail "chunk 1 bytes wrong"

stop_and_check "$PID_srv" srv

note "bandwidth policy: a spent egress budget refuses with a Retry-After long enough to refill it"
start_server bw --store="$T/store" --policy=bandwidth --egress-bytes-per-sec=2000000 --signal-url=ws://127.0.0.1:8090/ws
curl -sf -o /dev/null "http://127.0.0.1:$PORT_bw/chunks/${ids[0]}" || fail "first chunk under the budget refused"
code=$(curl -s -D "$T/bwh.txt" -o "$T/bw.json" -w '%{http_code}' "http://127.0.0.1:$PORT_bw/chunks/${ids[1]}")
[[ $code == 503 ]] || fail "budget spent (8 MiB against 2 MB/s) but got $code"
grep -q '"policy":"bandwidth"' "$T/bw.json" || fail "refusal does not name the policy"
ra=$(awk 'tolower($1)=="retry-after:" {print $2+0}' "$T/bwh.txt")
(( ra >= 3 )) || fail "Retry-After $ra is shorter than the refill time (~3 s)"
stop_and_check "$PID_bw" bw
out=$("$HN_BIN" --role=server --policy=fastest 2>&1) && fail "unknown policy accepted"
grep -q "unknown policy" <<<"$out" || fail "$out"
echo "PASS server_overload"
