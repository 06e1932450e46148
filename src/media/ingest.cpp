#include "hybridnode/ingest.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "hybridnode/ids.h"
#include "media/hls_ingest.h"
#include "media/sha256.h"
#include "util/unique_fd.h"

namespace hn {

std::string video_id_from_filename(const std::string& path) {
  std::string base = path.substr(path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/') + 1);
  auto dot = base.find_last_of('.');
  if (dot != std::string::npos && dot > 0) base = base.substr(0, dot);
  std::string id;
  for (char c : base) {
    bool keep = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-';
    if (keep) id += c;
    else if (!id.empty() && id.back() != '-') id += '-';
    if (id.size() == 64) break;
  }
  while (!id.empty() && id.back() == '-') id.pop_back();
  return id;
}

std::string media_type_for(const std::string& path) {
  auto dot = path.find_last_of('.');
  std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (ext == "mp4" || ext == "m4v") return "video/mp4";
  if (ext == "webm") return "video/webm";
  if (ext == "mkv") return "video/x-matroska";
  if (ext == "ts") return "video/mp2t";
  if (ext == "mov") return "video/quicktime";
  return "application/octet-stream";
}

namespace {
// Fills buf completely unless the file ends first; returns bytes read or -1.
ssize_t read_full(int fd, char* buf, size_t len) {
  size_t got = 0;
  while (got < len) {
    ssize_t n = ::read(fd, buf + got, len - got);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -1;
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(got);
}
}  // namespace

Result<Manifest> ingest_file(ChunkStore& store, const IngestOptions& opts) {
  if (opts.chunk_size < kMinChunkSize || opts.chunk_size > kMaxChunkSize)
    return make_error("chunk size must be between " + std::to_string(kMinChunkSize) + " and " +
                      std::to_string(kMaxChunkSize) + " bytes");
  Manifest m;
  m.video_id = opts.video_id.empty() ? video_id_from_filename(opts.file) : opts.video_id;
  if (!is_video_id(m.video_id))
    return make_error("invalid video id '" + m.video_id + "' (use 1-64 of [A-Za-z0-9._-], not starting with '.')");
  m.title = opts.title.empty() ? opts.file.substr(opts.file.find_last_of('/') + 1) : opts.title;
  m.media_type = opts.media_type.empty() ? media_type_for(opts.file) : opts.media_type;
  m.chunk_size = opts.chunk_size;

  if (opts.mode != IngestMode::raw) {
    auto probe = media::probe_media(opts.file);
    bool hls = opts.mode == IngestMode::hls || (probe && probe->remuxable());
    if (opts.mode == IngestMode::hls && !probe) return make_error(probe.error());
    if (hls) {
      m.chunk_size = 0;
      auto ok = media::ingest_hls(store, opts, *probe, m);
      if (!ok) return make_error(ok.error());
      auto put = store.put_manifest(m);
      if (!put) return make_error("store: " + put.error());
      return m;
    }
  }

  UniqueFd fd(::open(opts.file.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return make_error("cannot open " + opts.file + ": " + std::strerror(errno));
  // Refuse before uploading anything a file whose manifest the store could not hold (GridFS: 16 MiB BSON).
  struct stat st;
  if (::fstat(fd.get(), &st) == 0 && S_ISREG(st.st_mode)) {
    uint64_t count = (static_cast<uint64_t>(st.st_size) + opts.chunk_size - 1) / opts.chunk_size;
    size_t most = store.max_manifest_chunks(m.title.size());
    if (count > most)
      return make_error(opts.file + " needs " + std::to_string(count) + " chunks but a manifest in " + store.describe() +
                        " holds at most " + std::to_string(most) + "; raise --chunk-size");
  }
  std::vector<char> buf(opts.chunk_size);
  for (;;) {
    ssize_t n = read_full(fd.get(), buf.data(), buf.size());
    if (n < 0) return make_error("cannot read " + opts.file + ": " + std::strerror(errno));
    if (n == 0) break;
    ChunkRef ref{sha256_hex(buf.data(), static_cast<size_t>(n)), static_cast<uint64_t>(n)};
    auto put = store.put_chunk(ref.id, buf.data(), static_cast<size_t>(n));
    if (!put) return make_error("store: " + put.error());
    m.total_size += ref.size;
    m.chunks.push_back(std::move(ref));
    if (m.chunks.size() > kMaxChunksPerVideo) return make_error("video has too many chunks; raise --chunk-size");
    if (static_cast<size_t>(n) < buf.size()) break;
  }
  if (m.chunks.empty()) return make_error(opts.file + " is empty");
  auto put = store.put_manifest(m);
  if (!put) return make_error("store: " + put.error());
  return m;
}

}  // namespace hn
