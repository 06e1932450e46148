#!/usr/bin/env bash
# HLS VOD (docs/hls.md, docs/web.md): an H.264/AAC file ingested as keyframe-aligned MPEG-TS segments plays from
# /videos/ID.m3u8 in ffmpeg end to end; the concatenated chunks decode; a peer's download (from the server, and
# from another peer while the server is full) is byte-identical to the chunk concatenation. The server's browser
# surface: CORS, OPTIONS preflights that take no slot, the web root (MIME, ETag/304, no escapes), the HTML catalog,
# and the signaller's Origin policy. Bad input: unreadable files, --hls on a non-video.
source "$(dirname "$0")/lib.sh"

SECS=20
make_video "$T/clip.mp4" $SECS -g 50   # 2 s GOPs: the remux can cut every 2 s
src_dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/clip.mp4")

note "ingest: H.264/AAC becomes HLS by default; --raw keeps byte chunks"
"$HN_BIN" ingest "$T/clip.mp4" --store "$T/store" --id clip >"$T/ingest.log" 2>&1 || fail "ingest: $(cat "$T/ingest.log")"
grep -q "as HLS" "$T/ingest.log" || fail "H.264/AAC not ingested as HLS: $(cat "$T/ingest.log")"
"$HN_BIN" ingest "$T/clip.mp4" --store "$T/store" --id bytes --raw >/dev/null || fail "--raw ingest failed"
"$HN_BIN" ingest "$T/clip.mp4" --store "$T/store" --id tc --transcode --segment-seconds 4 >"$T/tc.log" 2>&1 ||
  fail "--transcode: $(cat "$T/tc.log")"

note "bad input: clear errors"
head -c 100000 /dev/urandom >"$T/noise.bin"
out=$("$HN_BIN" ingest "$T/noise.bin" --store "$T/store" --hls 2>&1) && fail "--hls on random bytes succeeded"
grep -q "ffprobe cannot read" <<<"$out" || fail "unreadable file: unclear error: $out"
ffmpeg -nostdin -v error -y -f lavfi -i "sine=frequency=440" -t 2 -c:a aac "$T/tone.m4a"
out=$("$HN_BIN" ingest "$T/tone.m4a" --store "$T/store" --hls 2>&1) && fail "--hls on audio only succeeded"
grep -q "no video stream" <<<"$out" || fail "--hls on a non-video: unclear error: $out"
out=$("$HN_BIN" ingest "$T/clip.mp4" --store "$T/store" --hls --raw 2>&1) && fail "--hls --raw accepted"
out=$(PATH=/nonexistent "$HN_BIN" ingest "$T/clip.mp4" --store "$T/store" --id nofx --hls 2>&1) && fail "--hls without ffprobe succeeded"
grep -q "not found in PATH" <<<"$out" || fail "missing ffprobe: unclear error: $out"
"$HN_BIN" ingest "$T/noise.bin" --store "$T/store" --id noise >/dev/null || fail "a non-video must still ingest as bytes"
head -c $((16 << 20)) /dev/urandom >"$T/filler.bin"   # one big chunk a slow reader holds the server's only slot with
"$HN_BIN" ingest "$T/filler.bin" --store "$T/store" --id filler --chunk-size $((16 << 20)) >/dev/null

start_role sig signal --allowed-origins=http://good.example
start_server srv --store="$T/store" --max-transfers=1 --signal-url="ws://127.0.0.1:$PORT_sig/ws"
B=http://127.0.0.1:$PORT_srv

note "manifest and catalog"
curl -sf "$B/videos/clip" >"$T/m.json" || fail "manifest"
[[ $(json "$T/m.json" 'j["media"] == "hls" and all(c["duration"] > 0 for c in j["chunks"])') == True ]] || fail "manifest lacks media/duration"
nseg=$(json "$T/m.json" 'len(j["chunks"])')
(( nseg >= 8 && nseg <= 11 )) || fail "expected ~10 segments of 2 s, got $nseg"
curl -sf "$B/videos" >"$T/cat.json"
[[ $(json "$T/cat.json" '[{v["id"]: v.get("playlist") for v in j["videos"]}[k] for k in ("clip", "bytes")]') == "['/videos/clip.m3u8', None]" ]] ||
  fail "catalog does not say which videos have a playlist: $(cat "$T/cat.json")"

