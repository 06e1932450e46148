#include "media/hls_ingest.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

#include "media/sha256.h"
#include "media/ts_chunker.h"
#include "util/child_process.h"

namespace hn::media {

namespace {
std::string first_line(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  return line.empty() ? "no message" : line;
}
}  // namespace

Result<MediaProbe> probe_media(const std::string& file) {
  std::string out;
  auto ex = run_child({"ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name", "-of", "json",
                       "-i", "file:" + file},
                      [&out](const char* d, size_t n) {
                        out.append(d, n);
                        return out.size() < (1u << 20);  // a stream list is small; refuse a flood
                      });
  if (!ex) return make_error(ex.error());
  if (ex->status != 0) return make_error("ffprobe cannot read " + file + ": " + first_line(ex->stderr_tail));
  auto j = nlohmann::json::parse(out, nullptr, false);
  MediaProbe p;
  if (!j.is_object() || !j.contains("streams") || !j["streams"].is_array())
    return make_error("ffprobe gave no stream list for " + file);
  for (const auto& s : j["streams"]) {
    if (!s.is_object() || !s.contains("codec_type") || !s["codec_type"].is_string()) continue;
    std::string type = s["codec_type"], name = s.contains("codec_name") && s["codec_name"].is_string() ? s["codec_name"] : "";
    if (type == "video" && p.video_codec.empty() && name != "mjpeg" && name != "png") p.video_codec = name;
    if (type == "audio" && p.audio_codec.empty()) p.audio_codec = name;
  }
  return p;
}

Result<void> ingest_hls(ChunkStore& store, const IngestOptions& opts, const MediaProbe& probe, Manifest& m) {
  if (probe.video_codec.empty())
    return make_error(opts.file + " has no video stream; HLS needs a video (ingest it with --raw)");
  if (!opts.transcode && !probe.remuxable())
    return make_error(opts.file + " is " + probe.video_codec + (probe.audio_codec.empty() ? "" : "/" + probe.audio_codec) +
                      ", which HLS players cannot take as is; add --transcode to re-encode to H.264/AAC");
  if (!(opts.segment_seconds >= 0.5 && opts.segment_seconds <= 60))
    return make_error("--segment-seconds must be between 0.5 and 60");
  char seg[32];
  std::snprintf(seg, sizeof seg, "%g", opts.segment_seconds);
  std::vector<std::string> argv = {"ffmpeg", "-nostdin", "-hide_banner", "-v", "error", "-i", "file:" + opts.file,
                                   "-map", "0:v:0", "-map", "0:a:0?", "-sn", "-dn"};
  if (opts.transcode) {
    // Keyframes exactly on the segment grid, so every segment starts where a player can.
    std::string force = std::string("expr:gte(t,n_forced*") + seg + ")";
    argv.insert(argv.end(), {"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-force_key_frames",
                             force, "-sc_threshold", "0", "-c:a", "aac", "-b:a", "128k"});
  } else {
    argv.insert(argv.end(), {"-c", "copy"});
  }
  argv.insert(argv.end(), {"-f", "mpegts", "pipe:1"});

  TsChunker chunker(opts.segment_seconds, kMaxChunkSize / 2);
  std::string store_error;
  auto put = [&](TsChunk&& c) -> bool {
    // Milliseconds are plenty for EXTINF and keep the manifest readable.
    double dur = static_cast<double>(static_cast<int64_t>(c.duration * 1000 + 0.5)) / 1000;
    ChunkRef ref{sha256_hex(c.bytes.data(), c.bytes.size()), c.bytes.size(), dur, !m.chunks.empty() && c.discontinuity,
                 m.total_size};
    auto ok = store.put_chunk(ref.id, c.bytes.data(), c.bytes.size());
    if (!ok) {
      store_error = "store: " + ok.error();
      return false;
    }
    m.total_size += ref.size;
    m.chunk_size = std::max(m.chunk_size, ref.size);
    m.chunks.push_back(std::move(ref));
    if (m.chunks.size() > kMaxChunksPerVideo) {
      store_error = "video has too many segments; raise --segment-seconds";
      return false;
    }
    return true;
  };
  auto ex = run_child(argv, [&](const char* d, size_t n) {
    for (auto& c : chunker.feed(reinterpret_cast<const uint8_t*>(d), n))
      if (!put(std::move(c))) return false;
    return true;
  });
  if (!ex) return make_error(ex.error());
  if (!store_error.empty()) return make_error(store_error);
  if (ex->status != 0) return make_error("ffmpeg failed on " + opts.file + ": " + first_line(ex->stderr_tail));
  if (auto last = chunker.flush(); last && !put(std::move(*last))) return make_error(store_error);
  if (m.chunks.empty()) return make_error("ffmpeg produced no MPEG-TS from " + opts.file);
  // A segment with no measurable span (one frame) still needs a positive EXTINF.
  for (auto& c : m.chunks)
    if (!(c.duration > 0)) c.duration = 0.04;
  m.chunk_size = std::max(m.chunk_size, kMinChunkSize);
  m.media = "hls";
  if (opts.media_type.empty()) m.media_type = "video/mp2t";
  return {};
}

}  // namespace hn::media
