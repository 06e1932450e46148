#include "signal/swarm_registry.h"

#include <algorithm>

namespace hn::signal {

std::optional<SignalError> SwarmRegistry::join(ConnId conn, const std::string& video, const std::string& peer,
                                               uint32_t chunk_count, std::vector<uint8_t> bitfield, double now) {
  if (by_conn_.count(conn)) return SignalError{"already_joined", "this connection already joined a swarm; leave first"};
  auto it = swarms_.find(video);
  if (it != swarms_.end()) {
    if (it->second.chunk_count != chunk_count)
      return SignalError{"bad_bitfield", "swarm " + video + " has " + std::to_string(it->second.chunk_count) +
                                             " chunks, not " + std::to_string(chunk_count)};
    if (it->second.members.count(peer)) return SignalError{"id_taken", "peer id " + peer + " is already in this swarm"};
  }
  if (bitfield_bytes_ + Bitfield::bytes_for(chunk_count) > max_bitfield_bytes_)
    return SignalError{"busy", "this signaller holds as many members as it can; try a sibling or later"};
  Member m;
  m.peer = peer;
  m.conn = conn;
  m.last_seen = now;
  if (bitfield.empty()) bitfield.assign(Bitfield::bytes_for(chunk_count), 0);
  if (!m.have.assign(chunk_count, std::move(bitfield)))
    return SignalError{"bad_bitfield", "bitfield must be " + std::to_string(Bitfield::bytes_for(chunk_count)) +
                                           " bytes with no bits past chunk " + std::to_string(chunk_count)};
  auto& swarm = swarms_[video];
  swarm.chunk_count = chunk_count;
  swarm.members.emplace(peer, std::move(m));
  by_conn_[conn] = {video, peer};
  bitfield_bytes_ += Bitfield::bytes_for(chunk_count);
  return std::nullopt;
}

Member* SwarmRegistry::find(ConnId conn) {
  auto w = by_conn_.find(conn);
  if (w == by_conn_.end()) return nullptr;
  return &swarms_.at(w->second.video).members.at(w->second.peer);
}

const Member* SwarmRegistry::member(ConnId conn) const { return const_cast<SwarmRegistry*>(this)->find(conn); }

size_t SwarmRegistry::swarm_size(const std::string& video) const {
  auto it = swarms_.find(video);
  return it == swarms_.end() ? 0 : it->second.members.size();
}

std::optional<SignalError> SwarmRegistry::have(ConnId conn, const std::vector<uint32_t>& chunks) {
  Member* m = find(conn);
  if (m == nullptr) return SignalError{"not_joined", "join a swarm first"};
  for (uint32_t c : chunks)
    if (c >= m->have.size()) return SignalError{"bad_chunk", "chunk index " + std::to_string(c) + " out of range"};
  for (uint32_t c : chunks) m->have.set(c);
  return std::nullopt;
}

std::optional<SignalError> SwarmRegistry::set_bitfield(ConnId conn, std::vector<uint8_t> bitfield) {
  Member* m = find(conn);
  if (m == nullptr) return SignalError{"not_joined", "join a swarm first"};
  Bitfield b;
  if (!b.assign(m->have.size(), std::move(bitfield)))
    return SignalError{"bad_bitfield", "bitfield must be " + std::to_string(Bitfield::bytes_for(m->have.size())) + " bytes"};
  m->have = std::move(b);
  return std::nullopt;
}

std::optional<SignalError> SwarmRegistry::set_load(ConnId conn, uint32_t uploads) {
  Member* m = find(conn);
  if (m == nullptr) return SignalError{"not_joined", "join a swarm first"};
  m->uploads = uploads;
  return std::nullopt;
}

std::optional<SignalError> SwarmRegistry::set_rtt(ConnId conn, std::vector<std::pair<std::string, float>> rtt_ms) {
  Member* m = find(conn);
  if (m == nullptr) return SignalError{"not_joined", "join a swarm first"};
  m->rtt_ms = std::move(rtt_ms);
  return std::nullopt;
}

std::vector<const Member*> SwarmRegistry::lookup(ConnId asker, uint32_t chunk, size_t max) const {
  std::vector<const Member*> out;
  auto w = by_conn_.find(asker);
  if (w == by_conn_.end()) return out;
  const Swarm& s = swarms_.at(w->second.video);
  for (const auto& [id, m] : s.members)
    if (m.conn != asker && m.have.get(chunk)) out.push_back(&m);
  // Fewest uploads first; equal loads are rotated so one idle seeder is not handed every leecher.
  uint64_t salt = ++rotation_ * 0x9E3779B97F4A7C15ull;
  auto key = [salt](const Member* m) { return std::hash<std::string>{}(m->peer) ^ salt; };
  size_t keep = std::min(max, out.size());
  const Member& self = s.members.at(w->second.peer);
  auto rtt = [&self](const Member* m) -> float {
    for (const auto& [peer, ms] : self.rtt_ms)
      if (peer == m->peer) return ms;
    return -1;
  };
  // Rank keys computed once per holder, not once per comparison (hashing ids in the comparator made a
  // lookup in a large swarm cost ~2 x n log n string hashes per chunk).
  struct Ranked {
    float rtt;
    uint32_t uploads;
    size_t key;
    const Member* m;
  };
  std::vector<Ranked> ranked;
  ranked.reserve(out.size());
  for (const Member* m : out) ranked.push_back({rtt(m), m->uploads, key(m), m});
  std::partial_sort(ranked.begin(), ranked.begin() + static_cast<long>(keep), ranked.end(), [](const Ranked& a, const Ranked& b) {
    if ((a.rtt >= 0) != (b.rtt >= 0)) return a.rtt >= 0;
    if (a.rtt >= 0 && a.rtt != b.rtt) return a.rtt < b.rtt;
    if (a.uploads != b.uploads) return a.uploads < b.uploads;
    return a.key < b.key;
  });
  for (size_t i = 0; i < keep; ++i) out[i] = ranked[i].m;
  out.resize(keep);
  return out;
}

std::optional<ConnId> SwarmRegistry::route(ConnId asker, const std::string& peer) const {
  auto w = by_conn_.find(asker);
  if (w == by_conn_.end()) return std::nullopt;
  const Swarm& s = swarms_.at(w->second.video);
  auto it = s.members.find(peer);
  if (it == s.members.end()) return std::nullopt;
  return it->second.conn;
}

void SwarmRegistry::touch(ConnId conn, double now) {
  if (Member* m = find(conn)) m->last_seen = now;
}

const std::string* SwarmRegistry::video_of(ConnId conn) const {
  auto w = by_conn_.find(conn);
  return w == by_conn_.end() ? nullptr : &w->second.video;
}

std::vector<ConnId> SwarmRegistry::members_of(const std::string& video) const {
  std::vector<ConnId> out;
  auto s = swarms_.find(video);
  if (s != swarms_.end())
    for (const auto& [peer, m] : s->second.members) out.push_back(m.conn);
  return out;
}

std::optional<ConnId> SwarmRegistry::conn_of(const std::string& video, const std::string& peer) const {
  auto s = swarms_.find(video);
  if (s == swarms_.end()) return std::nullopt;
  auto m = s->second.members.find(peer);
  if (m == s->second.members.end()) return std::nullopt;
  return m->second.conn;
}

bool SwarmRegistry::leave(ConnId conn) {
  auto w = by_conn_.find(conn);
  if (w == by_conn_.end()) return false;
  auto s = swarms_.find(w->second.video);
  auto m = s->second.members.find(w->second.peer);
  bitfield_bytes_ -= std::min(bitfield_bytes_, Bitfield::bytes_for(m->second.have.size()));
  s->second.members.erase(m);
  if (s->second.members.empty()) swarms_.erase(s);
  by_conn_.erase(w);
  return true;
}

std::vector<ConnId> SwarmRegistry::expire(double now, double timeout) {
  std::vector<ConnId> gone;
  for (const auto& [video, swarm] : swarms_)
    for (const auto& [peer, m] : swarm.members)
      if (now - m.last_seen > timeout) gone.push_back(m.conn);
  for (ConnId c : gone) leave(c);
  return gone;
}

}  // namespace hn::signal
