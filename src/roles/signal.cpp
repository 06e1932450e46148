// --role=signal: the swarm's meeting point (WebSocket + JSON), see docs/protocol.md.
#include <uv.h>

#include <cstdio>
#include <iostream>

#include "config/options.h"
#include "hybridnode/signal_server.h"
#include "roles/port_file.h"
#include "signal/join_token.h"
#include "roles/role_flags.h"
#include "roles/roles.h"
#include "roles/run_loop.h"
#include "util/log.h"

namespace hn::roles {

int run_signal(const std::vector<std::string>& args) {
  using config::Type;
  config::ParseSpec spec{
      "hybridnode --role=signal",
      {
          {"listen", Type::host_port, "127.0.0.1:8090", "address for ws://HOST:PORT/ws and /metrics"},
          {"member-timeout-ms", Type::integer, "30000", "drop a peer silent this long (send ping to stay)", 100, 86400000},
          {"redis", Type::string, "", "share swarms with sibling signallers through Redis at HOST:PORT (docs/scaling.md)"},
          {"allowed-origins", Type::string, "*", "browser origins that may open the WebSocket: * (any) or a comma-separated list; others get 403"},
          {"instance", Type::string, "", "this signaller's name among its siblings (required with --redis)"},
          {"max-message-bytes", Type::integer, "1048576", "largest WebSocket message (1009 close past it)", 1024, 64 << 20},
          {"rate", Type::number, "200", "messages per second per connection", 1, 1000000},
          {"burst", Type::number, "400", "message burst per connection", 1, 1000000},
          {"rate-bytes", Type::integer, "262144", "bytes per second per connection", 1024, INT64_MAX},
          {"burst-bytes", Type::integer, "0", "byte burst per connection (0: twice --max-message-bytes)", 0, INT64_MAX},
          {"max-queued-total", Type::integer, "67108864", "outgoing bytes queued for all connections together", 1 << 20, INT64_MAX},
          {"lookup-max", Type::integer, "8", "peers returned per chunk by default", 1, 50},
          {"max-connections", Type::integer, "100000", "open connections before new ones are closed", 1, 10000000},
          {"tls-cert", Type::string, "", "serve wss:// (and https://): certificate chain (PEM); SIGHUP reloads it and the key"},
          {"tls-key", Type::string, "", "serve wss://: private key (PEM), with --tls-cert"},
          {"tls-handshakes-per-ip", Type::integer, "50", "new wss:// connections per second from one address (IPv6: /64), bursts of twice that; past it reset at accept (0: unlimited)", 0, 1000000},
          {"lookup-rate", Type::number, "4", "lookups per second per member (burst 4x)", 1, 100000},
          {"swarm-secret", Type::string, "", "join tokens: admit only peers holding a token of a content server with this secret (docs/security.md); none: open swarms"},
          {"swarm-secret-file", Type::string, "", "read the swarm secret from the first line of this file"},
          {"port-file", Type::string, "", "write the bound port here once listening"},
      }};
  config::Options o;
  if (auto rc = parse_role_flags(spec, args, o)) return *rc;
  SignalServerOptions so;
  so.listen = o.str("listen");
  so.member_timeout_ms = static_cast<uint64_t>(o.integer("member-timeout-ms"));
  so.redis = o.str("redis");
  so.tls_cert = o.str("tls-cert");
  so.tls_key = o.str("tls-key");
  so.tls_handshakes_per_ip = static_cast<uint64_t>(o.integer("tls-handshakes-per-ip"));
  so.instance = o.str("instance");
  so.allowed_origins = o.str("allowed-origins");
  so.max_message_bytes = static_cast<uint64_t>(o.integer("max-message-bytes"));
  so.rate_per_second = o.number("rate");
  so.rate_burst = o.number("burst");
  so.rate_bytes_per_second = static_cast<double>(o.integer("rate-bytes"));
  so.rate_bytes_burst = static_cast<double>(o.integer("burst-bytes"));
  so.max_total_queued_bytes = static_cast<size_t>(o.integer("max-queued-total"));
  so.lookup_max = static_cast<uint32_t>(o.integer("lookup-max"));
  so.max_connections = static_cast<size_t>(o.integer("max-connections"));
  so.lookup_rate = o.number("lookup-rate");
  so.lookup_burst = 4 * so.lookup_rate;
  auto secret = signal::load_swarm_secret(o.str("swarm-secret"), o.str("swarm-secret-file"));
  if (!secret) {
    std::cerr << "hybridnode --role=signal: " << secret.error() << "\n";
    return 2;
  }
  so.swarm_secret = *secret;
  if (so.swarm_secret.empty()) log::warn("no --swarm-secret: swarms are open, anyone who reaches this signaller joins any swarm");

  uv_loop_t loop;
  uv_loop_init(&loop);
  int rc = 0;
  {
    SignalServer server(&loop, so);
    rc = serve_until_signalled(&loop, server, o.str("port-file"));
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return rc;
}

}  // namespace hn::roles
