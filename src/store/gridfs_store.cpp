// GridFS store (--store=mongodb://...): chunks are GridFS files in bucket "fs" (fs.files / fs.chunks, per
// the GridFS spec) whose _id and filename are the chunk id; manifests are documents in "videos"
// ({_id: video_id, manifest: {...}}). Several content servers on one database share the catalog.
// Every call blocks on the network: the content server runs them on the libuv pool (ChunkStore contract);
// a client pool makes them safe from several pool threads at once.
#include <mongoc/mongoc.h>

#include <memory>

#include "hybridnode/chunk_store.h"
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

class GridFsStore final : public ChunkStore {
 public:
  GridFsStore(store::MongoTarget t, mongoc_client_pool_t* pool) : target_(std::move(t)), pool_(pool) {}
  ~GridFsStore() override { mongoc_client_pool_destroy(pool_); }

  std::string describe() const override { return target_.describe; }

  Result<void> put_chunk(const std::string& id, const void* data, size_t len) override {
    Lease c(pool_);
    bson_error_t err;
    auto files = collection(c, std::string(kBucket) + ".files");
    Bson q(BCON_NEW("_id", BCON_UTF8(id.c_str())));
    int64_t n = mongoc_collection_count_documents(files.get(), q.get(), nullptr, nullptr, nullptr, &err);
    if (n < 0) return mongo_error("count " + id, err);
    if (n > 0) return {};  // content-addressed: already there
    auto bucket = open_bucket(c, err);
    if (!bucket) return mongo_error("open bucket", err);
    bson_value_t fid = string_value(id);
    Stream up(mongoc_gridfs_bucket_open_upload_stream_with_id(bucket.get(), &fid, id.c_str(), nullptr, &err));
    if (!up) return duplicate(err) ? Result<void>() : Result<void>(mongo_error("upload " + id, err));
    ssize_t w = mongoc_stream_write(up.get(), const_cast<void*>(data), len, 0);
    bool closed = mongoc_stream_close(up.get()) == 0;
    if (w != static_cast<ssize_t>(len) || !closed) {
      mongoc_gridfs_bucket_stream_error(up.get(), &err);
      // Another server wrote the same chunk at the same moment: same bytes, same id, fine.
      if (duplicate(err)) return {};
      return mongo_error("upload " + id, err);
    }
    return {};
  }

  bool has_chunk(const std::string& id) override {
    Lease c(pool_);
    auto files = collection(c, std::string(kBucket) + ".files");
    Bson q(BCON_NEW("_id", BCON_UTF8(id.c_str())));
    return mongoc_collection_count_documents(files.get(), q.get(), nullptr, nullptr, nullptr, nullptr) > 0;
  }

  Result<ChunkSource> open_chunk(const std::string& id) override {
    Lease c(pool_);
    bson_error_t err;
    auto bucket = open_bucket(c, err);
    if (!bucket) return mongo_error("open bucket", err);
    bson_value_t fid = string_value(id);
    Stream down(mongoc_gridfs_bucket_open_download_stream(bucket.get(), &fid, &err));
    if (!down) {
      if (err.domain == MONGOC_ERROR_GRIDFS && err.code == MONGOC_ERROR_GRIDFS_BUCKET_FILE_NOT_FOUND)
        return make_error(std::string(kNotFound) + "chunk " + id);
      return mongo_error("download " + id, err);
    }
    ChunkSource src;
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
    return src;
  }

  Result<void> put_manifest(const Manifest& m) override {
    Lease c(pool_);
    bson_error_t err;
    Bson manifest(bson_new_from_json(reinterpret_cast<const uint8_t*>(manifest_to_json(m).c_str()), -1, &err));
    if (!manifest) return mongo_error("manifest to BSON", err);
    Bson doc(BCON_NEW("_id", BCON_UTF8(m.video_id.c_str()), "manifest", BCON_DOCUMENT(manifest.get())));
    Bson q(BCON_NEW("_id", BCON_UTF8(m.video_id.c_str())));
    Bson opts(BCON_NEW("upsert", BCON_BOOL(true)));
    auto videos = collection(c, "videos");
    if (!mongoc_collection_replace_one(videos.get(), q.get(), doc.get(), opts.get(), nullptr, &err))
      return mongo_error("save manifest " + m.video_id, err);
    return {};
  }

  Result<std::vector<Manifest>> load_manifests() override {
    Lease c(pool_);
    auto videos = collection(c, "videos");
    Bson all(bson_new());
    Cursor cur(mongoc_collection_find_with_opts(videos.get(), all.get(), nullptr, nullptr));
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

 private:
  Collection collection(const Lease& c, const std::string& name) const {
    return Collection(mongoc_client_get_collection(c.get(), target_.database.c_str(), name.c_str()));
  }
  Bucket open_bucket(const Lease& c, bson_error_t& err) const {
    Database db(mongoc_client_get_database(c.get(), target_.database.c_str()));
    Bson opts(BCON_NEW("bucketName", BCON_UTF8(kBucket)));
    return Bucket(mongoc_gridfs_bucket_new(db.get(), opts.get(), nullptr, &err));
  }
  static bool duplicate(const bson_error_t& e) { return e.code == kDuplicateKey; }

  store::MongoTarget target_;
  mongoc_client_pool_t* pool_;
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
  mongoc_client_pool_t* pool = mongoc_client_pool_new(uri.get());
  if (pool == nullptr) return make_error("--store: cannot create a MongoDB client pool for " + t->describe);
  mongoc_client_pool_set_error_api(pool, MONGOC_ERROR_API_VERSION_2);
  mongoc_client_pool_set_appname(pool, "hybridnode");
  // No network yet: the first call connects, so a server can start while MongoDB is down.
  return std::unique_ptr<ChunkStore>(new GridFsStore(std::move(*t), pool));
}

Result<std::unique_ptr<ChunkStore>> open_store(const std::string& spec) {
  return store::is_mongo_uri(spec) ? open_gridfs_store(spec) : open_local_store(spec);
}

}  // namespace hn
