#include "net/send_drain.h"

#include <linux/sockios.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstddef>

namespace hn::net {
namespace {

// Unsent bytes the kernel may hold per connection. Small enough that a writer on a slow link waits for
// the link (its "transfer time" means something), large enough that loopback and LAN clients are fed
// in few system calls.
constexpr int kNotSentLowat = 64 * 1024;
constexpr uint64_t kMinCheckMs = 1, kMaxCheckMs = 20;

// glibc's tcp_info stops before the fields Linux added in 4.1; the kernel ABI only ever appends.
struct TcpInfo {
  tcp_info base;
  uint64_t pacing_rate, max_pacing_rate, bytes_acked;
};
static_assert(offsetof(TcpInfo, bytes_acked) == 120, "tcpi_bytes_acked offset of the Linux ABI");

}  // namespace

SendDrain::SendDrain(uv_loop_t* loop, const UniqueFd& fd, uint64_t stall_ms, std::function<void()> on_stall)
    : loop_(loop), fd_(fd), stall_ms_(stall_ms), on_stall_(std::move(on_stall)) {}

SendDrain::~SendDrain() {
  timer_.reset();
  release(true, false);
}

void SendDrain::start() {
  uv_timer_init(loop_, timer_.get());
  timer_->data = this;
  int lowat = kNotSentLowat;
  if (fd_.valid()) ::setsockopt(fd_.get(), IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat);
}

// Acknowledged bytes (tcpi_bytes_acked) and whether the connection is gone (closed or reset).
// False when the socket cannot be asked (taken over, closed, not TCP).
bool SendDrain::read_socket(uint64_t& acked, bool& gone) const {
  if (!fd_.valid()) return false;
  TcpInfo ti{};
  socklen_t len = sizeof ti;
  if (::getsockopt(fd_.get(), IPPROTO_TCP, TCP_INFO, &ti, &len) != 0 || len < sizeof ti) return false;
  acked = ti.bytes_acked;
  gone = ti.base.tcpi_state == TCP_CLOSE;
  return true;
}

void SendDrain::hold(Done done, uint64_t body_bytes, bool complete) {
  uint64_t acked = 0;
  bool gone = false;
  int queued = 0;
  // Acked first, then the queue: an ACK landing in between can only make the mark early by its size.
  if (!read_socket(acked, gone) || gone || ::ioctl(fd_.get(), SIOCOUTQ, &queued) != 0 || queued <= 0) {
    done(body_bytes, complete && !gone);
    return;
  }
  if (held_.empty()) {
    acked_ = acked;
    progress_ms_ = uv_now(loop_);
    checked_ns_ = uv_hrtime();
  }
  held_.push_back(Held{acked + static_cast<uint64_t>(queued), std::move(done), body_bytes, complete});
  if (!uv_is_active(timer_.handle())) schedule_ms(2);
}

void SendDrain::when_idle(std::function<void()> cb) {
  if (held_.empty()) {
    cb();
    return;
  }
  on_idle_ = std::move(cb);
}

void SendDrain::release_all() {
  if (held_.empty()) return;
  if (timer_.get() != nullptr && timer_->loop != nullptr) uv_timer_stop(timer_.get());
  uint64_t acked = 0;
  bool gone = false;
  bool known = read_socket(acked, gone);
  while (!held_.empty()) {
    Held h = std::move(held_.front());
    held_.pop_front();
    h.done(h.body_bytes, h.complete && (!known || acked >= h.mark));
  }
  on_idle_ = nullptr;
}

// Releases everything: `all` without looking; otherwise only what has arrived.
void SendDrain::release(bool all, bool complete) {
  while (!held_.empty()) {
    Held& f = held_.front();
    if (!all && acked_ < f.mark) break;
    Held h = std::move(f);
    held_.pop_front();
    if (h.done) h.done(h.body_bytes, h.complete && (complete || acked_ >= h.mark));
  }
}

void SendDrain::on_timer(uv_timer_t* t) {
  if (auto* self = static_cast<SendDrain*>(t->data)) self->check();
}

void SendDrain::check() {
  uint64_t acked = 0;
  bool gone = false;
  if (!read_socket(acked, gone)) {
    release(true, true);  // the socket changed hands: the bytes were handed over, nothing more to learn
  } else {
    uint64_t now_ns = uv_hrtime();
    if (acked != acked_) progress_ms_ = uv_now(loop_);
    uint64_t gained = acked > acked_ ? acked - acked_ : 0;
    uint64_t elapsed_ns = std::max<uint64_t>(1, now_ns - checked_ns_);
    acked_ = acked;
    checked_ns_ = now_ns;
    release(gone, false);  // a client that has gone frees its slot at once
    if (!held_.empty() && uv_now(loop_) - progress_ms_ >= stall_ms_) {
      release(true, false);
      auto stalled = on_stall_;
      on_idle_ = nullptr;
      if (stalled) stalled();  // may destroy this object: nothing after it
      return;
    }
    if (!held_.empty()) {
      // Look again about when the rest should have drained at the rate seen so far.
      uint64_t remaining = held_.front().mark - acked_;
      uint64_t ms = gained == 0 ? kMaxCheckMs / 4 : remaining * elapsed_ns / gained / 1000000;
      schedule_ms(ms);
      return;
    }
  }
  if (held_.empty() && on_idle_) {
    auto idle = std::move(on_idle_);
    on_idle_ = nullptr;
    idle();  // may destroy this object: nothing after it
  }
}

void SendDrain::schedule_ms(uint64_t ms) {
  if (timer_.get() == nullptr || timer_->loop == nullptr) return;
  uv_timer_start(timer_.get(), on_timer, std::clamp(ms, kMinCheckMs, kMaxCheckMs), 0);
}

}  // namespace hn::net
