// libFuzzer: DCEP control messages (PPID 50) as any WebRTC peer can send them on a new SCTP stream.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "p2p/dcep.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  auto m = hn::p2p::dcep::decode(in);
  if (auto* o = std::get_if<hn::p2p::dcep::Open>(&m)) {
    if (12 + o->label.size() + o->protocol.size() != size) __builtin_trap();
    if (hn::p2p::dcep::encode_open(*o) != in) __builtin_trap();  // what we read is exactly what was sent
  }
  return 0;
}
