#include "net/ws_client.h"

#include <http_parser.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "net/address.h"
#include "net/tcp_listener.h"
#include "net/uv_handle.h"
#include "net/ws_handshake.h"

namespace hn::net {

Result<WsUrl> parse_ws_url(const std::string& url) {
  bool tls = url.rfind("wss://", 0) == 0;
  if (!tls && url.rfind("ws://", 0) != 0) return make_error("signal URL must start with ws:// or wss:// (got '" + url + "')");
  std::string rest = url.substr(tls ? 6 : 5);
  WsUrl u;
  u.tls = tls;
  auto slash = rest.find('/');
  std::string hostport = rest.substr(0, slash);
  u.path = slash == std::string::npos ? "/" : rest.substr(slash);
  auto hp = parse_host_port(hostport);
  if (!hp) return make_error("signal URL: " + hp.error());
  u.host = hp->host;
  u.port = hp->port;
  return u;
}

namespace {

// Owns itself from connect() until it reports, once.
class Dialer {
 public:
  Dialer(uv_loop_t* loop, WsUrl url, WsLimits limits, WsConnected done, std::string source_ip, std::string ca_file)
      : loop_(loop), url_(std::move(url)), limits_(limits), done_(std::move(done)), source_ip_(std::move(source_ip)),
        ca_file_(std::move(ca_file)) {}

