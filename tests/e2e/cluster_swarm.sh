#!/usr/bin/env bash
# A full hybrid download over three signallers sharing swarms through Redis: server capacity 1, six
# peers whose first signaller is spread over the three, every peer given the whole list (rotated) to
# fail over. Signaller A is SIGKILLed mid-download: its peers move to the next one and everyone finishes
# with byte-identical output. The server's 503 names the video's rendezvous owner and the fail-over order.
source "$(dirname "$0")/lib.sh"
RPORT=$("$PY" -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
redis-server --bind 127.0.0.1 --port "$RPORT" --save "" --appendonly no >"$T/redis.log" 2>&1 &
HN_PIDS+=($!)
for _ in $(seq 1 100); do "$PY" -c "import socket; socket.create_connection(('127.0.0.1',$RPORT),0.2)" 2>/dev/null && break; sleep 0.05; done
for s in a b c; do start_role $s signal --redis=127.0.0.1:$RPORT --instance=$s; done
URLS=("ws://127.0.0.1:$PORT_a/ws" "ws://127.0.0.1:$PORT_b/ws" "ws://127.0.0.1:$PORT_c/ws")
ALL=$(IFS=,; echo "${URLS[*]}")

# testsrc2 at 720p really reaches ~2 Mb/s (plain testsrc compresses to ~0.6 MB, done in under 2 s).
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -f lavfi -i sine -t 10 \
  -c:v libx264 -preset ultrafast -b:v 2M -c:a aac -shortest "$T/v.mp4"
"$HN_BIN" ingest "$T/v.mp4" --raw --store "$T/store" --id clip >/dev/null
start_server srv --store="$T/store" --max-transfers=1 --limit-rate=400000 --signal-url="$ALL"
S=http://127.0.0.1:$PORT_srv

note "the server names the video's owner (rendezvous) in the catalog and the fail-over order in its 503"
owner=$(curl -sf "$S/videos" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['videos'][0]['signal_url'])")
[[ " ${URLS[*]} " == *" $owner "* ]] || fail "catalog names no known signaller: $owner"
id0=$(curl -sf "$S/videos/clip" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['chunks'][0]['id'])")
cp=()
for k in 1 2 3 4; do curl -s -o "$T/r$k.out" -w '%{http_code}' "$S/chunks/$id0" >"$T/r$k.code" & cp+=($!); done
wait "${cp[@]}"
for k in 1 2 3 4; do [[ $(cat "$T/r$k.code") == 503 ]] && cp "$T/r$k.out" "$T/503.json"; done
[[ -f "$T/503.json" ]] || fail "four concurrent requests at capacity 1 and no 503"
"$PY" - "$T/503.json" "$owner" "$ALL" <<'PY'
import json, sys
j = json.load(open(sys.argv[1]))
assert j["status"] == 503 and j["signal_url"] == sys.argv[2], j
assert sorted(j["signal_urls"]) == sorted(sys.argv[3].split(",")) and j["signal_urls"][0] == sys.argv[2], j
PY

for i in 1 2 3 4 5 6; do
  k=$(( (i - 1) % 3 ))
  list="${URLS[$k]},${URLS[$(( (k + 1) % 3 ))]},${URLS[$(( (k + 2) % 3 ))]}"
  start_peer "peer$i" --server="$S" --video=clip --signal-url="$list" --seed-for=-1
done
sleep 1.5
note "SIGKILL signaller a mid-download"
# At 400 kB/s from a capacity-1 server the swarm cannot hold the whole ~2.5 MB video after 1.5 s; if a
# peer had finished anyway, the fail-over below would prove nothing.
for i in 1 2 3 4 5 6; do [[ ! -f "$T/peer$i.mp4" ]] || fail "peer$i finished before the fail-over"; done
kill -KILL "$PID_a"
for i in 1 2 3 4 5 6; do wait_file "$T/peer$i.mp4" 90 || fail "peer$i did not finish"; done
for i in 1 2 3 4 5 6; do cmp "$T/v.mp4" "$T/peer$i.mp4" || fail "peer$i output differs"; done
out=0
for s in b c; do
  port_var=PORT_$s
  n=$(metric "${!port_var}" hybridnode_signal_federation_relays_out_total)
  out=$(( out + ${n%.*} ))
done
# Peers 1 and 4 started on a: each of them must have moved to the next signaller.
for p in peer1 peer4; do
  for _ in $(seq 1 100); do grep -q "moving to the next signaller" "$T/$p.log" && break; sleep 0.1; done
  grep -q "moving to the next signaller" "$T/$p.log" || fail "$p did not move off the dead signaller"
  (( $(grep -c "joined the swarm of clip" "$T/$p.log") >= 2 )) || fail "$p did not rejoin the swarm on the next signaller"
done
for i in 1 2 3 4 5 6; do stop_and_check "$(eval echo \$PID_peer$i)" "peer$i"; done
"$PY" - "$T" "$out" <<'PY'
import json, sys
d, relays = sys.argv[1], int(sys.argv[2])
s = [json.load(open(f"{d}/peer{i}.json")) for i in range(1, 7)]
srv = sum(x["bytes_from_server"] for x in s); peers = sum(x["bytes_from_peers"] for x in s)
print(f"6 peers over 3 signallers (one killed): {srv} bytes from the server, {peers} from peers; "
      f"{relays} offers/answers/candidates crossed signallers on b and c")
size = s[0]["total_size"]
# Six copies at 400 kB/s from one slot would take ~40 s: the swarm must have carried at least a whole copy,
# and the two peers whose signaller died must still have taken part in the swarm: received from peers or,
# when one of them held the server's only slot and so was everyone's source, served them.
assert peers >= size, f"only {peers} bytes moved between peers (one copy is {size})"
for i in (0, 3):
    moved = s[i]["bytes_from_peers"] + s[i]["bytes_uploaded"]
    assert moved > 0, f"peer{i + 1} (signaller killed) neither received from nor served any peer"
assert relays > 0, "no relay crossed signallers"
PY
echo "PASS cluster_swarm"
