// HLS VOD ingest: ffprobe decides whether a file is a video ffmpeg can remux, ffmpeg turns it into one
// MPEG-TS stream, and the live path's TsChunker cuts it at keyframes into content-addressed segments.
#pragma once
#include <string>

#include "hybridnode/chunk_store.h"
#include "hybridnode/ingest.h"
#include "hybridnode/manifest.h"
#include "hybridnode/result.h"

namespace hn::media {

struct MediaProbe {
  std::string video_codec;  // ffprobe codec_name of the first video stream ("" when none)
  std::string audio_codec;  // of the first audio stream ("" when none)
  bool remuxable() const {
    return (video_codec == "h264" || video_codec == "hevc") && (audio_codec.empty() || audio_codec == "aac");
  }
};

// Errors: ffprobe missing, or it cannot read the file (its own message is included).
Result<MediaProbe> probe_media(const std::string& file);

// Fills `m`'s chunks, chunk_size, total_size and media ("hls"), writing every segment to the store.
Result<void> ingest_hls(ChunkStore& store, const IngestOptions& opts, const MediaProbe& probe, Manifest& m);

}  // namespace hn::media
