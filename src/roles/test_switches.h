// The TEST ONLY switches, in one place: what the project's tests and benchmarks use to make a real peer
// misbehave (lie, corrupt, flood) or to emulate a far network. `--help-test` lists them; `--help`, which
// is for users, does not.
#pragma once
#include <vector>

#include "config/options.h"
#include "hybridnode/peer.h"

namespace hn::roles {

std::vector<config::OptionSpec> peer_test_switches();
// Copies them into `po` and warns loudly when one is on; false (after printing why) on a bad value.
bool apply_peer_test_switches(const config::Options& o, PeerOptions& po);

}  // namespace hn::roles
