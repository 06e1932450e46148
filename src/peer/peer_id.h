#pragma once
#include <string>

namespace hn {
// "p" + 12 random hex digits: a peer's name in the swarm when the user gives none.
std::string random_peer_id();
}  // namespace hn
