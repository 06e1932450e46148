// GridFS store (--store=mongodb://...): chunks are GridFS files in bucket "fs" (fs.files / fs.chunks, per
// the GridFS spec) whose _id and filename are the chunk id; manifests are documents in "videos"
// ({_id: video_id, manifest: {...}}). Several content servers on one database share the catalog.
// Every call blocks on the network: the content server runs them on the libuv pool (ChunkStore contract);
// a client pool makes them safe from several pool threads at once.
#include <mongoc/mongoc.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <list>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>

#include "hybridnode/chunk_store.h"
#include "media/sha256.h"
#include "store/mongo_uri.h"

namespace hn {
namespace {

template <class T, void (*F)(T*)>
struct Deleter {
  void operator()(T* p) const { if (p) F(p); }
};
// bson_t carries alignment attributes that templates drop (a warning), so it gets its own small owner.
class Bson {
 public:
  explicit Bson(bson_t* b) : b_(b) {}
  ~Bson() { if (b_) bson_destroy(b_); }
  Bson(const Bson&) = delete;
  Bson& operator=(const Bson&) = delete;
  bson_t* get() const { return b_; }
  explicit operator bool() const { return b_ != nullptr; }

 private:
  bson_t* b_;
};
using Database = std::unique_ptr<mongoc_database_t, Deleter<mongoc_database_t, mongoc_database_destroy>>;
using Collection = std::unique_ptr<mongoc_collection_t, Deleter<mongoc_collection_t, mongoc_collection_destroy>>;
using Bucket = std::unique_ptr<mongoc_gridfs_bucket_t, Deleter<mongoc_gridfs_bucket_t, mongoc_gridfs_bucket_destroy>>;
using Stream = std::unique_ptr<mongoc_stream_t, Deleter<mongoc_stream_t, mongoc_stream_destroy>>;
using Cursor = std::unique_ptr<mongoc_cursor_t, Deleter<mongoc_cursor_t, mongoc_cursor_destroy>>;
using Uri = std::unique_ptr<mongoc_uri_t, Deleter<mongoc_uri_t, mongoc_uri_destroy>>;

constexpr int kDuplicateKey = 11000;
const char* kBucket = "fs";
// {_id: "videos", version: N}: bumped by every manifest write, read by every server's catalog refresh.
const char* kCatalog = "catalog";
const char* kCatalogVersionId = "videos";

Error mongo_error(const std::string& what, const bson_error_t& e) {
  return make_error("mongodb: " + what + ": " + e.message);
}

// A pooled client for the duration of one store call.
class Lease {
 public:
  explicit Lease(mongoc_client_pool_t* pool) : pool_(pool), client_(mongoc_client_pool_pop(pool)) {}
  ~Lease() { mongoc_client_pool_push(pool_, client_); }
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;
  mongoc_client_t* get() const { return client_; }

 private:
  mongoc_client_pool_t* pool_;
  mongoc_client_t* client_;
};

bson_value_t string_value(const std::string& s) {
  bson_value_t v;
  v.value_type = BSON_TYPE_UTF8;
  v.value.v_utf8.str = const_cast<char*>(s.c_str());
  v.value.v_utf8.len = static_cast<uint32_t>(s.size());
  return v;
}

// A bounded memory cache of recently read chunks: GridFS has no file descriptor to keep open, and a hot chunk
// would otherwise be pulled from MongoDB on every request. Chunks are content-addressed, so never stale.
class HotChunks {
 public:
  explicit HotChunks(size_t max_bytes) : max_bytes_(max_bytes) {}
  std::shared_ptr<const std::string> get(const std::string& id) {
    std::lock_guard<std::mutex> g(mu_);
    auto it = map_.find(id);
    if (it == map_.end()) return nullptr;
    lru_.splice(lru_.begin(), lru_, it->second.second);
    return it->second.first;
  }
  void put(const std::string& id, std::shared_ptr<const std::string> bytes) {
    if (bytes->size() > max_bytes_ / 4) return;  // one huge chunk must not evict everything else
    std::lock_guard<std::mutex> g(mu_);
    if (map_.count(id)) return;
    lru_.push_front(id);
    bytes_ += bytes->size();
    map_.emplace(id, std::make_pair(std::move(bytes), lru_.begin()));
    while (bytes_ > max_bytes_ && !lru_.empty()) {
      auto old = map_.find(lru_.back());
      bytes_ -= old->second.first->size();
      map_.erase(old);
      lru_.pop_back();
    }
  }

