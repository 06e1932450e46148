// `hybridnode ingest FILE --store DIR|mongodb://...`: chunk a video into the store the server reads.
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "config/options.h"
#include "hybridnode/ingest.h"
#include "roles/role_flags.h"
#include "roles/roles.h"

namespace hn::roles {

int run_ingest(const std::vector<std::string>& args) {
  using config::Type;
  config::ParseSpec spec{"hybridnode ingest FILE",
                         {
                             {"store", Type::string, "./store", "chunk store to write into: a folder or mongodb://HOST:PORT/DB (GridFS)"},
                             {"chunk-size", Type::integer, "262144", "bytes per chunk (raw ingest)", 4096, 64 << 20},
                             {"hls", Type::boolean, "false", "cut the video into HLS segments (ffmpeg remux to MPEG-TS); the default for H.264/H.265 + AAC"},
                             {"raw", Type::boolean, "false", "cut the file into byte chunks of --chunk-size, whatever it is"},
                             {"transcode", Type::boolean, "false", "with --hls: re-encode to H.264/AAC with a keyframe every --segment-seconds"},
                             {"segment-seconds", Type::number, "2", "with --hls: target segment length (cut at the next keyframe)"},
                             {"id", Type::string, "", "video id (default: from the file name)"},
                             {"title", Type::string, "", "title (default: the file name)"},
                             {"media-type", Type::string, "", "media type (default: from the extension)"},
                         },
                         1};
  config::Options o;
  if (auto rc = parse_role_flags(spec, args, o)) return *rc;
  if (o.positional().size() != 1) {
    std::cerr << "error: ingest needs exactly one FILE\n";
    return 2;
  }
  if (o.boolean("raw") && (o.boolean("hls") || o.boolean("transcode"))) {
    std::cerr << "error: --raw cuts bytes; it cannot go with --hls or --transcode\n";
    return 2;
  }
  if (!(o.number("segment-seconds") >= 0.5 && o.number("segment-seconds") <= 60)) {
    std::cerr << "error: --segment-seconds must be between 0.5 and 60\n";
    return 2;
  }
  // Check the input before the store: a typo must not leave an empty store folder behind.
  struct stat st;
  const std::string& file = o.positional()[0];
  if (::stat(file.c_str(), &st) != 0) {
    std::cerr << "error: cannot open " << file << ": " << std::strerror(errno) << "\n";
    return 1;
  }
  if (S_ISDIR(st.st_mode)) {
    std::cerr << "error: " << file << " is a directory; give a video file\n";
    return 1;
  }
  auto store = open_store(o.str("store"));
  if (!store) {
    std::cerr << "error: " << store.error() << "\n";
    return 1;
  }
  IngestOptions io;
  io.file = o.positional()[0];
  io.video_id = o.str("id");
  io.title = o.str("title");
  io.media_type = o.str("media-type");
  io.chunk_size = static_cast<uint64_t>(o.integer("chunk-size"));
  io.mode = o.boolean("raw") ? IngestMode::raw : o.boolean("hls") || o.boolean("transcode") ? IngestMode::hls : IngestMode::automatic;
  io.transcode = o.boolean("transcode");
  io.segment_seconds = o.number("segment-seconds");
  auto m = ingest_file(**store, io);
  if (!m) {
    std::cerr << "error: " << m.error() << "\n";
    return 1;
  }
  if (m->is_hls()) {
    double secs = 0;
    for (const auto& c : m->chunks) secs += c.duration;
    std::cout << "ingested " << m->video_id << " as HLS: " << m->total_size << " bytes in " << m->chunks.size()
              << " segments, " << static_cast<int64_t>(secs * 10) / 10.0 << " s, into " << (*store)->describe()
              << " (playlist /videos/" << m->video_id << ".m3u8)\n";
  } else {
    std::cout << "ingested " << m->video_id << ": " << m->total_size << " bytes in " << m->chunks.size()
              << " chunks of " << m->chunk_size << " into " << (*store)->describe() << "\n";
    // A video that fell back to bytes plays only once downloaded: say so, and how to find out why.
    if (io.mode == IngestMode::automatic && media_type_for(io.file).rfind("video/", 0) == 0)
      std::cerr << "note: stored as byte chunks, not HLS (a player needs the whole file); --hls says why\n";
  }
  return 0;
}

}  // namespace hn::roles
