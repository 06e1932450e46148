// Wires WebSocket connections to the swarm registry: one message in, zero or more messages out.
#include "hybridnode/signal_server.h"

#include <openssl/rand.h>

#include <map>
#include <unordered_map>

#include "media/sha256.h"
#include "net/http_server.h"
#include "net/origin_list.h"
#include "net/ws_connection.h"
#include "net/ws_handshake.h"
#include "signal/federation.h"
#include "signal/introductions.h"
#include "signal/join_token.h"
#include "signal/signal_message.h"
#include "signal/swarm_registry.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/prometheus.h"

namespace hn {

using signal::ConnId;
using signal::Message;
using signal::SignalError;

namespace {

std::string random_token() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) return "";  // no token: the member simply cannot move
  static const char* hex = "0123456789abcdef";
  std::string s;
  for (unsigned char c : b) {
    s += hex[c >> 4];
    s += hex[c & 15];
  }
  return s;
}
int64_t wall_seconds() { return wall_ms() / 1000; }

// Drops messages past a steady rate; a connection that keeps flooding is closed.
struct TokenBucket {
  double tokens, rate, burst, last;
  void refill(double now) {
    tokens = std::min(burst, tokens + (now - last) * rate);
    last = now;
  }
};
}  // namespace

struct SignalServer::Impl {
  uv_loop_t* loop;
  SignalServerOptions opts;
  std::unique_ptr<net::HttpServer> http;
  signal::SwarmRegistry registry;
  signal::Introductions intros;
  std::unique_ptr<signal::Federation> federation;  // null without --redis
  struct Conn {
    std::shared_ptr<net::WsConnection> ws;
    TokenBucket bucket;  // messages
    TokenBucket bytes;   // bytes: large messages under the message rate are still limited
    double last_seen;
    uint32_t dropped = 0;
    double dropped_bytes = 0;
    TokenBucket lookups{0, 0, 0, 0};
    int64_t token_expires = 0;  // Unix seconds; 0: no token needed (open mode) or not joined
  };
  std::shared_ptr<net::WsMemoryBudget> out_budget = std::make_shared<net::WsMemoryBudget>();
  double byte_burst() const {
    double b = opts.rate_bytes_burst > 0 ? opts.rate_bytes_burst : 2.0 * static_cast<double>(opts.max_message_bytes);
    return std::max(b, static_cast<double>(opts.max_message_bytes));  // one largest message always fits
  }
  std::unordered_map<ConnId, Conn> conns;
  ConnId next_id = 1;
  net::UvHandle<uv_timer_t> sweep;
  std::map<std::string, uint64_t> messages_by_type, errors_by_code;
  uint64_t relays = 0, relay_errors = 0, expired = 0, rate_limited_closes = 0;
  net::OriginList origins{"*"};  // set from opts in start()
  uint64_t origin_refusals = 0;
  uint64_t unauthorized = 0, renewals = 0, token_expired = 0, not_introduced = 0;

  bool admit(ConnId id, const Message& m);
  void refuse(ConnId id, const SignalError& e, const Message& m);
  void drop_member(ConnId id);

  std::optional<net::HttpResponse> upgrade(net::HttpRequest& req, UniqueFd& fd, std::string& leftover);
  void on_text(ConnId id, std::string_view text);
  void handle(ConnId id, Message& m);
  void send(ConnId id, const std::string& text);
  void send_error(ConnId id, const SignalError& e, const std::string& ref = "", const std::string& req_id = "");
  void on_closed(ConnId id);
  void sweep_silent();
  void handle_http(net::HttpRequest& req, net::HttpServer::Respond respond);
  std::string metrics() const;
};

