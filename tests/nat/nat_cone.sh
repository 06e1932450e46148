#!/usr/bin/env bash
# Two peers behind two different cone-like NATs (Linux MASQUERADE, endpoint-independent mapping) punch
# a direct hole with STUN: the selected pair is server-reflexive on the wire, not relayed, and bytes match.
source "$(dirname "$0")/lib_nat.sh"
nat_world cone 4
export HN_LOG=${HN_LOG:-info}
peer_in home1 seeder --server="$SRV" --video=clip --signal-url="$SIG" "${STUN[@]}" "${TURN[@]}" --seed-for=-1
wait_file "$T/seeder.mp4" 30 || fail "seeder did not download from the server"
# The leecher takes chunks from peers only, so every byte crosses both NATs.
peer_in home2 leecher --server="$SRV" --video=clip --signal-url="$SIG" "${STUN[@]}" "${TURN[@]}" --server-slots=0 \
  --seed-for=4 --metrics-listen=127.0.0.1:0 --port-file="$T/leecher.mport"
wait_file "$T/leecher.mp4" 60 || fail "leecher did not complete: $(tail -n 20 "$T/leecher.log")"
# The peer's own /metrics names the candidate pair types of its links.
ip netns exec "$(ns home2)" curl -sf "http://127.0.0.1:$(cat "$T/leecher.mport")/metrics" >"$T/leecher.metrics" || fail "peer /metrics"
grep -E '^hybridnode_peer_links\{local="(srflx|prflx)",remote="(srflx|prflx)"\} 1' "$T/leecher.metrics" \
  || fail "peer /metrics does not show the srflx link: $(grep links "$T/leecher.metrics")"
for _ in $(seq 1 600); do kill -0 "$PID_leecher" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID_leecher" 2>/dev/null && fail "leecher still running after 60 s: $(tail -n 20 "$T/leecher.log")"
wait "$PID_leecher" || fail "leecher failed: $(tail -n 20 "$T/leecher.log")"
cmp "$T/clip.mp4" "$T/leecher.mp4" || fail "bytes differ"
pair=$(pair_of "$T/leecher.json" seeder)
echo "selected pair leecher->seeder: $pair"
[[ $pair != *relay* ]] || fail "went through TURN ($pair) although both NATs are cone-like"
[[ $pair == *srflx* || $pair == *prflx* ]] || fail "pair $pair is not a reflexive (hole-punched) pair"
[[ $(json "$T/leecher.json" 'j["bytes_from_peers"] == j["total_size"]') == True ]] || fail "not all bytes from the peer"
echo "PASS nat_cone ($pair)"
