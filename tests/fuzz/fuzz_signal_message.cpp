// libFuzzer: every WebSocket text message a stranger sends to the signaller, then through the registry,
// and offers/answers/candidates through the relay path (re-serialised with "from", as the signaller does).
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "signal/signal_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hn::signal::SwarmRegistry registry;
  static hn::signal::ConnId next = 1;
  auto r = hn::signal::parse_message(std::string_view(reinterpret_cast<const char*>(data), size));
  if (auto* m = std::get_if<hn::signal::Message>(&r)) {
    using T = hn::signal::Message::Type;
    hn::signal::ConnId id = next++ % 64;
    switch (m->type) {
      case T::join: registry.join(id, m->video, m->peer, m->chunk_count, m->bitfield, 0); break;
      case T::have: registry.have(id, m->chunks); break;
      case T::bitfield: registry.set_bitfield(id, m->bitfield); break;
      case T::lookup:
        for (uint32_t c : m->chunks) registry.lookup(id, c, 8);
        break;
      case T::leave: registry.leave(id); break;
      case T::offer:
      case T::answer:
      case T::candidate: {
        registry.route(id, m->to);
        m->relay["from"] = "p1";
        std::string out = m->relay.dump();  // recursive in nlohmann: the depth bound keeps it shallow
        if (out.empty()) __builtin_trap();
        break;
      }
      default: registry.route(id, m->to); break;
    }
    if (registry.member_count() > 4096) registry.expire(1e9, 0);
  }
  return 0;
}
