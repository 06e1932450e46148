#include "net/http_connection.h"

#include <sys/sendfile.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "util/log.h"

namespace hn::net {
namespace {

constexpr size_t kReadSize = 16 * 1024;
// Bytes of pipelined requests buffered while a response is being written; reading pauses past it.
constexpr size_t kMaxBufferedInput = 64 * 1024;
constexpr size_t kSendfileSlice = 1 << 20;

std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

HttpConnection::HttpConnection(HttpServer& server, UniqueFd fd, std::string remote)
    : server_(server), fd_(std::move(fd)), remote_(std::move(remote)),
      drain_(server.loop_, fd_, server.limits_.send_timeout_ms, [this] {
        auto keep = shared_from_this();
        close();
      }) {
  http_parser_init(&parser_, HTTP_REQUEST);
  parser_.data = this;
}

HttpConnection::~HttpConnection() { close(); }

void HttpConnection::start() {
  uv_poll_init(server_.loop_, poll_.get(), fd_.get());
  poll_->data = this;
  uv_timer_init(server_.loop_, timer_.get());
  timer_->data = this;
  drain_.start();
  if (SslCtxPtr ctx = server_.shared_->tls_ctx()) {
    // The handshake has the header timeout: a client that never finishes it holds no slot for long.
    // The SSL takes its own reference to the context: a reload (SIGHUP) leaves this connection alone.
    tls_ = std::make_unique<TlsStream>(ctx.get(), fd_.get());
    handshake_ = server_.handshakes_.insert(server_.handshakes_.end(), this);
    handshaking_ = true;
    arm_timer(server_.limits_.header_timeout_ms);
  } else {
    arm_timer(server_.limits_.idle_timeout_ms);
  }
  update_poll();
}

void HttpConnection::continue_handshake() {
  switch (tls_->handshake()) {
    case TlsStream::Step::done:
      handshake_over();
      arm_timer(server_.limits_.idle_timeout_ms);
      update_poll();
      return;
    case TlsStream::Step::want_read:
    case TlsStream::Step::want_write:
      update_poll();
      return;
    case TlsStream::Step::failed:
      server_.stats_.tls_handshake_failures++;
      log::debug("http: " + remote_ + ": " + tls_->error());
      close();
      return;
  }
}

void HttpConnection::handshake_over() {
  if (!handshaking_) return;
  handshaking_ = false;
  server_.handshakes_.erase(handshake_);
}

void HttpConnection::close() {
  if (state_ == State::closed) return;
  state_ = State::closed;
  handshake_over();
  poll_.reset();
  timer_.reset();
  drain_.release_all();
  fd_.reset();
  if (resp_.on_done) {
    auto done = std::move(resp_.on_done);
    resp_.on_done = nullptr;
    uint64_t body = file_sent_ + body_off_;
    done(body, false);
  }
  resp_ = HttpResponse{};
  body_.reset();
  if (req_.on_abandon) {  // a parked request (long poll) dies with its connection
    auto abandon = std::move(req_.on_abandon);
    req_.on_abandon = nullptr;
    abandon();
  }
  server_.forget(this);  // may drop the last owning reference; callers hold a shared_ptr copy
}

void HttpConnection::arm_timer(uint64_t ms) {
  if (timer_.get() != nullptr) uv_timer_start(timer_.get(), on_timer, ms, 0);
}

void HttpConnection::update_poll() {
  if (state_ == State::closed) return;
  int events = 0;
  if (tls_ && !tls_->established()) {
    uv_poll_start(poll_.get(), tls_->wants_write() ? UV_WRITABLE : UV_READABLE, on_poll);
    return;
  }
  if (tls_ && tls_->wants_write()) events |= UV_WRITABLE;  // a TLS read that must write first
  // The input cap holds in every state, paced ones too: a client streaming while its paced body waits
  // for the rate limit must not grow in_ (issue 22: 256 MiB in 0.6 s before).
  if (!peer_eof_ && in_.size() < kMaxBufferedInput) events |= UV_READABLE;
  if (state_ == State::writing && !rate_paused_) events |= UV_WRITABLE;
  if (events == 0) uv_poll_stop(poll_.get());
  else uv_poll_start(poll_.get(), events, on_poll);
}

void HttpConnection::on_timer(uv_timer_t* t) {
  auto* self = static_cast<HttpConnection*>(t->data);
  if (self == nullptr) return;
  auto keep = self->shared_from_this();
  if (self->rate_paused_) {  // not a timeout: the rate limit allows more bytes now
    self->rate_paused_ = false;
    // ...unless pacing has made no progress for the send timeout beyond the pause it just served.
    uint64_t idle_ms = (uv_hrtime() - self->last_progress_ns_) / 1000000;
    if (idle_ms <= self->server_.limits_.send_timeout_ms + self->pause_ms_) {
      self->write_pending();
      return;
    }
  }
  self->server_.stats_.timeouts++;
  if (self->state_ == State::reading && self->message_started_) {
    self->reject(408, "request not completed within " + std::to_string(self->server_.limits_.header_timeout_ms) + " ms");
    return;
  }
  if (self->state_ == State::writing) log::debug("http: " + self->remote_ + " stalled while receiving; closing");
  self->close();
}

void HttpConnection::on_poll(uv_poll_t* h, int status, int events) {
  auto* self = static_cast<HttpConnection*>(h->data);
  if (self == nullptr) return;
  auto keep = self->shared_from_this();
  if (status < 0) {
    self->close();
    return;
  }
  if (self->tls_ && !self->tls_->established()) {
    self->continue_handshake();
    return;
  }
  if (events & UV_WRITABLE) self->write_pending();
  if (self->state_ != State::closed && (events & (UV_READABLE | UV_DISCONNECT))) self->read_socket();
}

void HttpConnection::read_socket() {
  char buf[kReadSize];
  ssize_t n = tls_ ? tls_->read(buf, sizeof buf) : ::recv(fd_.get(), buf, sizeof buf, 0);
  if (n < 0) {
    if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
    close();
    return;
  }
  if (n == 0) {
    peer_eof_ = true;
    // A client may half-close after its request; finish answering what it asked, then close.
    if (state_ == State::reading) {
      parse_input();
      if (state_ == State::reading) close();
    } else {
      close_after_ = true;
      update_poll();
    }
    return;
  }
  in_.append(buf, static_cast<size_t>(n));
  if (state_ == State::reading) parse_input();
  else update_poll();
}

void HttpConnection::parse_input() {
  // A response finished synchronously inside dispatch() lands here again (finish_response); the loop
  // below carries on instead, so pipelined requests never deepen the stack (issue 22: ~5 000 levels).
  if (parsing_) return;
  parsing_ = true;
  const http_parser_settings& settings = parser_settings();
  while (state_ == State::reading && !in_.empty()) {
    size_t n = http_parser_execute(&parser_, &settings, in_.data(), in_.size());
    auto err = HTTP_PARSER_ERRNO(&parser_);
    if (err == HPE_PAUSED) {
      in_.erase(0, n);
      http_parser_pause(&parser_, 0);
      dispatch();
      continue;
    }
    if (err != HPE_OK) {
      parsing_ = false;
      if (parse_error_status_ != 0) reject(parse_error_status_, parse_error_message_);
      else reject(400, std::string("malformed request: ") + http_errno_description(err));
      return;
    }
    in_.erase(0, n);
  }
  parsing_ = false;
  if (state_ != State::closed) update_poll();
}

bool HttpConnection::grow_headers(size_t len) {
  header_bytes_ += len;
  if (header_bytes_ <= server_.limits_.max_header_bytes) return true;
  parse_error_status_ = 431;
  parse_error_message_ = "request line and headers exceed " + std::to_string(server_.limits_.max_header_bytes) + " bytes";
  return false;
}

int HttpConnection::on_message_begin(http_parser* p) {
  auto* self = static_cast<HttpConnection*>(p->data);
  self->req_ = HttpRequest{};
  self->req_.remote = self->remote_;
  self->header_bytes_ = 0;
  self->last_was_value_ = false;
  self->message_started_ = true;
  self->arm_timer(self->server_.limits_.header_timeout_ms);
  return 0;
}

int HttpConnection::on_url(http_parser* p, const char* at, size_t len) {
  auto* self = static_cast<HttpConnection*>(p->data);
  if (!self->grow_headers(len)) return 1;
  self->req_.target.append(at, len);
  return 0;
}

int HttpConnection::on_header_field(http_parser* p, const char* at, size_t len) {
  auto* self = static_cast<HttpConnection*>(p->data);
  if (!self->grow_headers(len + 4)) return 1;
  auto& h = self->req_.headers;
  if (h.empty() || self->last_was_value_) h.emplace_back();
  h.back().first.append(at, len);
  self->last_was_value_ = false;
  return 0;
}

int HttpConnection::on_header_value(http_parser* p, const char* at, size_t len) {
  auto* self = static_cast<HttpConnection*>(p->data);
  if (!self->grow_headers(len)) return 1;
  auto& h = self->req_.headers;
  if (h.empty()) return 1;
  h.back().second.append(at, len);
  self->last_was_value_ = true;
  return 0;
}

int HttpConnection::on_headers_complete(http_parser* p) {
  auto* self = static_cast<HttpConnection*>(p->data);
  auto& r = self->req_;
  if (p->http_major != 1) {
    self->parse_error_status_ = 505;
    self->parse_error_message_ = "only HTTP/1.x is spoken here";
    return -1;
  }
  r.method = http_method_str(static_cast<http_method>(p->method));
  for (auto& [k, v] : r.headers) k = lower(std::move(k));
  r.keep_alive = http_should_keep_alive(p) != 0;
  r.upgrade = p->upgrade != 0;
  http_parser_url u;
  http_parser_url_init(&u);
  if (http_parser_parse_url(r.target.data(), r.target.size(), 0, &u) != 0 || !(u.field_set & (1 << UF_PATH))) {
    self->parse_error_status_ = 400;
    self->parse_error_message_ = "malformed request target";
    return -1;
  }
  r.path = r.target.substr(u.field_data[UF_PATH].off, u.field_data[UF_PATH].len);
  if (u.field_set & (1 << UF_QUERY)) r.query = r.target.substr(u.field_data[UF_QUERY].off, u.field_data[UF_QUERY].len);
  if ((p->flags & F_CHUNKED) == 0 && p->content_length != ULLONG_MAX &&
      p->content_length > self->server_.limits_.max_body_bytes) {
    self->parse_error_status_ = 413;
    self->parse_error_message_ = "request body exceeds " + std::to_string(self->server_.limits_.max_body_bytes) + " bytes";
    return -1;
  }
  return 0;
}

int HttpConnection::on_body(http_parser* p, const char* at, size_t len) {
  auto* self = static_cast<HttpConnection*>(p->data);
  if (self->req_.body.size() + len > self->server_.limits_.max_body_bytes) {
    self->parse_error_status_ = 413;
    self->parse_error_message_ = "request body exceeds " + std::to_string(self->server_.limits_.max_body_bytes) + " bytes";
    return 1;
  }
  self->req_.body.append(at, len);
  return 0;
}

int HttpConnection::on_message_complete(http_parser* p) {
  // Pause so pipelined requests wait until this one is answered, in order.
  http_parser_pause(p, 1);
  return 0;
}

void HttpConnection::dispatch() {
  message_started_ = false;
  state_ = State::waiting;
  uv_timer_stop(timer_.get());
  server_.stats_.requests_total++;
  if (req_.upgrade && server_.upgrade_) {
    // The new owner polls the fd itself, and libuv allows one poller per fd: stop ours first.
    poll_.reset();
    server_.upgrading_tls_ = std::move(tls_);  // under TLS the new owner takes the stream with the fd
    auto answer = server_.upgrade_(req_, fd_, in_);
    tls_ = std::move(server_.upgrading_tls_);
    if (!fd_.valid()) {  // taken over
      tls_.reset();
      close();
      return;
    }
    // reset() released the old handle (it is freed by the loop later): answer through a fresh one.
    poll_ = UvHandle<uv_poll_t>{};
    uv_poll_init(server_.loop_, poll_.get(), fd_.get());
    poll_->data = this;
    if (answer) {
      answer->close = true;
      respond(std::move(*answer));
    } else {
      close();
    }
    return;
  }
  std::weak_ptr<HttpConnection> weak = shared_from_this();
  server_.handler_(req_, [weak](HttpResponse resp) {
    auto self = weak.lock();
    if (!self || self->state_ != State::waiting) {
      if (resp.on_done) resp.on_done(0, false);
      return;
    }
    self->respond(std::move(resp));
  });
}

void HttpConnection::reject(int status, const std::string& message) {
  server_.stats_.bad_requests++;
  if (state_ == State::closed) return;
  state_ = State::waiting;
  auto resp = HttpResponse::error(status, message);
  resp.close = true;
  if (server_.decorate_error_) {
    // Header names are lowered once the headers are complete; an error may come before.
    for (auto& [k, v] : req_.headers) k = lower(std::move(k));
    server_.decorate_error_(req_, resp);
  }
  respond(std::move(resp));
}

void HttpConnection::respond(HttpResponse resp) {
  req_.on_abandon = nullptr;  // answered: nothing is parked any more
  if (resp.status >= 100 && resp.status < 600) server_.stats_.responses_by_status[static_cast<size_t>(resp.status)]++;
  bool head = req_.method == "HEAD";
  // After an Upgrade request the parser accepts no further requests on this connection.
  close_after_ = close_after_ || resp.close || !req_.keep_alive || peer_eof_ || req_.upgrade;
  uint64_t body_len = resp.body.size() + (resp.shared_body ? resp.shared_body->size() : 0) +
                      (resp.file_fd >= 0 ? resp.file_length : 0);
  if (head && resp.head_length >= 0) body_len = static_cast<uint64_t>(resp.head_length);
  std::string& o = out_;
  o.clear();
  o.reserve(256);
  o += "HTTP/1.1 ";
  o += std::to_string(resp.status);
  o += ' ';
  o += status_text(resp.status);
  o += "\r\nServer: hybridnode\r\nContent-Length: ";
  o += std::to_string(body_len);
  o += close_after_ ? "\r\nConnection: close\r\n" : "\r\nConnection: keep-alive\r\n";
  for (const auto& [k, v] : resp.headers) {
    o += k;
    o += ": ";
    o += v;
    o += "\r\n";
  }
  o += "\r\n";
  // The body is moved or shared, never copied: many slow readers of one manifest or live chunk hold
  // one buffer between them.
  body_.reset();
  if (head) {
    resp.file_fd = -1;
  } else if (!resp.body.empty()) {
    if (resp.shared_body) resp.body += *resp.shared_body;
    body_ = std::make_shared<const std::string>(std::move(resp.body));
  } else if (resp.shared_body && !resp.shared_body->empty()) {
    body_ = std::move(resp.shared_body);
  }
  resp.body = std::string();
  resp.shared_body.reset();
  body_off_ = 0;
  out_off_ = 0;
  file_sent_ = 0;
  resp_started_ns_ = uv_hrtime();
  if (tls_) tls_->reset_file();
  rate_paused_ = false;
  last_progress_ns_ = resp_started_ns_;
  resp_ = std::move(resp);
  state_ = State::writing;
  arm_timer(server_.limits_.send_timeout_ms);
  write_pending();
}

void HttpConnection::write_pending() {
  if (state_ != State::writing) return;
  bool progressed = false;
  // Headers, then the in-memory body (paced like a file: live chunks), then the file region.
  for (int part = 0; part < 2; ++part) {
    const std::string* buf = part == 0 ? &out_ : body_.get();
    size_t& off = part == 0 ? out_off_ : body_off_;
    bool more = resp_.file_fd >= 0 || (part == 0 && body_ && !body_->empty());
    while (buf != nullptr && off < buf->size()) {
      size_t len = buf->size() - off;
      uint64_t granted = 0;
      if (part == 1 && paced()) {
        granted = pace(len);
        if (granted == 0) return;
        len = static_cast<size_t>(granted);
      }
      ssize_t n = tls_ ? tls_->write(buf->data() + off, len)
                       : ::send(fd_.get(), buf->data() + off, len, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
      if (granted > 0) unpace(granted, n);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) break;
        close();
        return;
      }
      off += static_cast<size_t>(n);
      progressed = true;
      last_progress_ns_ = uv_hrtime();
    }
    if (buf != nullptr && off < buf->size()) break;
  }
  bool mem_done = out_off_ == out_.size() && (!body_ || body_off_ == body_->size());
  while (mem_done && resp_.file_fd >= 0 && file_sent_ < resp_.file_length) {
    off_t off = static_cast<off_t>(resp_.file_offset + file_sent_);
    size_t want = static_cast<size_t>(std::min<uint64_t>(resp_.file_length - file_sent_, kSendfileSlice));
    uint64_t granted = 0;
    if (paced()) {
      granted = pace(want);
      if (granted == 0) return;
      want = static_cast<size_t>(granted);
    }
    ssize_t n = tls_ ? tls_->send_file(resp_.file_fd, off, want) : ::sendfile(fd_.get(), resp_.file_fd, &off, want);
    if (granted > 0) unpace(granted, n);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) break;
      log::warn("http: sendfile to " + remote_ + ": " + std::strerror(errno));
      close();
      return;
    }
    if (n == 0) {  // the file shrank under us: the response can no longer be completed
      log::error("http: chunk file shorter than announced; closing " + remote_);
      close();
      return;
    }
    file_sent_ += static_cast<uint64_t>(n);
    progressed = true;
    last_progress_ns_ = uv_hrtime();
  }
  bool done = mem_done && (resp_.file_fd < 0 || file_sent_ == resp_.file_length);
  if (done) {
    finish_response(true);
    return;
  }
  if (progressed || !uv_is_active(reinterpret_cast<uv_handle_t*>(timer_.get()))) arm_timer(server_.limits_.send_timeout_ms);
  update_poll();
}

