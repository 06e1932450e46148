#!/usr/bin/env bash
# The two other live sources: a FIFO (the channel survives the encoder exiting and coming back) and a
# growing MPEG-TS file (read like tail -f). Each publishes keyframe-aligned chunks that ffmpeg plays from
# the server's HLS playlist. A viewer with --output=- writes nothing but whole TS packets to stdout.
source "$(dirname "$0")/lib.sh"
encode() {  # encode SECONDS OUT
  ffmpeg -nostdin -v error -re -f lavfi -i "testsrc=size=160x120:rate=25" -f lavfi -i sine -t "$1" \
    -c:v libx264 -preset ultrafast -g 25 -c:a aac -flush_packets 1 -f mpegts -y "$2"
}
chunks() { curl -sf "http://127.0.0.1:$1/live/$2" | "$PY" -c "import json,sys; c=json.load(sys.stdin)['chunks']; print(c[-1]['seq'] + 1 if c else 0)"; }

note "FIFO source"
mkfifo "$T/live.fifo"
start_server fifo --store="$T/s1" --live=news="$T/live.fifo"
encode 4 "$T/live.fifo"
n1=$(chunks "$PORT_fifo" news)
[[ $n1 -ge 2 ]] || fail "FIFO: only $n1 chunks after 4 s"
curl -sf "http://127.0.0.1:$PORT_fifo/live" | grep -q '"ended":false' || fail "FIFO channel ended when the encoder exited"
encode 3 "$T/live.fifo"   # the encoder comes back
n2=$(chunks "$PORT_fifo" news)
[[ $n2 -gt $n1 ]] || fail "FIFO: no new chunks after the encoder restarted ($n1 -> $n2)"
echo "FIFO: $n1 chunks, $n2 after the encoder restarted"

note "a live viewer with --output=- writes only the MPEG-TS stream to stdout"
"$HN_BIN" --role=peer --server="http://127.0.0.1:$PORT_fifo" --live=news --output=- --live-seconds=5 \
  --summary="$T/stdout.json" >"$T/stdout.ts" 2>"$T/stdout_viewer.log" &
viewer=$!
HN_PIDS+=($viewer)
sleep 0.5
encode 3 "$T/live.fifo"
wait $viewer || fail "stdout viewer failed: $(tail -n 5 "$T/stdout_viewer.log")"
"$PY" - "$T/stdout.ts" <<'PY' || fail "stdout is not a clean MPEG-TS stream"
import sys
b = open(sys.argv[1], "rb").read()
assert len(b) >= 188 * 10, f"only {len(b)} bytes on stdout"
assert len(b) % 188 == 0, f"{len(b)} bytes: not whole TS packets (log text on stdout?)"
assert all(b[i] == 0x47 for i in range(0, len(b), 188)), "a TS packet without its sync byte"
print(f"stdout: {len(b)} bytes, {len(b) // 188} TS packets")
PY
ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/stdout.ts" >/dev/null || fail "stdout stream does not probe"
[[ $(json "$T/stdout.json" 'j["chunks_delivered"] > 0') == True ]] || fail "summary: $(cat "$T/stdout.json")"

note "growing file source"
: >"$T/grow.ts"
start_server grow --store="$T/s2" --live=cam="$T/grow.ts"
encode 5 "$T/grow.ts" &
HN_PIDS+=($!)
enc=$!
sleep 3
timeout 20 ffmpeg -nostdin -v error -i "http://127.0.0.1:$PORT_grow/live/cam.m3u8" -t 1 -f null - 2>"$T/play.err" ||
  fail "ffmpeg could not play the growing file's playlist: $(head -3 "$T/play.err")"
[[ ! -s "$T/play.err" ]] || fail "decode errors: $(head -3 "$T/play.err")"
wait $enc
sleep 0.5
n3=$(chunks "$PORT_grow" cam)
[[ $n3 -ge 4 ]] || fail "growing file: only $n3 one-second chunks from 5 s"
echo "growing file: $n3 chunks of ~1 s"

note "live chunks paced by --limit-rate like files"
# 6 Mbit/s constant bitrate: ~750 KB chunks, so the 64 KiB start burst is small beside size/rate.
ffmpeg -nostdin -v error -f lavfi -i "testsrc=size=320x240:rate=25" -t 3 -c:v libx264 -preset ultrafast -g 25 \
  -b:v 6M -minrate 6M -maxrate 6M -bufsize 2M -x264-params nal-hrd=cbr -f mpegts -y "$T/cbr.ts"
start_server paced --store="$T/s3" --live=pace="$T/cbr.ts" --limit-rate=300000
for _ in $(seq 1 40); do [[ $(chunks "$PORT_paced" pace) -ge 1 ]] && break; sleep 0.1; done
read -r id size < <(curl -sf "http://127.0.0.1:$PORT_paced/live/pace" | "$PY" -c \
  "import json,sys; c=json.load(sys.stdin)['chunks'][0]; print(c['id'], c['size'])")
for url in "chunks/$id" "live/pace/0.ts"; do
  read -r got secs < <(curl -sf -o /dev/null -w "%{size_download} %{time_total}\n" "http://127.0.0.1:$PORT_paced/$url")
  [[ $got == "$size" ]] || fail "/$url: $got bytes, expected $size"
  "$PY" -c "import sys; want = $size / 300000; sys.exit(0 if 0.8 * want <= $secs <= 1.2 * want else 1)" ||
    fail "/$url: $size bytes at --limit-rate=300000 took $secs s, expected $size/300000 s +-20%"
  echo "paced live chunk /$url: $size bytes in $secs s"
done
stop_and_check "$PID_fifo" fifo
stop_and_check "$PID_grow" grow
stop_and_check "$PID_paced" paced
echo "PASS live_sources"