 private:
  size_t max_bytes_, bytes_ = 0;
  std::mutex mu_;
  std::list<std::string> lru_;
  std::unordered_map<std::string, std::pair<std::shared_ptr<const std::string>, std::list<std::string>::iterator>> map_;
};

constexpr size_t kHotChunkBytes = 64u << 20;
// A BSON document is at most 16 MiB. One manifest entry {id: 64 hex, size: int64} inside the chunks array
// takes at most ~100 bytes (type, decimal index key, id and size fields); keep a margin for the rest.
constexpr size_t kMaxBsonDocument = 16u << 20;
constexpr size_t kManifestEntryBytes = 100;
constexpr size_t kManifestFixedBytes = 4096;

class GridFsStore final : public ChunkStore {
 public:
  GridFsStore(store::MongoTarget t, Uri uri) : target_(std::move(t)), uri_(std::move(uri)), hot_(kHotChunkBytes) {}
  ~GridFsStore() override {
    buckets_.clear();  // each bucket refers to its pooled client: release them before the pool
    if (pool_) mongoc_client_pool_destroy(pool_);
  }
  bool remote() const override { return true; }

  std::string describe() const override { return target_.describe; }

  size_t max_manifest_chunks(size_t title_bytes) const override {
    size_t room = kMaxBsonDocument - kManifestFixedBytes - std::min(title_bytes, kMaxBsonDocument / 2);
    return std::min(kMaxChunksPerVideo, room / kManifestEntryBytes);
  }

  // Never reports a chunk as written unless fs.files holds it with the right length and fs.chunks holds all
  // of its GridFS chunks: a duplicate key is only success once that is checked, a failed upload is aborted
  // (its partial fs.chunks removed), and chunks orphaned by a killed ingest are removed and written again.
  Result<void> put_chunk(const std::string& id, const void* data, size_t len) override {
    auto p = pool();
    if (!p) return make_error(p.error());
    Lease c(*p);
    if (auto ix = ensure_indexes(c); !ix) return ix;
    for (int attempt = 0; attempt < 3; attempt++) {
      auto have = stored_state(c, id, len);
      if (!have) return make_error(have.error());
      if (*have == State::complete) return {};
      if (*have == State::broken || (*have == State::orphans && attempt > 0)) {
        // A file with missing/extra chunks or the wrong length, or chunks without a file (an upload killed
        // mid-way, or one still running elsewhere, which then fails its own check and retries): start over.
        if (auto d = remove_file(c, id); !d) return d;
      } else if (*have == State::orphans) {
        // Give a concurrent upload of the same chunk by another server a moment to finish.
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
        continue;
      }
      auto up = upload(c, id, data, len);
      if (!up && !up.error().empty()) return up;
      // Written, or a duplicate key (another writer): either way the next round checks what is stored.
    }
    auto have = stored_state(c, id, len);
    if (!have) return make_error(have.error());
    if (*have == State::complete) return {};
    return make_error("mongodb: chunk " + id + " could not be stored completely (fs.files/fs.chunks disagree)");
  }

  bool has_chunk(const std::string& id) override {
    auto n = chunk_length(id);
    return static_cast<bool>(n);
  }

  // From fs.files only: HEAD and unknown-id lookups never pull chunk bytes from MongoDB.
  Result<uint64_t> chunk_length(const std::string& id) override {
    if (auto hit = hot_.get(id)) return static_cast<uint64_t>(hit->size());
    auto p = pool();
    if (!p) return make_error(p.error());
    Lease c(*p);
    auto f = file_doc(c, id);
    if (!f) return make_error(f.error());
    if (!f->exists) return make_error(std::string(kNotFound) + "chunk " + id);
    return f->length;
  }

