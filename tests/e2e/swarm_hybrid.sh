#!/usr/bin/env bash
# The user's flow end to end: 8 peers, server capacity 1. Every output is byte-identical to the
# source and plays; peers' counters and the server's /metrics agree that most bytes came from peers.
# Real congestion, no pacing flags (issue 20): the server behind an 8 Mbit/s tc tbf uplink, each peer in
# its own namespace with 20 Mbit/s down / 5 Mbit/s up (scripts/swarm.sh --shaped, bench/shaped_net.sh).
source "$(dirname "$0")/lib.sh"
if [[ $(id -u) -ne 0 ]] || ! command -v tc >/dev/null; then
  echo "SKIPPED: the shaped swarm needs root and tc (iproute2; scripts/setup.sh installs it)" >&2
  exit 77
fi

HN_BIN="$HN_BIN" bash "$HN_SRC/scripts/swarm.sh" --no-build --peers 8 --cap 1 --rate 0 --seconds 6 \
  --shaped "8mbit 20mbit 5mbit" --dir "$T/swarm" | tee "$T/swarm.out"
for i in $(seq 1 8); do
  cmp "$T/swarm/video.mp4" "$T/swarm/peer$i.mp4" || fail "peer$i output differs from the source"
done
ffprobe -v error -show_entries format=duration -of csv=p=0 "$T/swarm/peer8.mp4" >/dev/null || fail "output does not play"
"$PY" - "$T/swarm" <<'PY'
import json, sys
d = sys.argv[1]
srv = peers = 0
for i in range(1, 9):
    s = json.load(open(f"{d}/peer{i}.json"))
    assert s["complete"], f"peer{i} incomplete"
    assert s["bad_chunks"] == 0
    srv += s["bytes_from_server"]; peers += s["bytes_from_peers"]
metrics = {l.split()[0]: float(l.split()[1]) for l in open(f"{d}/server.metrics") if l and not l.startswith("#") and "{" not in l}
served = metrics["hybridnode_chunk_bytes_served_total"]
print(f"peers say: {srv} from server, {peers} from peers; server says it sent {served:.0f}")
assert peers > srv, "fewer than half of the bytes came from peers"
# The server counts bytes handed to the kernel; peers count verified chunks: equal unless a transfer was cut.
assert srv <= served <= srv + 8 * 262144, (srv, served)
assert served < (srv + peers) / 2, "server metrics disagree: it sent more than half"
assert metrics["hybridnode_refusals_total"] > 0
PY
echo "PASS swarm_hybrid"