// Body bytes that --limit-rate and --uplink-rate allow now, at most `want`; 0 when the body must wait
// (the wake-up timer is then armed). Memory and file bodies alike.
uint64_t HttpConnection::pace(uint64_t want) {
  uint64_t sent = file_sent_ + body_off_;
  uint64_t total = (body_ ? body_->size() : 0) + (resp_.file_fd >= 0 ? resp_.file_length : 0);
  // Send in slices of at least 16 KiB: trickling out a few bytes per pass would spin the loop.
  uint64_t slice = std::min<uint64_t>(16384, total - sent);
  uint64_t wait_ms = 0;
  if (uint64_t rate = server_.limits_.limit_rate) {
    // What the elapsed time allows, plus one 64 KiB burst.
    uint64_t elapsed_ns = uv_hrtime() - resp_started_ns_;
    // Saturated: the flag is bounded, but elapsed time is not.
    double allowed_d = static_cast<double>(elapsed_ns) * 1e-9 * static_cast<double>(rate) + 65536.0;
    uint64_t allowed = allowed_d >= 0x1p62 ? (uint64_t{1} << 62) : static_cast<uint64_t>(allowed_d);
    if (allowed < sent + slice) wait_ms = std::max<uint64_t>(1, (sent + slice - allowed) * 1000 / rate);
    else want = std::min<uint64_t>(want, allowed - sent);
  }
  if (uint64_t uplink = server_.limits_.uplink_rate; uplink && wait_ms == 0) {
    // All responses share one uplink: take bytes from the server-wide budget, or wait for it.
    want = server_.shared_->uplink_grant(uplink, want, slice);
    if (want == 0) wait_ms = 1 + slice * 1000 / uplink + static_cast<uint64_t>(uv_hrtime() % 3);  // jitter spreads wakeups
  }
  if (wait_ms == 0) return want;
  rate_paused_ = true;
  pause_ms_ = wait_ms;
  update_poll();
  uv_timer_start(timer_.get(), on_timer, wait_ms, 0);
  return 0;
}

