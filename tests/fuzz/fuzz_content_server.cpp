// libFuzzer: raw bytes from a stranger to the real ContentServer (its routing, id checks, catalog and
// manifest answers, chunk reads from a real local store through the thread pool, HEAD, If-None-Match,
// /metrics, /healthz), over a real TCP connection on a real libuv loop. The store holds one video whose
// chunk ids are fixed (deterministic bytes), so seeds can name real chunks.
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <uv.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>

#include "hybridnode/content_server.h"
#include "hybridnode/ingest.h"

namespace {
struct World {
  uv_loop_t loop;
  hn::ContentServer* server = nullptr;
  int port = 0;
  std::string dir;
  ~World() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);  // the store; the server itself lives until exit
  }
  World() {
    uv_loop_init(&loop);
    char tmpl[] = "/tmp/hn-fuzz-cs-XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    dir = tmpl;
    std::string file = dir + "/clip.ts";
    std::string bytes(3 * 4096 + 100, '\0');
    for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i % 251);
    int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || ::write(fd, bytes.data(), bytes.size()) != static_cast<ssize_t>(bytes.size())) std::abort();
    ::close(fd);
    auto store = hn::open_local_store(dir + "/store");
    if (!store) std::abort();
    hn::IngestOptions io;
    io.file = file;
    io.video_id = "clip";
    io.chunk_size = 4096;
    if (!hn::ingest_file(**store, io)) std::abort();
    hn::ContentServerOptions o;
    o.listen = "127.0.0.1:0";
    o.catalog_refresh_ms = 0;  // no timer: each input sees the same catalog
    o.max_header_bytes = 1024;
    o.header_timeout_ms = 50;
    o.idle_timeout_ms = 50;
    o.send_timeout_ms = 50;
    server = new hn::ContentServer(&loop, o, std::move(*store), hn::make_connection_cap(2));
    if (!server->start()) std::abort();
    port = server->port();
  }
};
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static World w;
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (s < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(w.port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);  // EINPROGRESS; the loop accepts it
  size_t off = 0;
  char sink[65536];
  bool eof = false;
  // Feed the input in a few writes, drain answers (chunk bodies included), let the pool and timers run;
  // bounded iterations, so a stuck connection ends the input rather than the run.
  for (int i = 0; i < 300 && !eof; ++i) {
    if (off < size) {
      ssize_t n = ::send(s, data + off, std::min<size_t>(size - off, 4096), MSG_NOSIGNAL);
      if (n > 0) off += static_cast<size_t>(n);
      if (off == size) ::shutdown(s, SHUT_WR);
    }
    for (;;) {
      ssize_t r = ::recv(s, sink, sizeof sink, MSG_DONTWAIT);
      if (r == 0) eof = true;
      if (r <= 0) break;
    }
    uv_run(&w.loop, UV_RUN_NOWAIT);
    if (off == size && i > 20) usleep(100);  // let the thread pool answer chunk reads
  }
  ::close(s);
  for (int i = 0; i < 50; ++i) uv_run(&w.loop, UV_RUN_NOWAIT);
  return 0;
}
