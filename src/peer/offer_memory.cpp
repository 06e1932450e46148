#include "peer/offer_memory.h"

namespace hn {

std::optional<double> OfferMemory::at(const std::string& remote) const {
  auto it = at_.find(remote);
  if (it == at_.end()) return std::nullopt;
  return it->second;
}

void OfferMemory::sweep(double now) {
  for (auto it = at_.begin(); it != at_.end();) it = now - it->second >= keep_s_ ? at_.erase(it) : std::next(it);
  last_sweep_ = now;
}

bool OfferMemory::record(const std::string& remote, double now) {
  // Full: sweep again soon, but not on every offer of a flood (a sweep walks the whole table).
  if (now - last_sweep_ >= keep_s_ / 2 || (at_.size() >= max_ && now - last_sweep_ >= keep_s_ / 16)) sweep(now);
  auto it = at_.find(remote);
  if (it != at_.end()) {
    it->second = now;
    return true;
  }
  if (at_.size() >= max_) return false;
  at_.emplace(remote, now);
  return true;
}

}  // namespace hn
