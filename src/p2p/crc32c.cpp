#include "p2p/crc32c.h"

#include <cstring>

namespace hn::p2p {
namespace {

uint32_t table_crc(uint32_t crc, const uint8_t* p, size_t n) {
  static const auto table = [] {
    struct T { uint32_t v[256]; } t{};
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t c = i;
      for (int k = 0; k < 8; ++k) c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;
      t.v[i] = c;
    }
    return t;
  }();
  while (n--) crc = table.v[(crc ^ *p++) & 0xff] ^ (crc >> 8);
  return crc;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) uint32_t hw_crc(uint32_t crc, const uint8_t* p, size_t n) {
  uint64_t c = crc;
  while (n >= 8) {
    uint64_t v;
    std::memcpy(&v, p, 8);
    c = __builtin_ia32_crc32di(c, v);
    p += 8;
    n -= 8;
  }
  uint32_t c32 = static_cast<uint32_t>(c);
  while (n--) c32 = __builtin_ia32_crc32qi(c32, *p++);
  return c32;
}
#endif

}  // namespace

uint32_t crc32c(const uint8_t* data, size_t len) {
#if defined(__x86_64__)
  static const bool hw = __builtin_cpu_supports("sse4.2");
  if (hw) return ~hw_crc(0xFFFFFFFFu, data, len);
#endif
  return ~table_crc(0xFFFFFFFFu, data, len);
}

void sctp_set_crc32c(uint8_t* packet, size_t len) {
  if (len < 12) return;
  std::memset(packet + 8, 0, 4);
  uint32_t c = crc32c(packet, len);
  // Transmitted least significant byte first (RFC 4960 appendix B, as usrsctp stores it).
  packet[8] = static_cast<uint8_t>(c);
  packet[9] = static_cast<uint8_t>(c >> 8);
  packet[10] = static_cast<uint8_t>(c >> 16);
  packet[11] = static_cast<uint8_t>(c >> 24);
}

}  // namespace hn::p2p
