#include <doctest/doctest.h>

#include "hybridnode/ids.h"
#include "media/sha256.h"

TEST_CASE("chunk ids are 64 lowercase hex characters") {
  std::string good(64, 'a');
  CHECK(hn::is_chunk_id(good));
  CHECK(hn::is_chunk_id(hn::sha256_hex("abc", 3)));
  CHECK_FALSE(hn::is_chunk_id(std::string(63, 'a')));
  CHECK_FALSE(hn::is_chunk_id(std::string(65, 'a')));
  CHECK_FALSE(hn::is_chunk_id(std::string(64, 'A')));  // uppercase is a different string: refuse
  CHECK_FALSE(hn::is_chunk_id(std::string(62, 'a') + ".."));
  CHECK_FALSE(hn::is_chunk_id(std::string(63, 'a') + "/"));
  CHECK_FALSE(hn::is_chunk_id(""));
}

TEST_CASE("sha256 matches the FIPS 180-2 test vector") {
  CHECK(hn::sha256_hex("abc", 3) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  hn::Sha256 h;
  h.update("a", 1);
  h.update("bc", 2);
  CHECK(h.hex_digest() == hn::sha256_hex("abc", 3));
}

TEST_CASE("video ids cannot escape a folder") {
  CHECK(hn::is_video_id("demo"));
  CHECK(hn::is_video_id("My_Video-2.v1"));
  CHECK_FALSE(hn::is_video_id(""));
  CHECK_FALSE(hn::is_video_id(".."));
  CHECK_FALSE(hn::is_video_id(".hidden"));
  CHECK_FALSE(hn::is_video_id("a/b"));
  CHECK_FALSE(hn::is_video_id("a\\b"));
  CHECK_FALSE(hn::is_video_id("a b"));
  CHECK_FALSE(hn::is_video_id("%2e%2e"));
  CHECK_FALSE(hn::is_video_id(std::string(65, 'a')));
  CHECK(hn::is_video_id(std::string(64, 'a')));
}
