// libFuzzer: raw bytes from a stranger to the HTTP server (parser callbacks, limits, pipelining, the
// content-server-like routing), over a real socketpair on a real libuv loop. /file answers with a paced
// sendfile body (--limit-rate), so pipelined requests and junk also arrive while a body waits for its rate.
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "net/http_server.h"

namespace {
constexpr uint64_t kFileBytes = 96 * 1024;  // past the 64 KiB burst: the rest is paced
struct World {
  uv_loop_t loop;
  hn::net::HttpServer* server;
  int file_fd;
  World() {
    uv_loop_init(&loop);
    file_fd = memfd_create("fuzz-body", MFD_CLOEXEC);
    if (file_fd < 0 || ftruncate(file_fd, static_cast<off_t>(kFileBytes)) != 0) __builtin_trap();
    hn::net::HttpLimits limits;
    limits.max_header_bytes = 1024;
    limits.max_body_bytes = 256;
    limits.header_timeout_ms = 50;
    limits.idle_timeout_ms = 50;
    limits.limit_rate = 16 << 20;  // 32 KiB over the burst: ~2 ms of pacing per /file
    int fd = file_fd;
    server = new hn::net::HttpServer(&loop, limits, [fd](hn::net::HttpRequest& r, hn::net::HttpServer::Respond respond) {
      if (r.path == "/file") {
        auto resp = hn::net::HttpResponse::text(200, "");
        resp.file_fd = fd;
        resp.file_length = kFileBytes;
        return respond(std::move(resp));
      }
      if (r.path == "/close") {
        auto resp = hn::net::HttpResponse::text(200, "bye");
        resp.close = true;
        return respond(std::move(resp));
      }
      respond(hn::net::HttpResponse::text(r.path.size() % 2 ? 404 : 200, r.query_param("q") + r.body));
    });
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) != 0) return 0;
  w.server->adopt(hn::UniqueFd(sv[0]), "fuzz");
  size_t off = 0;
  char sink[65536];
  // Feed the input in a few writes, drain answers, and let timers fire; bounded iterations.
  for (int i = 0; i < 200 && w.server->open_connections() > 0; ++i) {
    if (off < size) {
      ssize_t n = ::send(sv[1], data + off, std::min<size_t>(size - off, 4096), MSG_NOSIGNAL);
      if (n > 0) off += static_cast<size_t>(n);
      if (off == size) ::shutdown(sv[1], SHUT_WR);
    }
    while (::recv(sv[1], sink, sizeof sink, MSG_DONTWAIT) > 0) {
    }
    uv_run(&w.loop, off < size ? UV_RUN_NOWAIT : UV_RUN_ONCE);
  }
  ::close(sv[1]);
  for (int i = 0; i < 20 && w.server->open_connections() > 0; ++i) uv_run(&w.loop, UV_RUN_NOWAIT);
  return 0;
}
