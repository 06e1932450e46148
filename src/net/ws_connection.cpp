#include "net/ws_connection.h"

#include <openssl/rand.h>
#include <sys/socket.h>
#include <wslay/wslay.h>

#include <atomic>
#include <cerrno>
#include <cstring>

namespace hn::net {

namespace {
std::atomic<size_t> g_live_contexts{0};
}  // namespace

size_t WsConnection::live_contexts() { return g_live_contexts.load(); }

// wslay's C callbacks, forwarding to the connection in user_data.
struct WsCallbacks {
  static ssize_t recv(wslay_event_context_ptr ctx, uint8_t* buf, size_t len, int, void* user) {
    auto* self = static_cast<WsConnection*>(user);
    if (self->too_big_) {  // stop here: pump() answers 1009 (failing the callback would queue a code-less close)
      wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
      return -1;
    }
    if (self->pending_off_ < self->pending_in_.size()) {
      size_t n = std::min(len, self->pending_in_.size() - self->pending_off_);
      std::memcpy(buf, self->pending_in_.data() + self->pending_off_, n);
      self->pending_off_ += n;
      if (!self->guard_.feed(buf, n)) self->too_big_ = true;
      if (self->pending_off_ == self->pending_in_.size()) {
        self->pending_in_.clear();
        self->pending_in_.shrink_to_fit();
        self->pending_off_ = 0;
      }
      return static_cast<ssize_t>(n);
    }
    // Past the budget, stop; but not with bytes TLS already holds (at most one record): the poll would
    // never fire for them.
    if (self->read_this_wakeup_ >= self->limits_.read_budget_bytes && !(self->tls_ && self->tls_->pending() > 0)) {
      wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);  // budget spent: the poll fires again next turn
      return -1;
    }
    ssize_t r;
    do {
      r = self->tls_ ? self->tls_->read(buf, len) : ::recv(self->fd_.get(), buf, len, 0);
    } while (r < 0 && errno == EINTR);
    if (r > 0 && !self->guard_.feed(buf, static_cast<size_t>(r))) self->too_big_ = true;
    if (r > 0) {
      self->read_this_wakeup_ += static_cast<size_t>(r);
      return r;
    }
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
    } else {
      if (r == 0) self->peer_eof_ = true;
      wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
    }
    return -1;
  }

  static ssize_t send(wslay_event_context_ptr ctx, const uint8_t* data, size_t len, int flags, void* user) {
    auto* self = static_cast<WsConnection*>(user);
    int f = MSG_NOSIGNAL | ((flags & WSLAY_MSG_MORE) ? MSG_MORE : 0);
    ssize_t r;
    do {
      r = self->tls_ ? self->tls_->write(data, len) : ::send(self->fd_.get(), data, len, f);
    } while (r < 0 && errno == EINTR);
    if (r >= 0) return r;
    wslay_event_set_error(ctx, (errno == EAGAIN || errno == EWOULDBLOCK) ? WSLAY_ERR_WOULDBLOCK : WSLAY_ERR_CALLBACK_FAILURE);
    return -1;
  }

  static int genmask(wslay_event_context_ptr, uint8_t* buf, size_t len, void*) {
    return RAND_bytes(buf, static_cast<int>(len)) == 1 ? 0 : -1;
  }

  static void on_msg(wslay_event_context_ptr ctx, const wslay_event_on_msg_recv_arg* arg, void* user) {
    auto* self = static_cast<WsConnection*>(user);
    if (wslay_event_get_close_sent(ctx)) return;  // closing: data frames are read and discarded
    if (arg->opcode == WSLAY_TEXT_FRAME) {
      if (self->handlers_.on_text)
        self->handlers_.on_text(std::string_view(reinterpret_cast<const char*>(arg->msg), arg->msg_length));
    } else if (arg->opcode == WSLAY_BINARY_FRAME) {
      const char* why = "binary frames are not accepted; send JSON text";
      wslay_event_queue_close(ctx, kWsUnsupportedData, reinterpret_cast<const uint8_t*>(why), std::strlen(why));
    }
    // Close frames are answered by wslay itself; pings get pongs.
  }
};

WsConnection::WsConnection(uv_loop_t* loop, UniqueFd fd, std::string leftover, bool client, WsLimits limits,
                           std::unique_ptr<TlsStream> tls)
    : loop_(loop), fd_(std::move(fd)), pending_in_(std::move(leftover)), client_(client), limits_(limits),
      guard_(limits.max_message_bytes), tls_(std::move(tls)) {}

WsConnection::~WsConnection() {
  handlers_ = {};
  poll_.reset();
  close_timer_.reset();
  free_ctx();
}

bool WsConnection::ensure_ctx() {
  if (ctx_ != nullptr) return true;
  static const wslay_event_callbacks cbs = {WsCallbacks::recv, WsCallbacks::send, WsCallbacks::genmask,
                                            nullptr, nullptr, nullptr, WsCallbacks::on_msg};
  int rc = client_ ? wslay_event_context_client_init(&ctx_, &cbs, this)
                   : wslay_event_context_server_init(&ctx_, &cbs, this);
  if (rc != 0) {
    ctx_ = nullptr;
    return false;
  }
  wslay_event_config_set_max_recv_msg_length(ctx_, limits_.max_message_bytes);
  g_live_contexts++;
  return true;
}