  Result<ChunkSource> open_chunk(const std::string& id) override {
    ChunkSource src;
    if (auto hit = hot_.get(id)) {  // shared with the cache and every response: no copy
      src.length = hit->size();
      src.shared_bytes = std::move(hit);
      return src;
    }
    auto p = pool();
    if (!p) return make_error(p.error());
    Lease c(*p);
    bson_error_t err;
    mongoc_gridfs_bucket_t* bucket = bucket_for(c, err);
    if (!bucket) return mongo_error("open bucket", err);
    bson_value_t fid = string_value(id);
    Stream down(mongoc_gridfs_bucket_open_download_stream(bucket, &fid, &err));
    if (!down) {
      if (err.domain == MONGOC_ERROR_GRIDFS && err.code == MONGOC_ERROR_GRIDFS_BUCKET_FILE_NOT_FOUND)
        return make_error(std::string(kNotFound) + "chunk " + id);
      return mongo_error("download " + id, err);
    }
    char buf[64 * 1024];
    for (;;) {
      ssize_t r = mongoc_stream_read(down.get(), buf, sizeof buf, 1, 0);
      if (r < 0) {
        mongoc_gridfs_bucket_stream_error(down.get(), &err);
        return mongo_error("read " + id, err);
      }
      if (r == 0) break;
      src.bytes.append(buf, static_cast<size_t>(r));
      if (src.bytes.size() > kMaxChunkSize) return make_error("mongodb: chunk " + id + " is larger than any chunk may be");
    }
    src.length = src.bytes.size();
    src.shared_bytes = std::make_shared<const std::string>(std::move(src.bytes));
    src.bytes.clear();
    hot_.put(id, src.shared_bytes);
    return src;
  }

  // The manifest document carries its digest (the stamp a server compares to skip re-reading it), and
  // the catalog version document is bumped after it, so every server's next refresh sees the change.
  Result<void> put_manifest(const Manifest& m) override {
    auto p = pool();
    if (!p) return make_error(p.error());
    Lease c(*p);
    bson_error_t err;
    std::string text = manifest_to_json(m);
    std::string digest = sha256_hex(text.data(), text.size());
    Bson manifest(bson_new_from_json(reinterpret_cast<const uint8_t*>(text.c_str()), -1, &err));
    if (!manifest) return mongo_error("manifest to BSON", err);
    Bson doc(BCON_NEW("_id", BCON_UTF8(m.video_id.c_str()), "manifest", BCON_DOCUMENT(manifest.get()), "digest",
                      BCON_UTF8(digest.c_str())));
    if (doc.get()->len > kMaxBsonDocument)
      return make_error("mongodb: manifest of " + m.video_id + " is larger than a MongoDB document may be (16 MiB)");
    Bson q(BCON_NEW("_id", BCON_UTF8(m.video_id.c_str())));
    Bson opts(BCON_NEW("upsert", BCON_BOOL(true)));
    auto videos = collection(c, "videos");
    if (!mongoc_collection_replace_one(videos.get(), q.get(), doc.get(), opts.get(), nullptr, &err))
      return mongo_error("save manifest " + m.video_id, err);
    return bump_catalog_version(c);
  }

  Result<std::vector<Manifest>> load_manifests() override {
    Bson all(bson_new());
    return find_manifests(all.get());
  }

  Result<std::vector<Manifest>> load_manifests(const std::vector<std::string>& ids) override {
    std::vector<Manifest> out;
    // In batches, so the $in list stays far below a BSON document's 16 MiB.
    constexpr size_t kBatch = 1000;
    for (size_t i = 0; i < ids.size(); i += kBatch) {
      Bson q(bson_new());
      bson_t in_doc, list;
      bson_append_document_begin(q.get(), "_id", -1, &in_doc);
      bson_append_array_begin(&in_doc, "$in", -1, &list);
      for (size_t k = i; k < std::min(ids.size(), i + kBatch); k++) {
        std::string key = std::to_string(k - i);
        bson_append_utf8(&list, key.c_str(), -1, ids[k].c_str(), static_cast<int>(ids[k].size()));
      }
      bson_append_array_end(&in_doc, &list);
      bson_append_document_end(q.get(), &in_doc);
      auto part = find_manifests(q.get());
      if (!part) return part;
      for (auto& m : *part) out.push_back(std::move(m));
    }
    return out;
  }

  // The version document (bumped by every put_manifest) and the number of video documents (so a video
  // written or deleted by another tool, which bumps nothing, is still noticed when the count moves): two
  // small reads instead of a scan of every manifest.
  Result<std::string> catalog_version() override {
    auto p = pool();
    if (!p) return make_error(p.error());
    Lease c(*p);
    auto cat = collection(c, kCatalog);
    Bson q(BCON_NEW("_id", BCON_UTF8(kCatalogVersionId)));
    Bson opts(BCON_NEW("limit", BCON_INT64(1)));
    Cursor cur(mongoc_collection_find_with_opts(cat.get(), q.get(), opts.get(), nullptr));
    int64_t version = 0;
    const bson_t* doc;
    if (mongoc_cursor_next(cur.get(), &doc)) {
      bson_iter_t it;
      if (bson_iter_init_find(&it, doc, "version") && BSON_ITER_HOLDS_NUMBER(&it)) version = bson_iter_as_int64(&it);
    }
    bson_error_t err;
    if (mongoc_cursor_error(cur.get(), &err)) return mongo_error("read the catalog version", err);
    auto videos = collection(c, "videos");
    int64_t count = mongoc_collection_estimated_document_count(videos.get(), nullptr, nullptr, nullptr, &err);
    if (count < 0) return mongo_error("count videos", err);
    return "v" + std::to_string(version) + "/n" + std::to_string(count);
  }

