// libFuzzer: raw bytes from a stranger to the signaller's port: its real HttpServer, the Upgrade
// decision (404/400/426 or plain HTTP), the RFC 6455 handshake and the hand-off of the socket to a
// WsConnection that then carries signalling messages, over a socketpair on a real libuv loop.
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "hybridnode/signal_server.h"
#include "util/log.h"

namespace {
struct World {
  uv_loop_t loop;
  hn::SignalServer* server;
  World() {
    uv_loop_init(&loop);
    hn::log::set_level(hn::log::Level::error);
    hn::SignalServerOptions o;
    o.listen = "127.0.0.1:0";
    o.member_timeout_ms = 200;
    o.max_message_bytes = 4096;
    server = new hn::SignalServer(&loop, o);
    if (!server->start()) std::abort();
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return 0;
  size_t before = w.server->open_connections();
  w.server->adopt(sv[0], "fuzz");
  size_t off = 0;
  char sink[65536];
  bool server_closed = false, half_closed = false;
  // Feed the input in a few writes, drain answers, until the server side closes; bounded iterations.
  for (int i = 0; i < 200 && !server_closed; ++i) {
    if (off < size) {
      ssize_t n = ::send(sv[1], data + off, std::min<size_t>(size - off, 4096), MSG_NOSIGNAL);
      if (n > 0) off += static_cast<size_t>(n);
    }
    if (off == size && !half_closed) {  // all sent (or nothing to send): the server sees EOF, not an idle client
      ::shutdown(sv[1], SHUT_WR);
      half_closed = true;
    }
    for (;;) {
      ssize_t n = ::recv(sv[1], sink, sizeof sink, MSG_DONTWAIT);
      if (n == 0) server_closed = true;
      if (n <= 0) break;
    }
    if (w.server->open_connections() <= before) break;
    uv_run(&w.loop, off < size ? UV_RUN_NOWAIT : UV_RUN_ONCE);
  }
  ::close(sv[1]);
  for (int i = 0; i < 50 && w.server->open_connections() > before; ++i) uv_run(&w.loop, UV_RUN_ONCE);
  return 0;
}
