#!/usr/bin/env bash
# The main job: install, build, make a real video with ffmpeg, ingest it and serve it.
# (The full swarm demo — signaller + peers — grows here as those roles land; see README.)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
work=${HN_DEMO_DIR:-/tmp/hybridnode-demo}
mkdir -p "$work"
if [[ ! -f "$work/demo.mp4" ]]; then
  ffmpeg -nostdin -v error -y -f lavfi -i "testsrc=size=640x360:rate=25" -f lavfi -i "sine=frequency=440" \
    -t 30 -c:v libx264 -preset veryfast -pix_fmt yuv420p -c:a aac -shortest "$work/demo.mp4"
fi
./build/hybridnode ingest "$work/demo.mp4" --store "$work/store" --id demo --title "Demo clip"
./build/hybridnode --role=server --config config/server.json --store="$work/store" --listen=127.0.0.1:0 \
  --port-file="$work/port" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null' EXIT
for _ in $(seq 1 100); do [[ -s "$work/port" ]] && break; sleep 0.05; done
base="http://127.0.0.1:$(cat "$work/port")"
echo "catalog:  curl $base/videos"
curl -s "$base/videos"
# Fetch the whole video chunk by chunk, the way a peer does while the server has capacity.
python3 - "$base" "$work/out.mp4" <<'PY'
import hashlib, json, sys, urllib.request, time
base, out = sys.argv[1], sys.argv[2]
m = json.load(urllib.request.urlopen(f"{base}/videos/demo"))
t0 = time.time(); got = 0
with open(out, "wb") as f:
    for c in m["chunks"]:
        data = urllib.request.urlopen(f"{base}/chunks/{c['id']}").read()
        assert hashlib.sha256(data).hexdigest() == c["id"], "chunk failed verification"
        f.write(data); got += len(data)
dt = time.time() - t0
print(f"fetched {len(m['chunks'])} chunks, {got} bytes: bytes_from_server={got} bytes_from_peers=0 in {dt:.2f}s")
PY
cmp "$work/demo.mp4" "$work/out.mp4" && echo "output identical to the source: $work/out.mp4"
echo "server metrics:"
curl -s "$base/metrics" | grep -E "^hybridnode_(chunks_served|chunk_bytes_served|refusals)_total"
if [[ "${HN_DEMO_KEEP:-0}" == 1 ]]; then echo "serving on $base; Ctrl-C to stop"; wait $pid; fi
