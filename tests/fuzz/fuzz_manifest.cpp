// libFuzzer: manifests arrive from the network (peers fetch them from servers).
#include <cstddef>
#include <cstdint>
#include <string>

#include "content/vod_pages.h"
#include "hybridnode/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = hn::manifest_from_json(std::string(reinterpret_cast<const char*>(data), size));
  if (m) {
    // Whatever parses must round-trip and stay consistent.
    auto again = hn::manifest_from_json(hn::manifest_to_json(*m));
    if (!again || again->chunks.size() != m->chunks.size() || again->media != m->media) __builtin_trap();
    // Offsets are the running sum of sizes and end at total_size, for byte and HLS manifests alike.
    uint64_t off = 0;
    for (size_t i = 0; i < m->chunks.size(); ++i) {
      if (m->offset_of(i) != off || again->chunks[i].duration != m->chunks[i].duration ||
          again->chunks[i].discontinuity != m->chunks[i].discontinuity)
        __builtin_trap();
      off += m->chunks[i].size;
    }
    if (off != m->total_size) __builtin_trap();
    if (m->is_hls()) {
      // The playlist lists every chunk once, and never a byte that is not from the manifest's ids.
      std::string pl = hn::content::vod_playlist(*m);
      size_t n = 0;
      for (size_t p = pl.find("/chunks/"); p != std::string::npos; p = pl.find("/chunks/", p + 1)) ++n;
      if (n != m->chunks.size() || pl.find("#EXT-X-ENDLIST") == std::string::npos) __builtin_trap();
    }
  }
  return 0;
}
