#include "content/live_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "media/sha256.h"
#include "util/blocking_work.h"
#include "util/clock.h"
#include "util/log.h"

namespace hn::content {

LiveSource::LiveSource(uv_loop_t* loop, std::string path, std::shared_ptr<LiveChannel> channel, double target_seconds)
    : loop_(loop), path_(std::move(path)), channel_(std::move(channel)), chunker_(target_seconds) {}

LiveSource::~LiveSource() {
  *alive_ = false;
  if (pipe_open_ && !paused_) uv_read_stop(reinterpret_cast<uv_stream_t*>(pipe_.get()));
  pipe_.reset();
  tail_.reset();
  expiry_.reset();
}

Result<void> LiveSource::start() {
  if (path_ == "-") {
    fd_ = UniqueFd(dup(STDIN_FILENO));
  } else {
    struct stat st {};
    if (stat(path_.c_str(), &st) != 0) return make_error("live source " + path_ + ": " + std::strerror(errno));
    // O_RDWR on a FIFO: we count as a writer too, so an encoder that exits and restarts is not an EOF.
    int flags = S_ISFIFO(st.st_mode) ? O_RDWR : O_RDONLY;
    fd_ = UniqueFd(::open(path_.c_str(), flags | O_NONBLOCK | O_CLOEXEC));
  }
  if (!fd_.valid()) return make_error("live source " + path_ + ": " + std::strerror(errno));
  // What the fd is decides how it is read: a regular file (stdin redirected from one too) is tailed;
  // libuv's pipe handle takes only pollable fds (FIFOs, sockets, terminals) and aborts in epoll_ctl on
  // anything else, so the rest is refused here with a clear error.
  struct stat st {};
  if (::fstat(fd_.get(), &st) != 0) return make_error("live source " + path_ + ": " + std::strerror(errno));
  bool regular = S_ISREG(st.st_mode);
  if (S_ISDIR(st.st_mode)) return make_error("live source " + path_ + " is a directory");
  if (S_ISCHR(st.st_mode) && !::isatty(fd_.get()))
    return make_error("live source " + path_ + " is a device that cannot be watched; pipe an encoder into it "
                      "(ffmpeg ... -f mpegts - | hybridnode --role=server --live=ID=-)");
  if (!regular && !S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode) && !S_ISSOCK(st.st_mode))
    return make_error("live source " + path_ + " is not a FIFO, pipe, socket or regular file");
  uv_timer_init(loop_, expiry_.get());
  expiry_->data = this;
  uv_timer_start(expiry_.get(), [](uv_timer_t* t) {
    auto* self = static_cast<LiveSource*>(t->data);
    if (self) self->channel_->expire(static_cast<double>(uv_now(t->loop)) / 1000.0);
  }, 100, 100);
  if (regular) {
    uv_timer_init(loop_, tail_.get());
    tail_->data = this;
    uv_timer_start(tail_.get(), [](uv_timer_t* t) {
      if (auto* self = static_cast<LiveSource*>(t->data)) self->tail_file();
    }, 0, 100);
    return {};
  }
  int rc = uv_pipe_init(loop_, pipe_.get(), 0);
  if (rc == 0) rc = uv_pipe_open(pipe_.get(), fd_.get());
  if (rc != 0) return make_error("live source " + path_ + ": " + uv_strerror(rc));
  fd_.release();  // the pipe handle owns it now
  pipe_open_ = true;
  pipe_->data = this;
  start_reading();
  return {};
}

void LiveSource::start_reading() {
  uv_read_start(
      reinterpret_cast<uv_stream_t*>(pipe_.get()),
      [](uv_handle_t*, size_t, uv_buf_t* buf) {
        static thread_local char scratch[256 * 1024];  // the chunker copies what it keeps
        *buf = uv_buf_init(scratch, sizeof scratch);
      },
      [](uv_stream_t* s, ssize_t n, const uv_buf_t* buf) {
        auto* self = static_cast<LiveSource*>(s->data);
        if (self == nullptr) return;
        if (n > 0) self->on_bytes(buf->base, static_cast<size_t>(n));
        else if (n < 0) self->on_end(n == UV_EOF ? "end of stream" : uv_strerror(static_cast<int>(n)));
      });
}

void LiveSource::tail_file() {
  static thread_local char buf[256 * 1024];
  for (int i = 0; i < 64 && !paused_; ++i) {  // at most 16 MiB per tick, so a huge file cannot stall the loop
    ssize_t n = ::read(fd_.get(), buf, sizeof buf);
    if (n <= 0) return;  // 0: no more yet (the file may grow)
    on_bytes(buf, static_cast<size_t>(n));
  }
}

void LiveSource::on_bytes(const char* data, size_t len) {
  bytes_in_ += len;
  for (auto& c : chunker_.feed(reinterpret_cast<const uint8_t*>(data), len, mono_seconds())) hash_and_publish(std::move(c));
}

void LiveSource::hash_and_publish(media::TsChunk chunk) {
  if (chunk.bytes.empty()) return;
  auto p = std::make_shared<Pending>();
  p->wall_ms = wall_ms();
  p->chunk = std::move(chunk);
  pending_bytes_ += p->chunk.bytes.size();
  pending_.push_back(p);
  if (pending_bytes_ > kMaxPendingBytes && !paused_) {
    paused_ = true;
    if (pipe_open_ && !ending_) uv_read_stop(reinterpret_cast<uv_stream_t*>(pipe_.get()));
  }
  std::weak_ptr<bool> alive = alive_;
  // The pool thread touches only `p`; the loop reads it again after the work is done.
  run_blocking<int>(
      loop_,
      [p]() {
        p->id = sha256_hex(p->chunk.bytes.data(), p->chunk.bytes.size());
        return 0;
      },
      [this, p, alive](int) {
        auto a = alive.lock();
        if (!a || !*a) return;
        p->hashed = true;
        publish_ready();
      });
}

void LiveSource::publish_ready() {
  while (!pending_.empty() && pending_.front()->hashed) {
    auto p = std::move(pending_.front());
    pending_.pop_front();
    pending_bytes_ -= p->chunk.bytes.size();
    channel_->publish_hashed(std::move(p->chunk), std::move(p->id), p->wall_ms);
  }
  if (paused_ && pending_bytes_ <= kMaxPendingBytes / 2) {
    paused_ = false;
    if (pipe_open_ && !ending_) start_reading();
  }
  if (ending_ && pending_.empty() && !channel_->ended()) {
    channel_->end();
    log::info("live " + channel_->id() + ": source ended (" + end_why_ + ") after " + std::to_string(channel_->next_seq()) + " chunks");
  }
}

void LiveSource::on_end(const std::string& why) {
  if (auto last = chunker_.flush()) hash_and_publish(std::move(*last));
  if (pipe_open_ && !paused_) uv_read_stop(reinterpret_cast<uv_stream_t*>(pipe_.get()));
  ending_ = true;
  end_why_ = why;
  publish_ready();  // nothing pending: ends now; else once the last chunk is hashed and published
}

}  // namespace hn::content
