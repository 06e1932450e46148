// What every peer does whatever it fetches (a file: PeerNode, a live channel: LivePeer): the P2P hub,
// the HTTP client to the content server, the session with the signaller, the peer links, the 20 ms tick,
// the /summary endpoint, the record of every link for the summary, and shutdown in a safe order.
// PeerNode::Impl and LivePeer::Impl derive from it and keep only what differs: what to fetch next and
// where the bytes go.
#pragma once
#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "hybridnode/peer.h"
#include "net/http_client.h"
#include "net/http_server.h"
#include "net/uv_handle.h"
#include "p2p/p2p_hub.h"
#include "p2p/peer_link.h"
#include "p2p/signal_client.h"
#include "peer/peer_links.h"

namespace hn {

class PeerCore {
 public:
  PeerCore(uv_loop_t* loop, PeerOptions opts);  // a random peer id when opts has none
  ~PeerCore();  // after the owner stopped: the transports go before the hub
  PeerCore(const PeerCore&) = delete;
  PeerCore& operator=(const PeerCore&) = delete;

  // Starts the clock and opens the hub, the links (`hooks.send_signal` is the core's; a closed link is
  // recorded before `hooks.link.on_closed` runs; a ready link is pinged at once, after `hooks.link.on_ready`)
  // and the HTTP client. `on_done` is what report() calls.
  Result<void> open(std::function<void(bool, const std::string&)> on_done, PeerLinks::Hooks hooks);
  // An HTTP endpoint on `where` (IP:PORT, port 0: any): /summary answers `summary()`, the rest goes to
  // `other`. `flag` names the option in errors.
  Result<void> serve_http(const std::string& flag, const std::string& where, std::function<std::string()> summary,
                          net::HttpServer::Handler other);
  int http_port() const { return endpoint ? endpoint->port() : 0; }
  // Every 20 ms: `each` runs after the links' shared upkeep (a ping a second, our RTTs to the
  // signaller every 5 s).
  void start_tick(std::function<void()> each);
  // Joins the swarm `swarm` + `content` (a manifest digest, or a live run's epoch) at opts.signal_url.
  void join_swarm(const std::string& swarm, uint32_t chunk_count, const std::string& content, bool live,
                  const std::string& token, std::function<void()> on_joined, std::function<std::string()> bitfield);
  // Asks the signaller who holds `want` (at most one lookup a second, only while the links have room)
  // and dials the holders of the most of it. False when no lookup went out. `answered`, if given, sees the
  // signaller's answer (index -> holders; an index nobody holds is absent) before any dialling.
  bool look_up(const std::vector<uint32_t>& want, std::function<void(const p2p::SignalClient::Holders&)> answered = nullptr);
  bool can_look_up() const;
  // Drops every link whose remote has taken none of the data waiting for it (no message left our queue,
  // SCTP's unacknowledged bytes did not shrink) for `limit_ms`; its slots and queued pieces go with it.
  // Returns how many. `what` names the link in the log ("link", "live link").
  uint64_t drop_stalled_links(uint64_t limit_ms, const std::string& what);
  // A verified chunk is served from now on: the signaller and every ready link hear of it.
  void announce(uint32_t idx);
  // Bytes and trouble every peer counts; the owner's counters extend it.
  struct Traffic {
    uint64_t from_server = 0, from_peers = 0, uploaded = 0, refusals = 0, server_errors = 0, bad_chunks = 0, peer_timeouts = 0;
  };
  // `own` (the owner's fields) with what every peer reports: who, what, bytes by source, trouble, and
  // its links, closed ones included.
  std::string summary_json(nlohmann::json own, const Traffic& t) const;
  void record(const p2p::PeerLink& l, const std::string& closed);
  // The shared part of stopping: false when already stopping; else the tick, the links, the signaller,
  // the HTTP client and endpoint and the hub's wake-up handle are all let go (nothing keeps the loop alive).
  bool shut_down();
  // Calls `done` once.
  void report(bool ok, const std::string& msg);

  uv_loop_t* loop;
  PeerOptions opts;
  std::function<void(bool, const std::string&)> done;
  std::unique_ptr<p2p::P2pHub> hub;
  std::unique_ptr<net::HttpClient> http;
  std::unique_ptr<net::HttpServer> endpoint;  // --metrics-listen (downloads), --player-listen (live)
  std::unique_ptr<p2p::SignalClient> signal;
  PeerLinks peer_links;
  PeerLinks::Map& links = peer_links.map();
  net::UvHandle<uv_timer_t> tick;
  uint64_t ticks = 0;
  bool stopping = false;
  double t0 = 0;
  double next_lookup_at = 0;  // set to 0 to allow a lookup at once (a fresh join)

 private:
  bool lookup_pending_ = false;
  std::function<void()> each_tick_;
  struct LinkRecord {
    std::string pair;
    uint64_t bytes_in = 0, bytes_out = 0;
    double rtt_ms = 0;
    std::string closed;
    bool dtls = false;
    std::string cipher, remote_fingerprint;
  };
  static void update(LinkRecord& r, const p2p::PeerLink& l);
  // Links that are gone, for the summary. Bounded: remotes minting fresh ids for offers that never connect
  // (red team s6: 6,659 in 15 s) would grow it, and the summary, without end. Past kMaxLinkLog remotes,
  // links that never came up are counted in links_not_listed_ instead.
  static constexpr size_t kMaxLinkLog = 1024;
  std::map<std::string, LinkRecord> link_log_;
  uint64_t links_not_listed_ = 0;
};

}  // namespace hn
