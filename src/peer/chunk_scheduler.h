// Which chunk to fetch next, and from where. Pure bookkeeping, unit-tested; PeerNode feeds it.
// Server: in playback order (urgent first), preferring chunks no connected peer can give.
// Peers: rarest first among the chunks some connected peer holds.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace hn {

class ChunkScheduler {
 public:
  enum class State : uint8_t { missing, server, peer, verifying, have };

  explicit ChunkScheduler(size_t count) : state_(count, State::missing), missing_(count) {}

  size_t size() const { return state_.size(); }
  State state(uint32_t i) const { return state_[i]; }
  void set(uint32_t i, State s);
  size_t missing() const { return missing_; }  // neither held nor in flight
  size_t held() const { return held_; }
  bool complete() const { return held_ == state_.size(); }

  // The first missing chunk; with `peer_can_give`, the first one that no connected peer holds if any,
  // else (fallback=true) the first missing at all.
  std::optional<uint32_t> next_for_server(const std::function<bool(uint32_t)>& peer_can_give, bool fallback) const;
  // In the swarm: the first `urgent` missing chunks in order (what playback needs next), then the
  // others from `start` on, wrapping, so that peers ask the server for different chunks and can
  // trade them. Chunks connected peers hold are skipped.
  std::optional<uint32_t> next_for_server_spread(const std::function<bool(uint32_t)>& peer_can_give, size_t urgent,
                                                 uint32_t start) const;
  // Missing chunks held by at least one connected peer, fewest holders first, at most `max`.
  std::vector<uint32_t> rarest_first(const std::function<int(uint32_t)>& holders, size_t max) const;
  // Missing chunks (for lookups at the signaller), in order, at most `max`.
  std::vector<uint32_t> missing_list(size_t max) const;

 private:
  std::vector<State> state_;
  size_t missing_ = 0, held_ = 0;
};

}  // namespace hn
