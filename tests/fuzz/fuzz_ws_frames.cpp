// libFuzzer: bytes a stranger sends on an upgraded WebSocket (server side: masked frames expected).
// The last input byte picks how they arrive: all at once as the bytes read after the handshake, or through
// the socket in slices of 1..382 bytes with the loop run in between, so the connection keeps releasing and
// re-creating its wslay context between messages (and must keep it across partial frames and fragments).
// The socket then reports EOF.
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "net/ws_connection.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) return 0;
  uint8_t sel = size > 0 ? data[size - 1] : 0;
  bool sliced = (sel & 0x80) != 0;
  size_t slice = 1 + static_cast<size_t>(sel & 0x7f) * 3;
  if (!sliced) {  // all at once, and the stranger is already gone: recv sees EOF, send fails
    ::close(sv[1]);
    sv[1] = -1;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    hn::net::WsLimits limits;
    limits.max_message_bytes = 4096;  // small, so the 1009 path is reachable
    std::string leftover = sliced ? std::string() : std::string(reinterpret_cast<const char*>(data), size);
    auto ws = std::make_shared<hn::net::WsConnection>(&loop, hn::UniqueFd(sv[0]), std::move(leftover),
                                                      /*client=*/false, limits);
    size_t texts = 0;
    ws->start({[&](std::string_view t) {
                 texts += t.size();
                 if (texts > 8192) ws->close(hn::net::kWsPolicyViolation, "enough");
                 else ws->send_text(t);  // echo: exercises the send path mid-parse
               },
               [](uint16_t, const std::string&) {}});
    char sink[65536];
    auto turn = [&] {
      uv_run(&loop, UV_RUN_NOWAIT);
      while (sv[1] >= 0 && ::recv(sv[1], sink, sizeof sink, 0) > 0) {
      }
    };
    size_t off = 0;
    for (int stuck = 0; sliced && off < size && ws->open() && stuck < 64;) {
      ssize_t n = ::send(sv[1], data + off, std::min(slice, size - off), MSG_NOSIGNAL);
      if (n > 0) off += static_cast<size_t>(n);
      else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) break;
      stuck = n > 0 ? 0 : stuck + 1;
      turn();
    }
    if (sv[1] >= 0) ::shutdown(sv[1], SHUT_WR);  // the stranger is done: recv sees EOF
    for (int i = 0; i < 8 && ws->open(); ++i) turn();
    ws->abort();
  }
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_loop_close(&loop);
  if (sv[1] >= 0) ::close(sv[1]);
  return 0;
}
