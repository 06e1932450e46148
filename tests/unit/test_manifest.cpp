#include <doctest/doctest.h>

#include "hybridnode/manifest.h"

namespace {
hn::Manifest sample() {
  hn::Manifest m;
  m.video_id = "v1";
  m.title = "t";
  m.media_type = "video/mp4";
  m.chunk_size = 4096;
  m.chunks = {{std::string(64, 'a'), 4096}, {std::string(64, 'b'), 10}};
  m.total_size = 4106;
  return m;
}
}  // namespace

TEST_CASE("manifest JSON round-trips") {
  auto m = sample();
  auto back = hn::manifest_from_json(hn::manifest_to_json(m));
  REQUIRE(back);
  CHECK(back->video_id == "v1");
  CHECK(back->chunks.size() == 2);
  CHECK(back->chunks[1].size == 10);
  CHECK(back->offset_of(1) == 4096);
}

TEST_CASE("manifest parsing is strict") {
  CHECK_FALSE(hn::manifest_from_json("not json"));
  CHECK_FALSE(hn::manifest_from_json("[]"));
  CHECK_FALSE(hn::manifest_from_json("{}"));
  auto m = sample();
  m.total_size = 5000;  // does not add up
  CHECK_FALSE(hn::manifest_from_json(hn::manifest_to_json(m)));
  m = sample();
  m.chunks[0].size = 100;  // a middle chunk shorter than chunk_size
  m.total_size = 110;
  CHECK_FALSE(hn::manifest_from_json(hn::manifest_to_json(m)));
  m = sample();
  m.chunks[1].id = "../../etc/passwd";
  CHECK_FALSE(hn::manifest_from_json(hn::manifest_to_json(m)));
  m = sample();
  m.video_id = "..";
  CHECK_FALSE(hn::manifest_from_json(hn::manifest_to_json(m)));
  m = sample();
  m.chunk_size = 1;
  CHECK_FALSE(hn::manifest_from_json(hn::manifest_to_json(m)));
  auto neg = hn::manifest_from_json(
      R"({"video_id":"v","title":"t","media_type":"x","total_size":-1,"chunk_size":4096,"chunks":[]})");
  REQUIRE_FALSE(neg);
  CHECK(neg.error().find("total_size") != std::string::npos);
}
