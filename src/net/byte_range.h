// Range requests (RFC 9110 14.2) on a representation of known size: one range is answered with 206,
// several ranges with the whole body (200: no multipart/byteranges), an unsatisfiable one with 416.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace hn::net {

struct ByteRange {
  enum class Kind { whole, partial, unsatisfiable };
  Kind kind = Kind::whole;
  uint64_t first = 0;  // partial: offset of the first byte
  uint64_t length = 0;  // partial: bytes in the range (>= 1)
};

// `range` is the Range header value (nullptr: none). A header this server does not use (not "bytes=",
// malformed, several ranges) gives Kind::whole, as RFC 9110 allows.
ByteRange parse_byte_range(const std::string* range, uint64_t size);

// If-Range (nullptr: none) against the representation's strong ETag: true when the Range header may be
// honoured. Dates never match (chunks carry no Last-Modified), weak tags never match.
bool if_range_allows(const std::string* if_range, std::string_view etag);

// "bytes FIRST-LAST/SIZE" or, for 416, "bytes */SIZE".
std::string content_range(const ByteRange& r, uint64_t size);

}  // namespace hn::net
