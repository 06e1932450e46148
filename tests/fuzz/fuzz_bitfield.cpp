// libFuzzer: base64 bitfields from join/bitfield messages and their length checks.
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "util/bitfield.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  uint32_t count = (uint32_t{data[0]} << 8 | data[1]) + 1;
  std::vector<uint8_t> raw;
  if (!hn::Bitfield::from_base64(std::string(reinterpret_cast<const char*>(data + 2), size - 2), raw)) return 0;
  hn::Bitfield b;
  if (b.assign(count, raw)) {
    std::vector<uint8_t> back;
    if (!hn::Bitfield::from_base64(b.to_base64(), back) || back != b.bytes()) __builtin_trap();
    for (uint32_t i = 0; i < count + 8; ++i) (void)b.get(i);
  }
  return 0;
}
