#!/usr/bin/env bash
# Benchmarks (not tests). Each writes CSV (and where it applies an SVG) under bench/results/.
#   scripts/bench.sh server   hybridnode vs nginx on the same 256 KiB chunk files, wrk -t2 -c64
#   scripts/bench.sh link     one ICE+SCTP peer link moving 1 GiB vs TCP, by SCTP path MTU
#   scripts/bench.sh swarm    32 peers, server cap 2, 64 MiB video vs an unlimited server
#   scripts/bench.sh rss      peak RSS of a peer downloading a 1 GiB video
#   scripts/bench.sh signal   N simulated peers on one swarm: relay latency, relays/s, RSS per member
#   scripts/bench.sh policy   switching-policy sweep: server bytes vs p95 completion (CSV + SVG)
#   scripts/bench.sh signal-cluster  one hot swarm over 1, 2, 3 signallers sharing it through Redis
#   scripts/bench.sh regions  RTT-aware vs random peer selection, two regions (latency added in the send path)
#   scripts/bench.sh live     live stream to 8 and 32 viewers: lag p50/p95, missed deadlines, peer share
#   scripts/bench.sh browser  TABS Chromium tabs + 1 native seeder, P2P off vs on: peer share, first frame, rebuffering
set -euo pipefail
cd "$(dirname "$0")/.."
what=${1:-}
case "$what" in
  server) shift; exec bash bench/server.sh "$@" ;;
  link) shift; exec bash bench/link.sh "$@" ;;
  swarm) shift; exec bash bench/swarm.sh "$@" ;;
  rss) shift; exec bash bench/rss.sh "$@" ;;
  signal) shift; exec bash bench/signal.sh "$@" ;;
  policy) shift; exec bash bench/policy.sh "$@" ;;
  live) shift; exec bash bench/live.sh "$@" ;;
  regions) shift; exec bash bench/regions.sh "$@" ;;
  browser) shift; exec bash bench/browser.sh "$@" ;;
  signal-cluster) shift; exec bash bench/signal_cluster.sh "$@" ;;
  *) echo "usage: scripts/bench.sh server|link|swarm|rss|signal|policy|live|regions|signal-cluster" >&2; exit 2 ;;
esac
