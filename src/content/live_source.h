// Feeds a live channel from an encoder: a FIFO, a pipe on stdin ("-") or a growing regular file.
// Bytes are read on the loop without blocking (uv_pipe for FIFOs and pipes, a 100 ms tail for files),
// cut by the TS chunker, hashed on the libuv thread pool (an 8 MiB chunk is ~20 ms of SHA-256: not on the
// loop) and published in the order they were cut. A FIFO is opened read-write so an encoder restart is not an end.
#pragma once
#include <uv.h>

#include <deque>
#include <functional>
#include <memory>
#include <string>

#include "content/live_channel.h"
#include "hybridnode/result.h"
#include "media/ts_chunker.h"
#include "net/uv_handle.h"
#include "util/unique_fd.h"

namespace hn::content {

class LiveSource {
 public:
  LiveSource(uv_loop_t* loop, std::string path, std::shared_ptr<LiveChannel> channel, double target_seconds);
  ~LiveSource();
  LiveSource(const LiveSource&) = delete;
  LiveSource& operator=(const LiveSource&) = delete;

  Result<void> start();
  uint64_t bytes_in() const { return bytes_in_; }
  uint64_t bytes_skipped() const { return chunker_.bytes_skipped(); }

 private:
  // A chunk being hashed on the pool; published once it and every chunk cut before it are hashed.
  struct Pending {
    media::TsChunk chunk;
    int64_t wall_ms = 0;  // when it was cut
    std::string id;
    bool hashed = false;
  };
  // Hashing falls behind the source past this many bytes: reading pauses until it catches up.
  static constexpr uint64_t kMaxPendingBytes = 64u << 20;

  void on_bytes(const char* data, size_t len);
  void on_end(const std::string& why);
  void tail_file();
  void hash_and_publish(media::TsChunk chunk);
  void publish_ready();
  void start_reading();

  std::deque<std::shared_ptr<Pending>> pending_;
  uint64_t pending_bytes_ = 0;
  bool paused_ = false;
  bool ending_ = false;  // the source ended: end the channel once pending_ is published
  std::string end_why_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);  // false once destroyed: late hashes are dropped

  uv_loop_t* loop_;
  std::string path_;
  std::shared_ptr<LiveChannel> channel_;
  media::TsChunker chunker_;
  UniqueFd fd_;
  net::UvHandle<uv_pipe_t> pipe_;
  net::UvHandle<uv_timer_t> tail_;
  net::UvHandle<uv_timer_t> expiry_;
  uint64_t bytes_in_ = 0;
  bool pipe_open_ = false;
};

}  // namespace hn::content
