#include "peer/ban_list.h"

namespace hn {

void BanList::expire(double now) {
  while (!by_age_.empty() && (now - by_age_.begin()->first >= keep_s_ || at_.size() > max_)) {
    auto oldest = by_age_.begin();
    auto it = at_.find(oldest->second);
    if (it != at_.end() && it->second == oldest->first) at_.erase(it);
    by_age_.erase(oldest);
  }
}

void BanList::ban(const std::string& remote, double now) {
  auto it = at_.find(remote);
  if (it != at_.end()) {
    // Renewed: drop its old age entry so by_age_ stays one entry per remote.
    auto range = by_age_.equal_range(it->second);
    for (auto r = range.first; r != range.second; ++r)
      if (r->second == remote) {
        by_age_.erase(r);
        break;
      }
    it->second = now;
  } else {
    at_.emplace(remote, now);
  }
  by_age_.emplace(now, remote);
  expire(now);
}

bool BanList::banned(const std::string& remote, double now) const {
  auto it = at_.find(remote);
  return it != at_.end() && now - it->second < keep_s_;
}

}  // namespace hn
