// libFuzzer: the remote description and candidate lines a peer receives through the signaller, read the way
// PeerLink reads them: the JSEP reader (sdp_guard first), each candidate normalized, then handed to libnice.
#include <agent.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "p2p/jsep.h"
#include "p2p/sdp_guard.h"

namespace {

struct Agent {
  GMainContext* ctx = g_main_context_new();
  NiceAgent* agent = nice_agent_new_full(ctx, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_ICE_TRICKLE);
  guint stream = nice_agent_add_stream(agent, 1);
};

void to_libnice(Agent& a, const std::string& line) {
  auto vetted = hn::p2p::vet_remote_candidate(line);
  if (!vetted) return;
  if (NiceCandidate* c = nice_agent_parse_remote_candidate_sdp(a.agent, a.stream, vetted->c_str())) nice_candidate_free(c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Agent a;
  std::string sdp(reinterpret_cast<const char*>(data), size);
  if (auto r = hn::p2p::parse_jsep(sdp)) {
    if (r->candidates.size() > hn::p2p::kMaxSdpCandidates || r->fingerprint.size() != 95) __builtin_trap();
    for (const auto& c : r->candidates) to_libnice(a, c);
  }
  // Each line as a trickled candidate.
  size_t pos = 0;
  while (pos < sdp.size()) {
    size_t nl = sdp.find('\n', pos);
    std::string line = sdp.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? sdp.size() : nl + 1;
    auto n = hn::p2p::normalize_candidate(line);
    if (n && n->has_value()) to_libnice(a, **n);
  }
  return 0;
}
