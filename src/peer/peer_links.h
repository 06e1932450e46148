// The peer links one node keeps, and what around them does not depend on what is fetched (a file or a
// live channel): making a link (ICE settings, MTU, test latency), answering a remote's offer (when both
// sides dial, the lower peer id keeps its outgoing link), letting a link go without destroying it inside
// its own callback, and bans.
#pragma once
#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "hybridnode/peer.h"
#include "p2p/p2p_hub.h"
#include "p2p/peer_link.h"
#include "peer/ban_list.h"
#include "peer/offer_memory.h"

namespace hn {

class PeerLinks {
 public:
  using Map = std::map<std::string, std::shared_ptr<p2p::PeerLink>>;
  struct Hooks {
    p2p::PeerLink::Handlers link;  // its on_closed runs once the link has left the set
    std::function<p2p::wire::Hello()> hello;
    std::function<uint64_t(uint32_t)> chunk_size;
    std::function<void(const std::string& type, const std::string& to, nlohmann::json fields)> send_signal;
  };

  // Makes the DTLS certificate (or loads --dtls-cert/--dtls-key).
  Result<void> init(p2p::P2pHub* hub, const PeerOptions* opts, Hooks hooks);
  p2p::PeerLink& connect(const std::string& peer, bool controlling, uint64_t connect_timeout_ms = 0);
  // An offer, answer or candidate relayed by the signaller; offers open inbound links (up to 2x max links).
  // Against offers that never connect (issue 22: 16 Sybils cut a seeder off): one new inbound link per
  // remote per kOfferIntervalS, half-open inbound links time out after kInboundConnectMs and take at most
  // half of max links (the rest stays ours to dial), and when they are full the oldest one makes room.
  // Links that came up are never displaced by offers. New inbound links start at most 2x max links (and 16)
  // a second, in bursts up to the whole table (2x max links): remotes minting a fresh id per offer made us answer ~60 offers
  // a second, and our answers and candidates broke the signaller's rate limit, which cut us off from it
  // again and again (red team s6).
  void on_relay(const nlohmann::json& m);
  uint64_t offers_over_budget() const { return offers_over_budget_; }
  static constexpr double kOfferIntervalS = 5;
  static constexpr uint64_t kInboundConnectMs = 8000;  // ICE + DTLS + SCTP: seconds even over TURN
  // True when `peer` is worth dialling: not us, not linked, not banned.
  bool dialable(const std::string& peer) const;
  void ban(const std::string& peer, const std::string& why);
  static constexpr double kBanS = 1800;
  static constexpr size_t kMaxBans = 4096;
  void close_all(const std::string& why);

  Map& map() { return links_; }
  // A copy to loop over when the body sends: a hard SCTP send error closes the link, which erases it from
  // the map mid-loop.
  std::vector<std::shared_ptr<p2p::PeerLink>> snapshot() const {
    std::vector<std::shared_ptr<p2p::PeerLink>> all;
    for (auto& [id, l] : links_) all.push_back(l);
    return all;
  }
  const Map& map() const { return links_; }

 private:
  p2p::P2pHub* hub_ = nullptr;
  const PeerOptions* opts_ = nullptr;
  Hooks hooks_;
  Map links_;
  // Bounded (issue: red team s4): a remote minting fresh ids cannot grow it; a ban lasts kBanS.
  BanList banned_{kBanS, kMaxBans};
  std::shared_ptr<p2p::DtlsIdentity> dtls_;
  // Remote -> when its offer last opened an inbound link: needed for the offer interval and to find the
  // oldest half-open inbound link, so kept kInboundConnectMs (longer than kOfferIntervalS).
  OfferMemory offered_at_{static_cast<double>(kInboundConnectMs) / 1000, 4096};
  bool make_inbound_room(double now);
  double inbound_tokens_ = -1, inbound_at_ = 0;  // -1: full, set on the first offer
  uint64_t offers_over_budget_ = 0;
  bool take_inbound_token(double now);
};

}  // namespace hn
