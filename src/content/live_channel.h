// A live channel on the content server: the last `window` chunks in memory, the live manifest and
// HLS playlist over them, and long-poll waiters woken when a chunk is published.
// Loop-free (the caller drives time), so it is unit-tested without sockets.
#pragma once
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>

#include "media/live_manifest.h"
#include "media/ts_chunker.h"

namespace hn::content {

// Bytes of live chunks kept in memory, whatever the window: 1024 chunks of the chunker's 8 MiB cap
// would be 8 GiB. Past it the oldest chunks leave the window early (two always stay).
inline constexpr uint64_t kMaxLiveWindowBytes = 256u << 20;

struct LiveChunk {
  media::LiveChunkRef ref;
  std::shared_ptr<const std::string> bytes;  // shared with every response sending it
};

class LiveChannel {
 public:
  LiveChannel(std::string id, size_t window, double target_seconds, uint64_t max_bytes = kMaxLiveWindowBytes);

  const std::string& id() const { return id_; }
  const std::string& epoch() const { return epoch_; }  // this run of the channel (media::LiveManifest::epoch)
  bool ended() const { return ended_; }
  uint64_t next_seq() const { return next_seq_; }
  uint64_t bytes() const { return bytes_; }

  void publish(media::TsChunk chunk, int64_t wall_ms);
  // As publish, with the chunk's id (SHA-256 hex of its bytes) already computed off the loop (LiveSource).
  void publish_hashed(media::TsChunk chunk, std::string id, int64_t wall_ms);
  void end();  // the source is finished: manifests say so and waiters wake

  // Worker loops (--workers): each loop keeps its own copy of the channel (its waiters wake on that
  // loop); the source's loop tells the others of every change. replica(): same epoch, chunks and state,
  // no waiters. on_change: runs after each publish (the chunk) and at the end (nullptr).
  std::shared_ptr<LiveChannel> replica() const;
  void set_on_change(std::function<void(const LiveChunk*)> f) { on_change_ = std::move(f); }
  void add(const LiveChunk& c);  // a chunk cut on the source's loop, with its seq, id and shared bytes

  const LiveChunk* by_seq(uint64_t seq) const;
  const LiveChunk* by_id(const std::string& id) const;
  // Serialised once per change and shared by every response (and every woken long poll).
  std::shared_ptr<const std::string> manifest() const;
  std::string manifest_json() const { return *manifest(); }
  // HLS media playlist; segment URIs are relative: "<id>/<seq>.ts".
  std::shared_ptr<const std::string> playlist_shared() const;
  std::string playlist() const { return *playlist_shared(); }

  // Long poll: `wake` runs (once) when a chunk with seq >= `from_seq` exists, the channel ends, or
  // `deadline` (caller's clock) passes in expire(). Returns 0 when it ran at once, else a token for
  // cancel() (the request's connection died: the waiter goes with it and never runs).
  uint64_t wait(uint64_t from_seq, double deadline, std::function<void()> wake);
  bool cancel(uint64_t token);  // false: it had already run
  // A long poll that must be answered at once: its client knows another run of the channel (its epoch
  // differs, or it waits for a seq beyond our edge, which only a previous run could have told it).
  bool other_run(uint64_t from_seq, const std::string& epoch) const {
    return from_seq > next_seq_ || (!epoch.empty() && epoch != epoch_);
  }
  void expire(double now);
  size_t waiters() const { return waiters_.size(); }

 private:
  struct Waiter {
    uint64_t from_seq;
    double deadline;
    std::function<void()> wake;
  };

  void wake_ready();
  // Removes the waiter and returns its wake function.
  std::function<void()> take(uint64_t token);
  static void run(std::vector<std::function<void()>>& wakes);

  std::string id_;
  std::string epoch_;
  size_t window_;
  uint64_t discontinuity_seq_ = 0;  // discontinuities slid out of the window (EXT-X-DISCONTINUITY-SEQUENCE)
  double target_;
  uint64_t max_bytes_;
  uint64_t bytes_ = 0;
  uint64_t next_seq_ = 0;
  bool ended_ = false;
  std::deque<LiveChunk> chunks_;
  std::unordered_map<std::string, uint64_t> seq_of_id_;
  mutable std::shared_ptr<const std::string> manifest_, playlist_;  // caches, dropped on change
  // Waiters by token, with two ordered indexes so a publish or an expiry touches only the due ones.
  std::unordered_map<uint64_t, Waiter> waiters_;
  std::set<std::pair<uint64_t, uint64_t>> by_seq_;     // (from_seq, token)
  std::set<std::pair<double, uint64_t>> by_deadline_;  // (deadline, token)
  uint64_t next_token_ = 1;
  std::function<void(const LiveChunk*)> on_change_;
};

}  // namespace hn::content
