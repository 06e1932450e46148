// libFuzzer: manifests arrive from the network (peers fetch them from servers).
#include <cstddef>
#include <cstdint>
#include <string>

#include "hybridnode/manifest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto m = hn::manifest_from_json(std::string(reinterpret_cast<const char*>(data), size));
  if (m) {
    // Whatever parses must round-trip and stay consistent.
    auto again = hn::manifest_from_json(hn::manifest_to_json(*m));
    if (!again || again->chunks.size() != m->chunks.size()) __builtin_trap();
  }
  return 0;
}
