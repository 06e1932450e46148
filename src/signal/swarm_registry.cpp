#include "signal/swarm_registry.h"

#include <algorithm>

namespace hn::signal {

void SwarmRegistry::list(Swarm& s, Member& m) {
  auto& bucket = s.by_load[m.uploads];
  m.slot = static_cast<uint32_t>(bucket.size());
  bucket.push_back(&m);
}

void SwarmRegistry::unlist(Swarm& s, Member& m) {
  auto b = s.by_load.find(m.uploads);
  if (b == s.by_load.end() || m.slot >= b->second.size() || b->second[m.slot] != &m) return;
  b->second[m.slot] = b->second.back();
  b->second[m.slot]->slot = m.slot;
  b->second.pop_back();
  if (b->second.empty()) s.by_load.erase(b);
}

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
  // A new swarm also holds its `any` bitfield: charged like one more member's.
  size_t cost = Bitfield::bytes_for(chunk_count) * (it == swarms_.end() ? 2 : 1);
  if (bitfield_bytes_ + cost > max_bitfield_bytes_)
    return SignalError{"busy", "this signaller holds as many members as it can; try a sibling or later"};
  Member m;
  m.peer = peer;
  m.conn = conn;
  m.last_seen = now;
  if (bitfield.empty()) bitfield.assign(Bitfield::bytes_for(chunk_count), 0);
  if (!m.have.assign(chunk_count, std::move(bitfield)))
    return SignalError{"bad_bitfield", "bitfield must be " + std::to_string(Bitfield::bytes_for(chunk_count)) +
                                           " bytes with no bits past chunk " + std::to_string(chunk_count)};
  if (it == swarms_.end()) {
    it = swarms_.emplace(video, Swarm{}).first;
    it->second.chunk_count = chunk_count;
    it->second.any = Bitfield(chunk_count);
  }
  Swarm& swarm = it->second;
  Member& placed = swarm.members.emplace(peer, std::move(m)).first->second;
  swarm.any.add(placed.have);
  list(swarm, placed);
  by_conn_[conn] = {&it->first, &swarm, &placed};
  bitfield_bytes_ += cost;
  return std::nullopt;
}

Member* SwarmRegistry::find(ConnId conn) {
  auto w = by_conn_.find(conn);
  return w == by_conn_.end() ? nullptr : w->second.member;
}

const Member* SwarmRegistry::member(ConnId conn) const { return const_cast<SwarmRegistry*>(this)->find(conn); }

size_t SwarmRegistry::swarm_size(const std::string& video) const {
  auto it = swarms_.find(video);
  return it == swarms_.end() ? 0 : it->second.members.size();
}

std::optional<SignalError> SwarmRegistry::have(ConnId conn, const std::vector<uint32_t>& chunks) {
  auto w = by_conn_.find(conn);
  if (w == by_conn_.end()) return SignalError{"not_joined", "join a swarm first"};
  Member* m = w->second.member;
  for (uint32_t c : chunks)
    if (c >= m->have.size()) return SignalError{"bad_chunk", "chunk index " + std::to_string(c) + " out of range"};
  for (uint32_t c : chunks) {
    m->have.set(c);
    w->second.swarm->any.set(c);
  }
  return std::nullopt;
}

std::optional<SignalError> SwarmRegistry::set_bitfield(ConnId conn, std::vector<uint8_t> bitfield) {
  auto w = by_conn_.find(conn);
  if (w == by_conn_.end()) return SignalError{"not_joined", "join a swarm first"};
  Member* m = w->second.member;
  Bitfield b;
  if (!b.assign(m->have.size(), std::move(bitfield)))
    return SignalError{"bad_bitfield", "bitfield must be " + std::to_string(Bitfield::bytes_for(m->have.size())) + " bytes"};
  m->have = std::move(b);
  w->second.swarm->any.add(m->have);
  return std::nullopt;
}

