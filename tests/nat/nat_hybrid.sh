#!/usr/bin/env bash
# A full hybrid run across the NATs on shaped links, no pacing flags: the content server (capacity 1)
# behind a 4 Mbit/s uplink, six peers in three homes (two each) with 20 Mbit/s down / 5 Mbit/s up,
# behind cone NATs (TURN's relays would share the server's uplink; nat_symmetric covers them), STUN +
# TURN configured. All outputs identical, most bytes from peers, and peers refused by the busy server
# return to it when its slot frees.
source "$(dirname "$0")/lib_nat.sh"
nat_world cone 1 0
shape_internet 4mbit 20mbit 5mbit
P=(1 2 3 4 5 6)
for i in "${P[@]}"; do
  peer_in "home$(( (i - 1) % 3 + 1 ))" "p$i" --server="$SRV" --video=clip --signal-url="$SIG" "${STUN[@]}" "${TURN[@]}" --seed-for=-1
done
for i in "${P[@]}"; do wait_file "$T/p$i.mp4" 90 || fail "p$i did not complete: $(tail -n 20 "$T/p$i.log")"; done
for i in "${P[@]}"; do kill -TERM "$(eval echo \$PID_p$i)"; done
for i in "${P[@]}"; do wait "$(eval echo \$PID_p$i)" || true; done
for i in "${P[@]}"; do cmp "$T/clip.mp4" "$T/p$i.mp4" || fail "p$i output differs"; done
"$PY" - "$T" <<'PY'
import json, sys
d = sys.argv[1]
srv = peers = returns = refusals = 0
for i in range(1, 7):
    s = json.load(open(f"{d}/p{i}.json"))
    srv += s["bytes_from_server"]; peers += s["bytes_from_peers"]
    returns += s["server_returns"]; refusals += s["server_refusals"]
    print(f"p{i}: server {s['bytes_from_server']} peers {s['bytes_from_peers']} refusals {s['server_refusals']} "
          f"returns {s['server_returns']} {s['seconds']:.1f} s links " +
          ", ".join(f"{l['peer']}:{l['pair']}" for l in s["links"]))
print(f"total: {peers / (srv + peers) * 100:.0f}% from peers, {refusals} refusals, {returns} returns to the server")
assert peers > srv, "most bytes should come from peers when the server's uplink is the bottleneck"
assert returns >= 1, "no peer went back to the server when its slot freed"
PY
echo "PASS nat_hybrid"