note "VOD playlist"
curl -sf -D "$T/pl.h" "$B/videos/clip.m3u8" >"$T/clip.m3u8" || fail "playlist"
grep -qi '^content-type: application/vnd.apple.mpegurl' "$T/pl.h" || fail "playlist content type"
for tag in '#EXT-X-PLAYLIST-TYPE:VOD' '#EXT-X-TARGETDURATION:' '#EXT-X-ENDLIST'; do grep -q "^$tag" "$T/clip.m3u8" || fail "playlist lacks $tag"; done
[[ $(grep -c '^/chunks/[0-9a-f]\{64\}\.ts$' "$T/clip.m3u8") == "$nseg" ]] || fail "playlist does not list every chunk"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$B/videos/bytes.m3u8") == 404 ]] || fail "a byte video has a playlist"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$B/videos/nope.m3u8") == 404 ]] || fail "unknown playlist not 404"

note "ffmpeg decodes the playlist from the server end to end"
timeout 60 ffmpeg -nostdin -v error -xerror -i "$B/videos/clip.m3u8" -f null - 2>"$T/play.err" || fail "ffmpeg on the playlist: $(head -5 "$T/play.err")"
[[ ! -s "$T/play.err" ]] || fail "decode errors: $(head -5 "$T/play.err")"
pl_dur=$(ffprobe -v error -show_entries format=duration -of csv=p=0 "$B/videos/clip.m3u8")
"$PY" -c "import sys; s,p=float(sys.argv[1]),float(sys.argv[2]); sys.exit(0 if abs(s-p) <= 2.0 else 1)" "$src_dur" "$pl_dur" ||
  fail "playlist duration $pl_dur vs source $src_dur (more than one segment apart)"
timeout 60 ffmpeg -nostdin -v error -xerror -i "$B/videos/tc.m3u8" -f null - 2>"$T/tc.err" || fail "ffmpeg on the transcoded playlist: $(head -5 "$T/tc.err")"

note "the concatenated chunks decode"
for id in $("$PY" -c 'import json,sys; print(" ".join(c["id"] for c in json.load(open(sys.argv[1]))["chunks"]))' "$T/m.json"); do
  curl -sf "$B/chunks/$id" >>"$T/concat.ts" || fail "chunk $id"
done
timeout 60 ffmpeg -nostdin -v error -xerror -i "$T/concat.ts" -f null - 2>"$T/cat.err" || fail "concatenation does not decode: $(head -5 "$T/cat.err")"
[[ ! -s "$T/cat.err" ]] || fail "decode errors in the concatenation: $(head -5 "$T/cat.err")"

note "peers: byte-identical to the concatenation, from the server and from a peer while the server is full"
start_peer a --server="$B" --video=clip --signal-url="ws://127.0.0.1:$PORT_sig/ws" --seed-for=-1 --server-slots=1
for _ in $(seq 1 200); do [[ -f "$T/a.mp4" ]] && break; sleep 0.05; done
cmp "$T/concat.ts" "$T/a.mp4" || fail "peer a's download differs from the chunk concatenation"
noise=$(curl -sf "$B/videos/filler" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["chunks"][0]["id"])')
# Hold the server's only slot until fd 9 (the reader's stdin) is closed below.
mkfifo "$T/hold"
"$PY" "$HN_SRC/tests/e2e/slow_reader.py" "$PORT_srv" "/chunks/$noise" <"$T/hold" >"$T/slow.out" &
HN_PIDS+=($!)
PID_slow=$!
exec 9>"$T/hold"
for _ in $(seq 1 100); do [[ -s "$T/slow.out" ]] && break; sleep 0.05; done
[[ $(metric "$PORT_srv" hybridnode_active_transfers) == 1 ]] || fail "slot not held"

