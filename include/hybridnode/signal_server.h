/// @file
/// The signaller (--role=signal) as an embeddable object: swarms, chunk lookup and SDP/ICE relay over
/// WebSocket + JSON at ws://HOST:PORT/ws, and /metrics, /healthz over plain HTTP on the same port.
#pragma once
#include "hybridnode/export.h"
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "hybridnode/result.h"

namespace hn {

struct SignalServerOptions {
  std::string listen = "127.0.0.1:8090";
  uint64_t member_timeout_ms = 30000;  ///< a connection silent this long is dropped from its swarm and closed
  uint64_t max_message_bytes = 1 << 20;
  double rate_per_second = 200;        ///< messages per connection, token bucket
  double rate_burst = 400;
  /// Bytes per connection, a second bucket beside the messages one: a client streaming large messages under
  /// the message rate would otherwise take the loop from everyone (0: burst = 2 x max_message_bytes).
  double rate_bytes_per_second = 256 * 1024;
  double rate_bytes_burst = 0;
  /// Outgoing WebSocket bytes queued across all connections; past it, connections that are behind are dropped.
  size_t max_total_queued_bytes = 64 << 20;
  /// Bitfield bytes held for all members (2^18 chunks = 32 KiB per member at most); past it joins are refused.
  size_t max_bitfield_bytes = 128 << 20;
  uint32_t lookup_max = 8;             ///< peers returned per chunk by default (a lookup may ask for up to 50)
  size_t max_connections = 100000;
  /// Join tokens (docs/security.md): with a secret, a join needs a token of the content server that
  /// shares it; empty: open swarms, anyone who reaches the signaller joins.
  std::string swarm_secret;
  double lookup_rate = 4, lookup_burst = 16;  ///< lookups per member, token bucket (no enumeration by polling)
  /// Sharing swarms with sibling signallers (docs/scaling.md): "HOST:PORT" of Redis, and this instance's
  /// name (unique among siblings). Empty: a standalone signaller.
  std::string redis;
  std::string instance;
  /// Browser origins allowed to open the WebSocket ("*": any, or a comma-separated list such as
  /// https://app.example). A handshake with another Origin is refused with 403; none (native peers) passes.
  std::string allowed_origins = "*";
  /// wss:// and https:// when both are set (PEM files; SIGHUP reloads them for new connections).
  std::string tls_cert, tls_key;
  /// New wss:// connections (TLS handshakes) per second one address (IPv6: its /64) may open, bursts of
  /// twice that; past it they are reset at accept. 0: unlimited.
  uint64_t tls_handshakes_per_ip = 50;
};

class HN_API SignalServer {
 public:
  SignalServer(uv_loop_t* loop, SignalServerOptions opts);
  ~SignalServer();
  SignalServer(const SignalServer&) = delete;
  SignalServer& operator=(const SignalServer&) = delete;

  Result<void> start();
  void stop();
  int port() const;
  /// Serves an already-connected socket like an accepted one (tests, fuzzing). After start().
  void adopt(int fd, std::string remote);
  size_t open_connections() const;  ///< HTTP connections plus WebSocket members' connections
  size_t members() const;

 private:
  struct HN_LOCAL Impl;  ///< internal: its symbols stay out of the shared library
  std::unique_ptr<Impl> impl_;
};

}  ///< namespace hn
