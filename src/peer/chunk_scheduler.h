// Which chunk to fetch next, and from where. Pure bookkeeping, unit-tested; PeerNode feeds it.
// Server: in playback order (urgent first), preferring chunks no connected peer can give.
// Peers: rarest first among the chunks some connected peer holds.
// Every choice costs O(log chunks) plus what it returns: the missing chunks, the ones no peer can give
// and the ones peers hold (by holder count) are kept in ordered sets, updated as states and holder
// counts change, so no call walks the whole video.
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <utility>
#include <vector>

namespace hn {

class ChunkScheduler {
 public:
  enum class State : uint8_t { missing, server, peer, verifying, have };

  explicit ChunkScheduler(size_t count);

  size_t size() const { return state_.size(); }
  State state(uint32_t i) const { return state_[i]; }
  void set(uint32_t i, State s);
  size_t missing() const { return missing_.size(); }  // neither held nor in flight
  size_t held() const { return held_; }
  bool complete() const { return held_ == state_.size(); }

  // Connected peers that can give chunk i (their owner keeps this current: link up, have, reject, close).
  void add_holder(uint32_t i);
  void remove_holder(uint32_t i);
  uint32_t holders(uint32_t i) const { return holders_[i]; }
  // A chunk a peer failed to deliver: the server gets first go at it, even while peers hold it.
  void set_server_first(uint32_t i, bool on);
  bool server_first(uint32_t i) const { return server_first_[i]; }
  // Whether a connected peer can give chunk i: held by one, and not a server-first chunk.
  bool peer_can_give(uint32_t i) const { return holders_[i] > 0 && !server_first_[i]; }

  // The first missing chunk.
  std::optional<uint32_t> next_for_server() const;
  // In the swarm: the first `urgent` missing chunks in order (what playback needs next), then the
  // others from `start` on, wrapping, so that peers ask the server for different chunks and can
  // trade them. Chunks connected peers can give are skipped.
  std::optional<uint32_t> next_for_server_spread(size_t urgent, uint32_t start) const;
  // Missing chunks held by at least one connected peer, fewest holders first (then by index), at most `max`.
  std::vector<uint32_t> rarest_first(size_t max) const;
  // Missing chunks (for lookups at the signaller), in order, at most `max`.
  std::vector<uint32_t> missing_list(size_t max) const;

 private:
  bool orphan(uint32_t i) const { return !peer_can_give(i); }
  void index(uint32_t i);    // a missing chunk enters the sets
  void unindex(uint32_t i);  // and leaves them
  std::vector<State> state_;
  std::vector<uint32_t> holders_;
  std::vector<bool> server_first_;
  size_t held_ = 0;
  std::set<uint32_t> missing_;
  std::set<uint32_t> orphans_;                         // missing, and no peer can give it
  std::set<std::pair<uint32_t, uint32_t>> by_rarity_;  // (holders, chunk): missing and held by a peer
};

}  // namespace hn
