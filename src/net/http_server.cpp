#include "net/http_server.h"

#include "net/http_connection.h"

#include <algorithm>
#include <csignal>

#include <sys/socket.h>

#include "util/log.h"
#include "util/prometheus.h"

namespace hn::net {

HttpServer::HttpServer(uv_loop_t* loop, HttpLimits limits, Handler handler, std::shared_ptr<HttpShared> shared)
    : loop_(loop),
      shared_(shared ? std::move(shared) : std::make_shared<HttpShared>()),
      limits_(limits),
      handler_(std::move(handler)),
      listener_(loop, [this](UniqueFd fd, std::string remote) { accept(std::move(fd), std::move(remote)); }) {}

HttpServer::~HttpServer() { close(); }

Result<void> HttpServer::listen(const HostPort& where, bool reuse_port) { return listener_.listen(where, 1024, reuse_port); }

Result<void> HttpServer::enable_tls(const std::string& cert_pem, const std::string& key_pem) {
  tls_cert_ = cert_pem;
  tls_key_ = key_pem;
  if (auto ok = reload_tls(); !ok) return ok;
  if (sighup_.get() != nullptr && !uv_is_active(reinterpret_cast<uv_handle_t*>(sighup_.get()))) {
    uv_signal_init(loop_, sighup_.get());
    sighup_->data = this;
    uv_signal_start(sighup_.get(), [](uv_signal_t* h, int) {
      auto* self = static_cast<HttpServer*>(h->data);
      if (self == nullptr) return;
      if (auto ok = self->reload_tls(); !ok) log::error("SIGHUP: " + ok.error() + "; keeping the old certificate");
      else log::info("SIGHUP: reloaded " + self->tls_cert_ + " for new connections");
    }, SIGHUP);
  }
  return {};
}

Result<void> HttpServer::reload_tls() {
  auto ctx = make_server_tls_context(tls_cert_, tls_key_);
  if (!ctx) return make_error(ctx.error());
  shared_->set_tls_ctx(std::move(*ctx));  // open connections hold their own reference to the old context
  return {};
}

void HttpServer::close() {
  sighup_.reset();
  listener_.close();
  auto conns = conns_;  // close() removes entries from conns_
  for (auto& [raw, c] : conns) c->close();
  shared_->connections -= conns_.size();
  stats_.connections_open -= conns_.size();
  conns_.clear();
}

void HttpServer::accept(UniqueFd fd, std::string remote) {
  // The cap is the process's: with several loops, their connections count together.
  if (shared_->connections.load() >= limits_.max_connections) {
    stats_.connections_rejected++;
    return;  // fd closes here
  }
  if (limits_.tls_handshakes_per_ip > 0 && shared_->tls_ctx() &&
      !shared_->tls_budget(limits_.tls_handshakes_per_ip).take(remote, uv_hrtime())) {
    // Reset (no FIN handshake, no TIME_WAIT kept here): the client sees its connection refused mid-handshake.
    stats_.tls_handshakes_refused++;
    linger lg{1, 0};
    ::setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
    return;  // fd closes here
  }
  stats_.connections_total++;
  if (handshakes_.size() >= std::max<size_t>(1, limits_.max_tls_handshakes) && shared_->tls_ctx()) {
    // A flood of unfinished handshakes displaces itself; an honest one completes in a round trip or two.
    stats_.tls_handshakes_displaced++;
    auto oldest = conns_.at(handshakes_.front());
    oldest->close();
  }
  auto c = std::make_shared<HttpConnection>(*this, std::move(fd), std::move(remote));
  conns_.emplace(c.get(), c);
  shared_->connections++;
  stats_.connections_open++;
  c->start();
}

void HttpServer::forget(HttpConnection* c) {
  if (conns_.erase(c) == 0) return;
  shared_->connections--;
  stats_.connections_open--;
}

uint64_t HttpShared::uplink_grant(uint64_t rate_bps, uint64_t want, uint64_t min) {
  std::lock_guard<std::mutex> g(mu_);
  uint64_t now = uv_hrtime();
  double rate = static_cast<double>(rate_bps);
  if (uplink_last_ns_ == 0) uplink_tokens_ = 65536;
  else uplink_tokens_ = std::min(65536.0, uplink_tokens_ + static_cast<double>(now - uplink_last_ns_) * 1e-9 * rate);
  uplink_last_ns_ = now;
  if (uplink_tokens_ < static_cast<double>(min)) return 0;
  uint64_t grant = std::min<uint64_t>(want, static_cast<uint64_t>(uplink_tokens_));
  uplink_tokens_ -= static_cast<double>(grant);
  return grant;
}

void HttpShared::uplink_refund(uint64_t n) {
  std::lock_guard<std::mutex> g(mu_);
  uplink_tokens_ += static_cast<double>(n);
}

void add_tls_metrics(PrometheusText& p, const TlsCounts& c) {
  p.counter("hybridnode_tls_handshake_failures_total", "TLS handshakes that failed (not TLS, no common version, ...).",
            c.failures);
  p.counter("hybridnode_tls_handshakes_displaced_total",
            "Unfinished TLS handshakes closed for a newer one (over 1024 at once per loop).", c.displaced);
  p.counter("hybridnode_tls_handshakes_refused_total", "New TLS connections reset at accept, over --tls-handshakes-per-ip.",
            c.refused);
}

}  // namespace hn::net
