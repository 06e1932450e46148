#!/usr/bin/env bash
# The README's first command: install what is missing, build, and run the main job — a local swarm
# (content server + signaller + 8 peers sharing a video made with ffmpeg), printing per peer and in
# total how many bytes came from the server and how many from peers. Flags go to scripts/swarm.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
exec bash scripts/swarm.sh --no-build "$@"