void WsConnection::free_ctx() {
  if (ctx_ == nullptr) return;
  wslay_event_context_free(ctx_);
  ctx_ = nullptr;
  g_live_contexts--;
}

// A fresh context is in exactly this state: reading, writing, nothing queued, no close seen, and every
// byte handed to wslay parsed into whole messages (the guard saw the same bytes; wslay_event_recv only
// returns with reading on once it needs bytes the socket does not have yet).
bool WsConnection::idle() const {
  return !closing_ && !too_big_ && !draining_ && pending_off_ >= pending_in_.size() && guard_.idle() &&
         wslay_event_get_read_enabled(ctx_) && wslay_event_get_write_enabled(ctx_) && !wslay_event_want_write(ctx_) &&
         !wslay_event_get_close_received(ctx_) && !wslay_event_get_close_sent(ctx_);
}

void WsConnection::release_if_idle() {
  if (depth_ > 0 || ctx_ == nullptr) return;  // never under a wslay call: it still uses the context
  if (finished_ || idle()) free_ctx();
}

void WsConnection::start(Handlers h) {
  handlers_ = std::move(h);
  started_ = true;
  uv_poll_init(loop_, poll_.get(), fd_.get());
  poll_->data = this;
  uv_timer_init(loop_, close_timer_.get());
  close_timer_->data = this;
  auto keep = shared_from_this();
  pump(!pending_in_.empty(), false);
}

size_t WsConnection::queued_bytes() const { return ctx_ ? wslay_event_get_queued_msg_length(ctx_) : 0; }

bool WsConnection::send_text(std::string_view text) {
  if (!open() || closing_) return false;
  if (ctx_ != nullptr && (!wslay_event_get_write_enabled(ctx_) || wslay_event_get_close_sent(ctx_))) return false;
  size_t queued = queued_bytes();
  // Over the process budget, only a connection with nothing queued may add (its bytes usually go straight
  // to the socket); one already behind is the kind that fills memory, so it goes.
  bool process_full = limits_.budget && queued > 0 && limits_.budget->used + text.size() > limits_.budget->cap;
  if (queued + text.size() > limits_.max_queued_bytes || process_full) {
    // A reader this slow would make us buffer without bound: drop it.
    close(kWsPolicyViolation, process_full ? "too slow: server outgoing memory full" : "too slow: outgoing queue full");
    return false;
  }
  auto keep = shared_from_this();
  if (!ensure_ctx()) {
    finish(kWsInternalError, "out of memory");
    return false;
  }
  wslay_event_msg msg = {WSLAY_TEXT_FRAME, reinterpret_cast<const uint8_t*>(text.data()), text.size()};
  if (wslay_event_queue_msg(ctx_, &msg) != 0) {
    release_if_idle();
    return false;
  }
  account();
  pump(false, true);
  return true;
}

void WsConnection::close(uint16_t code, std::string_view reason) {
  if (!open()) return;
  auto keep = shared_from_this();
  if (!closing_) {
    if (!ensure_ctx()) return finish(kWsInternalError, "out of memory");
    closing_ = true;
    if (!wslay_event_get_close_sent(ctx_))
      wslay_event_queue_close(ctx_, code, reinterpret_cast<const uint8_t*>(reason.data()), std::min<size_t>(reason.size(), 120));
    // Reading goes on until the peer's close frame (RFC 6455 5.5.1): closing with unread data would
    // reset the connection and lose the close frame and any error we queued before it.
    // A peer that never reads our close frame does not keep the socket forever: started once, as a
    // close() repeated for each message of a flood would otherwise push the deadline back for ever.
    uv_timer_start(close_timer_.get(), on_close_timer, 2000, 0);
  }
  pump(false, true);
}

void WsConnection::abort() { finish(kWsGoingAway, "aborted"); }

void WsConnection::on_close_timer(uv_timer_t* t) {
  auto* self = static_cast<WsConnection*>(t->data);
  if (self == nullptr) return;
  auto keep = self->shared_from_this();
  self->finish(self->ctx_ ? wslay_event_get_status_code_sent(self->ctx_) : uint16_t{kWsGoingAway}, "close timed out");
}

void WsConnection::on_poll(uv_poll_t* h, int status, int events) {
  auto* self = static_cast<WsConnection*>(h->data);
  if (self == nullptr) return;
  auto keep = self->shared_from_this();
  if (status < 0) {
    self->finish(kWsGoingAway, "socket error");
    return;
  }
  self->read_this_wakeup_ = 0;  // per wakeup: a reply sent from inside a read (send_text) must not renew it
  self->pump((events & (UV_READABLE | UV_DISCONNECT)) != 0, (events & UV_WRITABLE) != 0);
}

