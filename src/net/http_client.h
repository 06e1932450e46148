// HTTP client on the libuv loop: libcurl's multi interface driven by uv_poll + uv_timer
// (keep-alive connection reuse, timeouts and HTTP parsing are curl's).
#pragma once
#include <uv.h>

#include <cstdint>
#include <functional>
#include <set>
#include <string>

#include "net/uv_handle.h"

typedef void CURLM;

namespace hn::net {

struct HttpResult {
  int status = 0;          // 0: no HTTP answer (see error)
  std::string body;
  std::string error;       // transport error text when status == 0
  int retry_after = -1;    // seconds from Retry-After, when present
  double seconds = 0;      // total time
  bool timed_out = false;  // the overall deadline passed (a server dripping bytes is cut by it too)
};

class HttpClient {
 public:
  explicit HttpClient(uv_loop_t* loop, long timeout_ms = 30000);
  // https:// URLs are verified against these CAs (PEM) instead of the system store.
  void set_ca_file(std::string path) { ca_file_ = std::move(path); }
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Bodies over max_body fail with an error (a server cannot make us buffer without bound). The whole
  // request (connect to last body byte) must finish within timeout_ms (0: the client's default): curl's
  // deadline is overall, so a server that sends a byte a second cannot hold a request past it.
  void get(const std::string& url, size_t max_body, std::function<void(HttpResult)> done, long timeout_ms = 0);
  void close();  // aborts everything; callbacks are not called

 private:
  friend struct CurlGlue;
  void check_done();
  uv_loop_t* loop_;
  long timeout_ms_;
  std::string ca_file_;
  CURLM* multi_ = nullptr;
  UvHandle<uv_timer_t> timer_;
  std::set<void*> easy_;
  std::set<void*> sockets_;  // SocketCtx of sockets being polled
};

}  // namespace hn::net
