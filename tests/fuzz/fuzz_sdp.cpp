// libFuzzer: the remote description and candidate lines a peer receives through the signaller, parsed the way
// IceTransport parses them: sdp_guard first, then libnice's SDP parsers.
#include <agent.h>

#include <cstddef>
#include <cstdint>
#include <string>

#include "p2p/sdp_guard.h"

namespace {

struct Agent {
  GMainContext* ctx = g_main_context_new();
  NiceAgent* agent = nice_agent_new_full(ctx, NICE_COMPATIBILITY_RFC5245, NICE_AGENT_OPTION_ICE_TRICKLE);
  guint stream = nice_agent_add_stream(agent, 1);
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Agent a;
  std::string sdp(reinterpret_cast<const char*>(data), size);
  if (hn::p2p::vet_remote_description(sdp)) {
    gchar* ufrag = nullptr;
    gchar* pwd = nullptr;
    GSList* cands = nice_agent_parse_remote_stream_sdp(a.agent, a.stream, sdp.c_str(), &ufrag, &pwd);
    g_free(ufrag);
    g_free(pwd);
    g_slist_free_full(cands, reinterpret_cast<GDestroyNotify>(nice_candidate_free));
  }
  // Each line as a trickled candidate.
  size_t pos = 0;
  while (pos < sdp.size()) {
    size_t nl = sdp.find('\n', pos);
    std::string line = sdp.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? sdp.size() : nl + 1;
    auto vetted = hn::p2p::vet_remote_candidate(line);
    if (line.empty() || !vetted) continue;
    if (NiceCandidate* c = nice_agent_parse_remote_candidate_sdp(a.agent, a.stream, vetted->c_str())) nice_candidate_free(c);
  }
  return 0;
}