std::optional<net::HttpResponse> SignalServer::Impl::upgrade(net::HttpRequest& req, UniqueFd& fd, std::string& leftover) {
  if (!net::ws_upgrade_requested(req)) {
    // An Upgrade we do not speak (e.g. h2c) may be ignored (RFC 9110 7.8): answer as plain HTTP, which is synchronous here.
    std::optional<net::HttpResponse> plain;
    handle_http(req, [&plain](net::HttpResponse r) { plain = std::move(r); });
    return plain;
  }
  if (req.path != "/ws") return net::HttpResponse::error(404, "WebSocket endpoint is /ws");
  // A page from another site must not use visitors' browsers as members of our swarms.
  if (!origins.allows(req.header("origin"))) {
    origin_refusals++;
    return net::HttpResponse::error(403, "origin not allowed");
  }
  auto hs = net::ws_server_handshake(req);
  if (!hs) return net::HttpResponse::error(400, hs.error());
  // The 101 fits in an empty socket buffer; a client that cannot take 200 bytes is not worth waiting for.
  auto tls = http->take_upgrade_tls();  // wss: the 101 and everything after go through TLS
  ssize_t n = tls ? tls->write(hs->data(), hs->size()) : ::send(fd.get(), hs->data(), hs->size(), MSG_NOSIGNAL);
  if (n != static_cast<ssize_t>(hs->size())) {
    fd.reset();
    return std::nullopt;
  }
  ConnId id = next_id++;
  net::WsLimits limits;
  limits.max_message_bytes = opts.max_message_bytes;
  limits.budget = out_budget;
  auto ws = std::make_shared<net::WsConnection>(loop, std::move(fd), std::move(leftover), false, limits,
                                                std::move(tls));
  double now = mono_seconds();
  conns[id] = Conn{ws, TokenBucket{opts.rate_burst, opts.rate_per_second, opts.rate_burst, now},
                   TokenBucket{byte_burst(), opts.rate_bytes_per_second, byte_burst(), now}, now};
  conns[id].lookups = TokenBucket{opts.lookup_burst, opts.lookup_rate, opts.lookup_burst, now};
  ws->start({[this, id](std::string_view text) { on_text(id, text); },
             [this, id](uint16_t code, const std::string& reason) {
               log::debug("signal: connection " + std::to_string(id) + " closed " + std::to_string(code) + " " + reason);
               on_closed(id);
             }});
  return std::nullopt;
}

void SignalServer::Impl::send(ConnId id, const std::string& text) {
  auto it = conns.find(id);
  if (it != conns.end() && it->second.ws) it->second.ws->send_text(text);
}

void SignalServer::Impl::send_error(ConnId id, const SignalError& e, const std::string& ref, const std::string& req_id) {
  errors_by_code[e.code]++;
  send(id, signal::error_json(e, ref, req_id));
}

void SignalServer::Impl::on_text(ConnId id, std::string_view text) {
  auto it = conns.find(id);
  if (it == conns.end()) return;
  Conn& c = it->second;
  double now = mono_seconds();
  double size = static_cast<double>(text.size());
  c.bucket.refill(now);
  c.bytes.refill(now);
  if (c.bucket.tokens < 1 || c.bytes.tokens < size) {
    // Drop, tell (at most once per burst), and close a client that will not slow down. Decide everything
    // before sending: a failed send closes the socket, and on_closed erases `c`.
    uint32_t dropped = c.dropped++;
    c.dropped_bytes += size;
    bool tell = dropped % static_cast<uint32_t>(std::max(1.0, opts.rate_burst)) == 0;
    bool drop = c.dropped > 4 * opts.rate_burst || c.dropped_bytes > 4 * c.bytes.burst;
    std::shared_ptr<net::WsConnection> ws = c.ws;
    if (tell)
      send_error(id, {"rate_limited", "more than " + std::to_string(static_cast<int>(opts.rate_per_second)) +
                                          " messages/s or " + std::to_string(static_cast<int64_t>(opts.rate_bytes_per_second)) +
                                          " bytes/s; message dropped"});
    if (drop && ws->open()) {
      rate_limited_closes++;
      ws->close(net::kWsPolicyViolation, "rate limit exceeded");
    }
    return;
  }
  c.bucket.tokens -= 1;
  c.bytes.tokens -= size;
  c.last_seen = now;
  registry.touch(id, now);
  signal::MessageRef ref;
  auto parsed = signal::parse_message(text, &ref);
  if (auto* err = std::get_if<SignalError>(&parsed)) {
    messages_by_type["invalid"]++;
    send_error(id, *err, ref.type, ref.id);
    return;
  }
  auto& m = std::get<Message>(parsed);
  messages_by_type[m.type_name]++;
  handle(id, m);
}

// Join tokens (docs/security.md): without a secret every join is admitted.
bool SignalServer::Impl::admit(ConnId id, const Message& m) {
  if (opts.swarm_secret.empty()) return true;
  std::string video = m.video, content = m.content;
  if (m.type == Message::Type::renew) {
    uint32_t n = 0;
    const std::string* key = registry.video_of(id);
    if (key == nullptr || !signal::split_swarm_key(*key, video, content, n)) {
      send_error(id, {"not_joined", "join a swarm first"}, m.type_name, m.id);
      return false;
    }
  }
  auto claims = signal::check_token(opts.swarm_secret, m.token, video, content, wall_seconds());
  if (!claims) {
    bool stale = claims.error() == "token_expired";
    if (stale) token_expired++;
    else unauthorized++;
    refuse(id, {claims.error(), stale ? "the join token has expired; fetch the manifest again for a fresh one"
                                      : "a join token of the content server for this video and manifest is required"}, m);
    return false;
  }
  conns[id].token_expires = claims->expires;
  return true;
}

