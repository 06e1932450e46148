#!/usr/bin/env bash
# Malformed, oversized, sneaky and slow requests: each gets its 4xx or a close, the server lives,
# and a good request still works afterwards.
source "$(dirname "$0")/lib.sh"

make_video "$T/clip.mp4" 3
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --chunk-size 65536 >/dev/null
start_server srv --store="$T/store" --header-timeout-ms=1000 --max-transfers=2
base="$HN_SCHEME://127.0.0.1:$PORT_srv"
first=$(curl -sf "$base/videos/clip" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["chunks"][0]["id"])')

"$PY" "$HN_SRC/tests/e2e/bad_http.py" "$PORT_srv" "$first"

kill -0 "$PID_srv" || fail "server died"
curl -sf -o "$T/c0" "$base/chunks/$first" || fail "good request failed after bad input"
[[ $(sha256sum "$T/c0" | cut -d' ' -f1) == "$first" ]] || fail "chunk bytes wrong after bad input"
[[ $(metric "$PORT_srv" hybridnode_http_bad_requests_total) -ge 8 ]] || fail "bad requests not counted"
[[ $(metric "$PORT_srv" hybridnode_active_transfers) == 0 ]] || fail "a transfer slot leaked"

note "bad command lines are refused by name"
out=$("$HN_BIN" --role=server --max-transfers=lots 2>&1) && fail "bad value accepted"
grep -q "max-transfers" <<<"$out" || fail "message does not name the flag: $out"
out=$("$HN_BIN" --role=server --no-such-flag 2>&1) && fail "unknown flag accepted"
grep -q "no-such-flag" <<<"$out" || fail "message does not name the flag: $out"
echo '{"role":"server","max_transfers":"x"}' >"$T/bad.json"
out=$("$HN_BIN" --config "$T/bad.json" 2>&1) && fail "bad config accepted"
grep -q "max_transfers" <<<"$out" || fail "message does not name the key: $out"
out=$("$HN_BIN" --role=nope 2>&1) && fail "unknown role accepted"
grep -q "unknown role" <<<"$out" || fail "$out"

note "the shipped config files parse for their roles"
for c in server signal peer; do
  "$HN_BIN" --config "$HN_SRC/config/$c.json" --help >/dev/null || fail "config/$c.json is refused"
done

stop_and_check "$PID_srv" srv
echo "PASS server_bad_input"
