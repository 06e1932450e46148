// Feeds a live channel from an encoder: a FIFO, a pipe on stdin ("-") or a growing regular file.
// Bytes are read on the loop without blocking (uv_pipe for FIFOs and pipes, a 100 ms tail for files),
// cut by the TS chunker and published. A FIFO is opened read-write so an encoder restart is not an end.
#pragma once
#include <uv.h>

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
  void on_bytes(const char* data, size_t len);
  void on_end(const std::string& why);
  void tail_file();

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
