#include <doctest/doctest.h>

#include "content/vod_pages.h"
#include "content/web_root.h"
#include "hybridnode/manifest.h"
#include "net/origin_list.h"

namespace {
hn::Manifest hls_sample() {
  hn::Manifest m;
  m.video_id = "v";
  m.title = "t";
  m.media_type = "video/mp2t";
  m.media = "hls";
  m.chunk_size = 9000;
  m.chunks = {{std::string(64, 'a'), 9000, 2.0}, {std::string(64, 'b'), 5000, 2.5}, {std::string(64, 'c'), 7000, 0.8}};
  m.total_size = 21000;
  return m;
}
}  // namespace

TEST_CASE("HLS manifests: variable sizes, durations, offsets") {
  auto back = hn::manifest_from_json(hn::manifest_to_json(hls_sample()));
  REQUIRE(back);
  CHECK(back->is_hls());
  CHECK(back->offset_of(0) == 0);
  CHECK(back->offset_of(1) == 9000);
  CHECK(back->offset_of(2) == 14000);
  CHECK(back->chunks[1].duration == doctest::Approx(2.5));
  auto d = hls_sample();
  d.chunks[2].discontinuity = true;
  auto dback = hn::manifest_from_json(hn::manifest_to_json(d));
  REQUIRE(dback);
  CHECK(dback->chunks[2].discontinuity);
  CHECK_FALSE(dback->chunks[1].discontinuity);
  auto pl = hn::content::vod_playlist(d);
  CHECK(pl.find("#EXT-X-DISCONTINUITY\n#EXTINF:0.800,\n/chunks/" + std::string(64, 'c')) != std::string::npos);
}

TEST_CASE("HLS manifests are strict") {
  auto m = hls_sample();
  m.chunks[1].duration = 0;  // missing or zero
  CHECK_FALSE(hn::manifest_from_json(hn::manifest_to_json(m)));
  m = hls_sample();
  m.chunks[1].duration = 601;
  CHECK_FALSE(hn::manifest_from_json(hn::manifest_to_json(m)));
  m = hls_sample();
  m.chunks[1].size = 9001;  // over chunk_size
  m.total_size = 21001;
  CHECK_FALSE(hn::manifest_from_json(hn::manifest_to_json(m)));
  const std::string id = std::string(64, 'a');
  CHECK(hn::manifest_from_json(R"({"video_id":"v","title":"t","media_type":"x","total_size":5,"chunk_size":4096,"chunks":[{"id":")" +
                               id + R"(","size":5}]})"));
  CHECK_FALSE(hn::manifest_from_json(  // HLS fields in a byte manifest
      R"({"video_id":"v","title":"t","media_type":"x","total_size":5,"chunk_size":4096,"chunks":[{"id":")" + id +
      R"(","size":5,"duration":2}]})"));
  CHECK_FALSE(hn::manifest_from_json(
      R"({"video_id":"v","title":"t","media_type":"x","media":"hls","total_size":5,"chunk_size":4096,"chunks":[{"id":")" +
      id + R"(","size":5,"duration":2,"discontinuity":1}]})"));
  m = hls_sample();
  m.media = "dash";
  CHECK_FALSE(hn::manifest_from_json(hn::manifest_to_json(m)));
  CHECK_FALSE(hn::manifest_from_json(
      R"({"video_id":"v","title":"t","media_type":"x","media":1,"total_size":0,"chunk_size":4096,"chunks":[]})"));
  CHECK_FALSE(hn::manifest_from_json(
      R"({"video_id":"v","title":"t","media_type":"x","media":"hls","total_size":5,"chunk_size":4096,"chunks":[{"id":")" +
      std::string(64, 'a') + R"(","size":5,"duration":"2"}]})"));
}

TEST_CASE("VOD playlist") {
  auto pl = hn::content::vod_playlist(hls_sample());
  CHECK(pl.rfind("#EXTM3U\n", 0) == 0);
  CHECK(pl.find("#EXT-X-PLAYLIST-TYPE:VOD\n") != std::string::npos);
  CHECK(pl.find("#EXT-X-TARGETDURATION:3\n") != std::string::npos);  // 2.5 rounded up
  CHECK(pl.find("#EXTINF:2.500,\n/chunks/" + std::string(64, 'b') + ".ts\n") != std::string::npos);
  CHECK(pl.size() > 15);
  CHECK(pl.substr(pl.size() - 15) == "#EXT-X-ENDLIST\n");
}

TEST_CASE("web root paths") {
  using hn::content::parse_web_path;
  auto ok = parse_web_path("/js/app%20x.js");
  CHECK(ok.status == 0);
  CHECK(ok.parts == std::vector<std::string>{"js", "app x.js"});
  CHECK(parse_web_path("/").trailing_slash);
  CHECK(parse_web_path("/").parts.empty());
  CHECK(parse_web_path("/sub/").trailing_slash);
  CHECK(parse_web_path("/a//b").parts.size() == 2);
  for (const char* bad : {"/../x", "/a/..", "/%2e%2e/x", "/%2E%2e/x", "/a%2f..%2fb", "/a%5cb", "/a\\b", "/a%00", "/%zz",
                          "/%2", "x", "", "/./a"})
    CHECK_MESSAGE(parse_web_path(bad).status == 400, bad);
  CHECK(parse_web_path("/.git/config").status == 404);
  CHECK(parse_web_path("/a/.env").status == 404);
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += "/d";
  CHECK(parse_web_path(deep).status == 400);
  CHECK(std::string(hn::content::mime_type_for("hls.min.js")) == "text/javascript; charset=utf-8");
  CHECK(std::string(hn::content::mime_type_for("x.m3u8")) == "application/vnd.apple.mpegurl");
  CHECK(std::string(hn::content::mime_type_for("noext")) == "application/octet-stream");
}

TEST_CASE("origin lists") {
  hn::net::OriginList any("*"), none(""), list("http://a.example, https://b.example/");
  std::string a = "http://a.example", b = "https://b.example", c = "http://c.example";
  CHECK(any.allows(&c));
  CHECK(none.off());
  CHECK_FALSE(none.allows(&a));
  CHECK(none.allows(nullptr));  // no Origin: not a browser
  CHECK(list.allows(&a));
  CHECK(list.allows(&b));
  CHECK_FALSE(list.allows(&c));
}
