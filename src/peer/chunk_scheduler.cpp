#include "peer/chunk_scheduler.h"

#include <algorithm>

namespace hn {

void ChunkScheduler::set(uint32_t i, State s) {
  State old = state_[i];
  if (old == s) return;
  if (old == State::missing) --missing_;
  if (old == State::have) --held_;
  if (s == State::missing) ++missing_;
  if (s == State::have) ++held_;
  state_[i] = s;
}

std::optional<uint32_t> ChunkScheduler::next_for_server(const std::function<bool(uint32_t)>& peer_can_give,
                                                         bool fallback) const {
  std::optional<uint32_t> first;
  for (uint32_t i = 0; i < state_.size(); ++i) {
    if (state_[i] != State::missing) continue;
    if (!first) first = i;
    if (!peer_can_give || !peer_can_give(i)) return i;
  }
  return fallback ? first : std::nullopt;
}

std::optional<uint32_t> ChunkScheduler::next_for_server_spread(const std::function<bool(uint32_t)>& peer_can_give,
                                                                size_t urgent, uint32_t start) const {
  size_t n = state_.size(), seen = 0;
  for (uint32_t i = 0; i < n && seen < urgent; ++i) {
    if (state_[i] != State::missing) continue;
    ++seen;
    if (!peer_can_give(i)) return i;
  }
  for (size_t k = 0; k < n; ++k) {
    uint32_t i = static_cast<uint32_t>((start + k) % n);
    if (state_[i] == State::missing && !peer_can_give(i)) return i;
  }
  return std::nullopt;
}

std::vector<uint32_t> ChunkScheduler::rarest_first(const std::function<int(uint32_t)>& holders, size_t max) const {
  std::vector<std::pair<int, uint32_t>> c;
  for (uint32_t i = 0; i < state_.size(); ++i) {
    if (state_[i] != State::missing) continue;
    int h = holders(i);
    if (h > 0) c.emplace_back(h, i);
  }
  std::sort(c.begin(), c.end());
  std::vector<uint32_t> out;
  for (size_t k = 0; k < c.size() && out.size() < max; ++k) out.push_back(c[k].second);
  return out;
}

std::vector<uint32_t> ChunkScheduler::missing_list(size_t max) const {
  std::vector<uint32_t> out;
  for (uint32_t i = 0; i < state_.size() && out.size() < max; ++i)
    if (state_[i] == State::missing) out.push_back(i);
  return out;
}

}  // namespace hn
