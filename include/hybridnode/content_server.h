/// @file
/// The content server (--role=server) as an embeddable object on a caller's libuv loop.
#pragma once
#include "hybridnode/export.h"
#include <uv.h>

#include <cstdint>
#include <memory>
#include <string>

#include "hybridnode/capacity_policy.h"
#include "hybridnode/chunk_store.h"
#include "hybridnode/result.h"

namespace hn {

struct ContentServerOptions {
  std::string listen = "127.0.0.1:8080";
  std::string signal_url;               ///< named in 503 answers so refused clients find the swarm
  int retry_after_seconds = 1;
  size_t max_connections = 10000;
  size_t max_header_bytes = 8192;
  uint64_t header_timeout_ms = 10000;
  uint64_t idle_timeout_ms = 30000;
  uint64_t send_timeout_ms = 30000;
  uint64_t catalog_refresh_ms = 2000;   ///< how soon a newly ingested video appears
  size_t open_chunk_cache = 1024;       ///< chunk files kept open (at most a quarter of RLIMIT_NOFILE)
  uint64_t store_timeout_ms = 10000;    ///< a store call (chunk open, catalog refresh) slower than this is answered 504/503
  size_t max_long_polls = 10000;        ///< live long polls parked at once; past it: 503 + Retry-After
  uint64_t limit_rate = 0;              ///< bytes/s per chunk transfer (a client's downlink); 0: off
  uint64_t uplink_rate = 0;             ///< bytes/s shared by all chunk transfers (the server's uplink); 0: off
  /// Live channel (docs/live.md): id and source ("-" stdin, a FIFO or a growing MPEG-TS file); none when empty.
  std::string live_id, live_source;
  size_t live_window = 30;              ///< chunks kept and listed in the live manifest / playlist
  double live_chunk_seconds = 1.0;      ///< target chunk duration (cut at the first keyframe past it)
  /// Browsers (docs/web.md): origins whose pages may read the API ("*", "" for none, or a comma list),
  /// and a folder served under / (the web client); without it / answers an HTML catalog.
  std::string cors_origin = "*";
  std::string web_root;
  /// HTTPS when both are set (PEM files; SIGHUP reloads them for new connections).
  std::string tls_cert, tls_key;
  /// New HTTPS connections (TLS handshakes) per second one address (IPv6: its /64) may open, bursts of
  /// twice that; past it they are reset at accept. 0: unlimited.
  uint64_t tls_handshakes_per_ip = 50;
  /// Join tokens (docs/security.md): with a secret shared with the signallers, every manifest, live
  /// manifest and 503 answer carries a "token" valid for token_ttl_seconds; empty: open swarms.
  std::string swarm_secret;
  int64_t token_ttl_seconds = 600;
  /// Event loops serving HTTP, each on its own thread with its own listening socket on `listen`
  /// (SO_REUSEPORT). The capacity policy, --max-connections, the uplink budget, the TLS context and
  /// /metrics stay the whole process's (docs/scaling.md). 1: the caller's loop only.
  size_t workers = 1;
};

class HN_API ContentServer {
 public:
  /// Takes ownership of the store and policy; nothing happens until start().
  ContentServer(uv_loop_t* loop, ContentServerOptions opts, std::unique_ptr<ChunkStore> store,
                std::unique_ptr<CapacityPolicy> policy);
  ~ContentServer();
  ContentServer(const ContentServer&) = delete;
  ContentServer& operator=(const ContentServer&) = delete;

  Result<void> start();
  void stop();
  int port() const;

 private:
  struct HN_LOCAL Impl;  ///< internal: its symbols stay out of the shared library
  std::unique_ptr<Impl> impl_;
};

}  ///< namespace hn
