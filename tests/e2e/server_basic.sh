#!/usr/bin/env bash
# Ingest a real video, fetch catalog, manifest and every chunk with curl, verify ids and bytes.
source "$(dirname "$0")/lib.sh"

make_video "$T/clip.mp4" 6
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --chunk-size 65536 --title "Test clip" >"$T/ingest.log"
start_server srv --store="$T/store" --max-transfers=4 --signal-url=ws://127.0.0.1:1/ws
base="$HN_SCHEME://127.0.0.1:$PORT_srv"

note "catalog (step 1)"
curl -sf "$base/videos" >"$T/catalog.json"
"$PY" - "$T/catalog.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
assert [v["id"] for v in c["videos"]] == ["clip"], c
assert c["videos"][0]["title"] == "Test clip"
assert c["videos"][0]["media_type"] == "video/mp4"
PY

note "manifest (step 2)"
curl -sf "$base/videos/clip" >"$T/manifest.json"
"$PY" - "$T/manifest.json" "$T/clip.mp4" >"$T/chunks.txt" <<'PY'
import json, os, sys
m = json.load(open(sys.argv[1]))
assert m["total_size"] == os.path.getsize(sys.argv[2]), (m["total_size"], os.path.getsize(sys.argv[2]))
assert m["chunk_size"] == 65536 and m["chunk_count"] == len(m["chunks"]) > 1
for c in m["chunks"]:
    print(c["id"], c["size"])
PY

note "every chunk (step 3), one keep-alive connection"
urls=()
i=0
while read -r id size; do urls+=("$base/chunks/$id" -o "$T/c.$i"); i=$((i+1)); done <"$T/chunks.txt"
conns_before=$(metric "$PORT_srv" hybridnode_http_connections_total)
curl -sf "${urls[@]}"
conns_after=$(metric "$PORT_srv" hybridnode_http_connections_total)
: >"$T/joined.mp4"
i=0
while read -r id size; do
  got=$(sha256sum "$T/c.$i" | cut -d' ' -f1)
  [[ "$got" == "$id" ]] || fail "chunk $i: sha256 $got != id $id"
  [[ $(stat -c %s "$T/c.$i") == "$size" ]] || fail "chunk $i: size mismatch"
  cat "$T/c.$i" >>"$T/joined.mp4"
  i=$((i+1))
done <"$T/chunks.txt"
cmp "$T/clip.mp4" "$T/joined.mp4" || fail "reassembled video differs from the source"
ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/joined.mp4" >/dev/null || fail "ffprobe cannot read the result"
[[ $(metric "$PORT_srv" hybridnode_chunks_served_total) == "$i" ]] || fail "chunks_served != $i"
# +1 for the metric call that read conns_before; the chunk batch itself must use one connection.
[[ $((conns_after - conns_before)) -eq 2 ]] || fail "keep-alive not used ($conns_before -> $conns_after)"

note "headers: Content-Length, ETag, HEAD, If-None-Match"
first=$(head -n1 "$T/chunks.txt" | cut -d' ' -f1)
curl -sfI "$base/chunks/$first" >"$T/head.txt"
grep -qi "^content-length: 65536" "$T/head.txt" || fail "HEAD: no Content-Length 65536"
grep -qi "^etag: \"$first\"" "$T/head.txt" || fail "HEAD: ETag is not the chunk id"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "If-None-Match: \"$first\"" "$base/chunks/$first")
[[ $code == 304 ]] || fail "If-None-Match gave $code, not 304"
[[ $(metric "$PORT_srv" hybridnode_active_transfers) == 0 ]] || fail "active transfers not back to 0"

note "metrics and health"
curl -sf "$base/healthz" | grep -q '"status":"ok"' || fail "healthz"
curl -sf "$base/metrics" | grep -q '^hybridnode_http_responses_total{code="200"}' || fail "metrics by code"

note "a newly ingested video appears without a restart"
make_video "$T/second.mp4" 2
"$HN_BIN" ingest "$T/second.mp4" --raw --store "$T/store" --id second >/dev/null
for _ in $(seq 1 60); do curl -sf "$base/videos" | grep -q '"second"' && break; sleep 0.1; done
curl -sf "$base/videos/second" >/dev/null || fail "second video not served after ingest"

stop_and_check "$PID_srv" srv
echo "PASS server_basic ($i chunks)"