note "OPTIONS preflights take no slot while the only one is held"
refused_before=$(metric "$PORT_srv" hybridnode_refusals_total)   # peer a's own 503s (it fetches in parallel)
for i in $(seq 1 50); do
  curl -s -o /dev/null -w '%{http_code}\n' -X OPTIONS -H 'Origin: http://other.example' \
    -H 'Access-Control-Request-Method: GET' "$B/chunks/$noise"
done | sort | uniq -c >"$T/opt.out"
[[ $(cat "$T/opt.out" | tr -s ' ') == " 50 204" ]] || fail "preflights: $(cat "$T/opt.out")"
r=$(metric "$PORT_srv" hybridnode_refusals_total); [[ $r == "$refused_before" ]] || fail "preflights were refused or counted: refusals=$r, $(curl -s "$B/metrics" | grep -E "refus|active|preflight|responses_total")"

note "CORS: every answer, 503 readable cross-origin"
curl -s -D "$T/503.h" -o "$T/503.json" -H 'Origin: http://other.example' "$B/chunks/$noise"
grep -q '^HTTP/1.1 503' "$T/503.h" || fail "expected a 503 while the slot is held"
grep -qi '^access-control-allow-origin: \*' "$T/503.h" || fail "503 without CORS: $(cat "$T/503.h")"
grep -qi '^access-control-expose-headers:.*retry-after' "$T/503.h" || fail "Retry-After not exposed"
start_peer b --server="$B" --video=clip --signal-url="ws://127.0.0.1:$PORT_sig/ws"
wait "$PID_b" || fail "peer b failed: $(tail "$T/b.log")"
cmp "$T/concat.ts" "$T/b.mp4" || fail "peer b's download differs from the chunk concatenation"
[[ $(json "$T/b.json" 'j["bytes_from_peers"] > 0') == True ]] || fail "peer b took nothing from peer a: $(cat "$T/b.json")"

exec 9>&-
wait "$PID_slow" || true

note "CORS on every API answer; a restricted list"
for u in /videos /videos/clip /videos/clip.m3u8 /healthz /nope; do
  curl -s -D - -o /dev/null -H 'Origin: http://other.example' "$B$u" | grep -qi '^access-control-allow-origin' || fail "no CORS on $u"
done
start_server strict --store="$T/store" --cors-origin=http://good.example
curl -s -D - -o /dev/null -H 'Origin: http://good.example' "http://127.0.0.1:$PORT_strict/videos" |
  grep -qi '^access-control-allow-origin: http://good.example' || fail "listed origin not allowed"
curl -s -D - -o /dev/null -H 'Origin: http://evil.example' "http://127.0.0.1:$PORT_strict/videos" |
  grep -qi '^access-control-allow-origin' && fail "unlisted origin allowed"

note "HTML catalog at / without a web root"
curl -sf -D "$T/root.h" "$B/" >"$T/root.html" || fail "/"
grep -qi '^content-type: text/html' "$T/root.h" && grep -q 'href="/videos/clip.m3u8"' "$T/root.html" || fail "catalog page: $(head -c 400 "$T/root.html")"

