#include "net/tcp_listener.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "util/log.h"

namespace hn::net {

void tune_stream_socket(int fd) {
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
}

TcpListener::TcpListener(uv_loop_t* loop, OnAccept on_accept) : loop_(loop), on_accept_(std::move(on_accept)) {}

TcpListener::~TcpListener() { close(); }

Result<void> TcpListener::listen(const HostPort& where, int backlog, bool reuse_port) {
  auto sa = to_sockaddr(where);
  if (!sa) return make_error(sa.error());
  int family = sa->ss_family;
  fd_.reset(::socket(family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
  if (!fd_.valid()) return make_error(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (reuse_port && ::setsockopt(fd_.get(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
    return make_error(std::string("SO_REUSEPORT: ") + std::strerror(errno));
  socklen_t len = family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6);
  if (::bind(fd_.get(), reinterpret_cast<sockaddr*>(&*sa), len) != 0)
    return make_error("cannot listen on " + where.str() + ": " + std::strerror(errno));
  if (::listen(fd_.get(), backlog) != 0) return make_error(std::string("listen: ") + std::strerror(errno));
  sockaddr_storage bound{};
  socklen_t blen = sizeof bound;
  ::getsockname(fd_.get(), reinterpret_cast<sockaddr*>(&bound), &blen);
  port_ = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in*>(&bound)->sin_port
                                  : reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port);
  uv_timer_init(loop_, retry_timer_.get());
  retry_timer_->data = this;
  uv_poll_init(loop_, poll_.get(), fd_.get());
  poll_->data = this;
  uv_poll_start(poll_.get(), UV_READABLE, on_readable);
  return {};
}

void TcpListener::close() {
  retry_timer_.reset();
  poll_.reset();
  fd_.reset();
}

void TcpListener::on_readable(uv_poll_t* h, int status, int) {
  auto* self = static_cast<TcpListener*>(h->data);
  if (self == nullptr || status < 0) return;
  // Accept a bounded batch per wakeup so a connection flood cannot starve the other handles.
  for (int i = 0; i < 256; ++i) {
    sockaddr_storage peer{};
    socklen_t plen = sizeof peer;
    int fd = ::accept4(self->fd_.get(), reinterpret_cast<sockaddr*>(&peer), &plen, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM) {
        self->pause_after_fd_exhaustion();
        return;
      }
      if (errno != EAGAIN && errno != EWOULDBLOCK) log::warn(std::string("accept: ") + std::strerror(errno));
      return;
    }
    tune_stream_socket(fd);
    self->on_accept_(UniqueFd(fd), sockaddr_to_string(reinterpret_cast<sockaddr*>(&peer)));
    if (self->poll_.get() == nullptr) return;  // closed from the callback
  }
}

}  // namespace hn::net

namespace hn::net {

// Out of descriptors: the pending connection stays readable, so polling on would spin the loop.
// Stop accepting for a moment; connections that finish meanwhile free descriptors.
void TcpListener::pause_after_fd_exhaustion() {
  log::warn(std::string("accept: ") + std::strerror(errno) + "; pausing accepts for 100 ms");
  uv_poll_stop(poll_.get());
  uv_timer_start(retry_timer_.get(), [](uv_timer_t* t) {
    auto* self = static_cast<TcpListener*>(t->data);
    if (self != nullptr && self->poll_.get() != nullptr) uv_poll_start(self->poll_.get(), UV_READABLE, on_readable);
  }, 100, 0);
}

}  // namespace hn::net
