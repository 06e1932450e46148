// Splits a video file into content-addressed chunks and records its manifest in a store.
#pragma once
#include "hybridnode/export.h"
#include <cstdint>
#include <string>

#include "hybridnode/chunk_store.h"
#include "hybridnode/manifest.h"
#include "hybridnode/result.h"

namespace hn {

struct IngestOptions {
  std::string file;
  std::string video_id;    // default: derived from the file name
  std::string title;       // default: the file name
  std::string media_type;  // default: guessed from the extension
  uint64_t chunk_size = 256 * 1024;
};

// Reads the file once, chunk by chunk (memory stays at one chunk), writing each chunk then the manifest.
HN_API Result<Manifest> ingest_file(ChunkStore& store, const IngestOptions& opts);

// "movie file (1).mp4" -> "movie-file-1"; empty when nothing usable remains.
HN_API std::string video_id_from_filename(const std::string& path);
HN_API std::string media_type_for(const std::string& path);

}  // namespace hn
