#include "peer/peer_core.h"

#include <algorithm>

#include "peer/peer_id.h"
#include "util/clock.h"
#include "util/log.h"

namespace hn {

using p2p::PeerLink;

PeerCore::PeerCore(uv_loop_t* l, PeerOptions o) : loop(l), opts(std::move(o)) {
  if (opts.peer_id.empty()) opts.peer_id = random_peer_id();
}

Result<void> PeerCore::open(std::function<void(bool, const std::string&)> on_done, PeerLinks::Hooks hooks) {
  done = std::move(on_done);
  t0 = mono_seconds();
  hub = std::make_unique<p2p::P2pHub>(loop);
  hooks.send_signal = [this](const std::string& type, const std::string& to, nlohmann::json fields) {
    if (signal) signal->relay(type, to, std::move(fields));
  };
  // A first ping as soon as the link is up: its RTT is known after one round trip, not after the
  // once-a-second refresh, so the first requests are already placed by it. After the owner's hook,
  // which may close the link (the link itself is freed only on a later turn of the loop).
  auto ready = std::move(hooks.link.on_ready);
  hooks.link.on_ready = [ready](PeerLink& l) {
    if (ready) ready(l);
    if (l.ready()) l.ping();
  };
  auto closed = std::move(hooks.link.on_closed);
  hooks.link.on_closed = [this, closed](PeerLink& l, const std::string& why) {
    record(l, why);
    if (closed) closed(l, why);
  };
  if (auto ok = peer_links.init(hub.get(), &opts, std::move(hooks)); !ok) return ok;
  http = std::make_unique<net::HttpClient>(loop);
  http->set_ca_file(opts.ca_file);
  return {};
}

Result<void> PeerCore::serve_http(const std::string& flag, const std::string& where, std::function<std::string()> summary,
                                  net::HttpServer::Handler other) {
  auto at = net::parse_host_port(where);
  if (!at) return make_error(flag + ": " + at.error());
  net::HttpLimits limits;
  limits.max_connections = 64;
  limits.max_body_bytes = 0;
  endpoint = std::make_unique<net::HttpServer>(loop, limits, [summary, other](net::HttpRequest& r, net::HttpServer::Respond re) {
    if (r.path == "/summary") return re(net::HttpResponse::json(200, summary() + "\n"));
    other(r, std::move(re));
  });
  if (auto ok = endpoint->listen(*at); !ok) {
    endpoint.reset();
    return make_error(flag + ": " + ok.error());
  }
  return {};
}

void PeerCore::start_tick(std::function<void()> each) {
  each_tick_ = std::move(each);
  uv_timer_init(loop, tick.get());
  tick->data = this;
  uv_timer_start(tick.get(), [](uv_timer_t* t) {
    auto* self = static_cast<PeerCore*>(t->data);
    if (self == nullptr) return;
    ++self->ticks;
    if (self->ticks % 50 == 0)  // once a second: refresh the RTT table
      for (auto& l : self->peer_links.snapshot()) l->ping();
    if (self->ticks % 250 == 0 && self->signal) {  // every 5 s: share it with the signaller
      std::map<std::string, double> rtts;
      for (auto& [id, l] : self->links)
        if (l->rtt_ms() > 0) rtts[id] = l->rtt_ms();
      self->signal->rtt(rtts);
    }
    self->each_tick_();
  }, 20, 20);
}

void PeerCore::join_swarm(const std::string& swarm, uint32_t chunk_count, const std::string& content, bool live,
                          const std::string& token, std::function<void()> on_joined, std::function<std::string()> bitfield) {
  p2p::SignalClient::Identity id{opts.signal_url, swarm, opts.peer_id, chunk_count, opts.ca_file};
  id.content = content;
  id.live = live;
  id.token = token;
  p2p::SignalClient::Handlers h;
  h.on_joined = std::move(on_joined);
  h.on_relay = [this](const nlohmann::json& m) { peer_links.on_relay(m); };
  h.on_down = [](const std::string&) {};
  signal = std::make_unique<p2p::SignalClient>(loop, id, std::move(h));
  signal->start(std::move(bitfield));
}

bool PeerCore::can_look_up() const {
  if (!signal || !signal->joined() || lookup_pending_ || mono_seconds() < next_lookup_at) return false;
  size_t open_links = 0;
  for (auto& [id, l] : links)
    if (!l->closed()) open_links++;
  return open_links < static_cast<size_t>(opts.max_links);
}

bool PeerCore::look_up(const std::vector<uint32_t>& want, std::function<void(const p2p::SignalClient::Holders&)> answered) {
  if (want.empty() || !can_look_up()) return false;
  lookup_pending_ = true;
  next_lookup_at = mono_seconds() + 1.0;
  signal->lookup(want, [this, answered = std::move(answered)](p2p::SignalClient::Holders holders) {
    lookup_pending_ = false;
    if (stopping) return;
    if (answered) answered(holders);
    if (stopping) return;
    // Connect to the peers that hold the most of what we asked for.
    std::map<std::string, int> score;
    for (auto& [idx, peers] : holders)
      for (auto& p : peers) score[p]++;
    std::vector<std::pair<int, std::string>> ranked;
    for (auto& [p, s] : score)
      if (peer_links.dialable(p)) ranked.emplace_back(-s, p);
    std::sort(ranked.begin(), ranked.end());
    for (auto& [s, p] : ranked) {
      if (links.size() >= static_cast<size_t>(opts.max_links)) break;
      peer_links.connect(p, true);
    }
  });
  return true;
}

uint64_t PeerCore::drop_stalled_links(uint64_t limit_ms, const std::string& what) {
  uint64_t dropped = 0;
  for (auto& l : peer_links.snapshot()) {
    if (l->closed()) continue;
    uint64_t ms = l->send_stalled_ms();
    if (ms < limit_ms) continue;
    dropped++;
    log::warn(what + " to " + l->remote() + ": the remote took none of " + std::to_string(l->backlog()) +
              " bytes waiting for it in " + std::to_string(ms / 1000) + " s; dropping it");
    l->close("stopped taking data (" + std::to_string(ms / 1000) + " s without progress)");
  }
  return dropped;
}

void PeerCore::announce(uint32_t idx) {
  if (signal) signal->have(idx);
  for (auto& l : peer_links.snapshot())  // a failed send closes the link, which erases it from `links`
    if (l->ready()) l->send_have(idx);
}

void PeerCore::update(LinkRecord& r, const PeerLink& l) {
  if (!l.pair_type().empty()) r.pair = l.pair_type();
  r.bytes_in = std::max(r.bytes_in, l.bytes_in());
  r.bytes_out = std::max(r.bytes_out, l.bytes_out());
  if (l.rtt_ms() > 0) r.rtt_ms = l.rtt_ms();
  if (l.dtls_up()) {
    r.dtls = true;
    r.cipher = l.dtls_cipher();
    r.remote_fingerprint = l.remote_fingerprint();
  }
}

void PeerCore::record(const PeerLink& l, const std::string& closed) {
  if (link_log_.size() >= kMaxLinkLog && !l.ever_ready() && !link_log_.count(l.remote())) {
    links_not_listed_++;
    return;
  }
  auto& r = link_log_[l.remote()];
  update(r, l);
  if (!closed.empty()) r.closed = closed;
}

std::string PeerCore::summary_json(nlohmann::json own, const Traffic& t) const {
  own["peer"] = opts.peer_id;
  own["video"] = opts.video_id;
  own["bytes_from_server"] = t.from_server;
  own["bytes_from_peers"] = t.from_peers;
  own["bytes_uploaded"] = t.uploaded;
  own["server_refusals"] = t.refusals;
  own["server_errors"] = t.server_errors;
  own["bad_chunks"] = t.bad_chunks;
  own["peer_timeouts"] = t.peer_timeouts;
  std::map<std::string, LinkRecord> log = link_log_;
  for (auto& [id, l] : links) update(log[id], *l);
  nlohmann::json out = nlohmann::json::array();
  for (auto& [id, r] : log) {
    auto slash = r.pair.find('/');
    out.push_back({{"peer", id},
                   {"pair", r.pair},
                   {"local_type", slash == std::string::npos ? "" : r.pair.substr(0, slash)},
                   {"remote_type", slash == std::string::npos ? "" : r.pair.substr(slash + 1)},
                   {"bytes_in", r.bytes_in},
                   {"bytes_out", r.bytes_out},
                   {"rtt_ms", r.rtt_ms},
                   {"dtls", r.dtls},
                   {"cipher", r.cipher},
                   {"remote_fingerprint", r.remote_fingerprint},
                   {"closed", r.closed}});
  }
  own["links"] = std::move(out);
  own["links_not_listed"] = links_not_listed_;
  return own.dump(2);
}

bool PeerCore::shut_down() {
  if (stopping) return false;
  stopping = true;
  tick.reset();
  for (auto& [id, l] : links) record(*l, "");
  peer_links.close_all("peer stopping");
  if (signal) signal->stop();
  if (http) http->close();
  if (endpoint) endpoint->close();
  // Nothing may keep the loop alive once the peer is done: the hub's wake-up handle goes too.
  if (hub) hub->shutdown();
  return true;
}

void PeerCore::report(bool ok, const std::string& msg) {
  auto cb = std::move(done);
  done = nullptr;
  if (cb) cb(ok, msg);
}

PeerCore::~PeerCore() {
  signal.reset();
  http.reset();
  links.clear();
  if (hub) hub->shutdown();
}

}  // namespace hn
