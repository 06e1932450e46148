#include <doctest/doctest.h>

#include <atomic>
#include <fstream>

#include "media/chunk_file.h"
#include "media/sha256.h"
#include "temp_dir.h"

namespace {
hn::Manifest manifest_of(const std::vector<std::string>& chunks, uint64_t chunk_size) {
  hn::Manifest m;
  m.video_id = "v";
  m.title = "t";
  m.media_type = "video/mp4";
  m.chunk_size = chunk_size;
  for (auto& c : chunks) {
    m.chunks.push_back({hn::sha256_hex(c.data(), c.size()), c.size()});
    m.total_size += c.size();
  }
  return m;
}
}  // namespace

TEST_CASE("a part file resumes with the chunks written before, and only those") {
  TempDir d;
  std::vector<std::string> chunks;
  for (char c : std::string("abcdefgh")) chunks.push_back(std::string(65536, c));
  auto m = manifest_of(chunks, 65536);
  {
    hn::ChunkFile f(d.file("out"), m);
    auto have = f.open();
    REQUIRE(have);
    for (bool h : *have) CHECK_FALSE(h);
    REQUIRE(f.write(2, chunks[2]));
    REQUIRE(f.write(7, chunks[7]));
  }
  hn::ChunkFile again(d.file("out"), m);
  auto have = again.open();
  REQUIRE(have);
  for (size_t i = 0; i < chunks.size(); ++i) CHECK((*have)[i] == (i == 2 || i == 7));
}

TEST_CASE("a video larger than the free disk space is refused before the part file exists") {
  TempDir d;
  hn::Manifest m;
  m.video_id = "v";
  m.chunk_size = 64u << 20;
  for (int i = 0; i < 100000; ++i) m.chunks.push_back({std::string(64, 'a'), m.chunk_size});
  m.total_size = m.chunk_size * m.chunks.size();  // 6.1 TiB
  hn::ChunkFile f(d.file("out"), m);
  auto have = f.open();
  REQUIRE_FALSE(have);
  CHECK(have.error().find("not enough disk space") != std::string::npos);
  CHECK_FALSE(std::ifstream(d.file("out.part")).good());
}

TEST_CASE("re-verifying a part file stops when cancelled") {
  TempDir d;
  std::vector<std::string> chunks(4, std::string(65536, 'z'));
  auto m = manifest_of(chunks, 65536);
  std::atomic<bool> cancel{true};
  hn::ChunkFile f(d.file("out"), m);
  auto have = f.open(&cancel);
  REQUIRE_FALSE(have);
  CHECK(have.error().find("stopped") != std::string::npos);
}
