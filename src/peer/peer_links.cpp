#include "peer/peer_links.h"

#include <algorithm>

#include "util/clock.h"
#include "util/log.h"

namespace hn {

using p2p::PeerLink;

Result<void> PeerLinks::init(p2p::P2pHub* hub, const PeerOptions* opts, Hooks hooks) {
  hub_ = hub;
  opts_ = opts;
  hooks_ = std::move(hooks);
  auto id = p2p::DtlsIdentity::create(opts->dtls_cert, opts->dtls_key);
  if (!id) return make_error(id.error());
  dtls_ = *id;
  return {};
}

PeerLink& PeerLinks::connect(const std::string& peer, bool controlling, uint64_t connect_timeout_ms) {
  PeerLink::Config cfg;
  if (connect_timeout_ms != 0) cfg.connect_timeout_ms = connect_timeout_ms;
  cfg.ice = {opts_->stun, opts_->turn, opts_->turn_user, opts_->turn_pass, opts_->host_candidates, opts_->relay_only};
  cfg.mtu = opts_->mtu;
  cfg.dtls = dtls_;
  cfg.dtls_timeout_ms = opts_->dtls_timeout_ms;
  cfg.chunk_size = hooks_.chunk_size;
  bool far = !opts_->test_far_prefix.empty() && peer.rfind(opts_->test_far_prefix, 0) == 0;
  cfg.test_send_delay_ms = far ? opts_->test_far_delay_ms : opts_->test_near_delay_ms;
  PeerLink::Handlers h = hooks_.link;
  h.send_signal = [this, peer](const std::string& type, nlohmann::json fields) {
    if (hooks_.send_signal) hooks_.send_signal(type, peer, std::move(fields));
  };
  h.on_closed = [this](PeerLink& l, const std::string& why) {
    auto it = links_.find(l.remote());
    if (it != links_.end() && it->second.get() == &l) {
      auto keep = it->second;
      links_.erase(it);
      hub_->post([keep] {});  // destroyed on the next turn of the loop, not inside its own callback
    }
    if (hooks_.link.on_closed) hooks_.link.on_closed(l, why);
  };
  auto link = std::make_shared<PeerLink>(*hub_, peer, controlling, std::move(cfg), hooks_.hello(), std::move(h));
  links_[peer] = link;
  link->start();
  return *link;
}

void PeerLinks::on_relay(const nlohmann::json& m) {
  std::string from = m.value("from", ""), type = m.value("type", "");
  if (from.empty() || from == opts_->peer_id || banned_.banned(from, mono_seconds())) return;
  auto it = links_.find(from);
  if (type == "offer") {
    double now = mono_seconds();
    auto last = offered_at_.at(from);
    if (last && now - *last < kOfferIntervalS) return;  // offers per remote limited
    if (it != links_.end()) {
      // Both sides dialled each other: the lower peer id keeps its outgoing link.
      if (it->second->ready() || opts_->peer_id < from) return;
      auto old = it->second;
      links_.erase(it);
      old->close("replaced by the remote's offer");
      hub_->post([old] {});
    }
    if (!take_inbound_token(now)) return;
    if (!offered_at_.record(from, now)) return;  // thousands of fresh ids within seconds: a flood
    if (!make_inbound_room(now)) return;
    connect(from, false, kInboundConnectMs).on_signal(m);
  } else if (it != links_.end()) {
    it->second->on_signal(m);
  }
}

bool PeerLinks::make_inbound_room(double now) {
  size_t half_open = 0;
  std::string oldest;
  double oldest_at = now + 1;
  for (const auto& [id, l] : links_) {
    if (l->outbound() || l->ever_ready() || l->closed()) continue;
    half_open++;
    double at = offered_at_.at(id).value_or(0);
    if (at < oldest_at) {
      oldest_at = at;
      oldest = id;
    }
  }
  size_t max_half_open = std::max<size_t>(1, static_cast<size_t>(opts_->max_links) / 2);
  bool table_full = links_.size() >= static_cast<size_t>(opts_->max_links) * 2;  // inbound room: serving is part of the deal
  if (!table_full && half_open < max_half_open) return true;
  if (oldest.empty()) return false;  // full of links that work: they stay
  auto victim = links_.at(oldest);
  victim->close("half-open inbound link displaced by a newer offer");
  return true;
}

bool PeerLinks::take_inbound_token(double now) {
  // Our answer and trickled candidates are ~4-8 signaller messages per offer: at 16 a second they stay well
  // under the signaller's default 200 per connection. Bursts up to the link table (2x max links).
  double rate = std::clamp(2 * opts_->max_links, 1, 16), burst = std::max(2, 2 * opts_->max_links);
  inbound_tokens_ = inbound_tokens_ < 0 ? burst : std::min(burst, inbound_tokens_ + (now - inbound_at_) * rate);
  inbound_at_ = now;
  if (inbound_tokens_ < 1) {
    if (offers_over_budget_++ % 1000 == 0)
      log::warn("inbound offers past " + std::to_string(static_cast<int>(rate)) + "/s; ignoring them (" +
                std::to_string(offers_over_budget_) + " so far)");
    return false;
  }
  inbound_tokens_ -= 1;
  return true;
}

bool PeerLinks::dialable(const std::string& peer) const {
  return peer != opts_->peer_id && !links_.count(peer) && !banned_.banned(peer, mono_seconds());
}

void PeerLinks::ban(const std::string& peer, const std::string& why) {
  banned_.ban(peer, mono_seconds());
  auto it = links_.find(peer);
  if (it != links_.end()) it->second->close(why);
}

void PeerLinks::close_all(const std::string& why) {
  auto all = links_;
  links_.clear();
  for (auto& [id, l] : all) l->close(why);
}

}  // namespace hn
