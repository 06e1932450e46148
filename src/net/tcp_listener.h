// A non-blocking listening socket polled by libuv; hands each accepted fd to a callback.
// Raw fds (not uv_tcp_t) because connections send chunk files with sendfile(2) straight from the
// page cache, which needs the socket's own writability events.
#pragma once
#include <uv.h>

#include <functional>
#include <string>

#include "hybridnode/result.h"
#include "net/address.h"
#include "net/uv_handle.h"
#include "util/unique_fd.h"

namespace hn::net {

class TcpListener {
 public:
  using OnAccept = std::function<void(UniqueFd fd, std::string remote)>;
  TcpListener(uv_loop_t* loop, OnAccept on_accept);
  ~TcpListener();

  // reuse_port: SO_REUSEPORT, so several listeners (one per worker loop) share the address and the
  // kernel spreads new connections over them.
  Result<void> listen(const HostPort& where, int backlog = 1024, bool reuse_port = false);
  int port() const { return port_; }
  void close();

 private:
  static void on_readable(uv_poll_t* h, int status, int events);
  void pause_after_fd_exhaustion();
  uv_loop_t* loop_;
  OnAccept on_accept_;
  UniqueFd fd_;
  UvHandle<uv_poll_t> poll_;
  UvHandle<uv_timer_t> retry_timer_;
  int port_ = 0;
};

// Sets O_NONBLOCK, TCP_NODELAY and keepalive on an accepted or connected socket.
void tune_stream_socket(int fd);

}  // namespace hn::net