note "web root: files, MIME, ETag/304, no escapes"
mkdir -p "$T/www/js" "$T/www/sub"
echo '<!doctype html><title>t</title>' >"$T/www/index.html"
echo 'console.log(1)' >"$T/www/js/app.js"
echo 'sub index' >"$T/www/sub/index.html"
echo 'do not serve' >"$T/secret.txt"
echo 'hidden' >"$T/www/.env"
ln -s "$T/secret.txt" "$T/www/abs.txt"
ln -s ../secret.txt "$T/www/rel.txt"
ln -s "$T" "$T/www/up"
mkfifo "$T/www/fifo.txt"
start_server web --store="$T/store" --web-root="$T/www"
W=http://127.0.0.1:$PORT_web
code() { curl -s --path-as-is -o "$T/body" -w '%{http_code} %{content_type}' "$W$1"; }
[[ $(code /) == "200 text/html; charset=utf-8" ]] || fail "/: $(code /)"
[[ $(code /js/app.js) == "200 text/javascript; charset=utf-8" ]] || fail "/js/app.js"
[[ $(code /sub/) == "200 text/html; charset=utf-8" ]] && grep -q 'sub index' "$T/body" || fail "/sub/"
[[ $(code /sub | cut -d' ' -f1) == 301 ]] || fail "/sub not redirected"
for p in /sub //sub ///sub; do  # "//sub/" would be the host "sub" to a browser (open redirect)
  loc=$(curl -s --path-as-is -D - -o /dev/null "$W$p" | awk 'tolower($1)=="location:" {print $2}' | tr -d '\r')
  [[ $loc == /sub/ ]] || fail "$p redirected to $loc, not /sub/"
done
[[ $(code /videos/clip.m3u8 | cut -d' ' -f1) == 200 ]] || fail "API shadowed by the web root"
for p in /../secret.txt /js/../../secret.txt /%2e%2e/secret.txt /%2E%2E/secret.txt /js/%2e%2e/%2e%2e/secret.txt \
         /js%2f..%2f..%2fsecret.txt /..%5csecret.txt /a%00b /%zz; do
  c=$(code "$p" | cut -d' ' -f1)
  [[ $c == 400 || $c == 404 ]] || fail "$p: $c"
  grep -q 'do not serve' "$T/body" && fail "$p escaped the web root"
done
for p in /abs.txt /rel.txt /up/secret.txt /.env /fifo.txt /nope.html; do
  c=$(code "$p" | cut -d' ' -f1)
  [[ $c == 404 ]] || fail "$p: $c, want 404"
done
etag=$(curl -s -D - -o /dev/null "$W/js/app.js" | awk 'tolower($1)=="etag:" {print $2}' | tr -d '\r')
[[ -n "$etag" ]] || fail "no ETag"
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$W/js/app.js") == 304 ]] || fail "no 304 for a matching ETag"
echo 'console.log(2)' >"$T/www/js/app.js"
[[ $(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: $etag" "$W/js/app.js") == 200 ]] || fail "changed file still 304"
[[ $(curl -s -o /dev/null -w '%{http_code}' -X POST "$W/") == 405 ]] || fail "POST / not 405"
kill -0 "$PID_web" || fail "web server died"

note "signaller Origin policy"
WS=(-H 'Upgrade: websocket' -H 'Connection: Upgrade' -H 'Sec-WebSocket-Version: 13' -H 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==')
[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "${WS[@]}" -H 'Origin: http://evil.example' "http://127.0.0.1:$PORT_sig/ws") == 403 ]] ||
  fail "disallowed Origin not refused"
[[ $(metric "$PORT_sig" hybridnode_signal_origin_refusals_total) == 1 ]] || fail "refusal not counted"
"$PY" - "$PORT_sig" <<'PYEOF' || fail "an allowed Origin or none was refused"
import asyncio, json, sys
import websockets
async def main():
    for origin in ("http://good.example", None):
        async with websockets.connect(f"ws://127.0.0.1:{sys.argv[1]}/ws", origin=origin) as ws:
            await ws.send(json.dumps({"type": "ping"}))
            r = json.loads(await asyncio.wait_for(ws.recv(), 5))
            assert r["type"] == "pong", r
asyncio.run(main())
PYEOF

stop_and_check "$PID_web" web
stop_and_check "$PID_strict" strict
kill "$PID_a"
echo "PASS hls_vod ($nseg segments, source ${src_dur}s, playlist ${pl_dur}s)"
