#include "p2p/signal_client.h"


#include <random>

#include "net/ws_client.h"
#include "util/rendezvous.h"
#include "util/json_fields.h"
#include "util/log.h"
#include "util/token_format.h"

namespace hn::p2p {

SignalClient::SignalClient(uv_loop_t* loop, Identity id, Handlers h)
    : loop_(loop), id_(std::move(id)), handlers_(std::move(h)) {
  urls_ = split_list(id_.url);
  if (urls_.empty()) urls_.push_back(id_.url);
  uv_timer_init(loop_, timer_.get());
  timer_->data = this;
  uv_timer_init(loop_, heartbeat_.get());
  heartbeat_->data = this;
}

SignalClient::~SignalClient() { stop(); }

void SignalClient::start(std::function<std::string()> bitfield) {
  bitfield_ = std::move(bitfield);
  stopped_ = false;
  connect();
  // Any message is a heartbeat for the signaller; ping when otherwise quiet.
  uv_timer_start(heartbeat_.get(), [](uv_timer_t* t) {
    auto* self = static_cast<SignalClient*>(t->data);
    if (self->joined_) self->send({{"type", "ping"}});
  }, 5000, 5000);
}

void SignalClient::stop() {
  stopped_ = true;
  *alive_ = false;
  timer_.reset();
  heartbeat_.reset();
  if (ws_) {
    ws_->close(net::kWsNormal, "peer leaving");
    ws_.reset();
  }
  for (auto& [id, cb] : pending_) cb({});
  pending_.clear();
}

void SignalClient::connect() {
  if (stopped_ || connecting_) return;
  connecting_ = true;
  std::weak_ptr<bool> alive = alive_;
  net::ws_connect(loop_, urls_[url_index_], net::WsLimits{}, [this, alive](Result<std::shared_ptr<net::WsConnection>> r) {
    auto live = alive.lock();
    if (!live || !*live) {  // destroyed, or stopped while connecting: never join after stop()
      if (r) (*r)->abort();
      return;
    }
    connecting_ = false;
    if (!r) {
      log::warn("signal: cannot reach " + urls_[url_index_] + ": " + r.error());
      if (handlers_.on_down) handlers_.on_down(r.error());
      failed();
      schedule_reconnect();
      return;
    }
    ws_ = *r;
    ws_->start({[this, alive](std::string_view t) {
                  if (auto a = alive.lock(); a && *a) on_message(t);
                },
                [this, alive](uint16_t code, const std::string& why) {
                  if (auto a = alive.lock(); a && *a) on_closed("closed " + std::to_string(code) + ": " + why);
                }});
    nlohmann::json join = {{"type", "join"}, {"video", id_.video}, {"peer", id_.peer}, {"chunk_count", id_.chunk_count}};
    if (!id_.content.empty()) join[id_.live ? "epoch" : "manifest_digest"] = id_.content;
    if (!id_.token.empty()) join["token"] = id_.token;
    if (bitfield_) join["have"] = bitfield_();
    if (!resume_.empty()) join["resume"] = resume_;  // proves a move from a signaller that died
    send(join);
  }, "", id_.ca_file);
}

void SignalClient::schedule_reconnect() {
  if (stopped_ || timer_.get() == nullptr) return;
  // Jittered exponential back-off: a restarted signaller is not hit by every peer at once.
  static thread_local std::mt19937 rng{std::random_device{}()};
  uint64_t delay = backoff_ms_ / 2 + std::uniform_int_distribution<uint64_t>(0, backoff_ms_)(rng);
  backoff_ms_ = std::min<uint64_t>(backoff_ms_ * 2, 15000);
  uv_timer_start(timer_.get(), [](uv_timer_t* t) {
    auto* self = static_cast<SignalClient*>(t->data);
    self->connect();
  }, delay, 0);
}

void SignalClient::on_closed(const std::string& why) {
  bool was_joined = joined_;
  joined_ = false;
  ws_.reset();
  for (auto& [id, cb] : pending_) cb({});
  pending_.clear();
  if (was_joined) log::warn("signal: lost the signaller (" + why + "); reconnecting");
  if (handlers_.on_down) handlers_.on_down(why);
  failed();
  schedule_reconnect();
}

void SignalClient::failed() {
  // A signaller that keeps failing is gone: its swarms now live on the next one in the ranking.
  if (++failures_ < 2 || urls_.size() < 2) return;
  failures_ = 0;
  url_index_ = (url_index_ + 1) % urls_.size();
  backoff_ms_ = 500;
  log::warn("signal: moving to the next signaller, " + urls_[url_index_]);
}

bool SignalClient::send(const nlohmann::json& j) { return ws_ && ws_->send_text(j.dump()); }

void SignalClient::on_message(std::string_view text) {
  // Every field is type-checked (util/json_fields.h): a lying signaller gets its message dropped, never
  // an exception on the loop.
  auto parsed = jsonf::parse_object(text);
  auto type_field = parsed ? jsonf::str(*parsed, "type") : std::nullopt;
  if (!type_field) {
    log::warn("signal: unparsable message from the signaller");
    return;
  }
  const nlohmann::json& j = *parsed;
  const std::string& type = *type_field;
  if (type == "joined" || type == "renewed") {
    if (auto e = j.find("expires"); e != j.end() && e->is_number_integer()) token_expires_ = e->get<int64_t>();
    if (type == "renewed") return;
    joined_ = true;
    if (j.contains("resume") && j["resume"].is_string()) resume_ = j["resume"].get<std::string>();
    // A chunk completed between our join and this reply was not announced (have() waits for joined_):
    // resend the holdings so the swarm is not told we lack what we hold.
    if (bitfield_) send({{"type", "bitfield"}, {"have", bitfield_()}});
    backoff_ms_ = 500;
    failures_ = 0;
    if (handlers_.on_joined) handlers_.on_joined();
  } else if (type == "peers") {
    auto it = pending_.find(jsonf::str_or(j, "id"));
    if (it == pending_.end()) return;
    Holders holders;
    if (const auto* chunks = jsonf::object(j, "chunks")) {
      for (auto& [k, v] : chunks->items()) {
        if (!v.is_array()) continue;
        uint32_t idx = static_cast<uint32_t>(std::strtoul(k.c_str(), nullptr, 10));
        for (auto& p : v)
          if (p.is_string()) holders[idx].push_back(p.get<std::string>());
      }
    }
    auto cb = std::move(it->second);
    pending_.erase(it);
    cb(std::move(holders));
  } else if (type == "offer" || type == "answer" || type == "candidate") {
    // What the link layer reads from a relayed message (from, sdp, candidate) is a string, or the
    // message is dropped here.
    const char* body = type == "candidate" ? "candidate" : "sdp";
    if (!jsonf::str(j, "from") || !jsonf::str(j, body)) {
      log::warn("signal: malformed " + type + " from the signaller; dropped");
      return;
    }
    if (handlers_.on_relay) handlers_.on_relay(j);
  } else if (type == "error") {
    std::string code = jsonf::str_or(j, "code");
    log::warn("signal: error " + code + ": " + jsonf::str_or(j, "message"));
    auto it = pending_.find(jsonf::str_or(j, "id"));
    if (it != pending_.end()) {
      auto cb = std::move(it->second);
      pending_.erase(it);
      cb({});
    }
    if (code == "id_taken" || code == "bad_bitfield") {
      // Cannot join: keep downloading from the server; try again later (the old session may expire).
      if (ws_) ws_->close(net::kWsNormal, "join refused");
    }
  }
}

void SignalClient::set_token(const std::string& token) {
  if (token.empty() || token == id_.token) return;
  auto claims = parse_token(token);
  if (!claims) return;
  id_.token = token;
  // Renew once the new token buys at least a minute: a live manifest brings a new one every chunk.
  if (joined_ && token_expires_ != 0 && claims->expires >= token_expires_ + 60) send({{"type", "renew"}, {"token", token}});
}

void SignalClient::have(uint32_t index) {
  if (joined_) send({{"type", "have"}, {"chunks", {index}}});
}

void SignalClient::load(uint32_t uploads) {
  if (joined_) send({{"type", "load"}, {"uploads", uploads}});
}

void SignalClient::rtt(const std::map<std::string, double>& rtt_ms) {
  if (!joined_ || rtt_ms.empty()) return;
  nlohmann::json peers = nlohmann::json::object();
  for (const auto& [p, ms] : rtt_ms) {
    if (peers.size() >= 64) break;
    peers[p] = ms;
  }
  send({{"type", "rtt"}, {"peers", peers}});
}

void SignalClient::lookup(const std::vector<uint32_t>& chunks, std::function<void(Holders)> cb) {
  if (!joined_ || chunks.empty()) {
    cb({});
    return;
  }
  std::string id = "L" + std::to_string(++next_lookup_);
  if (!send({{"type", "lookup"}, {"chunks", chunks}, {"id", id}})) {
    cb({});
    return;
  }
  pending_[id] = std::move(cb);
}

bool SignalClient::relay(const std::string& type, const std::string& to, nlohmann::json fields) {
  if (!joined_) return false;
  fields["type"] = type;
  fields["to"] = to;
  return send(fields);
}

}  // namespace hn::p2p
