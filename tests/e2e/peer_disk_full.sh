#!/usr/bin/env bash
# A disk too small for the video is refused before anything is written. The output's disk fills up
# mid-download: the peer stops with a clear error, exits non-zero, and keeps the partial download; with
# room again it resumes. An output path that cannot exist fails clearly too.
source "$(dirname "$0")/lib.sh"
ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -f lavfi -i sine -t 4 \
  -c:v libx264 -preset ultrafast -b:v 4M -c:a aac -shortest "$T/clip.mp4"   # ~2 MiB
"$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --id clip --chunk-size 65536 >/dev/null
start_server srv --store="$T/store" --max-transfers=0 --uplink-rate=400000
mkdir -p "$T/small"
if ! mount -t tmpfs -o size=4m tmpfs "$T/small" 2>/dev/null; then
  echo "SKIPPED: cannot mount a small tmpfs here (needs root)" >&2
  exit 77
fi
unmount_small() { umount "$T/small" 2>/dev/null || true; }
HN_TEARDOWN_HOOKS+=(unmount_small)
size=$(stat -c %s "$T/clip.mp4")
(( size > 1000000 )) || fail "test video too small ($size)"

note "too little room up front: refused before a .part exists"
dd if=/dev/zero of="$T/small/filler" bs=64k count=$(( (4*1024*1024 - size/2) / 65536 )) 2>/dev/null || true
rc=0
"$HN_BIN" --role=peer --server="http://127.0.0.1:$PORT_srv" --video=clip --output="$T/small/clip.mp4" \
  >"$T/upfront.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] || fail "peer started a download that cannot fit"
grep -q "not enough disk space" "$T/upfront.log" || fail "no clear up-front error: $(tail -n 3 "$T/upfront.log")"
[[ ! -e "$T/small/clip.mp4.part" ]] || fail "a .part was created although the video cannot fit"
rm -f "$T/small/filler"

note "disk full mid-download (room at the start, filled while the peer downloads at 400 kB/s)"
rc=0
"$HN_BIN" --role=peer --server="http://127.0.0.1:$PORT_srv" --video=clip --output="$T/small/clip.mp4" \
  --summary="$T/full.json" >"$T/full.log" 2>&1 &
peer=$!
HN_PIDS+=("$peer")
for _ in $(seq 1 100); do [[ -e "$T/small/clip.mp4.part" ]] && break; sleep 0.05; done
[[ -e "$T/small/clip.mp4.part" ]] || fail "the download did not start: $(tail -n 3 "$T/full.log")"
dd if=/dev/zero of="$T/small/filler" bs=64k 2>/dev/null || true   # until the tmpfs is full
wait "$peer" || rc=$?
[[ $rc -ne 0 ]] || fail "peer claimed success on a full disk"
grep -q "cannot write the output" "$T/full.log" || fail "no clear error: $(tail -n 5 "$T/full.log")"
grep -q "partial download is kept" "$T/full.log" || fail "does not say the partial download is kept"
[[ -f "$T/small/clip.mp4.part" ]] || fail "partial download removed"
[[ ! -f "$T/small/clip.mp4" ]] || fail "an incomplete output got the final name"

note "room again: the same command resumes and completes"
rm -f "$T/small/filler"
"$HN_BIN" --role=peer --server="http://127.0.0.1:$PORT_srv" --video=clip --output="$T/small/clip.mp4" \
  --summary="$T/resume.json" >"$T/resume.log" 2>&1 || fail "resume failed: $(tail -n 5 "$T/resume.log")"
cmp "$T/clip.mp4" "$T/small/clip.mp4" || fail "resumed output differs"
[[ $(json "$T/resume.json" 'j["resumed_chunks"] > 0 and j["bytes_from_server"] < j["total_size"]') == True ]] \
  || fail "did not resume: $(cat "$T/resume.json")"

note "an output path that cannot exist"
rc=0
"$HN_BIN" --role=peer --server="http://127.0.0.1:$PORT_srv" --video=clip --output=/dev/null/x.mp4 >"$T/bad.log" 2>&1 || rc=$?
[[ $rc -ne 0 ]] && grep -q "cannot open /dev/null/x.mp4.part" "$T/bad.log" || fail "unclear: $(cat "$T/bad.log")"
echo "PASS peer_disk_full"
