// HTTP/1.1 server on the libuv loop: keep-alive, pipelining, HEAD, sendfile bodies, strict limits.
// Parsing is Node's http-parser (Debian's libhttp-parser); this file only owns sockets and timers.
#pragma once
#include <uv.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>

#include "hybridnode/result.h"
#include "net/http_message.h"
#include "net/ip_budget.h"
#include "net/tcp_listener.h"
#include "net/tls_stream.h"
#include "net/uv_handle.h"
#include "util/unique_fd.h"

namespace hn {
class PrometheusText;
}

namespace hn::net {

struct HttpLimits {
  size_t max_header_bytes = 8 * 1024;   // request line + headers; past it: 431
  size_t max_body_bytes = 64 * 1024;    // past it: 413
  size_t max_connections = 10000;       // past it: accepted and closed at once
  uint64_t header_timeout_ms = 10000;   // a started request must be complete by then: 408
  uint64_t idle_timeout_ms = 30000;     // keep-alive connection with no request: closed
  uint64_t send_timeout_ms = 30000;     // no write progress for this long: closed
  uint64_t limit_rate = 0;              // body bytes/s per response, file or memory (nginx's limit_rate); 0: off
  uint64_t uplink_rate = 0;             // body bytes/s shared by all responses (an uplink); 0: off
  // TLS handshakes in progress at once; past it a new connection displaces the oldest. OpenSSL holds ~49 KB
  // for a connection that sent half a ClientHello (a plain one ~2 KB): 10 000 of those would pin ~490 MB.
  size_t max_tls_handshakes = 1024;
  // New TLS connections one remote address (IPv6: its /64) may open per second, bursts of twice that; past
  // it the connection is reset at accept, before any handshake work (~1.4 ms of CPU each). 0: unlimited.
  uint64_t tls_handshakes_per_ip = 0;
};

// Atomic: with several worker loops (--workers) /metrics, answered on any of them, sums every server's.
struct HttpStats {
  using Counter = std::atomic<uint64_t>;
  Counter connections_total{0};
  Counter connections_rejected{0};  // over max_connections
  Counter connections_open{0};
  Counter requests_total{0};
  Counter bad_requests{0};          // answered 4xx by the parser layer (malformed, too large, timeout)
  Counter timeouts{0};
  Counter tls_handshake_failures{0};  // garbage instead of a ClientHello, no shared version/cipher, ...
  Counter tls_handshakes_displaced{0};  // closed unfinished for a newer one, over max_tls_handshakes (per loop)
  Counter tls_handshakes_refused{0};  // reset at accept, over tls_handshakes_per_ip
  std::array<Counter, 600> responses_by_status{};  // by status code (100-599)
};

// The TLS counters of HttpStats (summed over a listener's loops) in Prometheus text, one wording for the
// content server and the signaller alike.
struct TlsCounts {
  double failures = 0, displaced = 0, refused = 0;
};
void add_tls_metrics(PrometheusText& p, const TlsCounts& c);

// What the HttpServers of one listener share when several loops serve it (--workers): one TLS context
// (a SIGHUP reload reaches every loop; one session cache), one uplink budget and one connection count,
// so --uplink-rate and --max-connections stay per process. Thread-safe.
class HttpShared {
 public:
  SslCtxPtr tls_ctx() const {
    std::lock_guard<std::mutex> g(mu_);
    return tls_ctx_;
  }
  void set_tls_ctx(SslCtxPtr ctx) {
    std::lock_guard<std::mutex> g(mu_);
    tls_ctx_ = std::move(ctx);
  }
  // Shared uplink budget (token bucket at `rate` bytes/s): up to `want` bytes, 0 when fewer than `min` are left.
  uint64_t uplink_grant(uint64_t rate, uint64_t want, uint64_t min);
  void uplink_refund(uint64_t n);
  // The per-address budget of new TLS connections, one for every loop of the listener (made on first use).
  IpBudget& tls_budget(uint64_t per_second) {
    std::lock_guard<std::mutex> g(mu_);
    if (!tls_budget_) tls_budget_ = std::make_unique<IpBudget>(per_second, 2 * per_second);
    return *tls_budget_;
  }
  std::atomic<size_t> connections{0};

