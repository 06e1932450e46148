// libFuzzer: bytes a stranger sends on an upgraded WebSocket (server side: masked frames expected).
// The input is fed as the bytes read after the handshake; the socket then reports EOF.
#include <sys/socket.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "net/ws_connection.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) return 0;
  ::close(sv[1]);  // the stranger is gone after its bytes: recv sees EOF, send fails
  uv_loop_t loop;
  uv_loop_init(&loop);
  {
    hn::net::WsLimits limits;
    limits.max_message_bytes = 4096;  // small, so the 1009 path is reachable
    auto ws = std::make_shared<hn::net::WsConnection>(&loop, hn::UniqueFd(sv[0]),
                                                      std::string(reinterpret_cast<const char*>(data), size),
                                                      /*client=*/false, limits);
    size_t texts = 0;
    ws->start({[&](std::string_view t) {
                 texts += t.size();
                 if (texts > 8192) ws->close(hn::net::kWsPolicyViolation, "enough");
                 else ws->send_text(t);  // echo: exercises the send path mid-parse
               },
               [](uint16_t, const std::string&) {}});
    for (int i = 0; i < 8 && ws->open(); ++i) uv_run(&loop, UV_RUN_NOWAIT);
    ws->abort();
  }
  uv_run(&loop, UV_RUN_NOWAIT);
  uv_loop_close(&loop);
  return 0;
}
