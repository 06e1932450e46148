# Shaped links for the namespace internet (sourced after netns.sh): real bottlenecks made with tc, so
# "the server is loaded" means a full queue on its uplink, not application pacing. This kernel has the
# tbf and htb qdiscs but no netem (no added delay here).
#
#   pub's uplink: br0's egress, which every packet the content server, signaller and TURN send to the
#                 homes crosses (traffic between homes is bridged past it, so peers do not share it);
#   a home's down: the NAT's "lan" egress; a home's up: the home's "eth0" egress.

# shape_dev NS DEV RATE: egress of DEV in namespace NS limited to RATE (tc units: 20mbit, 500kbit).
shape_dev() {
  in_ns "$1" tc qdisc replace dev "$2" root tbf rate "$3" burst "${SHAPE_BURST:-32kbit}" latency "${SHAPE_LATENCY:-100ms}"
}

# shape_internet SERVER_UP [HOME_DOWN HOME_UP]: the public side sends at most SERVER_UP in total; each home
# downloads at HOME_DOWN and uploads at HOME_UP (both unshaped when omitted).
shape_internet() {
  shape_dev pub br0 "$1"
  [[ -n "${2:-}" ]] || return 0
  local i
  for i in 1 2 3; do
    shape_dev "nat$i" lan "$2"
    shape_dev "home$i" eth0 "$3"
  done
}