// A refused join or renew: the error, then the connection closes (the client may come back with a token).
void SignalServer::Impl::refuse(ConnId id, const SignalError& e, const Message& m) {
  send_error(id, e, m.type_name, m.id);
  drop_member(id);
  auto it = conns.find(id);
  if (it != conns.end() && it->second.ws) it->second.ws->close(net::kWsPolicyViolation, e.code);
}

void SignalServer::Impl::drop_member(ConnId id) {
  if (federation) federation->leaving(id);
  registry.leave(id);
  intros.forget(id);
}

void SignalServer::Impl::handle(ConnId id, Message& m) {
  using T = Message::Type;
  auto reply = [&](nlohmann::json j) {
    if (!m.id.empty()) j["id"] = m.id;
    send(id, j.dump());
  };
  switch (m.type) {
    case T::join: {
      if (registry.member(id) != nullptr)
        return send_error(id, {"already_joined", "this connection already joined a swarm; leave first"}, m.type_name, m.id);
      if (!admit(id, m)) return;
      std::string key = signal::swarm_key(m.video, m.content, m.chunk_count);
      if (federation) {
        auto move = federation->evict_remote(key, m.peer, m.resume);
        if (move == signal::Federation::Move::refused)
          return send_error(id, {"id_taken", "peer id " + m.peer + " is joined at a sibling signaller; moving it needs its resume token"},
                            m.type_name, m.id);
        if (move == signal::Federation::Move::moved) log::info("signal: " + m.peer + " moved here from a sibling signaller");
      }
      if (auto e = registry.join(id, key, m.peer, m.chunk_count, std::move(m.bitfield), mono_seconds()))
        return send_error(id, *e, m.type_name, m.id);
      // The member's proof of this join: it shows the token to move its id to a sibling later.
      std::string resume = random_token();
      if (federation) federation->joined(id, sha256_hex(resume.data(), resume.size()), m.token);
      nlohmann::json j = {{"type", "joined"}, {"video", m.video}, {"peer", m.peer}, {"chunk_count", m.chunk_count},
                          {"members", registry.swarm_size(key)}, {"resume", resume}};
      if (conns[id].token_expires != 0) j["expires"] = conns[id].token_expires;
      return reply(std::move(j));
    }
    case T::renew: {
      if (registry.member(id) == nullptr) return send_error(id, {"not_joined", "join a swarm first"}, m.type_name, m.id);
      if (!admit(id, m)) return;
      renewals++;
      if (federation) federation->renewed(id, m.token);
      nlohmann::json j = {{"type", "renewed"}};
      if (conns[id].token_expires != 0) j["expires"] = conns[id].token_expires;
      return reply(std::move(j));
    }
    case T::have:
      if (auto e = registry.have(id, m.chunks)) send_error(id, *e, m.type_name, m.id);
      else if (federation) federation->had(id, m.chunks);
      return;
    case T::bitfield:
      if (auto e = registry.set_bitfield(id, std::move(m.bitfield))) send_error(id, *e, m.type_name, m.id);
      else if (federation) federation->bitfield(id);
      return;
    case T::load:
      if (auto e = registry.set_load(id, m.uploads)) send_error(id, *e, m.type_name, m.id);
      return;
    case T::rtt:
      if (auto e = registry.set_rtt(id, std::move(m.rtt_ms))) send_error(id, *e, m.type_name, m.id);
      return;
    case T::lookup: {
      const signal::Member* self = registry.member(id);
      if (self == nullptr) return send_error(id, {"not_joined", "join a swarm first"}, m.type_name, m.id);
      TokenBucket& lb = conns[id].lookups;
      lb.refill(mono_seconds());
      if (lb.tokens < 1)
        return send_error(id, {"rate_limited", "more than " + std::to_string(opts.lookup_rate) + " lookups/s; ask again later"},
                          m.type_name, m.id);
      lb.tokens -= 1;
      size_t max = m.max == 0 ? opts.lookup_max : std::min<uint32_t>(m.max, 50);
      nlohmann::json result = nlohmann::json::object();
      size_t budget = signal::kMaxLookupReplyBytes;  // a small request must not buy a huge reply
      bool truncated = false;
      for (uint32_t c : m.chunks)
        if (c >= self->have.size())
          return send_error(id, {"bad_chunk", "chunk index " + std::to_string(c) + " out of range"}, m.type_name, m.id);
      // At most `max` per chunk and, over all chunks, no more distinct peers than one introduction ring holds,
      // so a lookup of many chunks cannot list a swarm either. Each peer named is introduced to the asker.
      std::vector<ConnId> named;
      size_t scan = signal::kLookupScanBudget;
      for (uint32_t c : m.chunks) {
        nlohmann::json peers = nlohmann::json::array();
        if (!truncated)
          for (const auto* p : registry.lookup(id, c, max, scan)) {
            bool known = std::find(named.begin(), named.end(), p->conn) != named.end();
            if (!known && named.size() >= signal::Introductions::kIntroductions) continue;
            if (p->peer.size() + 3 > budget) {
              truncated = true;
              break;
            }
            budget -= p->peer.size() + 3;
            if (!known) named.push_back(p->conn);
            intros.introduce(id, p->conn);
            peers.push_back(p->peer);
          }
        if (scan == 0) truncated = true;
        result[std::to_string(c)] = std::move(peers);
      }
      nlohmann::json answer = {{"type", "peers"}, {"chunks", std::move(result)}};
      if (truncated) answer["truncated"] = true;
      return reply(std::move(answer));
    }
    case T::offer:
    case T::answer:
    case T::candidate: {
      const signal::Member* self = registry.member(id);
      if (self == nullptr) return send_error(id, {"not_joined", "join a swarm first"}, m.type_name, m.id);
      auto to = registry.route(id, m.to);
      if (!to) {
        relay_errors++;
        return send_error(id, {"unknown_peer", "no peer " + m.to + " in this swarm"}, m.type_name, m.id);
      }
      if (!intros.knows(id, *to)) {
        not_introduced++;
        return send_error(id, {"not_introduced", "no lookup named " + m.to + " to you and it has not signalled you"},
                          m.type_name, m.id);
      }
      m.relay["from"] = self->peer;
      relays++;
      if (signal::Federation::is_remote(*to)) {
        // Its signaller checks its answers, not us; a table here would outlive the remote (ids are never reused).
        if (federation) federation->relay(*to, std::move(m.relay));
        return;
      }
      intros.introduce(*to, id);  // the receiver may answer
      send(*to, m.relay.dump());
      return;
    }
    case T::ping:
      return reply({{"type", "pong"}});
    case T::leave:
      drop_member(id);
      conns[id].token_expires = 0;
      return reply({{"type", "left"}});
  }
}

