// --role=peer: download a video with the hybrid policy and serve what it holds.
#include <unistd.h>
#include <uv.h>

#include <fstream>
#include <iostream>

#include "config/options.h"
#include "hybridnode/ids.h"
#include "hybridnode/live_peer.h"
#include "hybridnode/peer.h"
#include "roles/port_file.h"
#include "roles/role_flags.h"
#include "roles/roles.h"
#include "roles/run_loop.h"
#include "roles/test_switches.h"
#include "util/log.h"

namespace hn::roles {

namespace {

void write_summary(const std::string& path, const std::string& json) {
  if (path.empty()) return;
  std::string tmp = path + ".tmp";
  std::ofstream(tmp) << json << "\n";
  std::rename(tmp.c_str(), path.c_str());
}

int watch_live(uv_loop_t* loop, const PeerOptions& po, const std::string& summary, const std::string& port_file) {
  int rc = 1;
  LivePeer peer(loop, po);
  peer.start([&](bool ok, const std::string& msg) {
    rc = ok ? 0 : 1;
    if (!ok) std::cerr << "error: " << msg << "\n";
    write_summary(summary, peer.summary_json());
  });
  if (peer.player_port() > 0) write_port_file(port_file, peer.player_port());
  run_until_signalled(loop, [&] { peer.stop(); });
  return rc;
}

}  // namespace

int run_peer(const std::vector<std::string>& args) {
  using config::Type;
  config::ParseSpec spec{
      "hybridnode --role=peer",
      {
          {"server", Type::string, "http://127.0.0.1:8080", "content server base URL (http:// or https://)"},
          {"ca", Type::string, "", "PEM file of CAs to verify https:// servers with (default: the system store)"},
          {"video", Type::string, "", "video id to download (this or --live is required)"},
          {"live", Type::string, "", "watch this live channel instead of downloading (docs/live.md)"},
          {"live-buffer", Type::integer, "3", "live: start this many chunks behind the edge", 0, 1000},
          {"live-seconds", Type::number, "0", "live: stop after this many seconds (0: when the channel ends)", 0, 1000000000},
          {"player-listen", Type::string, "", "live: serve /live/ID.m3u8 for a player on IP:PORT (port 0: any; see --port-file)"},
          {"output", Type::string, "", "output file (default: VIDEO_ID.out in the current folder)"},
          {"signal-url", Type::string, "", "signaller ws://IP:PORT/ws (default: learnt from the server's 503)"},
          {"peer-id", Type::string, "", "this peer's id in the swarm (default: random)"},
          {"stun", Type::string, "", "STUN server IP:PORT"},
          {"turn", Type::string, "", "TURN server IP:PORT (UDP)"},
          {"turn-user", Type::string, "", "TURN user name"},
          {"turn-pass", Type::string, "", "TURN password"},
          {"no-host-candidates", Type::boolean, "false", "offer no host candidates (force NAT traversal paths)"},
          {"metrics-listen", Type::string, "", "serve /metrics and /summary on IP:PORT (port 0: any; see --port-file)"},
          {"port-file", Type::string, "", "write the metrics port here once listening"},
          {"relay-only", Type::boolean, "false", "use only TURN relay candidates (hides this peer's address)"},
          {"mtu", Type::integer, "1200", "link MTU: DTLS datagram bytes; SCTP's path MTU is 40 less, at most 16344 (raise on host/LAN pairs)", 576, 65000},
          {"dtls-cert", Type::string, "", "PEM certificate for peer links (DTLS; default: a fresh ECDSA P-256 one)"},
          {"dtls-key", Type::string, "", "PEM private key of --dtls-cert"},
          {"dtls-timeout-ms", Type::integer, "10000", "a DTLS handshake not done by then closes the link", 100, 600000},
          {"server-slots", Type::integer, "2", "concurrent chunk requests to the server (0: chunks from peers only)", 0, 64},
          {"urgent-chunks", Type::integer, "2", "next N missing chunks (playback order) go to the server even in the swarm; live viewers: 1 unless given", 0, 1000000},
          {"max-links", Type::integer, "8", "peer connections to open", 0, 256},
          {"requests-per-link", Type::integer, "4", "chunk requests in flight per peer", 1, 64},
          {"upload-slots", Type::integer, "8", "chunk uploads served at once", 0, 1024},
          {"peer-timeout-ms", Type::integer, "8000", "a peer that has not delivered a chunk by then loses it", 100, 600000},
          {"seed-for", Type::number, "0", "seconds to keep serving after completion (-1: until stopped)", -1, 1000000000},
          {"summary", Type::string, "", "write a JSON summary here when done"},
          {"progress", Type::boolean, "false", "progress line on stderr (default on when stderr is a terminal)"},
          {"upload-rate", Type::integer, "0", "total upload bytes/s (0: unlimited)", 0, INT64_MAX},
          {"peer-select", Type::string, "rtt", "which holder gets a request: rtt (where it completes first, queue included) or random (baseline)"},
          {"endgame", Type::boolean, "true", "at the tail of a download, also ask a second peer for chunks in flight"},
      }};
  for (auto& t : peer_test_switches()) spec.options.push_back(std::move(t));
  config::Options o;
  if (auto rc = parse_role_flags(spec, args, o)) return *rc;
  bool live = !o.str("live").empty();
  if (live ? !is_video_id(o.str("live")) || o.is_set("video") : !is_video_id(o.str("video"))) {
    std::cerr << "error: give a valid --video (see GET /videos on the server) or --live (GET /live), not both\n";
    return 2;
  }
  if (!o.str("signal-url").empty() && !check_signal_urls(o.str("signal-url"))) return 2;
  PeerOptions po;
  po.server_url = o.str("server");
  while (!po.server_url.empty() && po.server_url.back() == '/') po.server_url.pop_back();
  po.ca_file = o.str("ca");
  po.video_id = live ? o.str("live") : o.str("video");
  po.output = o.str("output").empty() && !live ? po.video_id + ".out" : o.str("output");
  po.live_buffer = static_cast<int>(o.integer("live-buffer"));
  po.live_seconds = o.number("live-seconds");
  po.player_listen = o.str("player-listen");
  po.signal_url = o.str("signal-url");
  po.peer_id = o.str("peer-id");
  po.stun = o.str("stun");
  po.turn = o.str("turn");
  po.turn_user = o.str("turn-user");
  po.turn_pass = o.str("turn-pass");
  po.host_candidates = !o.boolean("no-host-candidates");
  po.relay_only = o.boolean("relay-only");
  po.metrics_listen = o.str("metrics-listen");
  po.mtu = static_cast<int>(o.integer("mtu"));
  po.dtls_cert = o.str("dtls-cert");
  po.dtls_key = o.str("dtls-key");
  po.dtls_timeout_ms = static_cast<uint64_t>(o.integer("dtls-timeout-ms"));
  po.server_slots = static_cast<int>(o.integer("server-slots"));
  po.urgent_chunks = static_cast<int>(o.integer("urgent-chunks"));
  // Live: only the chunk the player needs within one chunk-duration is urgent (the server's);
  // with a 3-chunk buffer the rest has time to come from peers.
  if (live && !o.is_set("urgent-chunks")) po.urgent_chunks = 1;
  po.max_links = static_cast<int>(o.integer("max-links"));
  po.requests_per_link = static_cast<int>(o.integer("requests-per-link"));
  po.upload_slots = static_cast<int>(o.integer("upload-slots"));
  po.peer_timeout_ms = static_cast<uint64_t>(o.integer("peer-timeout-ms"));
  po.seed_for = o.number("seed-for");
  po.progress = o.is_set("progress") ? o.boolean("progress") : isatty(STDERR_FILENO) != 0;
  if (!apply_peer_test_switches(o, po)) return 2;
  po.upload_rate = static_cast<uint64_t>(o.integer("upload-rate"));
  po.peer_select = o.str("peer-select");
  if (po.peer_select != "rtt" && po.peer_select != "random") {
    std::cerr << "error: --peer-select: rtt or random\n";
    return 2;
  }
  po.endgame = o.boolean("endgame");

  uv_loop_t loop;
  uv_loop_init(&loop);
  int rc = 1;
  if (live) {
    rc = watch_live(&loop, po, o.str("summary"), o.str("port-file"));
  } else {
    PeerNode node(&loop, po);
    std::string summary_path = o.str("summary");
    node.start([&](bool ok, const std::string& msg) {
      rc = ok ? 0 : 1;
      if (!ok) std::cerr << "error: " << msg << "\n";
      write_summary(summary_path, node.summary_json());
    });
    if (node.metrics_port() > 0) write_port_file(o.str("port-file"), node.metrics_port());
    run_until_signalled(&loop, [&] { node.stop(); });
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  uv_loop_close(&loop);
  return rc;
}

}  // namespace hn::roles
