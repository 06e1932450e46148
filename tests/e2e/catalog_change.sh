#!/usr/bin/env bash
# Catalog by change (local store): the server reads no manifest while the store is unchanged, picks up a
# newly ingested video by reading that one manifest only, drops a removed video without reading any, and
# re-reads a rewritten one. hybridnode_catalog_manifests_loaded_total counts the manifests read.
source "$(dirname "$0")/lib.sh"
head -c 20000 /dev/urandom >"$T/v.bin"
"$HN_BIN" ingest "$T/v.bin" --store "$T/s" --chunk-size 4096 --id v1 --title "video 1" >/dev/null
# Eleven more videos over the same chunks: copies of that manifest under other ids (one ingest each is slow
# on a loaded machine, and the server cannot tell the difference).
"$PY" - "$T/s/videos" <<'PY'
import json, sys
m = json.load(open(f"{sys.argv[1]}/v1.json"))
for i in range(2, 13):
    m["video_id"], m["title"] = f"v{i}", f"video {i}"
    open(f"{sys.argv[1]}/v{i}.json", "w").write(json.dumps(m))
PY
start_server s --store="$T/s" --catalog-refresh-ms=100
S=http://127.0.0.1:$PORT_s
code() { curl -s -o /dev/null -w '%{http_code}' "$1"; }
loaded() {
  local v
  v=$(metric "$PORT_s" hybridnode_catalog_manifests_loaded_total)
  [[ -n $v ]] || fail "no hybridnode_catalog_manifests_loaded_total in /metrics"
  echo "${v%.*}"
}
[[ $(loaded) == 12 ]] || fail "start read $(loaded) manifests, want 12"

note "unchanged store: refreshes read nothing"
sleep 1.5   # 15 refreshes, across the second in which the folder's mtime is too fresh to trust
reloads=$(metric "$PORT_s" hybridnode_catalog_reloads_total)
[[ $(loaded) == 12 ]] || fail "an unchanged store was re-read: $(loaded) manifests loaded"

note "a new video: only its manifest is read"
"$HN_BIN" ingest "$T/v.bin" --store "$T/s" --chunk-size 4096 --id new >/dev/null
for _ in $(seq 1 100); do [[ $(code "$S/videos/new") == 200 ]] && break; sleep 0.05; done
[[ $(code "$S/videos/new") == 200 ]] || fail "the new video is not listed after 5 s"
sleep 1.5
[[ $(loaded) == 13 ]] || fail "adding one video read $(( $(loaded) - 12 )) manifests, want 1"

note "a removed video leaves the catalog; no manifest is read"
rm "$T/s/videos/v3.json"
for _ in $(seq 1 100); do [[ $(code "$S/videos/v3") == 404 ]] && break; sleep 0.05; done
[[ $(code "$S/videos/v3") == 404 ]] || fail "the removed video is still listed after 5 s"
curl -sf "$S/videos" | "$PY" -c 'import json,sys; n=len(json.load(sys.stdin)["videos"]); assert n == 12, n' ||
  fail "catalog does not hold 12 videos after one added and one removed"
sleep 1.5
[[ $(loaded) == 13 ]] || fail "removing a video read $(( $(loaded) - 13 )) manifests, want 0"

note "a re-ingested video (new title): that manifest only is read again"
"$HN_BIN" ingest "$T/v.bin" --store "$T/s" --chunk-size 4096 --id v5 --title "retitled" >/dev/null
for _ in $(seq 1 100); do curl -sf "$S/videos/v5" | grep -q retitled && break; sleep 0.05; done
curl -sf "$S/videos/v5" | grep -q retitled || fail "the re-ingested video's new manifest is not served"
sleep 1.5
[[ $(loaded) == 14 ]] || fail "re-ingesting one video read $(( $(loaded) - 13 )) manifests, want 1"
(( $(metric "$PORT_s" hybridnode_catalog_reloads_total | cut -d. -f1) > ${reloads%.*} )) || fail "no catalog rebuild counted"
echo "12 manifests at start; +1 for a new video, +0 for a removed one, +1 for a re-ingested one"
stop_and_check "$PID_s" s
echo "PASS catalog_change"
