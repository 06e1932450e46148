// A live channel on the content server: the last `window` chunks in memory, the live manifest and
// HLS playlist over them, and long-poll waiters woken when a chunk is published.
// Loop-free (the caller drives time), so it is unit-tested without sockets.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <unordered_map>
#include <deque>
#include <vector>

#include "media/live_manifest.h"
#include "media/ts_chunker.h"

namespace hn::content {

struct LiveChunk {
  media::LiveChunkRef ref;
  std::shared_ptr<const std::string> bytes;
};

class LiveChannel {
 public:
  LiveChannel(std::string id, size_t window, double target_seconds);

  const std::string& id() const { return id_; }
  const std::string& epoch() const { return epoch_; }  // this run of the channel (media::LiveManifest::epoch)
  bool ended() const { return ended_; }
  uint64_t next_seq() const { return next_seq_; }

  void publish(media::TsChunk chunk, int64_t wall_ms);
  void end();  // the source is finished: manifests say so and waiters wake

  const LiveChunk* by_seq(uint64_t seq) const;
  const LiveChunk* by_id(const std::string& id) const;
  std::string manifest_json() const;
  // HLS media playlist; segment URIs are relative: "<id>/<seq>.ts".
  std::string playlist() const;

  // Long poll: `wake` runs (once) when a chunk with seq >= `from_seq` exists, the channel ends, or
  // `deadline` (caller's clock) passes in expire().
  void wait(uint64_t from_seq, double deadline, std::function<void()> wake);
  // A long poll that must be answered at once: its client knows another run of the channel (its epoch
  // differs, or it waits for a seq beyond our edge, which only a previous run could have told it).
  bool other_run(uint64_t from_seq, const std::string& epoch) const {
    return from_seq > next_seq_ || (!epoch.empty() && epoch != epoch_);
  }
  void expire(double now);
  size_t waiters() const { return waiters_.size(); }

 private:

  std::string id_;
  std::string epoch_;
  size_t window_;
  uint64_t discontinuity_seq_ = 0;  // discontinuities slid out of the window (EXT-X-DISCONTINUITY-SEQUENCE)
  double target_;
  uint64_t next_seq_ = 0;
  bool ended_ = false;
  std::deque<LiveChunk> chunks_;
  std::unordered_map<std::string, uint64_t> seq_of_id_;
  struct Waiter {
    uint64_t from_seq;
    double deadline;
    std::function<void()> wake;
  };
  std::vector<Waiter> waiters_;
  void wake_ready();
  void wake_where(const std::function<bool(const Waiter&)>& due);
};

}  // namespace hn::content
