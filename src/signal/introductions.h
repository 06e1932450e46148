// Who may signal whom (docs/security.md): a member may send offers/answers/candidates only to members it
// was introduced to, i.e. that a lookup answer named to it or that sent it a relay first. Kept by the
// connection ids the signaller assigned (a client cannot choose or forge them), bounded per member: the
// newest kIntroductions, older ones need a fresh lookup.
#pragma once
#include <array>
#include <cstdint>
#include <unordered_map>

#include "signal/swarm_registry.h"

namespace hn::signal {

class Introductions {
 public:
  static constexpr size_t kIntroductions = 32;
  void introduce(ConnId to, ConnId peer);  // `to` may now signal `peer`
  bool knows(ConnId from, ConnId peer) const;
  void forget(ConnId c) { ring_.erase(c); }
  size_t size() const { return ring_.size(); }

 private:
  struct Ring {
    std::array<ConnId, kIntroductions> ids{};
    uint8_t next = 0, used = 0;
  };
  std::unordered_map<ConnId, Ring> ring_;
};

}  // namespace hn::signal