void SignalServer::Impl::on_closed(ConnId id) {
  drop_member(id);
  auto it = conns.find(id);
  if (it == conns.end()) return;
  // Safe inside the connection's own callback: every WsConnection entry point holds a shared_ptr to itself.
  conns.erase(it);
}

void SignalServer::Impl::sweep_silent() {
  double now = mono_seconds();
  double timeout = static_cast<double>(opts.member_timeout_ms) / 1000.0;
  std::vector<ConnId> silent, lapsed;
  int64_t wall = wall_seconds();
  for (const auto& [id, c] : conns) {
    if (now - c.last_seen > timeout) silent.push_back(id);
    else if (c.token_expires != 0 && c.token_expires <= wall) lapsed.push_back(id);
  }
  for (ConnId id : lapsed) {
    token_expired++;
    Message m;
    m.type_name = "renew";
    refuse(id, {"token_expired", "the join token expired without a renew"}, m);
  }
  for (ConnId id : silent) {
    expired++;
    drop_member(id);
    auto it = conns.find(id);
    if (it == conns.end() || !it->second.ws) continue;
    std::shared_ptr<net::WsConnection> ws = it->second.ws;  // send_error may erase `it`
    send_error(id, {"expired", "no message for " + std::to_string(opts.member_timeout_ms) + " ms; send ping to stay"});
    if (ws->open()) ws->close(net::kWsGoingAway, "heartbeat timeout");
  }
}

