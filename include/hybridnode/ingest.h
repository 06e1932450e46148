/// @file
/// Splits a video file into content-addressed chunks and records its manifest in a store.
#pragma once
#include "hybridnode/export.h"
#include <cstdint>
#include <string>

#include "hybridnode/chunk_store.h"
#include "hybridnode/manifest.h"
#include "hybridnode/result.h"

namespace hn {

/// How a file becomes chunks (docs/hls.md).
enum class IngestMode {
  raw,        ///< byte ranges of chunk_size: any file; a player needs the whole file for MP4s indexed at the end
  hls,        ///< ffmpeg remuxes to MPEG-TS, cut at keyframes: segments that play as they arrive; error if not a video
  automatic,  ///< hls when ffprobe reports H.264/H.265 video with AAC (or no) audio, raw otherwise
};

struct IngestOptions {
  std::string file;
  std::string video_id;    ///< default: derived from the file name
  std::string title;       ///< default: the file name
  std::string media_type;  ///< default: guessed from the extension
  uint64_t chunk_size = 256 * 1024;  ///< raw chunks
  IngestMode mode = IngestMode::raw;
  bool transcode = false;        ///< hls: re-encode (H.264/AAC, keyframes forced every segment_seconds)
  double segment_seconds = 2.0;  ///< hls: target segment length (cut at the first keyframe past it)
};

/// Reads the file once, chunk by chunk (memory stays at one chunk), writing each chunk then the manifest.
/// hls/automatic run ffprobe and ffmpeg (from PATH) as child processes.
HN_API Result<Manifest> ingest_file(ChunkStore& store, const IngestOptions& opts);

/// "movie file (1).mp4" -\> "movie-file-1"; empty when nothing usable remains.
HN_API std::string video_id_from_filename(const std::string& path);
HN_API std::string media_type_for(const std::string& path);

}  ///< namespace hn
