#include "net/byte_range.h"

#include <optional>

namespace hn::net {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Digits only; nullopt on anything else or on overflow.
std::optional<uint64_t> number(std::string_view s) {
  if (s.empty() || s.size() > 19) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace

ByteRange parse_byte_range(const std::string* range, uint64_t size) {
  ByteRange whole;
  if (range == nullptr) return whole;
  std::string_view v = trim(*range);
  constexpr std::string_view kUnit = "bytes=";
  if (v.size() < kUnit.size()) return whole;
  for (size_t i = 0; i < kUnit.size(); ++i)
    if ((v[i] | 0x20) != kUnit[i] && v[i] != kUnit[i]) return whole;
  v = trim(v.substr(kUnit.size()));
  if (v.find(',') != std::string_view::npos) return whole;  // several ranges: the whole body, 200
  size_t dash = v.find('-');
  if (dash == std::string_view::npos) return whole;
  std::string_view a = trim(v.substr(0, dash)), b = trim(v.substr(dash + 1));
  ByteRange out;
  if (a.empty()) {  // suffix: the last N bytes
    auto n = number(b);
    if (!n) return whole;
    if (*n == 0 || size == 0) return ByteRange{ByteRange::Kind::unsatisfiable};
    out.kind = ByteRange::Kind::partial;
    out.length = *n < size ? *n : size;
    out.first = size - out.length;
    return out;
  }
  auto first = number(a);
  if (!first) return whole;
  std::optional<uint64_t> last;
  if (!b.empty()) {
    last = number(b);
    if (!last || *last < *first) return whole;  // invalid range-spec: ignore the header
  }
  if (*first >= size) return ByteRange{ByteRange::Kind::unsatisfiable};
  uint64_t end = last && *last < size - 1 ? *last : size - 1;
  out.kind = ByteRange::Kind::partial;
  out.first = *first;
  out.length = end - *first + 1;
  return out;
}

bool if_range_allows(const std::string* if_range, std::string_view etag) {
  if (if_range == nullptr) return true;
  return trim(*if_range) == etag;
}

std::string content_range(const ByteRange& r, uint64_t size) {
  if (r.kind == ByteRange::Kind::partial)
    return "bytes " + std::to_string(r.first) + "-" + std::to_string(r.first + r.length - 1) + "/" + std::to_string(size);
  return "bytes */" + std::to_string(size);
}

}  // namespace hn::net