 private:
  mutable std::mutex mu_;
  SslCtxPtr tls_ctx_;
  std::unique_ptr<IpBudget> tls_budget_;
  double uplink_tokens_ = 0;
  uint64_t uplink_last_ns_ = 0;
};

class HttpConnection;

class HttpServer {
 public:
  // The handler answers through `respond`, now or later (e.g. after a thread-pool job). Calling it
  // after the client has gone is safe: the response is dropped and its on_done told so.
  using Respond = std::function<void(HttpResponse)>;
  using Handler = std::function<void(HttpRequest&, Respond)>;
  // Offered every request that asks to Upgrade (WebSocket). To take the connection over it moves `fd`
  // (and `leftover`, bytes that arrived after the request) and returns nullopt; otherwise it returns
  // the HTTP answer (e.g. 400 for a bad handshake). Without a handler, upgrades are answered as plain HTTP.
  using UpgradeHandler = std::function<std::optional<HttpResponse>(HttpRequest&, UniqueFd& fd, std::string& leftover)>;

  // `shared`: state of the listener shared with other loops' servers (--workers); none: its own.
  HttpServer(uv_loop_t* loop, HttpLimits limits, Handler handler, std::shared_ptr<HttpShared> shared = nullptr);
  ~HttpServer();

  void set_upgrade_handler(UpgradeHandler h) { upgrade_ = std::move(h); }
  // Applied to the answers this layer gives by itself (malformed request, too large, too slow): e.g.
  // the CORS headers the handler adds to its own answers. `req` holds what was parsed of the request.
  using ErrorDecorator = std::function<void(const HttpRequest& req, HttpResponse& resp)>;
  void set_error_decorator(ErrorDecorator d) { decorate_error_ = std::move(d); }
  // Inside the upgrade handler of a TLS connection: the established TLS stream over `fd`, to be moved
  // along with it (wss). Null on plain connections. What the handler leaves stays with the connection.
  std::unique_ptr<TlsStream> take_upgrade_tls() { return std::move(upgrading_tls_); }
  // Serve HTTPS: every connection starts with a TLS handshake (limited by header_timeout_ms). SIGHUP
  // re-reads both files; new connections get the new certificate, open ones keep theirs.
  Result<void> enable_tls(const std::string& cert_pem, const std::string& key_pem);
  Result<void> reload_tls();
  bool tls() const { return shared_->tls_ctx() != nullptr; }
  const std::shared_ptr<HttpShared>& shared() const { return shared_; }
  // reuse_port: SO_REUSEPORT, so that other loops' servers bind the same address (--workers).
  Result<void> listen(const HostPort& where, bool reuse_port = false);
  int port() const { return listener_.port(); }
  void close();  // stops listening and closes every connection
  // Serves an already-connected socket (socket activation, tests, fuzzing) like an accepted one.
  void adopt(UniqueFd fd, std::string remote) { accept(std::move(fd), std::move(remote)); }

  const HttpStats& stats() const { return stats_; }
  size_t open_connections() const { return stats_.connections_open; }

 private:
  friend class HttpConnection;
  void accept(UniqueFd fd, std::string remote);
  void forget(HttpConnection* c);

  uv_loop_t* loop_;
  std::shared_ptr<HttpShared> shared_;
  std::unique_ptr<TlsStream> upgrading_tls_;
  std::string tls_cert_, tls_key_;
  UvHandle<uv_signal_t> sighup_;
  HttpLimits limits_;
  Handler handler_;
  UpgradeHandler upgrade_;
  ErrorDecorator decorate_error_;
  TcpListener listener_;
  std::map<HttpConnection*, std::shared_ptr<HttpConnection>> conns_;
  std::list<HttpConnection*> handshakes_;  // TLS connections still in their handshake, oldest first
  HttpStats stats_;
};

}  // namespace hn::net
