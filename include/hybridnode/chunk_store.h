/// @file
/// Where a content server keeps chunks, manifests and the catalog.
/// Calls may block (disk, MongoDB): the server runs them on the libuv thread pool, never on the loop.
/// Implementations must be safe to call from several pool threads at once.
#pragma once
#include "hybridnode/export.h"
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "hybridnode/manifest.h"
#include "hybridnode/result.h"

namespace hn {

/// A readable chunk: either an open file region (sent with sendfile, no userspace copy) or bytes.
struct ChunkSource {
  int fd = -1;  ///< owned by `owner`; -1 when the bytes are in `bytes` or `shared_bytes`
  uint64_t offset = 0;
  uint64_t length = 0;
  std::string bytes;
  /// Bytes shared with the store's memory cache (GridFS), sent by reference; used instead of `bytes` when set.
  std::shared_ptr<const std::string> shared_bytes;
  std::shared_ptr<void> owner;  ///< keeps fd open while a transfer uses it
};

inline constexpr const char* kNotFound = "not found: ";

/// A video the store holds and a token that changes whenever its manifest does ("" : unknown, read it again).
struct ManifestStamp {
  std::string video_id;
  std::string stamp;  ///< local store: device, inode, size, mtime, ctime; GridFS: the manifest's digest
};

class HN_API ChunkStore {
 public:
  virtual ~ChunkStore() = default;
  virtual std::string describe() const = 0;

  /// Writes a chunk whose id the caller has computed; idempotent (chunks are content-addressed).
  virtual Result<void> put_chunk(const std::string& id, const void* data, size_t len) = 0;
  virtual bool has_chunk(const std::string& id) = 0;
  /// The error text starts with kNotFound when the chunk does not exist (a 404, not a 500).
  virtual Result<ChunkSource> open_chunk(const std::string& id) = 0;
  /// The chunk's length without its bytes (HEAD, and "is this unknown id in the store?"); the error starts
  /// with kNotFound when it does not exist, and anything else means the store could not say (never a 404).
  virtual Result<uint64_t> chunk_length(const std::string& id) {
    auto src = open_chunk(id);
    if (!src) return make_error(src.error());
    return src->length;
  }
  /// True when calls go over the network (MongoDB): the server then loads its first catalog off the loop and
  /// answers 503 until it is known, instead of loading it before listening.
  virtual bool remote() const { return false; }
  /// The most chunks one manifest may list in this store (GridFS: a BSON document is at most 16 MiB), so
  /// ingest can refuse a file before uploading any of it.
  virtual size_t max_manifest_chunks(size_t title_bytes) const {
    (void)title_bytes;
    return kMaxChunksPerVideo;
  }

  virtual Result<void> put_manifest(const Manifest& m) = 0;
  virtual Result<std::vector<Manifest>> load_manifests() = 0;
  /// A cheap token that changes whenever load_manifests() would answer differently, so a server skips
  /// rebuilding an unchanged catalog. "" (the default) means the store cannot tell: reload every time.
  virtual Result<std::string> catalog_version() { return std::string(); }
  /// The videos the store holds, each with a stamp, without reading any manifest: a server that holds a
  /// manifest with the same non-empty stamp keeps it and reads only the new or changed ones. nullopt (the
  /// default): the store cannot list cheaply, and every catalog change reads all manifests again.
  virtual Result<std::optional<std::vector<ManifestStamp>>> list_manifests() {
    return std::optional<std::vector<ManifestStamp>>();
  }
  /// The manifests of these videos; ids the store no longer holds (or whose manifest is broken) are left out.
  virtual Result<std::vector<Manifest>> load_manifests(const std::vector<std::string>& video_ids);
};

/// The embedded default: a folder holding chunks/\<2 hex\>/\<id\> and videos/\<video_id\>.json.
HN_API Result<std::unique_ptr<ChunkStore>> open_local_store(const std::string& dir);

/// MongoDB GridFS (docs/gridfs.md): mongodb://host:port/db. Connects lazily: opening never waits on the network.
HN_API Result<std::unique_ptr<ChunkStore>> open_gridfs_store(const std::string& uri);

/// A mongodb:// or mongodb+srv:// URI selects GridFS; anything else is a folder for the local store.
HN_API Result<std::unique_ptr<ChunkStore>> open_store(const std::string& spec);

}  ///< namespace hn