  // _id and digest of every video document (not the manifests): a document without a digest (written by
  // another tool) has an empty stamp and is read again whenever the catalog changes.
  Result<std::optional<std::vector<ManifestStamp>>> list_manifests() override {
    auto p = pool();
    if (!p) return make_error(p.error());
    Lease c(*p);
    auto videos = collection(c, "videos");
    Bson all(bson_new());
    Bson opts(BCON_NEW("projection", "{", "_id", BCON_INT32(1), "digest", BCON_INT32(1), "}"));
    Cursor cur(mongoc_collection_find_with_opts(videos.get(), all.get(), opts.get(), nullptr));
    std::vector<ManifestStamp> out;
    const bson_t* doc;
    while (mongoc_cursor_next(cur.get(), &doc)) {
      bson_iter_t it;
      if (!bson_iter_init_find(&it, doc, "_id") || !BSON_ITER_HOLDS_UTF8(&it)) continue;
      ManifestStamp e;
      e.video_id = bson_iter_utf8(&it, nullptr);
      if (bson_iter_init_find(&it, doc, "digest") && BSON_ITER_HOLDS_UTF8(&it)) e.stamp = bson_iter_utf8(&it, nullptr);
      out.push_back(std::move(e));
    }
    bson_error_t err;
    if (mongoc_cursor_error(cur.get(), &err)) return mongo_error("list videos", err);
    return std::optional<std::vector<ManifestStamp>>(std::move(out));
  }

 private:
  Collection collection(const Lease& c, const std::string& name) const {
    return Collection(mongoc_client_get_collection(c.get(), target_.database.c_str(), name.c_str()));
  }

  Result<std::vector<Manifest>> find_manifests(const bson_t* filter) {
    auto p = pool();
    if (!p) return make_error(p.error());
    Lease c(*p);
    auto videos = collection(c, "videos");
    Cursor cur(mongoc_collection_find_with_opts(videos.get(), filter, nullptr, nullptr));
    std::vector<Manifest> out;
    const bson_t* doc;
    while (mongoc_cursor_next(cur.get(), &doc)) {
      bson_iter_t it;
      if (!bson_iter_init_find(&it, doc, "manifest") || !BSON_ITER_HOLDS_DOCUMENT(&it)) continue;
      uint32_t len;
      const uint8_t* data;
      bson_iter_document(&it, &len, &data);
      bson_t sub;
      if (!bson_init_static(&sub, data, len)) continue;
      char* json = bson_as_relaxed_extended_json(&sub, nullptr);
      auto m = manifest_from_json(json ? json : "");
      bson_free(json);
      if (m) out.push_back(std::move(*m));  // a bad document is skipped, as a bad file is in the local store
    }
    bson_error_t err;
    if (mongoc_cursor_error(cur.get(), &err)) return mongo_error("load manifests", err);
    return out;
  }

  Result<void> bump_catalog_version(const Lease& c) {
    auto cat = collection(c, kCatalog);
    Bson q(BCON_NEW("_id", BCON_UTF8(kCatalogVersionId)));
    Bson inc(BCON_NEW("$inc", "{", "version", BCON_INT64(1), "}"));
    Bson opts(BCON_NEW("upsert", BCON_BOOL(true)));
    bson_error_t err;
    if (!mongoc_collection_update_one(cat.get(), q.get(), inc.get(), opts.get(), nullptr, &err))
      return mongo_error("bump the catalog version (the manifest is saved; servers may not list it until the next change)", err);
    return {};
  }
  // One bucket per pooled client, kept for the store's life (the pool reuses a bounded set of clients):
  // opening a bucket per call made the driver check the GridFS indexes again on every upload.
  mongoc_gridfs_bucket_t* bucket_for(const Lease& c, bson_error_t& err) {
    std::lock_guard<std::mutex> g(buckets_mu_);
    auto& b = buckets_[c.get()];
    if (!b) {
      Database db(mongoc_client_get_database(c.get(), target_.database.c_str()));
      Bson opts(BCON_NEW("bucketName", BCON_UTF8(kBucket)));
      b.reset(mongoc_gridfs_bucket_new(db.get(), opts.get(), nullptr, &err));
    }
    return b.get();
  }
  static bool duplicate(const bson_error_t& e) { return e.code == kDuplicateKey; }

