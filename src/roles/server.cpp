// --role=server: wires the store, the capacity policy and the HTTP routes on one loop.
#include <sys/resource.h>
#include <sys/stat.h>
#include <uv.h>

#include <iostream>

#include "config/options.h"
#include "hybridnode/content_server.h"
#include "roles/port_file.h"
#include "roles/role_flags.h"
#include "roles/roles.h"
#include "signal/join_token.h"
#include "roles/run_loop.h"
#include "util/log.h"

namespace hn::roles {

namespace {
config::ParseSpec server_spec() {
  using config::Type;
  return {"hybridnode --role=server",
          {
              {"listen", Type::host_port, "127.0.0.1:8080", "address to serve HTTP on (port 0: any free port)"},
              {"store", Type::string, "./store", "chunk store: a folder (embedded store) or mongodb://HOST:PORT/DB (GridFS, docs/gridfs.md)"},
              {"max-transfers", Type::integer, "8", "concurrent chunk transfers before refusing with 503 (0: unlimited)", 0, 1000000},
              {"signal-url", Type::string, "", "signaller named in 503 answers, e.g. ws://127.0.0.1:8090/ws; several, comma-separated: each video's owner by rendezvous hashing (docs/scaling.md)"},
              {"policy", Type::string, "connections", "capacity policy: connections, bandwidth or adaptive (docs/policy.md)"},
              {"egress-bytes-per-sec", Type::integer, "0", "bandwidth policy: egress budget in bytes/s", 0, INT64_MAX},
              {"egress-burst-bytes", Type::integer, "0", "bandwidth policy: burst (default: 1/10 s of budget)", 0, INT64_MAX},
              {"target-ms", Type::integer, "500", "adaptive policy: keep p90 chunk transfer time under this", 1, 3600000},
              {"retry-after", Type::integer, "1", "seconds a refused client should wait (Retry-After)", 0, 3600},
              {"max-connections", Type::integer, "10000", "open HTTP connections before new ones are closed", 1, 10000000},
              {"max-header-bytes", Type::integer, "8192", "request line + headers cap (431 past it)", 512, 1 << 20},
              {"header-timeout-ms", Type::integer, "10000", "time to receive a whole request (408 past it)", 10, 3600000},
              {"idle-timeout-ms", Type::integer, "30000", "keep-alive idle time before closing", 10, 3600000},
              {"send-timeout-ms", Type::integer, "30000", "time without send progress before closing", 10, 3600000},
              {"limit-rate", Type::integer, "0", "bytes/s per chunk transfer, like nginx limit_rate (0: off; at most 10^12)", 0, 1000000000000},
              {"uplink-rate", Type::integer, "0", "bytes/s shared by all chunk transfers, an uplink (0: off; at most 10^12)", 0, 1000000000000},
              {"store-timeout-ms", Type::integer, "10000", "a store call slower than this is answered 503/504 and its transfer slot freed", 100, 3600000},
              {"max-long-polls", Type::integer, "10000", "live manifest long polls waiting at once (503 past it)", 0, 10000000},
              {"catalog-refresh-ms", Type::integer, "2000", "how often the catalog is re-read from the store (0: never)", 0, 86400000},
              {"live", Type::string, "", "a live channel ID=SOURCE: SOURCE is - (stdin), a FIFO or a growing MPEG-TS file"},
              {"live-window", Type::integer, "30", "live chunks kept and listed in the manifest/playlist", 2, 1024},
              {"live-chunk-ms", Type::integer, "1000", "target live chunk duration (cut at the next keyframe past it)", 100, 60000},
              {"cors-origin", Type::string, "*", "origins whose pages may read the API: * (any), a comma-separated list, or none"},
              {"web-root", Type::string, "", "folder served under / (the web client, docs/web.md); without it / lists the catalog"},
              {"tls-cert", Type::string, "", "serve HTTPS: certificate chain (PEM); SIGHUP reloads it and the key for new connections"},
              {"tls-key", Type::string, "", "serve HTTPS: private key (PEM), with --tls-cert"},
              {"tls-handshakes-per-ip", Type::integer, "50", "new HTTPS connections per second from one address (IPv6: /64), bursts of twice that; past it reset at accept (0: unlimited)", 0, 1000000},
              {"swarm-secret", Type::string, "", "sign join tokens with this secret (shared with the signallers, docs/security.md); none: open swarms"},
              {"swarm-secret-file", Type::string, "", "read the swarm secret from the first line of this file"},
              {"token-ttl", Type::integer, "600", "seconds a join token is valid (members renew before)", 30, 86400},
              {"workers", Type::integer, "1", "event loops (threads) serving HTTP on one SO_REUSEPORT address; the capacity policy and /metrics stay per process (docs/scaling.md)", 1, 256},
              {"port-file", Type::string, "", "write the bound port here once listening (for scripts using port 0)"},
          }};
}
}  // namespace

int run_server(const std::vector<std::string>& args) {
  auto spec = server_spec();
  config::Options o;
  if (auto rc = parse_role_flags(spec, args, o)) return *rc;
  if (!o.str("signal-url").empty() && !check_signal_urls(o.str("signal-url"))) return 2;
  std::unique_ptr<CapacityPolicy> policy;
  int retry = static_cast<int>(o.integer("retry-after"));
  if (o.str("policy") == "connections") {
    policy = make_connection_cap(o.integer("max-transfers"), retry);
  } else if (o.str("policy") == "bandwidth") {
    if (o.integer("egress-bytes-per-sec") <= 0) {
      std::cerr << "error: --policy=bandwidth needs --egress-bytes-per-sec\n";
      return 2;
    }
    policy = make_bandwidth_budget(static_cast<uint64_t>(o.integer("egress-bytes-per-sec")),
                                   static_cast<uint64_t>(o.integer("egress-burst-bytes")), retry);
  } else if (o.str("policy") == "adaptive") {
    int64_t max = o.integer("max-transfers") > 0 ? o.integer("max-transfers") : 64;
    policy = make_adaptive_cap(static_cast<double>(o.integer("target-ms")) / 1000.0, max, retry);
  } else {
    std::cerr << "error: --policy: unknown policy '" << o.str("policy") << "' (connections, bandwidth, adaptive)\n";
    return 2;
  }
  // A folder store is created when missing: say so, a misspelt --store would otherwise serve nothing silently.
  struct stat st;
  if (o.str("store").rfind("mongodb://", 0) != 0 && ::stat(o.str("store").c_str(), &st) != 0)
    log::warn("store folder " + o.str("store") + " does not exist; creating it empty");
  auto store = open_store(o.str("store"));
  if (!store) {
    std::cerr << "error: " << store.error() << "\n";
    return 1;
  }
  ContentServerOptions so;
  so.listen = o.str("listen");
  so.signal_url = o.str("signal-url");
  so.retry_after_seconds = static_cast<int>(o.integer("retry-after"));
  so.max_connections = static_cast<size_t>(o.integer("max-connections"));
  so.max_header_bytes = static_cast<size_t>(o.integer("max-header-bytes"));
  so.header_timeout_ms = static_cast<uint64_t>(o.integer("header-timeout-ms"));
  so.idle_timeout_ms = static_cast<uint64_t>(o.integer("idle-timeout-ms"));
  so.send_timeout_ms = static_cast<uint64_t>(o.integer("send-timeout-ms"));
  so.catalog_refresh_ms = static_cast<uint64_t>(o.integer("catalog-refresh-ms"));
  so.store_timeout_ms = static_cast<uint64_t>(o.integer("store-timeout-ms"));
  so.max_long_polls = static_cast<size_t>(o.integer("max-long-polls"));
  so.limit_rate = static_cast<uint64_t>(o.integer("limit-rate"));
  so.uplink_rate = static_cast<uint64_t>(o.integer("uplink-rate"));
  auto secret = signal::load_swarm_secret(o.str("swarm-secret"), o.str("swarm-secret-file"));
  if (!secret) {
    std::cerr << "error: " << secret.error() << "\n";
    return 2;
  }
  so.swarm_secret = *secret;
  so.token_ttl_seconds = o.integer("token-ttl");
  if (!o.str("live").empty()) {
    auto eq = o.str("live").find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == o.str("live").size()) {
      std::cerr << "error: --live: expected ID=SOURCE, e.g. --live=news=- or --live=news=/run/news.fifo\n";
      return 2;
    }
    so.live_id = o.str("live").substr(0, eq);
    so.live_source = o.str("live").substr(eq + 1);
  }
  so.tls_cert = o.str("tls-cert");
  so.tls_key = o.str("tls-key");
  so.tls_handshakes_per_ip = static_cast<uint64_t>(o.integer("tls-handshakes-per-ip"));
  so.live_window = static_cast<size_t>(o.integer("live-window"));
  so.cors_origin = o.str("cors-origin") == "none" ? "" : o.str("cors-origin");
  so.web_root = o.str("web-root");
  so.live_chunk_seconds = static_cast<double>(o.integer("live-chunk-ms")) / 1000.0;
  so.workers = static_cast<size_t>(o.integer("workers"));

  // Every open chunk, connection and store socket is an fd: use what the hard limit allows (the open
  // chunk cache is sized from the result).
  struct rlimit nofile {};
  if (::getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max) {
    nofile.rlim_cur = nofile.rlim_max;
    ::setrlimit(RLIMIT_NOFILE, &nofile);
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  int rc = 0;
  {
    ContentServer server(&loop, so, std::move(*store), std::move(policy));
    rc = serve_until_signalled(&loop, server, o.str("port-file"));
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return rc;
}

}  // namespace hn::roles