void WsConnection::account() {
  if (!limits_.budget) return;
  size_t now = open() ? queued_bytes() : 0;
  limits_.budget->used = limits_.budget->used - std::min(limits_.budget->used, accounted_) + now;
  limits_.budget->peak = std::max(limits_.budget->peak, limits_.budget->used);
  accounted_ = now;
}

void WsConnection::pump(bool readable, bool writable) {
  if (!open()) return;
  if (ctx_ == nullptr && !readable) return update_poll();  // between messages: nothing to write either
  if (!ensure_ctx()) return finish(kWsInternalError, "out of memory");
  ++depth_;
  pump_ctx(readable, writable);
  --depth_;
  release_if_idle();
}

void WsConnection::pump_ctx(bool readable, bool writable) {
  if (draining_) return drain();
  if (readable && wslay_event_want_read(ctx_)) {
    int rc = wslay_event_recv(ctx_);
    if (too_big_ && open()) return refuse_too_big();
    if (rc != 0) {
      uint16_t code = peer_eof_ ? static_cast<uint16_t>(kWsGoingAway) : wslay_event_get_status_code_sent(ctx_);
      finish(code, peer_eof_ ? "connection closed" : "protocol error");
      return;
    }
    // The pongs wslay queued for pings bypass send_text(): the same limits hold for them, or a client that
    // pings and never reads grows the queue without bound (206 MB in 8 s before).
    size_t queued = queued_bytes();
    size_t others = limits_.budget ? limits_.budget->used - std::min(limits_.budget->used, accounted_) : 0;
    if (open() && (queued > limits_.max_queued_bytes || (limits_.budget && queued > 0 && others + queued > limits_.budget->cap))) {
      close(kWsPolicyViolation, "too slow: outgoing queue full");
      return;
    }
  }
  if (!open()) return;  // a handler closed us
  if ((writable || wslay_event_want_write(ctx_)) && wslay_event_want_write(ctx_)) {
    if (wslay_event_send(ctx_) != 0) {
      finish(kWsGoingAway, "send failed");
      return;
    }
  }
  if (!wslay_event_want_read(ctx_) && !wslay_event_want_write(ctx_)) {
    uint16_t code = wslay_event_get_close_received(ctx_) ? wslay_event_get_status_code_received(ctx_)
                                                          : wslay_event_get_status_code_sent(ctx_);
    finish(code, "closed");
    return;
  }
  account();
  update_poll();
}

void WsConnection::refuse_too_big() {
  // wslay is not asked to read again, but can still write: send 1009, then read and discard
  // whatever else arrives so closing does not reset the connection before the close frame is read.
  std::string why = "message exceeds " + std::to_string(limits_.max_message_bytes) + " bytes";
  if (!wslay_event_get_close_sent(ctx_))
    wslay_event_queue_close(ctx_, kWsTooBig, reinterpret_cast<const uint8_t*>(why.data()), why.size());
  draining_ = true;
  uv_timer_start(close_timer_.get(), on_close_timer, 2000, 0);
  drain();
}

void WsConnection::drain() {
  if (wslay_event_want_write(ctx_) && wslay_event_send(ctx_) != 0) {
    finish(kWsTooBig, "send failed");
    return;
  }
  if (!wslay_event_want_write(ctx_)) {
    if (tls_) tls_->shutdown();
    ::shutdown(fd_.get(), SHUT_WR);
  }
  char scratch[16384];
  for (;;) {
    ssize_t r = tls_ ? tls_->read(scratch, sizeof scratch) : ::recv(fd_.get(), scratch, sizeof scratch, 0);
    if (r > 0) continue;
    if (r < 0 && errno == EINTR) continue;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
    finish(kWsTooBig, "message too big");
    return;
  }
  watch(UV_READABLE | (wslay_event_want_write(ctx_) ? UV_WRITABLE : 0));
}

// libuv's uv_poll_start takes the fd out of epoll and puts it back (two epoll_ctl calls) even when the
// events are the same, which was the signaller's largest cost per relayed message.
void WsConnection::watch(int events) {
  if (events == watched_) return;
  watched_ = events;
  uv_poll_start(poll_.get(), events, on_poll);
}

void WsConnection::update_poll() {
  int ev = 0;
  if (ctx_ == nullptr || wslay_event_want_read(ctx_)) ev |= UV_READABLE;  // no context: idle, reading
  if ((ctx_ != nullptr && wslay_event_want_write(ctx_)) || (tls_ && tls_->wants_write())) ev |= UV_WRITABLE;
  watch(ev);
}

void WsConnection::finish(uint16_t code, const std::string& reason) {
  if (finished_) return;
  finished_ = true;
  account();  // open() is false now: our share goes back
  poll_.reset();
  close_timer_.reset();
  tls_.reset();
  fd_.reset();
  release_if_idle();  // finished: the context goes unless a wslay call up the stack still uses it
  auto cb = std::move(handlers_.on_closed);
  handlers_ = {};
  if (cb) cb(code, reason);
}

}  // namespace hn::net
