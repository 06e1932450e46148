/// @file
/// A video as the content server describes it: ordered, content-addressed chunks.
#pragma once
#include "hybridnode/export.h"
#include <cstdint>
#include <string>
#include <vector>

#include "hybridnode/result.h"

namespace hn {

struct ChunkRef {
  std::string id;  ///< hex SHA-256 of the chunk's bytes
  uint64_t size = 0;
  double duration = 0;  ///< seconds of media ("hls" videos only; 0 otherwise)
  bool discontinuity = false;  ///< "hls": timestamps jump at this segment (EXT-X-DISCONTINUITY before it)
  uint64_t offset = 0;  ///< byte offset in the video; filled by manifest_from_json and ingest, not serialized
};

struct Manifest {
  std::string video_id;
  std::string title;
  std::string media_type;  ///< e.g. video/mp4
  uint64_t total_size = 0;
  /// Byte videos: every chunk but the last has exactly this size. "hls" videos: the largest chunk.
  uint64_t chunk_size = 0;
  /// "" for byte chunks; "hls" when every chunk is a keyframe-aligned MPEG-TS segment with a duration,
  /// so /videos/ID.m3u8 can list the chunks as a VOD playlist (docs/hls.md).
  std::string media;
  std::vector<ChunkRef> chunks;

  bool is_hls() const { return media == "hls"; }
  /// Byte offset of chunk i in the video (the file is the concatenation of its chunks).
  uint64_t offset_of(size_t i) const {
    return is_hls() ? chunks[i].offset : static_cast<uint64_t>(i) * chunk_size;
  }
};

/// Longest segment a manifest may declare: HLS players buffer whole segments.
inline constexpr double kMaxChunkDuration = 600;

/// Upper bounds that keep a manifest from the network from exhausting memory.
inline constexpr size_t kMaxManifestBytes = 64u << 20;
inline constexpr size_t kMaxChunksPerVideo = 1u << 18;  ///< = the signaller's swarm cap (docs/security.md)
inline constexpr uint64_t kMinChunkSize = 4096;
inline constexpr uint64_t kMaxChunkSize = 64u << 20;

HN_API std::string manifest_to_json(const Manifest& m);
/// Strict: every field present and typed, ids valid, sizes consistent with chunk_size and total_size.
HN_API Result<Manifest> manifest_from_json(const std::string& text);

}  ///< namespace hn