std::string SignalServer::Impl::metrics() const {
  PrometheusText p;
  p.gauge("hybridnode_signal_swarms", "Swarms with at least one member.", static_cast<double>(registry.swarm_count()));
  p.gauge("hybridnode_signal_members", "Peers joined to a swarm.", static_cast<double>(registry.member_count()));
  p.gauge("hybridnode_signal_connections", "Open WebSocket connections.", static_cast<double>(conns.size()));
  p.gauge("hybridnode_signal_queued_bytes", "Outgoing WebSocket bytes queued, all connections (cap --max-queued-total).",
          static_cast<double>(out_budget->used));
  p.gauge("hybridnode_signal_queued_bytes_peak", "Highest hybridnode_signal_queued_bytes since start.",
          static_cast<double>(out_budget->peak));
  p.gauge("hybridnode_signal_ws_contexts", "WebSocket connections holding a wslay context (~9 KiB): a message in flight.",
          static_cast<double>(net::WsConnection::live_contexts()));
  p.gauge("hybridnode_signal_bitfield_bytes", "Bytes of members' bitfields held.", static_cast<double>(registry.bitfield_bytes()));
  p.family("hybridnode_signal_messages_total", "counter", "Messages received, by type (invalid: failed validation).");
  for (const auto& [t, n] : messages_by_type) p.sample("hybridnode_signal_messages_total", static_cast<double>(n), "type=\"" + t + "\"");
  p.family("hybridnode_signal_errors_total", "counter", "Error messages sent, by code.");
  for (const auto& [c, n] : errors_by_code) p.sample("hybridnode_signal_errors_total", static_cast<double>(n), "code=\"" + c + "\"");
  p.counter("hybridnode_signal_relays_total", "Offers, answers and candidates relayed.", static_cast<double>(relays));
  p.counter("hybridnode_signal_relay_errors_total", "Relays to an unknown or departed peer.", static_cast<double>(relay_errors));
  p.counter("hybridnode_signal_expired_total", "Connections closed for silence.", static_cast<double>(expired));
  if (federation) {
    p.gauge("hybridnode_signal_redis_up", "1 while Redis is connected (swarms shared with siblings).", federation->redis_up() ? 1 : 0);
    p.gauge("hybridnode_signal_remote_members", "Members of sibling signallers seen through Redis.",
            static_cast<double>(federation->remote_members()));
    p.counter("hybridnode_signal_federation_published_total", "Messages published to Redis.", static_cast<double>(federation->published()));
    p.counter("hybridnode_signal_federation_received_total", "Messages received from Redis.", static_cast<double>(federation->received()));
    p.counter("hybridnode_signal_federation_relays_out_total", "Relays sent to members of siblings.", static_cast<double>(federation->relays_out()));
    p.counter("hybridnode_signal_federation_relays_in_total", "Relays from siblings delivered here.", static_cast<double>(federation->relays_in()));
  }
  p.counter("hybridnode_signal_unauthorized_total", "Joins and renewals refused for a missing, forged or foreign token.",
            static_cast<double>(unauthorized));
  p.counter("hybridnode_signal_token_expired_total", "Joins, renewals and members refused for an expired token.",
            static_cast<double>(token_expired));
  p.counter("hybridnode_signal_renewals_total", "Join tokens renewed.", static_cast<double>(renewals));
  p.gauge("hybridnode_signal_introduction_tables", "Members' introduction tables held (at most one per local member).",
          static_cast<double>(intros.size()));
  p.counter("hybridnode_signal_not_introduced_total", "Relays refused between members never introduced.",
            static_cast<double>(not_introduced));
  p.counter("hybridnode_signal_rate_limited_closes_total", "Connections closed for flooding.", static_cast<double>(rate_limited_closes));
  if (http) {
    const auto& st = http->stats();
    net::add_tls_metrics(p, {static_cast<double>(st.tls_handshake_failures.load()),
                             static_cast<double>(st.tls_handshakes_displaced.load()),
                             static_cast<double>(st.tls_handshakes_refused.load())});
  }
  p.counter("hybridnode_signal_origin_refusals_total", "WebSocket handshakes refused for their Origin (403).", static_cast<double>(origin_refusals));
  return p.str();
}

void SignalServer::Impl::handle_http(net::HttpRequest& req, net::HttpServer::Respond respond) {
  if (req.path == "/metrics") return respond(net::HttpResponse::text(200, metrics(), "text/plain; version=0.0.4"));
  if (req.path == "/healthz") {
    nlohmann::json j = {{"status", "ok"}, {"swarms", registry.swarm_count()}, {"members", registry.member_count()}};
    if (federation) {
      j["instance"] = opts.instance;
      j["redis"] = federation->redis_up() ? "up" : "down";
      j["remote_members"] = federation->remote_members();
    }
    return respond(net::HttpResponse::json(200, j.dump() + "\n"));
  }
  if (req.path == "/ws") {
    auto r = net::HttpResponse::error(426, "this endpoint speaks WebSocket");
    r.headers.emplace_back("Upgrade", "websocket");  // RFC 9110 15.5.22: a 426 names the protocol to switch to
    return respond(std::move(r));
  }
  respond(net::HttpResponse::error(404, "no such resource"));
}

