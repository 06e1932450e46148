#include "signal/federation.h"

#include <openssl/crypto.h>

#include <set>

#include "media/sha256.h"
#include "signal/signal_message.h"
#include "util/clock.h"
#include "util/json_limits.h"
#include "util/log.h"

namespace hn::signal {

namespace {
const std::string kAlive = "hn:alive";
std::string swarm_channel(const std::string& video) { return "hn:swarm:" + video; }
std::string inst_channel(const std::string& inst) { return "hn:inst:" + inst; }
// Every this many heartbeats (1 s) each instance names its members per shared swarm. A remote entry not
// named for kRollCallMissed roll calls (its instance left the swarm, or we missed its leave) is dropped.
constexpr uint64_t kRollCallBeats = 5;
constexpr double kRollCallMissed = 3;
}  // namespace

Federation::Federation(uv_loop_t* loop, SwarmRegistry& registry, std::string instance, std::string redis_host,
                       int redis_port, Deliver deliver, double instance_timeout)
    : loop_(loop),
      registry_(registry),
      inst_(std::move(instance)),
      deliver_(std::move(deliver)),
      timeout_(instance_timeout),
      bus_(loop, std::move(redis_host), redis_port,
           {[this](const std::string& ch, const std::string& p) { on_message(ch, p); },
            [this] { resync(); },
            [](const std::string&) {}}) {}

Federation::~Federation() { timer_.reset(); }

void Federation::start() {
  bus_.subscribe(inst_channel(inst_));
  bus_.subscribe(kAlive);
  bus_.start();
  uv_timer_init(loop_, timer_.get());
  timer_->data = this;
  uv_timer_start(timer_.get(), [](uv_timer_t* t) {
    if (auto* f = static_cast<Federation*>(t->data)) f->heartbeat();
  }, 1000, 1000);
}

void Federation::resync() {
  // Ask every shared swarm for its members (they answer with joins) and announce ours.
  for (auto& [video, n] : local_swarms_) {
    bus_.publish(swarm_channel(video), nlohmann::json({{"ev", "sync"}, {"inst", inst_}, {"video", video}}).dump());
    for (ConnId c : registry_.members_of(video))
      if (!is_remote(c)) publish_join(c);
  }
}

void Federation::heartbeat() {
  bus_.publish(kAlive, nlohmann::json({{"ev", "alive"}, {"inst", inst_}}).dump());
  double now = mono_seconds();
  if (++beats_ % kRollCallBeats == 0) roll_call();
  age_remotes(now);
  std::vector<std::string> silent;
  for (auto& [inst, seen] : inst_seen_)
    if (now - seen > timeout_) silent.push_back(inst);
  for (auto& inst : silent) drop_instance(inst);
}

void Federation::roll_call() {
  for (auto& [video, n] : local_swarms_) {
    nlohmann::json peers = nlohmann::json::array();
    for (ConnId c : registry_.members_of(video))
      if (const Member* m = registry_.member(c); m != nullptr && !is_remote(c)) peers.push_back(m->peer);
    bus_.publish(swarm_channel(video), nlohmann::json({{"ev", "members"}, {"inst", inst_}, {"video", video}, {"peers", peers}}).dump());
  }
}

void Federation::on_roll_call(const std::string& inst, const std::string& video, const nlohmann::json& peers) {
  std::set<std::string> named;
  for (const auto& p : peers)
    if (p.is_string()) named.insert(p.get<std::string>());
  double now = mono_seconds();
  std::vector<ConnId> gone;
  for (auto& [id, r] : remote_) {
    if (r.inst != inst || r.video != video) continue;
    if (named.count(r.peer)) {
      r.confirmed = now;
    } else {
      gone.push_back(id);  // it left and we missed the leave: one pub/sub stream keeps order, so it is not a newer join
    }
  }
  for (ConnId id : gone) forget_remote(id);
}

void Federation::forget_remote(ConnId id) {
  auto it = remote_.find(id);
  if (it == remote_.end()) return;
  registry_.leave(id);
  remote_by_key_.erase(it->second.inst + "\n" + it->second.video + "\n" + it->second.peer);
  remote_.erase(it);
}

void Federation::forget_swarm(const std::string& video) {
  std::vector<ConnId> ids;
  for (auto& [id, r] : remote_)
    if (r.video == video) ids.push_back(id);
  for (ConnId id : ids) forget_remote(id);
}

void Federation::age_remotes(double now) {
  double max_age = kRollCallMissed * static_cast<double>(kRollCallBeats) + timeout_;
  std::vector<ConnId> stale;
  for (auto& [id, r] : remote_)
    if (now - r.confirmed > max_age) stale.push_back(id);
  for (ConnId id : stale) forget_remote(id);
  if (!stale.empty()) log::info("federation: " + std::to_string(stale.size()) + " remote members no longer named by their signallers; dropped");
}

void Federation::drop_instance(const std::string& inst) {
  size_t n = 0;
  for (auto it = remote_.begin(); it != remote_.end();) {
    if (it->second.inst == inst) {
      registry_.leave(it->first);
      remote_by_key_.erase(it->second.inst + "\n" + it->second.video + "\n" + it->second.peer);
      it = remote_.erase(it);
      n++;
    } else {
      ++it;
    }
  }
  inst_seen_.erase(inst);
  log::warn("federation: no word from signaller " + inst + " for " + std::to_string(timeout_) + " s; dropped its " +
            std::to_string(n) + " members (redis " + (bus_.up() ? "up" : "down") + ")");
}

ConnId Federation::remote_id(const std::string& inst, const std::string& video, const std::string& peer, bool create) {
  std::string key = inst + "\n" + video + "\n" + peer;
  auto it = remote_by_key_.find(key);
  if (it != remote_by_key_.end()) return it->second;
  if (!create) return 0;
  ConnId id = next_remote_++;
  remote_by_key_[key] = id;
  remote_[id] = {inst, video, peer, mono_seconds()};
  return id;
}

void Federation::watch(const std::string& video) {
  if (local_swarms_[video]++ > 0) return;
  bus_.subscribe(swarm_channel(video));
  bus_.publish(swarm_channel(video), nlohmann::json({{"ev", "sync"}, {"inst", inst_}, {"video", video}}).dump());
}

void Federation::publish_join(ConnId local) {
  const Member* m = registry_.member(local);
  const std::string* video = registry_.video_of(local);
  if (m == nullptr || video == nullptr) return;
  nlohmann::json j = {{"ev", "join"}, {"inst", inst_}, {"video", *video}, {"peer", m->peer},
                      {"chunk_count", m->have.size()}, {"bitfield", m->have.to_base64()}, {"uploads", m->uploads},
                      {"proof", local_proof_[local]}};
  auto t = tokens_.find(local);
  if (t != tokens_.end()) j["token"] = t->second;
  bus_.publish(swarm_channel(*video), j.dump());
}

void Federation::joined(ConnId local, const std::string& proof, const std::string& token) {
  const std::string* video = registry_.video_of(local);
  if (video == nullptr) return;
  local_proof_[local] = proof;
  if (!token.empty()) tokens_[local] = token;
  watch(*video);
  publish_join(local);
}

void Federation::renewed(ConnId local, const std::string& token) {
  if (registry_.video_of(local) == nullptr) return;
  tokens_[local] = token;
  publish_join(local);  // siblings re-check it: a member whose token lapsed elsewhere is dropped there
}

void Federation::had(ConnId local, const std::vector<uint32_t>& chunks) {
  const Member* m = registry_.member(local);
  const std::string* video = registry_.video_of(local);
  if (m == nullptr || video == nullptr) return;
  bus_.publish(swarm_channel(*video),
               nlohmann::json({{"ev", "have"}, {"inst", inst_}, {"video", *video}, {"peer", m->peer}, {"chunks", chunks}}).dump());
}

void Federation::bitfield(ConnId local) { publish_join(local); }

void Federation::leaving(ConnId local) {
  local_proof_.erase(local);
  const Member* m = registry_.member(local);
  const std::string* video = registry_.video_of(local);
  tokens_.erase(local);
  if (m == nullptr || video == nullptr) return;
  bus_.publish(swarm_channel(*video), nlohmann::json({{"ev", "leave"}, {"inst", inst_}, {"video", *video}, {"peer", m->peer}}).dump());
  auto it = local_swarms_.find(*video);
  if (it != local_swarms_.end() && --it->second <= 0) {
    // Unsubscribed, we would miss the leaves of remote members: forget them now, a later join here syncs.
    std::string v = *video;
    bus_.unsubscribe(swarm_channel(v));
    local_swarms_.erase(it);
    forget_swarm(v);
  }
}

Federation::Move Federation::evict_remote(const std::string& video, const std::string& peer, const std::string& resume) {
  auto c = registry_.conn_of(video, peer);
  if (!c || !is_remote(*c)) return Move::not_remote;
  auto it = remote_.find(*c);
  if (it == remote_.end()) return Move::refused;
  const std::string presented = resume.empty() ? "" : sha256_hex(resume.data(), resume.size());
  if (presented.empty() || presented.size() != it->second.proof.size() ||
      CRYPTO_memcmp(presented.data(), it->second.proof.data(), presented.size()) != 0)
    return Move::refused;
  remote_by_key_.erase(it->second.inst + "\n" + video + "\n" + peer);
  remote_.erase(it);
  registry_.leave(*c);
  return Move::moved;
}

void Federation::relay(ConnId remote, nlohmann::json msg) {
  auto it = remote_.find(remote);
  if (it == remote_.end()) return;
  relays_out_++;
  bus_.publish(inst_channel(it->second.inst),
               nlohmann::json({{"ev", "relay"}, {"video", it->second.video}, {"to", it->second.peer}, {"msg", std::move(msg)}}).dump());
}

void Federation::on_message(const std::string& channel, const std::string& payload) {
  auto m = parse_json_bounded(payload);
  if (!m.is_object() || !m.contains("ev") || !m["ev"].is_string()) return;  // not ours: ignored
  try {
    std::string ev = m["ev"];
    std::string inst = m.value("inst", "");
    if (inst == inst_) return;  // our own publication
    if (!inst.empty()) {
      bool newcomer = !inst_seen_.count(inst);
      inst_seen_[inst] = mono_seconds();
      // A sibling we had not heard (new, back from a crash, or both of us back from a Redis outage):
      // its heartbeat proves our subscriptions work, so this is the moment to exchange members.
      if (newcomer) resync();
    }
    if (channel == kAlive) return;
    if (channel == inst_channel(inst_) && ev == "relay") {
      std::string video = m.at("video"), to = m.at("to");
      for (ConnId c : registry_.members_of(video)) {
        const Member* target = registry_.member(c);
        if (!is_remote(c) && target != nullptr && target->peer == to) {
          relays_in_++;
          std::string from = m.at("msg").value("from", "");
          auto sender = registry_.conn_of(video, from);
          deliver_(c, m.at("msg").dump(), sender ? *sender : 0);
          return;
        }
      }
      return;
    }
    if (channel.rfind("hn:swarm:", 0) == 0) on_swarm_event(m);
  } catch (const nlohmann::json::exception& e) {
    log::warn(std::string("federation: bad message on ") + channel + ": " + e.what());
  }
}

void Federation::on_swarm_event(const nlohmann::json& m) {
  std::string ev = m.at("ev"), inst = m.at("inst"), video = m.at("video");
  if (!local_swarms_.count(video)) return;
  if (ev == "sync") {
    for (ConnId c : registry_.members_of(video))
      if (!is_remote(c)) publish_join(c);
    return;
  }
  if (ev == "members") return on_roll_call(inst, video, m.at("peers"));
  std::string peer = m.at("peer");
  if (ev == "join") {
    if (admit_) {
      // Only admitted members cross: the token must fit the swarm the sibling put it in.
      std::string vid, content;
      uint32_t n = 0;
      const auto& count = m.at("chunk_count");
      bool fits = split_swarm_key(video, vid, content, n) && count.is_number_unsigned() && count.get<uint64_t>() == n;
      if (!fits || !admit_(vid, content, m.value("token", ""))) {
        ConnId stale = remote_id(inst, video, peer, false);
        if (stale != 0) forget_remote(stale);
        log::warn("federation: member " + peer + " of " + inst + " refused: no valid join token for " + video);
        return;
      }
    }
    std::vector<uint8_t> bits;
    if (!Bitfield::from_base64(m.at("bitfield").get<std::string>(), bits)) return;
    ConnId existing = remote_id(inst, video, peer, false);
    if (existing != 0) {
      remote_[existing].confirmed = mono_seconds();
      registry_.set_bitfield(existing, std::move(bits));
      registry_.touch(existing, mono_seconds());
      return;
    }
    const auto& count = m.at("chunk_count");
    if (!count.is_number_unsigned() || count.get<uint64_t>() > kMaxChunkCount) return;
    ConnId id = remote_id(inst, video, peer, true);
    if (m.contains("proof") && m["proof"].is_string()) remote_[id].proof = m["proof"].get<std::string>();
    if (auto err = registry_.join(id, video, peer, count.get<uint32_t>(), std::move(bits), mono_seconds())) {
      // e.g. the same peer id on two instances, or a different chunk count: not shared.
      remote_by_key_.erase(inst + "\n" + video + "\n" + peer);
      remote_.erase(id);
      log::warn("federation: member " + peer + " of " + inst + " not shared: " + err->message);
    }
    return;
  }
  ConnId id = remote_id(inst, video, peer, false);
  if (id == 0) return;
  if (ev == "have") {
    remote_[id].confirmed = mono_seconds();
    std::vector<uint32_t> chunks;
    for (const auto& c : m.at("chunks"))
      if (c.is_number_unsigned() && c.get<uint64_t>() <= UINT32_MAX) chunks.push_back(c.get<uint32_t>());
    registry_.have(id, chunks);
  } else if (ev == "leave") {
    registry_.leave(id);
    remote_by_key_.erase(inst + "\n" + video + "\n" + peer);
    remote_.erase(id);
  }
}

}  // namespace hn::signal
