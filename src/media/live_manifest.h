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
inline constexpr size_t kMaxLiveWindow = 1024;

struct LiveChunkRef {
  uint64_t seq = 0;
  std::string id;  // hex SHA-256 of the bytes
  uint64_t size = 0;
  double duration = 0;        // seconds
  int64_t published_ms = 0;   // server wall clock when the chunk was cut (lag measurements)
};

struct LiveManifest {
  std::string video_id;
  bool ended = false;
  double target_duration = 1;
  std::vector<LiveChunkRef> chunks;  // ascending, consecutive seq

  uint64_t next_seq() const { return chunks.empty() ? 0 : chunks.back().seq + 1; }
};

std::string live_manifest_to_json(const LiveManifest& m);
// Strict: consecutive seqs, valid ids, sizes within chunk limits, at most kMaxLiveWindow chunks.
Result<LiveManifest> live_manifest_from_json(const std::string& text);

}  // namespace hn::media