std::optional<SignalError> SwarmRegistry::set_load(ConnId conn, uint32_t uploads) {
  auto w = by_conn_.find(conn);
  if (w == by_conn_.end()) return SignalError{"not_joined", "join a swarm first"};
  Member* m = w->second.member;
  if (m->uploads == uploads) return std::nullopt;
  unlist(*w->second.swarm, *m);
  m->uploads = uploads;
  list(*w->second.swarm, *m);
  return std::nullopt;
}

std::optional<SignalError> SwarmRegistry::set_rtt(ConnId conn, std::vector<std::pair<std::string, float>> rtt_ms) {
  Member* m = find(conn);
  if (m == nullptr) return SignalError{"not_joined", "join a swarm first"};
  m->rtt_ms = std::move(rtt_ms);
  return std::nullopt;
}

std::vector<const Member*> SwarmRegistry::lookup(ConnId asker, uint32_t chunk, size_t max, size_t& budget) const {
  std::vector<const Member*> out;
  auto w = by_conn_.find(asker);
  if (w == by_conn_.end() || max == 0) return out;
  const Swarm& s = *w->second.swarm;
  const Member& self = *w->second.member;
  if (!s.any.get(chunk)) return out;  // nobody holds it: no walk
  // First the holders the asker measured, nearest first (at most 64: the rtt message's cap).
  std::vector<std::pair<float, const Member*>> near;
  for (const auto& [peer, ms] : self.rtt_ms) {
    auto it = s.members.find(peer);
    if (it == s.members.end() || it->second.conn == asker || !it->second.have.get(chunk)) continue;
    if (std::none_of(near.begin(), near.end(), [&](const auto& n) { return n.second == &it->second; }))
      near.emplace_back(ms, &it->second);
  }
  std::stable_sort(near.begin(), near.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (size_t i = 0; i < near.size() && out.size() < max; ++i) out.push_back(near[i].second);
  size_t measured = out.size();
  if (out.size() >= max) return out;
  // Then the least loaded. Within one load the walk starts at a point that moves every lookup, so one idle
  // seeder is not handed every leecher; it ends after `max` holders or when the budget is spent.
  uint64_t spin = ++rotation_ * 0x9E3779B97F4A7C15ull;
  bool held = self.have.get(chunk), walked_all = true;
  for (const auto& [load, bucket] : s.by_load) {
    size_t n = bucket.size(), start = static_cast<size_t>((spin >> 17) % n);
    for (size_t k = 0; k < n; ++k) {
      if (budget == 0) {
        walked_all = false;
        break;
      }
      budget--;
      const Member* m = bucket[(start + k) % n];
      if (!m->have.get(chunk)) continue;
      held = true;
      if (m->conn == asker || std::find(out.begin(), out.begin() + static_cast<long>(measured), m) != out.begin() + static_cast<long>(measured))
        continue;
      out.push_back(m);
      if (out.size() >= max) return out;
    }
    if (!walked_all) break;
  }
  if (walked_all && !held) s.any.clear(chunk);  // the whole swarm walked: the bit was stale
  return out;
}

std::optional<ConnId> SwarmRegistry::route(ConnId asker, const std::string& peer) const {
  auto w = by_conn_.find(asker);
  if (w == by_conn_.end()) return std::nullopt;
  const Swarm& s = *w->second.swarm;
  auto it = s.members.find(peer);
  if (it == s.members.end()) return std::nullopt;
  return it->second.conn;
}

void SwarmRegistry::touch(ConnId conn, double now) {
  if (Member* m = find(conn)) m->last_seen = now;
}

const std::string* SwarmRegistry::video_of(ConnId conn) const {
  auto w = by_conn_.find(conn);
  return w == by_conn_.end() ? nullptr : w->second.video;
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
  Swarm& s = *w->second.swarm;
  Member& m = *w->second.member;
  size_t bytes = Bitfield::bytes_for(m.have.size());
  unlist(s, m);
  s.members.erase(s.members.find(m.peer));  // `m` is gone from here on
  bitfield_bytes_ -= std::min(bitfield_bytes_, bytes);
  if (s.members.empty()) {
    bitfield_bytes_ -= std::min(bitfield_bytes_, bytes);  // the swarm's `any`
    swarms_.erase(swarms_.find(*w->second.video));
  }
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
