#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run the main job — a local swarm
# (content server + signaller + 8 peers sharing a video made with ffmpeg), printing per peer and in
# total how many bytes came from the server and how many from peers. Flags go to scripts/swarm.sh;
# scripts/demo.sh --web [flags of scripts/web_demo.sh] starts the browser demo instead.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
# --web: the browser demo (catalog and player pages, two native seeders; scripts/web_demo.sh prints the URL).
if [[ "${1:-}" == "--web" ]]; then shift; exec bash scripts/web_demo.sh "$@"; fi
exec bash scripts/swarm.sh --no-build "$@"
