// A video as the content server describes it: ordered, content-addressed chunks.
#pragma once
#include "hybridnode/export.h"
#include <cstdint>
#include <string>
#include <vector>

#include "hybridnode/result.h"

namespace hn {

struct ChunkRef {
  std::string id;  // hex SHA-256 of the chunk's bytes
  uint64_t size = 0;
};

struct Manifest {
  std::string video_id;
  std::string title;
  std::string media_type;  // e.g. video/mp4
  uint64_t total_size = 0;
  uint64_t chunk_size = 0;  // every chunk but the last has exactly this size
  std::vector<ChunkRef> chunks;

  // Byte offset of chunk i in the video.
  uint64_t offset_of(size_t i) const { return static_cast<uint64_t>(i) * chunk_size; }
};

// Upper bounds that keep a manifest from the network from exhausting memory.
inline constexpr size_t kMaxManifestBytes = 64u << 20;
inline constexpr size_t kMaxChunksPerVideo = 1u << 18;  // = the signaller's swarm cap (docs/security.md)
inline constexpr uint64_t kMinChunkSize = 4096;
inline constexpr uint64_t kMaxChunkSize = 64u << 20;

HN_API std::string manifest_to_json(const Manifest& m);
// Strict: every field present and typed, ids valid, sizes consistent with chunk_size and total_size.
HN_API Result<Manifest> manifest_from_json(const std::string& text);

}  // namespace hn
