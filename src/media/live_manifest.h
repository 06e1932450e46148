// The sliding manifest of a live channel: the last W chunks, each with its sequence number.
// Peers name live chunks on the wire and to the signaller by `seq % kLiveRing` (a ring of indexes),
// which is unambiguous while a window is far shorter than the ring.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "hybridnode/result.h"

namespace hn::media {

inline constexpr uint32_t kLiveRing = 4096;
inline constexpr uint64_t kMaxLiveSeq = (1ull << 53) - 1;  // seqs at or past it are refused (and JSON-exact below)
inline constexpr size_t kMaxLiveWindow = 1024;

struct LiveChunkRef {
  uint64_t seq = 0;
  std::string id;  // hex SHA-256 of the bytes
  uint64_t size = 0;
  double duration = 0;        // seconds
  int64_t published_ms = 0;   // server wall clock when the chunk was cut (lag measurements)
  bool discontinuity = false; // timestamps jump in this chunk (EXT-X-DISCONTINUITY before it)
  bool keyframe = true;       // false: cut by time in a stream without keyframe marks (may not start cleanly)
};

struct LiveManifest {
  std::string video_id;
  // One run of the channel (random, chosen when the server starts it): a server restarted on the same
  // channel starts a new epoch whose seqs begin again at 0, so (video_id, epoch, seq) names a chunk.
  std::string epoch;
  std::string token;  // the join token for this run's swarm (docs/security.md); "" in open mode
  bool ended = false;
  double target_duration = 1;
  std::vector<LiveChunkRef> chunks;  // ascending, consecutive seq

  uint64_t next_seq() const { return chunks.empty() ? 0 : chunks.back().seq + 1; }
};

inline constexpr size_t kMaxEpochChars = 32;
// 1-32 lowercase hex characters.
bool is_live_epoch(const std::string& s);
// A random epoch: 16 hex characters.
std::string new_live_epoch();
// What viewers of one channel run call their swarm on peer links (the hello's video): the channel id
// (cut to 47 characters) + "." + the epoch, so viewers of different runs never link, and a ring index
// never names a chunk of another run. A valid video id (at most 64 characters).
std::string live_swarm_key(const std::string& video_id, const std::string& epoch);

std::string live_manifest_to_json(const LiveManifest& m);
// Strict: consecutive seqs, valid ids, sizes within chunk limits, at most kMaxLiveWindow chunks.
Result<LiveManifest> live_manifest_from_json(const std::string& text);

}  // namespace hn::media
