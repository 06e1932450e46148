#!/usr/bin/env bash
# GridFS against a real MongoDB: set MONGODB_URI=mongodb://HOST:PORT (no database; the test makes and drops
# its own). Without it this test is SKIPPED (ctest reports it as skipped, exit 77): no MongoDB server can be
# installed from the package registries this CI reaches (docs/gridfs.md).
#   hybridnode ingest -> MongoDB (default 256 KiB chunks: two GridFS documents each); two content servers on
#   that database serve the same bytes; every chunk is complete in GridFS and the unique index exists; an
#   ingest killed mid-upload (orphaned GridFS chunks, a file short of its last GridFS chunk) is repaired by
#   the next ingest; two racing ingests of one file both succeed; pymongo's gridfs (an independent client)
#   reads what hybridnode wrote and writes a video hybridnode must serve; an unlisted stored chunk is a 503,
#   a missing one a 404. Not covered here: MongoDB going away and coming back (the test cannot stop it).
source "$(dirname "$0")/lib.sh"
if [[ -z "${MONGODB_URI:-}" ]]; then
  echo "SKIPPED: no MongoDB (set MONGODB_URI=mongodb://HOST:PORT to run the GridFS end-to-end test)"
  exit 77
fi
DB=hn_e2e_$$_$RANDOM
URI="${MONGODB_URI%/}/$DB"
drop_db() { "$PY" -c "import pymongo,sys; pymongo.MongoClient(sys.argv[1]).drop_database(sys.argv[2])" "$MONGODB_URI" "$DB" || true; }
HN_TEARDOWN_HOOKS+=(drop_db)

