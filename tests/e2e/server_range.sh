#!/usr/bin/env bash
# Range requests on /chunks/{id} and live segments: 206 + Content-Range, suffix, open-ended, 416,
# If-Range, Accept-Ranges, several ranges -> 200 whole; HEAD ignores Range; a range transfer holds a capacity slot.
source "$(dirname "$0")/lib.sh"

make_video "$T/clip.mp4" 2 -qp 0   # lossless: chunks big enough to outlast the 64 KiB pacing burst
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --chunk-size 131072 >"$T/ingest.log"
make_video "$T/live.ts" 3 -g 25 -f mpegts
start_server srv --store="$T/store" --max-transfers=1 --limit-rate=200000 --signal-url=ws://127.0.0.1:1/ws \
  --live=news="$T/live.ts"
base="${HN_SCHEME:-http}://127.0.0.1:$PORT_srv"
CURL=(curl -s ${HN_CURL_TLS[@]+"${HN_CURL_TLS[@]}"})
id=$(curl -sf "http://127.0.0.1:$PORT_srv/videos/clip" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["chunks"][0]["id"])')
"${CURL[@]}" -f "$base/chunks/$id" -o "$T/whole"
[[ $(stat -c %s "$T/whole") == 131072 ]] || fail "whole chunk not 131072 bytes"

# The one slot is released once the client has acknowledged the last byte (send_drain.h): wait for it.
idle() { for _ in $(seq 1 100); do [[ $(metric "$PORT_srv" hybridnode_active_transfers) == 0 ]] && return 0; sleep 0.02; done; }
# check RANGE EXPECTED_CODE EXPECTED_CONTENT_RANGE FIRST LEN [extra curl args]
check() {
  local range=$1 want=$2 cr=$3 first=$4 len=$5; shift 5
  local code
  idle
  code=$("${CURL[@]}" -D "$T/h" -o "$T/part" -w '%{http_code}' -H "Range: $range" "$@" "$base/chunks/$id")
  [[ $code == "$want" ]] || fail "Range: $range gave $code, not $want"
  if [[ -n $cr ]]; then grep -qi "^content-range: $cr" "$T/h" || fail "Range: $range: no Content-Range $cr: $(cat "$T/h")"
  else ! grep -qi "^content-range:" "$T/h" || fail "Range: $range: unexpected Content-Range"; fi
  [[ $len == - ]] && return 0
  [[ $(stat -c %s "$T/part") == "$len" ]] || fail "Range: $range: body $(stat -c %s "$T/part") bytes, not $len"
  cmp -s "$T/part" <(tail -c +$((first + 1)) "$T/whole" | head -c "$len") || fail "Range: $range: wrong bytes"
}
note "single, suffix, open-ended, clamped, unsatisfiable, several, invalid"
check "bytes=0-99" 206 "bytes 0-99/131072" 0 100
check "bytes=1000-1999" 206 "bytes 1000-1999/131072" 1000 1000
check "bytes=-500" 206 "bytes 130572-131071/131072" 130572 500
check "bytes=-9999999" 206 "bytes 0-131071/131072" 0 131072
check "bytes=131000-" 206 "bytes 131000-131071/131072" 131000 72
check "bytes=131000-9999999" 206 "bytes 131000-131071/131072" 131000 72
check "bytes=131072-" 416 'bytes \*/131072' 0 -
check "bytes=-0" 416 'bytes \*/131072' 0 -
check "bytes=0-1,5-9" 200 "" 0 131072
check "bytes=9-5" 200 "" 0 131072
note "If-Range: the ETag honours the range, another tag or a date gives the whole chunk"
check "bytes=0-9" 206 "bytes 0-9/131072" 0 10 -H "If-Range: \"$id\""
check "bytes=0-9" 200 "" 0 131072 -H "If-Range: \"0000\""
check "bytes=0-9" 200 "" 0 131072 -H "If-Range: Wed, 21 Oct 2015 07:28:00 GMT"
note "Accept-Ranges on 200 and HEAD"
"${CURL[@]}" -I "$base/chunks/$id" | grep -qi "^accept-ranges: bytes" || fail "HEAD: no Accept-Ranges"
"${CURL[@]}" -D - -o /dev/null "$base/chunks/$id" | grep -qi "^accept-ranges: bytes" || fail "GET: no Accept-Ranges"

idle
note "raw socket: exact status line and headers, keep-alive across a 206 and a 416"
"$PY" - "$PORT_srv" "$id" "${HN_SCHEME:-http}" "${HN_CA:-}" <<'PY'
import socket, ssl, sys
port, cid, scheme, ca = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
s = socket.create_connection(("127.0.0.1", port), timeout=10)
if scheme == "https":
    s = ssl.create_default_context(cafile=ca).wrap_socket(s, server_hostname="localhost")
