#!/usr/bin/env bash
# GridFS against a real MongoDB: set MONGODB_URI=mongodb://HOST:PORT (no database; the test makes and drops
# its own). Without it this test is SKIPPED (ctest reports it as skipped, exit 77): no MongoDB server can be
# installed from the package registries this CI reaches (docs/gridfs.md).
#   hybridnode ingest -> MongoDB; two content servers on that database serve the same bytes; pymongo's
#   gridfs (an independent client) reads what hybridnode wrote and writes a video hybridnode must serve.
source "$(dirname "$0")/lib.sh"
if [[ -z "${MONGODB_URI:-}" ]]; then
  echo "SKIPPED: no MongoDB (set MONGODB_URI=mongodb://HOST:PORT to run the GridFS end-to-end test)"
  exit 77
fi
DB=hn_e2e_$$_$RANDOM
URI="${MONGODB_URI%/}/$DB"
drop_db() { "$PY" -c "import pymongo,sys; pymongo.MongoClient(sys.argv[1]).drop_database(sys.argv[2])" "$MONGODB_URI" "$DB" || true; }
HN_TEARDOWN_HOOKS+=(drop_db)

make_video "$T/v.mp4" 6
"$HN_BIN" ingest "$T/v.mp4" --store "$URI" --id movie --chunk-size 65536 >"$T/ingest.log" 2>&1 || fail "ingest: $(cat "$T/ingest.log")"
start_server a --store="$URI"
start_server b --store="$URI"
for s in a b; do
  port_var=PORT_$s
  base=http://127.0.0.1:${!port_var}
  curl -sf "$base/videos/movie" >"$T/$s.manifest" || fail "server $s has no manifest for movie"
  "$PY" - "$T/$s.manifest" "$base" "$T/$s.out" <<'PY'
import json, sys, urllib.request, hashlib
m = json.load(open(sys.argv[1])); out = open(sys.argv[3], "wb")
for c in m["chunks"]:
    b = urllib.request.urlopen(f"{sys.argv[2]}/chunks/{c['id']}").read()
    assert hashlib.sha256(b).hexdigest() == c["id"] and len(b) == c["size"]
    out.write(b)
PY
  cmp "$T/v.mp4" "$T/$s.out" || fail "server $s served different bytes"
done

note "pymongo gridfs reads what hybridnode wrote, and writes a video hybridnode serves"
"$PY" - "$URI" "$DB" "$T/a.manifest" <<'PY'
import gridfs, hashlib, json, pymongo, sys
db = pymongo.MongoClient(sys.argv[1])[sys.argv[2]]
fs = gridfs.GridFS(db)  # bucket "fs"
m = json.load(open(sys.argv[3]))
for c in m["chunks"]:
    f = fs.get(c["id"])
    assert f.filename == c["id"] and hashlib.sha256(f.read()).hexdigest() == c["id"]
data = b"written by pymongo " * 4000
cid = hashlib.sha256(data).hexdigest()
fs.put(data, _id=cid, filename=cid)
man = {"video_id": "from-pymongo", "title": "t", "media_type": "application/octet-stream", "total_size": len(data),
       "chunk_size": len(data), "chunks": [{"id": cid, "size": len(data)}]}
db.videos.replace_one({"_id": "from-pymongo"}, {"_id": "from-pymongo", "manifest": man}, upsert=True)
print(cid)
PY
sleep 2.5  # catalog refresh
cid=$(curl -sf "http://127.0.0.1:$PORT_b/videos/from-pymongo" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['chunks'][0]['id'])") ||
  fail "server b does not list the video pymongo wrote"
curl -sf "http://127.0.0.1:$PORT_b/chunks/$cid" | sha256sum | grep -q "^$cid " || fail "server b served wrong bytes for pymongo's chunk"
stop_and_check "$PID_a" a
stop_and_check "$PID_b" b
echo "PASS gridfs_roundtrip"
