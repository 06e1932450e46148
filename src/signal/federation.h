// Swarms shared by several signallers through Redis pub/sub (docs/scaling.md). Members of other
// instances appear in the local registry under synthetic connection ids, so lookup ranks them like local
// ones; a relay to one of them is published to its instance's channel. Without Redis (or while it is
// down) every instance keeps serving its own members: remote members vanish when their instance has
// been silent for `instance_timeout`, and come back with a sync when Redis returns.
//   hn:swarm:<video>   join / have / bitfield / leave of members, sync requests, and every kRollCallBeats
//                      heartbeats a roll call of each instance's members there: a remote entry its instance
//                      stops naming (a leave we missed) is dropped
//   hn:inst:<name>     relays addressed to members of instance <name>
//   hn:alive           one heartbeat per instance per second
#pragma once
#include <uv.h>

#include <functional>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_map>

#include "net/uv_handle.h"
#include "signal/redis_bus.h"
#include "signal/swarm_registry.h"

namespace hn::signal {

class Federation {
 public:
  using Deliver = std::function<void(ConnId local, const std::string& text, ConnId from)>;
  // With join tokens: whether a member of another instance holds a valid token for (video, content).
  using Admission = std::function<bool(const std::string& video, const std::string& content, const std::string& token)>;
  Federation(uv_loop_t* loop, SwarmRegistry& registry, std::string instance, std::string redis_host, int redis_port,
             Deliver deliver, double instance_timeout = 3.5);
  ~Federation();

  void start();
  void set_admission(Admission a) { admit_ = std::move(a); }
  static bool is_remote(ConnId c) { return (c & kRemoteBit) != 0; }

  // Local events, published to the other instances. `proof`: SHA-256 (hex) of the resume token the member
  // got in its `joined` reply; siblings keep it so only that member can move its id to them. `token`: its
  // join token ("" in open mode), re-checked by siblings with the swarm secret.
  void joined(ConnId local, const std::string& proof, const std::string& token);
  void renewed(ConnId local, const std::string& token);
  void had(ConnId local, const std::vector<uint32_t>& chunks);
  void bitfield(ConnId local);
  void leaving(ConnId local);  // call before the registry forgets the connection
  void relay(ConnId remote, nlohmann::json msg);
  // A peer that joins here while a sibling still lists it (it moved after its instance died). The move
  // must be proven: `resume` (the token from its first `joined`) must hash to the proof the sibling
  // published; then the stale remote entry goes. A claim without it is refused: ids stay bound to the
  // connection that joined first, across instances.
  enum class Move { not_remote, moved, refused };
  Move evict_remote(const std::string& video, const std::string& peer, const std::string& resume);

  bool redis_up() const { return bus_.up(); }
  size_t remote_members() const { return remote_.size(); }
  uint64_t published() const { return bus_.published(); }
  uint64_t received() const { return bus_.received(); }
  uint64_t relays_in() const { return relays_in_; }
  uint64_t relays_out() const { return relays_out_; }

 private:
  static constexpr ConnId kRemoteBit = 1ull << 62;
  struct Remote {
    std::string inst, video, peer;
    double confirmed = 0;  // last join/have/roll-call naming it; entries its instance stops naming age out
    std::string proof;     // SHA-256 of its resume token, as its instance published it
  };
  void on_message(const std::string& channel, const std::string& payload);
  void on_swarm_event(const nlohmann::json& m);
  void publish_join(ConnId local);
  void watch(const std::string& video);
  void heartbeat();
  void resync();
  void drop_instance(const std::string& inst);
  void roll_call();
  void on_roll_call(const std::string& inst, const std::string& video, const nlohmann::json& peers);
  void forget_remote(ConnId id);
  void forget_swarm(const std::string& video);
  void age_remotes(double now);
  ConnId remote_id(const std::string& inst, const std::string& video, const std::string& peer, bool create);

  uv_loop_t* loop_;
  SwarmRegistry& registry_;
  std::string inst_;
  Deliver deliver_;
  Admission admit_;  // null: open swarms
  std::unordered_map<ConnId, std::string> tokens_;  // local members' join tokens, published with their joins
  double timeout_;
  RedisBus bus_;
  net::UvHandle<uv_timer_t> timer_;
  std::map<std::string, int> local_swarms_;  // video -> local members
  std::unordered_map<ConnId, std::string> local_proof_;
  std::unordered_map<ConnId, Remote> remote_;
  std::map<std::string, ConnId> remote_by_key_;
  std::map<std::string, double> inst_seen_;
  ConnId next_remote_ = kRemoteBit | 1;
  uint64_t beats_ = 0;
  uint64_t relays_in_ = 0, relays_out_ = 0;
};

}  // namespace hn::signal
