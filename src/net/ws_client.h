// Opens a WebSocket (RFC 6455 client side) to ws://IP:PORT/PATH or wss://... without blocking the loop.
#pragma once
#include <uv.h>

#include <functional>
#include <memory>
#include <string>

#include "hybridnode/result.h"
#include "net/ws_connection.h"

namespace hn::net {

struct WsUrl {
  std::string host;
  int port = 0;
  std::string path = "/";
  bool tls = false;  // wss://
};
// Numeric hosts and "localhost" only: the loop never waits on DNS.
Result<WsUrl> parse_ws_url(const std::string& url);

using WsConnected = std::function<void(Result<std::shared_ptr<WsConnection>>)>;
// Connects, performs the handshake (5 s limit) and hands over an unstarted WsConnection.
// `source_ip`: bind the local end to this address first (load tests spread over 127.0.0.x).
// wss:// verifies the server's certificate (its host or IP) against `ca_file` (PEM), or the system store.
void ws_connect(uv_loop_t* loop, const std::string& url, WsLimits limits, WsConnected done,
                const std::string& source_ip = "", const std::string& ca_file = "");

}  // namespace hn::net