  // The GridFS spec's indexes, created once per store (idempotent on the server: createIndexes with an
  // existing identical index is a no-op). Retried on the next write if MongoDB was down.
  Result<void> ensure_indexes(const Lease& c) {
    if (indexed_.load()) return {};
    Database db(mongoc_client_get_database(c.get(), target_.database.c_str()));
    const std::string files = std::string(kBucket) + ".files", chunks = std::string(kBucket) + ".chunks";
    Bson on_chunks(BCON_NEW("createIndexes", BCON_UTF8(chunks.c_str()), "indexes", "[", "{", "key", "{",
                            "files_id", BCON_INT32(1), "n", BCON_INT32(1), "}", "name", BCON_UTF8("files_id_1_n_1"),
                            "unique", BCON_BOOL(true), "}", "]"));
    Bson on_files(BCON_NEW("createIndexes", BCON_UTF8(files.c_str()), "indexes", "[", "{", "key", "{",
                           "filename", BCON_INT32(1), "uploadDate", BCON_INT32(1), "}", "name",
                           BCON_UTF8("filename_1_uploadDate_1"), "}", "]"));
    bson_error_t err;
    for (const Bson* cmd : {&on_chunks, &on_files}) {
      if (!mongoc_database_write_command_with_opts(db.get(), cmd->get(), nullptr, nullptr, &err))
        return mongo_error("create GridFS indexes", err);
    }
    indexed_.store(true);
    return {};
  }

  struct FileDoc {
    bool exists = false;
    uint64_t length = 0;
    int64_t chunk_size = 0;
  };
  Result<FileDoc> file_doc(const Lease& c, const std::string& id) const {
    auto files = collection(c, std::string(kBucket) + ".files");
    Bson q(BCON_NEW("_id", BCON_UTF8(id.c_str())));
    Bson opts(BCON_NEW("limit", BCON_INT64(1), "projection", "{", "length", BCON_INT32(1), "chunkSize", BCON_INT32(1), "}"));
    Cursor cur(mongoc_collection_find_with_opts(files.get(), q.get(), opts.get(), nullptr));
    FileDoc f;
    const bson_t* doc;
    if (mongoc_cursor_next(cur.get(), &doc)) {
      f.exists = true;
      bson_iter_t it;
      if (bson_iter_init_find(&it, doc, "length") && BSON_ITER_HOLDS_NUMBER(&it))
        f.length = static_cast<uint64_t>(bson_iter_as_int64(&it));
      if (bson_iter_init_find(&it, doc, "chunkSize") && BSON_ITER_HOLDS_NUMBER(&it))
        f.chunk_size = bson_iter_as_int64(&it);
    }
    bson_error_t err;
    if (mongoc_cursor_error(cur.get(), &err)) return mongo_error("find " + id, err);
    return f;
  }
  Result<int64_t> count_chunks(const Lease& c, const std::string& id) const {
    auto chunks = collection(c, std::string(kBucket) + ".chunks");
    Bson q(BCON_NEW("files_id", BCON_UTF8(id.c_str())));
    bson_error_t err;
    int64_t n = mongoc_collection_count_documents(chunks.get(), q.get(), nullptr, nullptr, nullptr, &err);
    if (n < 0) return mongo_error("count chunks of " + id, err);
    return n;
  }

  enum class State { absent, complete, broken, orphans };
  // What the store holds for a chunk of `len` bytes: nothing, a complete file, a file that is wrong (length
  // or GridFS chunk count), or GridFS chunks without their fs.files document.
  Result<State> stored_state(const Lease& c, const std::string& id, size_t len) const {
    auto f = file_doc(c, id);
    if (!f) return make_error(f.error());
    auto n = count_chunks(c, id);
    if (!n) return make_error(n.error());
    if (!f->exists) return *n > 0 ? State::orphans : State::absent;
    if (f->length != len || f->chunk_size <= 0) return State::broken;
    int64_t want = static_cast<int64_t>((len + static_cast<uint64_t>(f->chunk_size) - 1) / static_cast<uint64_t>(f->chunk_size));
    return *n == want ? State::complete : State::broken;
  }

