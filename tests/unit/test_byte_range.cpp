#include <doctest/doctest.h>

#include "net/byte_range.h"

using hn::net::ByteRange;
using hn::net::parse_byte_range;

namespace {
ByteRange pr(const char* v, uint64_t n) {
  std::string s(v);
  return parse_byte_range(&s, n);
}
}  // namespace

TEST_CASE("Range: one range, suffix, open-ended") {
  auto r = pr("bytes=0-99", 1000);
  CHECK(r.kind == ByteRange::Kind::partial);
  CHECK(r.first == 0);
  CHECK(r.length == 100);
  CHECK(hn::net::content_range(r, 1000) == "bytes 0-99/1000");
  r = pr("bytes=-100", 1000);
  CHECK((r.kind == ByteRange::Kind::partial && r.first == 900 && r.length == 100));
  r = pr("bytes=-5000", 1000);  // longer than the body: all of it
  CHECK((r.kind == ByteRange::Kind::partial && r.first == 0 && r.length == 1000));
  r = pr("bytes=990-", 1000);
  CHECK((r.kind == ByteRange::Kind::partial && r.first == 990 && r.length == 10));
  r = pr("bytes=990-5000", 1000);  // last clamps to the end
  CHECK((r.kind == ByteRange::Kind::partial && r.first == 990 && r.length == 10));
  r = pr("BYTES = 5-5", 1000);
  CHECK(r.kind == ByteRange::Kind::whole);  // no space allowed before '='
}

TEST_CASE("Range: unsatisfiable, ignored, several") {
  CHECK(pr("bytes=1000-", 1000).kind == ByteRange::Kind::unsatisfiable);
  CHECK(pr("bytes=-0", 1000).kind == ByteRange::Kind::unsatisfiable);
  CHECK(pr("bytes=0-", 0).kind == ByteRange::Kind::unsatisfiable);
  CHECK(hn::net::content_range(pr("bytes=1000-", 1000), 1000) == "bytes */1000");
  CHECK(pr("bytes=5-1", 1000).kind == ByteRange::Kind::whole);  // invalid spec: header ignored
  CHECK(pr("items=0-1", 1000).kind == ByteRange::Kind::whole);
  CHECK(pr("bytes=a-b", 1000).kind == ByteRange::Kind::whole);
  CHECK(pr("bytes=99999999999999999999-", 1000).kind == ByteRange::Kind::whole);
  CHECK(pr("bytes=0-1,5-9", 1000).kind == ByteRange::Kind::whole);
  CHECK(parse_byte_range(nullptr, 10).kind == ByteRange::Kind::whole);
}

TEST_CASE("If-Range compares the strong ETag") {
  std::string tag = "\"abc\"", weak = "W/\"abc\"", date = "Wed, 21 Oct 2015 07:28:00 GMT";
  CHECK(hn::net::if_range_allows(nullptr, "\"abc\""));
  CHECK(hn::net::if_range_allows(&tag, "\"abc\""));
  CHECK_FALSE(hn::net::if_range_allows(&weak, "\"abc\""));
  CHECK_FALSE(hn::net::if_range_allows(&date, "\"abc\""));
}
