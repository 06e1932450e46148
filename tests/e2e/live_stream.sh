#!/usr/bin/env bash
# Live: ffmpeg encodes a 36 s test stream into the content server's stdin (capacity 1, each transfer paced
# at 1 MB/s as an uplink would: on loopback a 40 KB chunk otherwise takes no time at all); four viewers
# watch through their local HLS endpoints with ffmpeg (no decode errors), a fifth is SIGKILLed
# mid-stream, a sixth joins late and must start at the live edge. Most bytes come from peers, lag
# and missed deadlines are reported and bounded, every output plays, equal starts give equal bytes.
source "$(dirname "$0")/lib.sh"
SECS=36

start_role sig signal
ffmpeg -nostdin -v error -re -f lavfi -i "testsrc=size=320x240:rate=25" -f lavfi -i "sine=frequency=440" -t $SECS \
  -c:v libx264 -preset ultrafast -tune zerolatency -g 25 -pix_fmt yuv420p -c:a aac -f mpegts - 2>"$T/encoder.log" |
  "$HN_BIN" --role=server --listen=127.0.0.1:0 --port-file="$T/srv.port" --store="$T/store" --max-transfers=1 \
    --signal-url="ws://127.0.0.1:$PORT_sig/ws" --live=news=- --limit-rate=1000000 >"$T/srv.log" 2>&1 &
PID_srv=$!
HN_PIDS+=("$PID_srv")
wait_file "$T/srv.port" 10 || fail "server did not start"
sleep 0.2
SRV=http://127.0.0.1:$(cat "$T/srv.port")

note "bad requests to the live routes"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$SRV/live/nope") == 404 ]] || fail "unknown channel not 404"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$SRV/live/news/abc.ts") == 400 ]] || fail "bad segment name not 400"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$SRV/live/news/99999.ts") == 404 ]] || fail "segment outside window not 404"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$SRV/live/news?from=x") == 400 ]] || fail "bad long-poll not 400"
[[ $(curl -s -o /dev/null -w '%{http_code}' "$SRV/live/..%2f..%2fetc.m3u8") == 400 ]] || fail "path trick not 400"

viewer() {  # viewer NAME [extra flags]: a live peer with a player endpoint on a free port
  local name=$1; shift
  "$HN_BIN" --role=peer --server="$SRV" --live=news --signal-url="ws://127.0.0.1:$PORT_sig/ws" --peer-id="$name" \
    --output="$T/$name.ts" --summary="$T/$name.json" --player-listen=127.0.0.1:0 --port-file="$T/$name.port" "$@" \
    >"$T/$name.log" 2>&1 &
  HN_PIDS+=("$!")
  printf -v "PID_$name" '%s' "$!"
}
for v in v1 v2 v3 v4 v5; do viewer $v; done
for v in v1 v2 v3 v4; do wait_file "$T/$v.port" 10 || fail "$v has no player endpoint"; done
sleep 3

note "the server's own HLS playlist plays in ffmpeg"
timeout 20 ffmpeg -nostdin -v error -i "$SRV/live/news.m3u8" -t 2 -f null - 2>"$T/hls_server.err" || fail "ffmpeg on the server's HLS failed"
[[ ! -s "$T/hls_server.err" ]] || fail "decode errors from the server's HLS: $(head -5 "$T/hls_server.err")"

note "each viewer's endpoint is played by ffmpeg for 8 s"
players=()
for v in v1 v2 v3 v4; do
  timeout 30 ffmpeg -nostdin -v error -i "http://127.0.0.1:$(cat "$T/$v.port")/live/news.m3u8" -t 8 -f null - 2>"$T/play_$v.err" &
  players+=($!); HN_PIDS+=($!)
done
sleep 3
note "SIGKILL v5 mid-stream"
kill -KILL "$PID_v5"
sleep 6
note "v6 joins late"
viewer v6
for i in "${!players[@]}"; do
  wait "${players[$i]}" || fail "ffmpeg playing viewer v$((i + 1)) failed: $(head -5 "$T/play_v$((i + 1)).err")"
  [[ ! -s "$T/play_v$((i + 1)).err" ]] || fail "decode errors playing v$((i + 1)): $(head -5 "$T/play_v$((i + 1)).err")"