# wait_video PORT ID: until that server's catalog lists the video (the catalog refreshes every 2 s).
wait_video() {
  for _ in $(seq 1 200); do curl -sf "http://127.0.0.1:$1/videos/$2" >/dev/null && return 0; sleep 0.05; done
  fail "server on $1 does not list $2 after 10 s"
}
# check_stored ID...: each chunk is complete in GridFS (fs.files length = chunk size, every GridFS chunk).
check_stored() {
  "$PY" - "$URI" "$DB" "$@" <<'PY' || fail "GridFS holds an incomplete chunk"
import hashlib, pymongo, sys
db = pymongo.MongoClient(sys.argv[1])[sys.argv[2]]
for cid in sys.argv[3:]:
    f = db["fs.files"].find_one({"_id": cid})
    assert f is not None, f"no fs.files document for {cid}"
    n = db["fs.chunks"].count_documents({"files_id": cid})
    want = -(-f["length"] // f["chunkSize"])
    assert n == want, f"{cid}: {n} GridFS chunks, want {want}"
    data = b"".join(c["data"] for c in db["fs.chunks"].find({"files_id": cid}).sort("n", 1))
    assert hashlib.sha256(data).hexdigest() == cid, f"{cid}: stored bytes do not hash to the id"
PY
}

make_video "$T/v.mp4" 6
# The default chunk size (256 KiB) is larger than GridFS's 255 KiB: every chunk spans two GridFS documents.
"$HN_BIN" ingest "$T/v.mp4" --raw --raw --store "$URI" --id movie >"$T/ingest.log" 2>&1 || fail "ingest: $(cat "$T/ingest.log")"
start_server a --store="$URI"
start_server b --store="$URI"
for s in a b; do
  port_var=PORT_$s
  wait_video "${!port_var}" movie
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
ids=$(json "$T/a.manifest" '" ".join(c["id"] for c in j["chunks"])')
check_stored $ids
"$PY" - "$URI" "$DB" <<'PY' || fail "GridFS indexes missing"
import pymongo, sys
db = pymongo.MongoClient(sys.argv[1])[sys.argv[2]]
ix = {tuple(v["key"]): v.get("unique", False) for v in db["fs.chunks"].index_information().values()}
assert ix.get((("files_id", 1), ("n", 1))) is True, ix
PY
"$PY" - "$URI" "$DB" <<'PY' || fail "catalog version document or manifest digest missing"
import pymongo, sys
db = pymongo.MongoClient(sys.argv[1])[sys.argv[2]]
v = db["catalog"].find_one({"_id": "videos"})
assert v is not None and v["version"] >= 1, v
assert len(db["videos"].find_one({"_id": "movie"})["digest"]) == 64
PY
note "HEAD of a listed chunk: its length, from fs.files"
first_size=$(json "$T/a.manifest" 'j["chunks"][0]["size"]')
curl -sI "http://127.0.0.1:$PORT_a/chunks/${ids%% *}" | tr -d '\r' | grep -qi "^content-length: $first_size$" ||
  fail "HEAD of a listed chunk does not give its length"

note "an ingest killed mid-upload (GridFS chunks without fs.files, a file missing its last GridFS chunk) is repaired by the next ingest"
first=${ids%% *}
second=$(echo "$ids" | cut -d' ' -f2)
"$PY" - "$URI" "$DB" "$first" "$second" <<'PY'
import pymongo, sys
db = pymongo.MongoClient(sys.argv[1])[sys.argv[2]]
db["fs.files"].delete_one({"_id": sys.argv[3]})                      # orphaned fs.chunks
last = db["fs.chunks"].find({"files_id": sys.argv[4]}).sort("n", -1).limit(1)[0]
db["fs.chunks"].delete_one({"_id": last["_id"]})                      # a file short of its last chunk
PY
"$HN_BIN" ingest "$T/v.mp4" --raw --store "$URI" --id movie >"$T/ingest2.log" 2>&1 || fail "re-ingest: $(cat "$T/ingest2.log")"
check_stored "$first" "$second"
for c in "$first" "$second"; do
  curl -sf "http://127.0.0.1:$PORT_a/chunks/$c" | sha256sum | grep -q "^$c " || fail "repaired chunk $c not served"
done

note "two ingests of the same new file at once (duplicate keys) both succeed and store every chunk once"
head -c $((3 << 20)) /dev/urandom >"$T/race.bin"
"$HN_BIN" ingest "$T/race.bin" --store "$URI" --id race >"$T/race1.log" 2>&1 & r1=$!
"$HN_BIN" ingest "$T/race.bin" --store "$URI" --id race >"$T/race2.log" 2>&1 & r2=$!
HN_PIDS+=($r1 $r2)
wait $r1 || fail "racing ingest 1: $(cat "$T/race1.log")"
wait $r2 || fail "racing ingest 2: $(cat "$T/race2.log")"
wait_video "$PORT_b" race
rids=$(curl -sf "http://127.0.0.1:$PORT_b/videos/race" | "$PY" -c 'import json,sys; print(" ".join(c["id"] for c in json.load(sys.stdin)["chunks"]))')
check_stored $rids

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
wait_video "$PORT_b" from-pymongo
cid=$(curl -sf "http://127.0.0.1:$PORT_b/videos/from-pymongo" | "$PY" -c "import json,sys; print(json.load(sys.stdin)['chunks'][0]['id'])") ||
  fail "server b does not list the video pymongo wrote"
curl -sf "http://127.0.0.1:$PORT_b/chunks/$cid" | sha256sum | grep -q "^$cid " || fail "server b served wrong bytes for pymongo's chunk"

note "a chunk in the store that no manifest lists yet is a 503 to retry; an id the store lacks is a 404"
orphan=$("$PY" - "$URI" "$DB" <<'PY'
import gridfs, hashlib, pymongo, sys
db = pymongo.MongoClient(sys.argv[1])[sys.argv[2]]
data = b"not listed yet " * 1000
cid = hashlib.sha256(data).hexdigest()
gridfs.GridFS(db).put(data, _id=cid, filename=cid)
print(cid)
PY
)
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_a/chunks/$orphan") == 503 ]] || fail "unlisted stored chunk is not a 503"
[[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT_a/chunks/$(printf 'e%.0s' $(seq 64))") == 404 ]] ||
  fail "a chunk id the store lacks is not a 404"
stop_and_check "$PID_a" a
stop_and_check "$PID_b" b
echo "PASS gridfs_roundtrip"