SignalServer::SignalServer(uv_loop_t* loop, SignalServerOptions opts) : impl_(std::make_unique<Impl>()) {
  impl_->loop = loop;
  impl_->opts = std::move(opts);
}

SignalServer::~SignalServer() { stop(); }

Result<void> SignalServer::start() {
  auto& I = *impl_;
  I.origins = net::OriginList(I.opts.allowed_origins);
  auto where = net::parse_host_port(I.opts.listen);
  if (!where) return make_error("--listen: " + where.error());
  net::HttpLimits limits;
  limits.max_connections = I.opts.max_connections;
  limits.max_body_bytes = 0;
  limits.tls_handshakes_per_ip = I.opts.tls_handshakes_per_ip;
  I.http = std::make_unique<net::HttpServer>(I.loop, limits, [&I](net::HttpRequest& r, net::HttpServer::Respond re) {
    I.handle_http(r, std::move(re));
  });
  I.out_budget->cap = I.opts.max_total_queued_bytes;
  I.registry.set_bitfield_budget(I.opts.max_bitfield_bytes);
  if (!I.opts.tls_cert.empty() || !I.opts.tls_key.empty()) {
    if (I.opts.tls_cert.empty() || I.opts.tls_key.empty()) return make_error("--tls-cert and --tls-key go together");
    if (auto tls = I.http->enable_tls(I.opts.tls_cert, I.opts.tls_key); !tls) return make_error(tls.error());
  }
  I.http->set_upgrade_handler([&I](net::HttpRequest& r, UniqueFd& fd, std::string& left) { return I.upgrade(r, fd, left); });
  auto ok = I.http->listen(*where);
  if (!ok) return ok;
  if (!I.opts.redis.empty()) {
    auto hp = net::parse_host_port(I.opts.redis);
    if (!hp) return make_error("--redis: " + hp.error());
    if (I.opts.instance.empty()) return make_error("--redis needs --instance (a name unique among the signallers)");
    I.federation = std::make_unique<signal::Federation>(I.loop, I.registry, I.opts.instance, hp->host, hp->port,
                                                        [&I](ConnId c, const std::string& text, ConnId from) {
                                                          I.intros.introduce(c, from);  // it may answer
                                                          I.send(c, text);
                                                        });
    if (!I.opts.swarm_secret.empty())
      I.federation->set_admission([&I](const std::string& video, const std::string& content, const std::string& token) {
        return signal::check_token(I.opts.swarm_secret, token, video, content, wall_seconds()).ok();
      });
    I.federation->start();
  }
  uv_timer_init(I.loop, I.sweep.get());
  I.sweep->data = &I;
  uint64_t every = std::max<uint64_t>(50, std::min<uint64_t>(1000, I.opts.member_timeout_ms / 4));
  uv_timer_start(I.sweep.get(), [](uv_timer_t* t) { static_cast<Impl*>(t->data)->sweep_silent(); }, every, every);
  log::info(std::string("signaller on ") + (I.http->tls() ? "wss://" : "ws://") + where->host + ":" + std::to_string(I.http->port()) + "/ws, member timeout " +
            std::to_string(I.opts.member_timeout_ms) + " ms");
  return {};
}

void SignalServer::stop() {
  if (!impl_) return;
  impl_->sweep.reset();
  impl_->federation.reset();
  if (impl_->http) impl_->http->close();
  std::vector<std::shared_ptr<net::WsConnection>> open;  // close() may erase from conns
  for (auto& [id, c] : impl_->conns) open.push_back(c.ws);
  for (auto& ws : open) ws->close(net::kWsGoingAway, "signaller shutting down");
}

int SignalServer::port() const { return impl_->http ? impl_->http->port() : 0; }
void SignalServer::adopt(int fd, std::string remote) {
  if (impl_->http) impl_->http->adopt(UniqueFd(fd), std::move(remote));
  else UniqueFd closer(fd);
}
size_t SignalServer::open_connections() const {
  return (impl_->http ? impl_->http->open_connections() : 0) + impl_->conns.size();
}
size_t SignalServer::members() const { return impl_->registry.member_count(); }

}  // namespace hn
