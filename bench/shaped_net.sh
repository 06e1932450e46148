# A shaped "internet" for benchmarks (sourced; needs root): the content server + signaller in one
# namespace behind SERVER_UP, every peer in its own home namespace with DOWN / UP, all on one bridge.
# Congestion is real queueing in tc (tbf; this kernel has no netem), not application pacing.
#
#   srv (198.51.100.1) --[SERVER_UP]--\
#   p1  (198.51.100.11) --[UP]-------- br0 (namespace "hub") --[DOWN]--> each peer
#   ...
# Usage: shaped_up N "SERVER_UP DOWN UP"; in_srv CMD...; in_peer I CMD...; shaped_down. For background
# processes use "ip netns exec $SNS-srv CMD &" directly: $! of a backgrounded function is a subshell.
SNS=${SNS:-hnb$$}
SRV_IP=198.51.100.1
in_srv() { ip netns exec "$SNS-srv" "$@"; }
in_peer() { local i=$1; shift; ip netns exec "$SNS-p$i" "$@"; }
peer_ip() { echo "198.51.100.$((10 + $1))"; }
tbf() { ip netns exec "$1" tc qdisc replace dev "$2" root tbf rate "$3" burst 32kbit latency 100ms; }

shaped_down() {
  local n
  for n in $(ip netns list | awk '{print $1}' | grep "^$SNS-"); do ip netns del "$n" 2>/dev/null || true; done
}

shaped_up() {
  local n=$1 up down peer_up i
  read -r up down peer_up <<<"$2"
  (( n <= 200 )) || { echo "shaped_up: at most 200 peers" >&2; return 1; }
  ip netns add "$SNS-hub"
  ip netns exec "$SNS-hub" ip link add br0 type bridge
  ip netns exec "$SNS-hub" ip link set br0 up
  attach() {  # NS IP NAME: a veth from NS (eth0) to the bridge (port NAME)
    ip netns add "$1"
    ip netns exec "$1" ip link set lo up
    ip link add eth0 netns "$1" type veth peer name "$3" netns "$SNS-hub"
    ip netns exec "$SNS-hub" ip link set "$3" master br0 up
    ip netns exec "$1" ip addr add "$2/24" dev eth0
    ip netns exec "$1" ip link set eth0 up
  }
  attach "$SNS-srv" "$SRV_IP" srv
  [[ $up == 0 ]] || tbf "$SNS-srv" eth0 "$up"
  for i in $(seq 1 "$n"); do
    attach "$SNS-p$i" "$(peer_ip "$i")" "p$i"
    [[ $peer_up == 0 ]] || tbf "$SNS-p$i" eth0 "$peer_up"
    [[ $down == 0 ]] || tbf "$SNS-hub" "p$i" "$down"
  done
}
