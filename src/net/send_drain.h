// Holds a response's completion (and with it the content server's transfer slot) until the client has
// acknowledged the response's last byte. Handing the last byte to the kernel is not the end of a
// transfer: behind a slow uplink most of a chunk may still sit in the socket's send queue, and a policy
// that counted it as finished would admit the next transfer onto a link that is still busy.
#pragma once
#include <uv.h>

#include <cstdint>
#include <deque>
#include <functional>

#include "net/uv_handle.h"
#include "util/unique_fd.h"

namespace hn::net {

class SendDrain {
 public:
  using Done = std::function<void(uint64_t body_bytes, bool complete)>;
  // `fd` is the connection's socket (it may become invalid: taken over or closed). A drain that makes no
  // progress for `stall_ms` is released as incomplete and `on_stall` is called (the owner closes).
  SendDrain(uv_loop_t* loop, const UniqueFd& fd, uint64_t stall_ms, std::function<void()> on_stall);
  ~SendDrain();
  SendDrain(const SendDrain&) = delete;
  SendDrain& operator=(const SendDrain&) = delete;

  // Sets TCP_NOTSENT_LOWAT so the writer feels the link's back-pressure instead of filling megabytes
  // of send buffer in one go.
  void start();
  // The response's last byte was handed to the kernel: `done` runs once every byte written so far
  // has been acknowledged (at once when the queue is already empty).
  void hold(Done done, uint64_t body_bytes, bool complete);
  // Calls `cb` (once) when nothing is held any more; at once when nothing is.
  void when_idle(std::function<void()> cb);
  // The connection is going away: a last look at the socket, then everything is released.
  void release_all();
  bool busy() const { return !held_.empty(); }

 private:
  struct Held {
    uint64_t mark;  // tcpi_bytes_acked value at which the response has fully arrived
    Done done;
    uint64_t body_bytes;
    bool complete;
  };
  static void on_timer(uv_timer_t* t);
  bool read_socket(uint64_t& acked, bool& gone) const;
  void release(bool all, bool complete);
  void check();
  void schedule_ms(uint64_t ms);

  uv_loop_t* loop_;
  const UniqueFd& fd_;
  uint64_t stall_ms_;
  std::function<void()> on_stall_, on_idle_;
  UvHandle<uv_timer_t> timer_;
  std::deque<Held> held_;
  uint64_t acked_ = 0;           // last tcpi_bytes_acked seen
  uint64_t progress_ms_ = 0;     // loop time of the last acknowledgement progress
  uint64_t checked_ns_ = 0;      // when acked_ was read, for the drain-rate estimate
};

}  // namespace hn::net
