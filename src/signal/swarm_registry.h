// The signaller's state: swarms per video, their members, what each holds, and who is silent.
// Pure logic (no sockets, time passed in) so every rule is unit-tested.
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "util/bitfield.h"

namespace hn::signal {

using ConnId = uint64_t;

struct SignalError {
  std::string code;  // stable, machine-readable: see docs/protocol.md
  std::string message;
};

struct Member {
  std::string peer;
  ConnId conn = 0;
  Bitfield have;
  uint32_t uploads = 0;  // as last reported by the peer ("load")
  uint32_t slot = 0;     // index in its swarm's by_load[uploads]
  std::vector<std::pair<std::string, float>> rtt_ms;  // this peer's measured RTT to others ("rtt"), ≤ 64
  double last_seen = 0;
};

struct Swarm {
  uint32_t chunk_count = 0;
  std::unordered_map<std::string, Member> members;  // by peer id (nodes: Member addresses are stable)
  // Members by reported uploads, least loaded first: a lookup walks these and stops after `max` holders
  // instead of ranking the whole swarm for every chunk.
  std::map<uint32_t, std::vector<Member*>> by_load;
  // A chunk whose bit is clear has no holder; a set bit may be stale (members left) and is cleared by
  // the first lookup that walks the whole swarm without meeting a holder.
  mutable Bitfield any;
};

class SwarmRegistry {
 public:
  std::optional<SignalError> join(ConnId conn, const std::string& video, const std::string& peer,
                                  uint32_t chunk_count, std::vector<uint8_t> bitfield, double now);
  std::optional<SignalError> have(ConnId conn, const std::vector<uint32_t>& chunks);
  std::optional<SignalError> set_bitfield(ConnId conn, std::vector<uint8_t> bitfield);
  std::optional<SignalError> set_load(ConnId conn, uint32_t uploads);
  std::optional<SignalError> set_rtt(ConnId conn, std::vector<std::pair<std::string, float>> rtt_ms);
  // Holders of `chunk` in the asker's swarm, asker excluded, at most `max`: those the asker reported a
  // round-trip time to first (lowest first), then fewest uploads (equal loads rotate between lookups).
  // `budget`: members it may still look at (decremented); a lookup that runs out returns what it found
  // and leaves `budget` at 0, so one request cannot walk a large swarm for each of its chunks.
  std::vector<const Member*> lookup(ConnId asker, uint32_t chunk, size_t max, size_t& budget) const;
  std::vector<const Member*> lookup(ConnId asker, uint32_t chunk, size_t max) const {
    size_t unlimited = SIZE_MAX;
    return lookup(asker, chunk, max, unlimited);
  }
  // The connection of `peer` in the asker's swarm.
  std::optional<ConnId> route(ConnId asker, const std::string& peer) const;
  void touch(ConnId conn, double now);
  bool leave(ConnId conn);
  // Members whose last message is older than now - timeout; they are removed.
  std::vector<ConnId> expire(double now, double timeout);

  const Member* member(ConnId conn) const;
  const std::string* video_of(ConnId conn) const;  // the swarm a connection joined, or nullptr
  std::vector<ConnId> members_of(const std::string& video) const;
  std::optional<ConnId> conn_of(const std::string& video, const std::string& peer) const;
  size_t swarm_count() const { return swarms_.size(); }
  size_t member_count() const { return by_conn_.size(); }
  size_t swarm_size(const std::string& video) const;
  // Process budget for members' bitfields (a join with 2^18 chunks holds 32 KiB); past it joins get `busy`.
  void set_bitfield_budget(size_t bytes) { max_bitfield_bytes_ = bytes; }
  size_t bitfield_bytes() const { return bitfield_bytes_; }

 private:
  Member* find(ConnId conn);
  static void unlist(Swarm& s, Member& m);  // out of by_load
  static void list(Swarm& s, Member& m);    // into by_load[m.uploads]
  std::unordered_map<std::string, Swarm> swarms_;
  struct Where {  // map nodes: these stay valid until the member leaves
    const std::string* video;
    Swarm* swarm;
    Member* member;
  };
  std::unordered_map<ConnId, Where> by_conn_;
  mutable uint64_t rotation_ = 0;
  size_t bitfield_bytes_ = 0, max_bitfield_bytes_ = SIZE_MAX;
};

}  // namespace hn::signal
