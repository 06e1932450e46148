#include "signal/introductions.h"

namespace hn::signal {

void Introductions::introduce(ConnId to, ConnId peer) {
  Ring& r = ring_[to];
  for (uint8_t i = 0; i < r.used; i++)
    if (r.ids[i] == peer) return;
  r.ids[r.next] = peer;
  r.next = static_cast<uint8_t>((r.next + 1) % kIntroductions);
  if (r.used < kIntroductions) r.used++;
}

bool Introductions::knows(ConnId from, ConnId peer) const {
  auto it = ring_.find(from);
  if (it == ring_.end()) return false;
  for (uint8_t i = 0; i < it->second.used; i++)
    if (it->second.ids[i] == peer) return true;
  return false;
}

}  // namespace hn::signal
