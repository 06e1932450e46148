#include <doctest/doctest.h>

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
  }
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