  void start() {
    auto sa = to_sockaddr({url_.host, url_.port});
    if (!sa) return finish(make_error(sa.error()));
    fd_.reset(::socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd_.valid()) return finish(make_error(std::string("socket: ") + std::strerror(errno)));
    tune_stream_socket(fd_.get());
    if (!source_ip_.empty()) {
      auto src = to_sockaddr({source_ip_, 0});
      if (!src) return finish(make_error(src.error()));
      socklen_t slen = src->ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
      if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&*src), slen) != 0)
        return finish(make_error("bind " + source_ip_ + ": " + std::strerror(errno)));
    }
    socklen_t len = sa->ss_family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
    if (::connect(fd_.get(), reinterpret_cast<sockaddr*>(&*sa), len) != 0 && errno != EINPROGRESS)
      return finish(make_error(where() + ": " + std::strerror(errno)));
    key_ = ws_client_key();
    request_ = "GET " + url_.path + " HTTP/1.1\r\nHost: " + url_.host + ":" + std::to_string(url_.port) +
               "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key_ +
               "\r\nSec-WebSocket-Version: 13\r\n\r\n";
    uv_poll_init(loop_, poll_.get(), fd_.get());
    poll_->data = this;
    uv_poll_start(poll_.get(), UV_WRITABLE, on_poll);
    uv_timer_init(loop_, timer_.get());
    timer_->data = this;
    uv_timer_start(timer_.get(), [](uv_timer_t* t) {
      static_cast<Dialer*>(t->data)->finish(make_error("WebSocket handshake timed out"));
    }, 5000, 0);
  }

 private:
  static void on_poll(uv_poll_t* h, int status, int events) {
    auto* self = static_cast<Dialer*>(h->data);
    if (self == nullptr) return;
    if (status < 0) {
      // libuv reports a socket error (POLLERR) as EBADF: the real cause, e.g. ECONNREFUSED, is in SO_ERROR.
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(self->fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      return self->finish(make_error(self->where() + ": " + (err != 0 ? std::strerror(err) : uv_strerror(status))));
    }
    if (self->url_.tls && !(self->tls_ && self->tls_->established())) return self->tls_handshake();
    if (events & UV_WRITABLE) self->write_request();
    else if (events & (UV_READABLE | UV_DISCONNECT)) self->read_response();
  }

  void tls_handshake() {
    if (!tls_) {
      int err = 0;
      socklen_t len = sizeof err;
      ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
      if (err != 0) return finish(make_error(where() + ": " + std::strerror(err)));
      auto ctx = make_client_tls_context(ca_file_);
      if (!ctx) return finish(make_error(ctx.error()));
      tls_ = std::make_unique<TlsStream>(ctx->get(), fd_.get(), url_.host);  // the SSL keeps its own ctx reference
    }
    switch (tls_->handshake()) {
      case TlsStream::Step::done: return write_request();
      case TlsStream::Step::want_read: uv_poll_start(poll_.get(), UV_READABLE, on_poll); return;
      case TlsStream::Step::want_write: uv_poll_start(poll_.get(), UV_WRITABLE, on_poll); return;
      case TlsStream::Step::failed: return finish(make_error(where() + ": " + tls_->error()));
    }
  }

  std::string where() const {
    bool v6 = url_.host.find(':') != std::string::npos;
    return std::string("connect to ") + (url_.tls ? "wss://" : "ws://") + (v6 ? "[" + url_.host + "]" : url_.host) + ":" + std::to_string(url_.port) + url_.path;
  }

  void write_request() {
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_.get(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) return finish(make_error(where() + ": " + std::strerror(err)));
    ssize_t n = tls_ ? tls_->write(request_.data() + sent_, request_.size() - sent_)
                     : ::send(fd_.get(), request_.data() + sent_, request_.size() - sent_, MSG_NOSIGNAL);
    if (n < 0 && errno != EAGAIN) return finish(make_error(std::string("send: ") + std::strerror(errno)));
    if (n > 0) sent_ += static_cast<size_t>(n);
    if (sent_ == request_.size()) uv_poll_start(poll_.get(), UV_READABLE, on_poll);
    else if (tls_) uv_poll_start(poll_.get(), UV_WRITABLE, on_poll);
  }

  void read_response() {
    char buf[4096];
    ssize_t n = tls_ ? tls_->read(buf, sizeof buf) : ::recv(fd_.get(), buf, sizeof buf, 0);
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return;
    if (n <= 0) return finish(make_error("signaller closed the connection during the handshake"));
    in_.append(buf, static_cast<size_t>(n));
    auto end = in_.find("\r\n\r\n");
    if (end == std::string::npos) {
      if (in_.size() > 8192) return finish(make_error("handshake response too large"));
      return;
    }
    http_parser p;
    http_parser_init(&p, HTTP_RESPONSE);
    struct Ctx {
      std::string field, accept;
      bool in_accept = false;
    } ctx;
    p.data = &ctx;
    http_parser_settings s;
    http_parser_settings_init(&s);
    s.on_header_field = [](http_parser* hp, const char* at, size_t len) {
      auto* c = static_cast<Ctx*>(hp->data);
      std::string f(at, len);
      for (auto& ch : f) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      c->in_accept = f == "sec-websocket-accept";
      return 0;
    };
    s.on_header_value = [](http_parser* hp, const char* at, size_t len) {
      auto* c = static_cast<Ctx*>(hp->data);
      if (c->in_accept) c->accept.append(at, len);
      return 0;
    };
    s.on_headers_complete = [](http_parser*) { return 1; };  // no body on a 101
    size_t header_len = end + 4;
    http_parser_execute(&p, &s, in_.data(), header_len);
    if (p.status_code != 101) return finish(make_error("signaller refused the WebSocket upgrade (HTTP " + std::to_string(p.status_code) + ")"));
    if (ctx.accept != ws_accept_for(key_)) return finish(make_error("signaller sent a wrong Sec-WebSocket-Accept"));
    poll_.reset();  // the connection polls the fd itself from now on
    auto ws = std::make_shared<WsConnection>(loop_, std::move(fd_), in_.substr(header_len), true, limits_, std::move(tls_));
    finish(ws);
  }

  void finish(Result<std::shared_ptr<WsConnection>> r) {
    poll_.reset();
    timer_.reset();
    auto done = std::move(done_);
    delete this;
    done(std::move(r));
  }

  uv_loop_t* loop_;
  WsUrl url_;
  WsLimits limits_;
  WsConnected done_;
  UniqueFd fd_;
  UvHandle<uv_poll_t> poll_;
  UvHandle<uv_timer_t> timer_;
  std::string source_ip_;
  std::string ca_file_;
  std::unique_ptr<TlsStream> tls_;
  std::string key_, request_, in_;
  size_t sent_ = 0;
};

}  // namespace

void ws_connect(uv_loop_t* loop, const std::string& url, WsLimits limits, WsConnected done, const std::string& source_ip,
                const std::string& ca_file) {
  auto u = parse_ws_url(url);
  if (!u) {
    done(make_error(u.error()));
    return;
  }
  (new Dialer(loop, *u, limits, std::move(done), source_ip, ca_file))->start();
}

}  // namespace hn::net
