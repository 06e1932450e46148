// libFuzzer: the live manifest a viewer gets from the server (or from anyone who can answer for it).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "media/live_manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = hn::media::live_manifest_from_json(std::string(reinterpret_cast<const char*>(data), size));
  if (m) {
    auto again = hn::media::live_manifest_from_json(hn::media::live_manifest_to_json(*m));
    if (!again || again->chunks.size() != m->chunks.size()) std::abort();  // what we accept, we can re-emit
    // No seq arithmetic wraps: the edge is past every chunk, with room for a viewer's look-ahead window.
    if (!m->chunks.empty() && (m->next_seq() <= m->chunks.front().seq || m->next_seq() > hn::media::kMaxLiveSeq)) std::abort();
  }
  return 0;
}
