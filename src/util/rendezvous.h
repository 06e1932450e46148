// Rendezvous (highest-random-weight) hashing: every content server ranks the signallers the same way for a
// video, so a video's swarm lives on one signaller without shared state, and when that one is gone the
// next in the ranking takes over (only its swarms move).
#pragma once
#include <string>
#include <vector>

namespace hn {

// `nodes` ordered by their weight for `key`, highest (the owner) first.
std::vector<std::string> rendezvous_order(const std::vector<std::string>& nodes, const std::string& key);

// "a,b,c" -> {"a","b","c"} (empty items dropped).
std::vector<std::string> split_list(const std::string& text);

}  // namespace hn