  Result<void> remove_file(const Lease& c, const std::string& id) const {
    bson_error_t err;
    Bson q(BCON_NEW("_id", BCON_UTF8(id.c_str())));
    auto files = collection(c, std::string(kBucket) + ".files");
    if (!mongoc_collection_delete_one(files.get(), q.get(), nullptr, nullptr, &err))
      return mongo_error("remove broken file " + id, err);
    Bson qc(BCON_NEW("files_id", BCON_UTF8(id.c_str())));
    auto chunks = collection(c, std::string(kBucket) + ".chunks");
    if (!mongoc_collection_delete_many(chunks.get(), qc.get(), nullptr, nullptr, &err))
      return mongo_error("remove orphaned chunks of " + id, err);
    return {};
  }

  // Writes the file; an error with an empty message means "duplicate key": someone else wrote it (or left
  // orphans), which the caller settles by checking what is stored.
  Result<void> upload(const Lease& c, const std::string& id, const void* data, size_t len) {
    bson_error_t err;
    mongoc_gridfs_bucket_t* bucket = bucket_for(c, err);
    if (!bucket) return mongo_error("open bucket", err);
    bson_value_t fid = string_value(id);
    Stream up(mongoc_gridfs_bucket_open_upload_stream_with_id(bucket, &fid, id.c_str(), nullptr, &err));
    if (!up) return duplicate(err) ? make_error("") : mongo_error("upload " + id, err);
    ssize_t w = mongoc_stream_write(up.get(), const_cast<void*>(data), len, 0);
    if (w != static_cast<ssize_t>(len)) {
      mongoc_gridfs_bucket_stream_error(up.get(), &err);
      bool dup = duplicate(err);
      std::string why = err.message;
      // Removes what this upload wrote, so no fs.chunks document is left without its fs.files document.
      mongoc_gridfs_bucket_abort_upload(up.get());
      return dup ? make_error("") : make_error("mongodb: upload " + id + ": " + why);
    }
    if (mongoc_stream_close(up.get()) != 0) {
      mongoc_gridfs_bucket_stream_error(up.get(), &err);
      bool dup = duplicate(err);
      std::string why = err.message;
      mongoc_gridfs_bucket_abort_upload(up.get());
      return dup ? make_error("") : make_error("mongodb: upload " + id + ": " + why);
    }
    return {};
  }

  // Created on first use, on a pool thread: for mongodb+srv:// the driver resolves the SRV record right
  // there (synchronous DNS), which must neither block the loop nor fail start-up; retried on every call.
  Result<mongoc_client_pool_t*> pool() {
    std::lock_guard<std::mutex> g(pool_mu_);
    if (pool_) return pool_;
    pool_ = mongoc_client_pool_new(uri_.get());
    if (pool_ == nullptr) return make_error("mongodb: cannot create a client pool for " + target_.describe + " (DNS?)");
    mongoc_client_pool_set_error_api(pool_, MONGOC_ERROR_API_VERSION_2);
    mongoc_client_pool_set_appname(pool_, "hybridnode");
    return pool_;
  }

  store::MongoTarget target_;
  Uri uri_;
  std::mutex pool_mu_;
  mongoc_client_pool_t* pool_ = nullptr;
  HotChunks hot_;
  std::atomic<bool> indexed_{false};
  std::mutex buckets_mu_;
  std::unordered_map<mongoc_client_t*, Bucket> buckets_;
};

}  // namespace

Result<std::unique_ptr<ChunkStore>> open_gridfs_store(const std::string& uri_text) {
  auto t = store::parse_mongo_uri(uri_text);
  if (!t) return make_error(t.error());
  bson_error_t err;
  Uri uri(mongoc_uri_new_with_error(t->uri.c_str(), &err));
  if (!uri) return make_error(std::string("--store: ") + err.message);
  mongoc_uri_set_option_as_int32(uri.get(), MONGOC_URI_SERVERSELECTIONTIMEOUTMS, t->server_selection_timeout_ms);
  mongoc_uri_set_option_as_int32(uri.get(), MONGOC_URI_CONNECTTIMEOUTMS, t->connect_timeout_ms);
  // No network yet (not even the SRV lookup of mongodb+srv://): the first call connects, so a server can
  // start while MongoDB or its DNS is down.
  return std::unique_ptr<ChunkStore>(new GridFsStore(std::move(*t), std::move(uri)));
}

Result<std::unique_ptr<ChunkStore>> open_store(const std::string& spec) {
  return store::is_mongo_uri(spec) ? open_gridfs_store(spec) : open_local_store(spec);
}

}  // namespace hn