// Returns to the shared uplink budget what was granted but not sent.
void HttpConnection::unpace(uint64_t granted, ssize_t sent) {
  uint64_t n = static_cast<uint64_t>(std::max<ssize_t>(sent, 0));
  if (server_.limits_.uplink_rate && n < granted) server_.shared_->uplink_refund(granted - n);
}

void HttpConnection::finish_response(bool complete) {
  if (resp_.on_done) {
    auto done = std::move(resp_.on_done);
    resp_.on_done = nullptr;
    // The transfer ends when the client has the bytes, not when the kernel has them (send_drain.h).
    drain_.hold(std::move(done), file_sent_ + body_off_, complete);
  }
  resp_ = HttpResponse{};
  out_.clear();
  out_off_ = 0;
  body_.reset();
  body_off_ = 0;
  if (close_after_) {
    if (tls_) tls_->shutdown();
    ::shutdown(fd_.get(), SHUT_WR);
    if (drain_.busy()) {  // no more requests, but the socket stays open until the bytes have arrived
      state_ = State::waiting;
      uv_poll_stop(poll_.get());
      uv_timer_stop(timer_.get());
      drain_.when_idle([this] {
        auto keep = shared_from_this();
        close();
      });
      return;
    }
    close();
    return;
  }
  state_ = State::reading;
  arm_timer(server_.limits_.idle_timeout_ms);
  parse_input();
}

const http_parser_settings& HttpConnection::parser_settings() {
  static const http_parser_settings s = [] {
    http_parser_settings x;
    http_parser_settings_init(&x);
    x.on_message_begin = on_message_begin;
    x.on_url = on_url;
    x.on_header_field = on_header_field;
    x.on_header_value = on_header_value;
    x.on_headers_complete = on_headers_complete;
    x.on_body = on_body;
    x.on_message_complete = on_message_complete;
    return x;
  }();
  return s;
}

}  // namespace hn::net
