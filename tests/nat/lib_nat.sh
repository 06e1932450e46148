# Shared setup of the NAT tests: the e2e helpers, the namespace internet, a video, server + signaller +
# coturn in the public namespace. Needs root (CI is root); skips loudly (ctest "Skipped") otherwise.
HN_NAT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source "$HN_NAT_DIR/../e2e/lib.sh"
if [[ $(id -u) -ne 0 ]] || ! command -v ip >/dev/null || ! command -v turnserver >/dev/null; then
  echo "SKIPPED: NAT tests need root, iproute2 and coturn (scripts/setup.sh installs them)" >&2
  exit 77
fi
source "$HN_NAT_DIR/netns.sh"
source "$HN_NAT_DIR/shape.sh"
NETNS_PREFIX="hn$$"
HN_TEARDOWN_HOOKS+=(netns_teardown)   # after hn_cleanup has ended every process

# nat_world MODE CAP [RATE]: topology, coturn, signaller and content server (capacity CAP, each transfer
# paced at RATE bytes/s, 0: not paced) in "pub". Shape links (shape_internet) after it for congestion.
nat_world() {
  netns_setup "$1"
  start_coturn "$T"
  ffmpeg -nostdin -v error -y -f lavfi -i "testsrc2=size=1280x720:rate=25" -f lavfi -i sine -t 10 \
    -c:v libx264 -preset ultrafast -b:v 2M -c:a aac -shortest "$T/clip.mp4"
  "$HN_BIN" ingest "$T/clip.mp4" --raw --store "$T/store" --id clip >/dev/null
  HN_LISTEN_HOST=198.51.100.1
  HN_EXEC=(ip netns exec "$(ns pub)")
  start_role sig signal
  start_server srv --store="$T/store" --max-transfers="$2" --limit-rate="${3:-2000000}" --signal-url="ws://198.51.100.1:$PORT_sig/ws"
  HN_EXEC=()
  SRV="http://198.51.100.1:$PORT_srv"
  SIG="ws://198.51.100.1:$PORT_sig/ws"
  STUN=(--stun=198.51.100.1:3478)
  TURN=(--turn=198.51.100.1:3478 --turn-user=test --turn-pass=secret)
}

# peer_in HOME NAME ARGS...: a peer inside a home namespace.
peer_in() {
  local home=$1; shift
  HN_EXEC=(ip netns exec "$(ns "$home")")
  start_peer "$@"
  HN_EXEC=()
}

# pair_of SUMMARY PEER: the selected candidate pair ("local/remote") of the link to PEER.
pair_of() { json "$1" "next((l['pair'] for l in j['links'] if l['peer'] == '$2'), '')"; }
