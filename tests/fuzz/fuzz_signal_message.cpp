// libFuzzer: every WebSocket text message a stranger sends to the signaller, then through the registry,
// offers/answers/candidates through the relay path (re-serialised with "from", as the signaller does),
// join tokens (check_token on join/renew, split_swarm_key on the key a join builds) and introductions.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "signal/introductions.h"
#include "signal/join_token.h"
#include "signal/signal_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static hn::signal::SwarmRegistry registry;
  static hn::signal::Introductions intros;
  static const std::string secret = "fuzz-secret-0123456789";
  static hn::signal::ConnId next = 1;
  auto r = hn::signal::parse_message(std::string_view(reinterpret_cast<const char*>(data), size));
  if (auto* m = std::get_if<hn::signal::Message>(&r)) {
    using T = hn::signal::Message::Type;
    hn::signal::ConnId id = next++ % 64;
    switch (m->type) {
      case T::join: {
        (void)hn::signal::check_token(secret, m->token, m->video, m->content, 1000);
        std::string key = hn::signal::swarm_key(m->video, m->content, m->chunk_count), v, c;
        uint32_t n = 0;
        if (!hn::signal::split_swarm_key(key, v, c, n) || v != m->video || c != m->content || n != m->chunk_count) __builtin_trap();
        registry.join(id, key, m->peer, m->chunk_count, m->bitfield, 0);
        break;
      }
      case T::renew:
        if (!hn::signal::parse_token(m->token)) __builtin_trap();  // the parser only lets well-formed tokens through
        (void)hn::signal::check_token(secret, m->token, "vid", "", 1000);
        break;
      case T::have: registry.have(id, m->chunks); break;
      case T::bitfield: registry.set_bitfield(id, m->bitfield); break;
      case T::lookup:
        for (uint32_t c : m->chunks)
          for (const auto* p : registry.lookup(id, c, 8)) intros.introduce(id, p->conn);
        break;
      case T::leave: registry.leave(id); break;
      case T::offer:
      case T::answer:
      case T::candidate: {
        if (auto to = registry.route(id, m->to)) (void)intros.knows(id, *to);
        m->relay["from"] = "p1";
        std::string out = m->relay.dump();  // recursive in nlohmann: the depth bound keeps it shallow
        if (out.empty()) __builtin_trap();
        break;
      }
      default: registry.route(id, m->to); break;
    }
    if (registry.member_count() > 4096) {
      for (auto c : registry.expire(1e9, 0)) intros.forget(c);
    }
  }
  return 0;
}