done

note "waiting for the stream to end"
for v in v1 v2 v3 v4 v6; do wait_file "$T/$v.json" $((SECS + 30)) || fail "$v did not finish after the stream ended"; done
for v in v1 v2 v3 v4 v6; do
  ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/$v.ts" >/dev/null || fail "$v output does not play"
done
curl -sf "$SRV/metrics" >"$T/srv.metrics"
note "a long poll longer than 30 s is clamped, not refused"
[[ $(curl -s -o /dev/null -w '%{http_code}' --max-time 40 "$SRV/live/news?from=0&wait_ms=99999999") == 200 ]] || fail "wait_ms=99999999 not answered 200"

"$PY" - "$T" <<'PY'
import json, sys, filecmp
d = sys.argv[1]
s = {v: json.load(open(f"{d}/{v}.json")) for v in ["v1", "v2", "v3", "v4", "v6"]}
srv = sum(x["bytes_from_server"] for x in s.values()); peers = sum(x["bytes_from_peers"] for x in s.values())
for v, x in s.items():
    print(f"{v}: start {x['start_seq']} delivered {x['chunks_delivered']} of edge {x['edge_seq']}, server {x['bytes_from_server']} "
          f"peers {x['bytes_from_peers']}, lag p50 {x['lag_ms_p50']:.0f} ms p95 {x['lag_ms_p95']:.0f} ms, "
          f"missed {x['missed_deadlines']}, stall {x['stall_seconds']:.2f} s, server bytes by reason {x.get('server_bytes_by_reason')}")
    assert x["chunks_delivered"] == x["edge_seq"] - x["start_seq"] > 0, f"{v} did not deliver every chunk to the end"
    assert x["bad_chunks"] == 0
    if x["bytes_from_peers"] > 0:  # links that carried bytes are listed after they closed, as for VOD
        assert sum(l["bytes_in"] for l in x["links"]) > 0, f"{v} got {x['bytes_from_peers']} bytes from peers but lists no link: {x['links']}"
    # Measured: p95 ~0.4 s for viewers there from the start, ~1.8 s for the late joiner (it catches up from
    # behind the edge), release and ASan alike. Past one 1 s chunk (late joiner: three) a viewer is falling
    # behind, which is what this bounds; the benchmark measures the figures themselves.
    bound = 3000 if v == "v6" else 1500
    assert x["lag_ms_p95"] < bound, f"{v} lag p95 {x['lag_ms_p95']} ms (bound {bound} ms)"
    assert x["missed_deadlines"] <= 3, f"{v} missed {x['missed_deadlines']} deadlines"
print(f"all viewers: {srv} bytes from the server, {peers} from peers ({100.0 * peers / (srv + peers):.0f}% peers)")
assert peers > srv, "most live bytes must come from peers"
assert s["v6"]["start_seq"] >= 8, f"late joiner started at {s['v6']['start_seq']}, not at the live edge"
edge = s["v1"]["edge_seq"]
assert all(x["edge_seq"] == edge for x in s.values()), "viewers disagree on the last chunk"
same = [v for v in s if s[v]["start_seq"] == s["v1"]["start_seq"]]
for v in same[1:]:
    assert filecmp.cmp(f"{d}/v1.ts", f"{d}/{v}.ts", shallow=False), f"{v} bytes differ from v1 with the same start"
m = {l.split()[0]: float(l.split()[1]) for l in open(f"{d}/srv.metrics") if l and not l.startswith("#") and "{" not in l}
assert m["hybridnode_live_chunks_published"] == edge, (m["hybridnode_live_chunks_published"], edge)
served = m["hybridnode_live_chunks_served_total"]
delivered = sum(x["chunks_delivered"] for x in s.values())
assert served < delivered, f"the server sent {served} live chunks for {delivered} delivered: no sharing"
print(f"identical outputs among {same}; server published {edge} chunks, sent {served:.0f} for {delivered} delivered, "
      f"refused {m['hybridnode_refusals_total']:.0f}")
PY
echo "PASS live_stream"
