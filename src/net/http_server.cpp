#include "net/http_server.h"

#include "net/http_connection.h"

#include <algorithm>

namespace hn::net {

HttpServer::HttpServer(uv_loop_t* loop, HttpLimits limits, Handler handler)
    : loop_(loop),
      limits_(limits),
      handler_(std::move(handler)),
      listener_(loop, [this](UniqueFd fd, std::string remote) { accept(std::move(fd), std::move(remote)); }) {}

HttpServer::~HttpServer() { close(); }

Result<void> HttpServer::listen(const HostPort& where) { return listener_.listen(where); }

void HttpServer::close() {
  listener_.close();
  auto conns = conns_;  // close() removes entries from conns_
  for (auto& [raw, c] : conns) c->close();
  conns_.clear();
}

void HttpServer::accept(UniqueFd fd, std::string remote) {
  if (conns_.size() >= limits_.max_connections) {
    stats_.connections_rejected++;
    return;  // fd closes here
  }
  stats_.connections_total++;
  auto c = std::make_shared<HttpConnection>(*this, std::move(fd), std::move(remote));
  conns_.emplace(c.get(), c);
  c->start();
}

void HttpServer::forget(HttpConnection* c) { conns_.erase(c); }

uint64_t HttpServer::uplink_grant(uint64_t want, uint64_t min) {
  uint64_t now = uv_hrtime();
  double rate = static_cast<double>(limits_.uplink_rate);
  if (uplink_last_ns_ == 0) uplink_tokens_ = 65536;
  else uplink_tokens_ = std::min(65536.0, uplink_tokens_ + static_cast<double>(now - uplink_last_ns_) * 1e-9 * rate);
  uplink_last_ns_ = now;
  if (uplink_tokens_ < static_cast<double>(min)) return 0;
  uint64_t grant = std::min<uint64_t>(want, static_cast<uint64_t>(uplink_tokens_));
  uplink_tokens_ -= static_cast<double>(grant);
  return grant;
}

}  // namespace hn::net
