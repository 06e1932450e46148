#!/usr/bin/env bash
# A full hybrid run across the NATs: server capacity 1 (paced), three peers in three homes (one behind
# the symmetric NAT), STUN + TURN configured. All outputs identical; peers delivered part of the bytes.
source "$(dirname "$0")/lib_nat.sh"
nat_world symmetric 1 400000   # a slow server: the swarm must carry most of the bytes
for i in 1 2 3; do
  peer_in home$i "p$i" --server="$SRV" --video=clip --signal-url="$SIG" "${STUN[@]}" "${TURN[@]}" --seed-for=-1
done
for i in 1 2 3; do wait_file "$T/p$i.mp4" 90 || fail "p$i did not complete: $(tail -n 20 "$T/p$i.log")"; done
for i in 1 2 3; do kill -TERM "$(eval echo \$PID_p$i)"; done
for i in 1 2 3; do wait "$(eval echo \$PID_p$i)" || true; done
for i in 1 2 3; do cmp "$T/clip.mp4" "$T/p$i.mp4" || fail "p$i output differs"; done
"$PY" - "$T" <<'PY'
import json, sys
d = sys.argv[1]
srv = peers = 0
for i in (1, 2, 3):
    s = json.load(open(f"{d}/p{i}.json"))
    srv += s["bytes_from_server"]; peers += s["bytes_from_peers"]
    print(f"p{i}: server {s['bytes_from_server']} peers {s['bytes_from_peers']} links " +
          ", ".join(f"{l['peer']}:{l['pair']}" for l in s["links"]))
assert peers > 0, "no bytes crossed the NATs between peers"
PY
echo "PASS nat_hybrid"
