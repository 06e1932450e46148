#!/usr/bin/env bash
# One side behind a symmetric NAT (MASQUERADE --random-fully: a new port per destination): hole punching
# cannot work, so ICE falls back to the TURN relay on coturn; the chunks still arrive and verify.
source "$(dirname "$0")/lib_nat.sh"
nat_world symmetric 4
peer_in home1 seeder --server="$SRV" --video=clip --signal-url="$SIG" "${STUN[@]}" "${TURN[@]}" --seed-for=-1
wait_file "$T/seeder.mp4" 30 || fail "seeder did not download from the server"
peer_in home2 leecher --server="$SRV" --video=clip --signal-url="$SIG" "${STUN[@]}" "${TURN[@]}" --server-slots=0
for _ in $(seq 1 600); do kill -0 "$PID_leecher" 2>/dev/null || break; sleep 0.1; done
kill -0 "$PID_leecher" 2>/dev/null && fail "leecher still running after 60 s"
wait "$PID_leecher" || fail "leecher failed: $(tail -n 20 "$T/leecher.log")"
cmp "$T/clip.mp4" "$T/leecher.mp4" || fail "bytes differ"
pair=$(pair_of "$T/leecher.json" seeder)
echo "selected pair leecher->seeder: $pair"
[[ $pair == *relay* ]] || fail "expected a TURN relay pair behind a symmetric NAT, got '$pair'"
echo "PASS nat_symmetric ($pair)"
