// libFuzzer: the peer wire protocol, as any peer can send it over SCTP.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "p2p/wire.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto r = hn::p2p::wire::decode(std::string_view(reinterpret_cast<const char*>(data), size));
  if (auto* m = std::get_if<hn::p2p::wire::Message>(&r)) {
    if (auto* p = std::get_if<hn::p2p::wire::Piece>(m)) {
      if (p->data.size() > hn::p2p::wire::kBlockSize || uint64_t{p->offset} + p->data.size() > p->total) __builtin_trap();
    }
  }
  return 0;
}
