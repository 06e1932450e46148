#include "peer/chunk_scheduler.h"

namespace hn {

ChunkScheduler::ChunkScheduler(size_t count)
    : state_(count, State::missing), holders_(count, 0), server_first_(count, false) {
  for (uint32_t i = 0; i < count; ++i) {
    missing_.insert(missing_.end(), i);
    orphans_.insert(orphans_.end(), i);
  }
}

void ChunkScheduler::index(uint32_t i) {
  missing_.insert(i);
  if (orphan(i)) orphans_.insert(i);
  if (holders_[i] > 0) by_rarity_.insert({holders_[i], i});
}

void ChunkScheduler::unindex(uint32_t i) {
  missing_.erase(i);
  orphans_.erase(i);
  if (holders_[i] > 0) by_rarity_.erase({holders_[i], i});
}

void ChunkScheduler::set(uint32_t i, State s) {
  State old = state_[i];
  if (old == s) return;
  if (old == State::missing) unindex(i);
  if (old == State::have) --held_;
  state_[i] = s;
  if (s == State::missing) index(i);
  if (s == State::have) ++held_;
}

void ChunkScheduler::add_holder(uint32_t i) {
  bool missing = state_[i] == State::missing;
  if (missing) unindex(i);
  ++holders_[i];
  if (missing) index(i);
}

void ChunkScheduler::remove_holder(uint32_t i) {
  if (holders_[i] == 0) return;
  bool missing = state_[i] == State::missing;
  if (missing) unindex(i);
  --holders_[i];
  if (missing) index(i);
}

void ChunkScheduler::set_server_first(uint32_t i, bool on) {
  if (server_first_[i] == on) return;
  bool missing = state_[i] == State::missing;
  if (missing) unindex(i);
  server_first_[i] = on;
  if (missing) index(i);
}

std::optional<uint32_t> ChunkScheduler::next_for_server() const {
  if (missing_.empty()) return std::nullopt;
  return *missing_.begin();
}

std::optional<uint32_t> ChunkScheduler::next_for_server_spread(size_t urgent, uint32_t start) const {
  size_t seen = 0;
  for (auto it = missing_.begin(); it != missing_.end() && seen < urgent; ++it, ++seen)
    if (orphan(*it)) return *it;
  if (orphans_.empty()) return std::nullopt;
  auto it = orphans_.lower_bound(start);
  return it != orphans_.end() ? *it : *orphans_.begin();
}

std::vector<uint32_t> ChunkScheduler::rarest_first(size_t max) const {
  std::vector<uint32_t> out;
  for (auto it = by_rarity_.begin(); it != by_rarity_.end() && out.size() < max; ++it) out.push_back(it->second);
  return out;
}

std::vector<uint32_t> ChunkScheduler::missing_list(size_t max) const {
  std::vector<uint32_t> out;
  for (auto it = missing_.begin(); it != missing_.end() && out.size() < max; ++it) out.push_back(*it);
  return out;
}

}  // namespace hn
