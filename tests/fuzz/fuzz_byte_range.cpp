// libFuzzer: Range / If-Range header values from a stranger, against chunks of assorted sizes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "net/byte_range.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string v(reinterpret_cast<const char*>(data), size);
  for (uint64_t n : {uint64_t{0}, uint64_t{1}, uint64_t{100}, uint64_t{1} << 20, ~uint64_t{0}}) {
    auto r = hn::net::parse_byte_range(&v, n);
    if (r.kind == hn::net::ByteRange::Kind::partial) {
      // A partial answer lies inside the representation and is never empty.
      if (r.length == 0 || r.first >= n || r.length > n - r.first) abort();
    }
    (void)hn::net::content_range(r, n);
  }
  (void)hn::net::if_range_allows(&v, "\"abc\"");
  return 0;
}
