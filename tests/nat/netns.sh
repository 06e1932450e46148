# Builds a small internet from network namespaces (sourced by the NAT tests).
#
#   pub (198.51.100.1 on bridge br0): content server, signaller, coturn (STUN + TURN)
#    |-- nat1 (198.51.100.11) -- MASQUERADE ------------ home1 (192.0.2.2/26)
#    |-- nat2 (198.51.100.12) -- MASQUERADE [--random] --- home2 (192.0.2.66/26)
#    '-- nat3 (198.51.100.13) -- MASQUERADE ------------ home3 (192.0.2.130/26)
#
# Documentation address ranges only (TEST-NET-1 for the homes, TEST-NET-2 for the public side), so no
# packet can ever leave for a real network. Homes have no route to each other except through the NATs.
# NETNS_PREFIX keeps parallel runs apart; netns_teardown removes everything (also on failure: trap it).

NETNS_PREFIX=${NETNS_PREFIX:-hn$$}
ns() { echo "${NETNS_PREFIX}-$1"; }
in_ns() { local n=$1; shift; ip netns exec "$(ns "$n")" "$@"; }

# netns_teardown: removes the namespaces. Deleting a namespace does not end the processes inside it (they
# keep it alive, nameless), so any process still in one is named, killed, and fails the test (returns 1).
netns_teardown() {
  local n pids rc=0
  for n in pub void nat1 nat2 nat3 home1 home2 home3; do
    pids=$(ip netns pids "$(ns $n)" 2>/dev/null || true)
    if [[ -n "$pids" ]]; then
      echo "FAIL: processes left in namespace $(ns $n): $(for p in $pids; do tr '\0' ' ' <"/proc/$p/cmdline"; echo -n "; "; done)" >&2
      kill -KILL $pids 2>/dev/null || true
      rc=1
    fi
    ip netns del "$(ns $n)" 2>/dev/null || true
  done
  return $rc
}

# netns_setup [symmetric]: with "symmetric", nat2 maps every new destination to a random port.
netns_setup() {
  local mode=${1:-cone}
  for n in pub void nat1 nat2 nat3 home1 home2 home3; do
    ip netns add "$(ns $n)"
    in_ns $n ip link set lo up
  done
  in_ns pub ip link add br0 type bridge
  in_ns pub ip addr add 198.51.100.1/24 dev br0
  in_ns pub ip link set br0 up
  # Like the internet, the public side has no route to private addresses: packets for the homes'
  # host candidates vanish instead of failing with ENETUNREACH (which makes coturn drop an allocation).
  # (A "void" namespace that answers ARP but forwards nothing; dummy devices are not in every kernel.)
  ip link add void netns "$(ns pub)" type veth peer name eth0 netns "$(ns void)"
  in_ns pub ip addr add 198.18.0.1/30 dev void
  in_ns pub ip link set void up
  in_ns void ip addr add 198.18.0.2/30 dev eth0
  in_ns void ip link set eth0 up
  in_ns pub ip route add 192.0.2.0/24 via 198.18.0.2
  local i home_net
  for i in 1 2 3; do
    # NAT i: "wan" on the public bridge, "lan" towards home i.
    ip link add wan netns "$(ns nat$i)" type veth peer name "p$i" netns "$(ns pub)"
    in_ns pub ip link set "p$i" master br0 up
    in_ns nat$i ip addr add "198.51.100.1$i/24" dev wan
    in_ns nat$i ip link set wan up
    home_net=$(( (i - 1) * 64 ))
    ip link add lan netns "$(ns nat$i)" type veth peer name eth0 netns "$(ns home$i)"
    in_ns nat$i ip addr add "192.0.2.$((home_net + 1))/26" dev lan
    in_ns nat$i ip link set lan up
    in_ns home$i ip addr add "192.0.2.$((home_net + 2))/26" dev eth0
    in_ns home$i ip link set eth0 up
    in_ns home$i ip route add default via "192.0.2.$((home_net + 1))"
    in_ns nat$i sysctl -qw net.ipv4.ip_forward=1
    # Like a home router, drop unsolicited packets addressed to the NAT itself. Besides realism this keeps
    # a peer's early check from creating a conntrack entry that would make MASQUERADE change the port
    # of the outgoing mapping (a dropped packet's entry is never confirmed).
    in_ns nat$i iptables -A INPUT -i wan -j DROP
    if [[ $mode == symmetric && $i == 2 ]]; then
      in_ns nat$i iptables -t nat -A POSTROUTING -o wan -j MASQUERADE --random-fully
    else
      in_ns nat$i iptables -t nat -A POSTROUTING -o wan -j MASQUERADE
    fi
  done
}

# start_coturn DIR: STUN + TURN on 198.51.100.1:3478, user test / secret.
start_coturn() {
  local dir=$1
  cat >"$dir/turnserver.conf" <<CONF
listening-ip=198.51.100.1
relay-ip=198.51.100.1
listening-port=3478
min-port=49152
max-port=49999
realm=hybridnode.test
lt-cred-mech
user=test:secret
fingerprint
no-tls
no-dtls
no-cli
no-tcp-relay
allow-loopback-peers
cli-password=unused
pidfile=$dir/turnserver.pid
log-file=stdout
simple-log

CONF
  # Not through the in_ns function: a backgrounded function is a subshell, and its $! is not turnserver's
  # pid (killing it orphaned coturn). ip netns exec execs turnserver, so $! is the server itself.
  ip netns exec "$(ns pub)" turnserver -c "$dir/turnserver.conf" >"$dir/coturn.log" 2>&1 &
  HN_PIDS+=($!)
  for _ in $(seq 1 100); do grep -q "Total General servers\|listener opened\|IPv4. UDP listener opened" "$dir/coturn.log" 2>/dev/null && return 0; sleep 0.05; done
  sleep 0.5
}