# 416 first: it gives its slot back at once, so the pipelined 206 behind it finds the one slot free.
s.sendall((f"GET /chunks/{cid} HTTP/1.1\r\nHost: x\r\nRange: bytes=200000-\r\n\r\n"
           f"GET /chunks/{cid} HTTP/1.1\r\nHost: x\r\nRange: bytes=10-19\r\n\r\n").encode())
buf = b""
def response():
    global buf
    while b"\r\n\r\n" not in buf:
        d = s.recv(65536); assert d, "closed early"; buf += d
    head, _, buf = buf.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    h = {k.lower(): v for k, v in (l.split(": ", 1) for l in lines[1:])}
    n = int(h["content-length"])
    while len(buf) < n:
        d = s.recv(65536); assert d, "closed early"; buf += d
    body, buf = buf[:n], buf[n:]
    return lines[0], h, body
st, h, body = response()
assert st == "HTTP/1.1 416 Range Not Satisfiable", st
assert h["content-range"] == "bytes */131072", h
st, h, body = response()
assert st == "HTTP/1.1 206 Partial Content", (st, h, body)
assert h["content-range"] == "bytes 10-19/131072" and len(body) == 10, (h, body)
PY

idle
note "live segments answer ranges too"
seg=""
for _ in $(seq 1 100); do
  seg=$("${CURL[@]}" "$base/live/news.m3u8" | grep -m1 '\.ts$' || true); [[ -n $seg ]] && break; sleep 0.1
done
[[ -n $seg ]] || fail "no live segment"
code=$("${CURL[@]}" -D "$T/h" -o "$T/part" -w '%{http_code}' -H "Range: bytes=0-187" "$base/live/$seg")
[[ $code == 206 && $(stat -c %s "$T/part") == 188 ]] || fail "live segment range: $code, $(stat -c %s "$T/part") bytes"
grep -qi "^content-type: video/mp2t" "$T/h" || fail "live range lost its content type"
[[ $(od -An -tx1 -N1 "$T/part" | tr -d " ") == 47 ]] || fail "live range does not start with a TS sync byte"

note "HEAD ignores Range (RFC 9110: GET only): 200 and the whole length, for chunks and live segments"
for url in "$base/chunks/$id" "$base/live/$seg"; do
  whole=$("${CURL[@]}" -I "$url" | awk 'tolower($1)=="content-length:" {print $2+0}')
  "${CURL[@]}" -I -H "Range: bytes=1-" "$url" >"$T/h"
  head -1 "$T/h" | grep -q " 200" || fail "HEAD with Range on $url: $(head -1 "$T/h")"
  ! grep -qi "^content-range:" "$T/h" || fail "HEAD with Range on $url: Content-Range sent"
  [[ $(awk 'tolower($1)=="content-length:" {print $2+0}' "$T/h") == "$whole" ]] || fail "HEAD with Range on $url: not the whole length"
done

idle
note "a range transfer holds the one slot (--max-transfers=1, paced at 200 kB/s)"
"${CURL[@]}" -o /dev/null -H "Range: bytes=0-131071" "$base/chunks/$id" &
slow=$!
for _ in $(seq 1 50); do [[ $(metric "$PORT_srv" hybridnode_active_transfers) == 1 ]] && break; sleep 0.02; done
# One curl, three requests on one connection, while the slot is taken: a satisfiable range is refused
# (503); an unsatisfiable one is the client's error whatever the load (416), on a chunk and a live segment.
codes=$("${CURL[@]}" -o /dev/null -w '%{http_code} ' -H "Range: bytes=0-9" "$base/chunks/$id" \
  --next -s ${HN_CA:+--cacert "$HN_CA"} -o /dev/null -w '%{http_code} ' -H "Range: bytes=999999-" "$base/chunks/$id" \
  --next -s ${HN_CA:+--cacert "$HN_CA"} -o /dev/null -w '%{http_code}' -H "Range: bytes=99999999-" "$base/live/$seg")
kill -0 $slow 2>/dev/null || fail "the slow range transfer ended before the checks: they prove nothing"
wait $slow
[[ $codes == "503 416 416" ]] || fail "during a range transfer (one slot): $codes, not 503 416 416"
[[ $(metric "$PORT_srv" hybridnode_active_transfers) == 0 ]] || fail "slot not given back"

stop_and_check "$PID_srv" srv
echo "PASS server_range"
