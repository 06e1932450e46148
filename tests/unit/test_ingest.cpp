#include <doctest/doctest.h>

#include <unistd.h>

#include <fstream>
#include <string>

#include "hybridnode/ingest.h"
#include "media/sha256.h"
#include "temp_dir.h"

namespace {
std::string write_pattern(const TempDir& d, const std::string& name, size_t n) {
  std::string data(n, '\0');
  for (size_t i = 0; i < n; ++i) data[i] = static_cast<char>((i * 131 + i / 4096) & 0xff);
  std::ofstream(d.file(name), std::ios::binary) << data;
  return data;
}
}  // namespace

TEST_CASE("ingest splits a file into sha256-addressed chunks and a consistent manifest") {
  TempDir d;
  auto data = write_pattern(d, "clip one.mp4", 3 * 8192 + 100);
  auto store = hn::open_local_store(d.file("store"));
  REQUIRE(store);
  hn::IngestOptions io;
  io.file = d.file("clip one.mp4");
  io.chunk_size = 8192;
  auto m = hn::ingest_file(**store, io);
  REQUIRE(m);
  CHECK(m->video_id == "clip-one");
  CHECK(m->media_type == "video/mp4");
  CHECK(m->total_size == data.size());
  REQUIRE(m->chunks.size() == 4);
  CHECK(m->chunks.back().size == 100);
  std::string joined;
  for (size_t i = 0; i < m->chunks.size(); ++i) {
    auto expect = data.substr(m->offset_of(i), m->chunks[i].size);
    CHECK(m->chunks[i].id == hn::sha256_hex(expect.data(), expect.size()));
    auto src = (*store)->open_chunk(m->chunks[i].id);
    REQUIRE(src);
    CHECK(src->length == m->chunks[i].size);
    // The bytes themselves, as the server would send them (a file region or in-memory bytes).
    std::string got = src->shared_bytes ? *src->shared_bytes : src->bytes;
    if (src->fd >= 0) {
      got.resize(src->length);
      REQUIRE(::pread(src->fd, got.data(), got.size(), static_cast<off_t>(src->offset)) == static_cast<ssize_t>(got.size()));
    }
    CHECK(got == expect);
    joined += got;
  }
  CHECK(joined == data);
  auto loaded = (*store)->load_manifests();
  REQUIRE(loaded);
  REQUIRE(loaded->size() == 1);
  CHECK(hn::manifest_to_json(loaded->front()) == hn::manifest_to_json(*m));
}

TEST_CASE("ingest refuses bad chunk sizes, ids and empty files") {
  TempDir d;
  write_pattern(d, "a.ts", 10000);
  write_pattern(d, "empty.ts", 0);
  auto store = hn::open_local_store(d.file("store"));
  REQUIRE(store);
  hn::IngestOptions io;
  io.file = d.file("a.ts");
  io.chunk_size = 100;
  CHECK_FALSE(hn::ingest_file(**store, io));
  io.chunk_size = 4096;
  io.video_id = "../etc";
  auto bad = hn::ingest_file(**store, io);
  REQUIRE_FALSE(bad);
  CHECK(bad.error().find("invalid video id") != std::string::npos);
  io.video_id = "";
  io.file = d.file("empty.ts");
  CHECK_FALSE(hn::ingest_file(**store, io));
  io.file = d.file("missing.ts");
  CHECK_FALSE(hn::ingest_file(**store, io));
}

namespace {
// A store that can hold only a few chunks per manifest and counts what was uploaded.
class TinyManifestStore final : public hn::ChunkStore {
 public:
  int puts = 0;
  std::string describe() const override { return "tiny"; }
  hn::Result<void> put_chunk(const std::string&, const void*, size_t) override { puts++; return {}; }
  bool has_chunk(const std::string&) override { return false; }
  hn::Result<hn::ChunkSource> open_chunk(const std::string&) override { return hn::make_error("no"); }
  hn::Result<void> put_manifest(const hn::Manifest&) override { return {}; }
  hn::Result<std::vector<hn::Manifest>> load_manifests() override { return std::vector<hn::Manifest>{}; }
  size_t max_manifest_chunks(size_t) const override { return 3; }
};
}  // namespace

TEST_CASE("a file whose manifest the store cannot hold is refused before any chunk is uploaded") {
  TempDir d;
  write_pattern(d, "big.ts", 4 * 4096 + 1);
  TinyManifestStore store;
  hn::IngestOptions io;
  io.file = d.file("big.ts");
  io.chunk_size = 4096;
  auto r = hn::ingest_file(store, io);
  REQUIRE_FALSE(r);
  CHECK(r.error().find("raise --chunk-size") != std::string::npos);
  CHECK(store.puts == 0);
  io.chunk_size = 8192;  // 3 chunks fit
  CHECK(hn::ingest_file(store, io));
  CHECK(store.puts == 3);
  // GridFS: a BSON document is at most 16 MiB, about 100 bytes per chunk entry.
  auto g = hn::open_store("mongodb://127.0.0.1:1/hn?serverSelectionTimeoutMS=300");
  REQUIRE(g);
  size_t most = (*g)->max_manifest_chunks(100);
  CHECK(most > 150000);
  CHECK(most < 170000);
}

TEST_CASE("open_chunk on an unknown id reports not found") {
  TempDir d;
  auto store = hn::open_local_store(d.path);
  REQUIRE(store);
  auto r = (*store)->open_chunk(std::string(64, 'e'));
  REQUIRE_FALSE(r);
  CHECK(r.error().rfind(hn::kNotFound, 0) == 0);
}

TEST_CASE("video ids from file names") {
  CHECK(hn::video_id_from_filename("/x/y/My Movie (1).mp4") == "My-Movie-1");
  CHECK(hn::video_id_from_filename("..mp4") == "");
  CHECK(hn::media_type_for("a.TS") == "video/mp2t");
  CHECK(hn::media_type_for("noext") == "application/octet-stream");
}
