// Nesting depth of JSON from the outside world, bounded before nlohmann-json sees it: its parser is
// iterative, but dump(), copies and comparisons recurse once per level, so 70 000 nested brackets in a
// relayed offer overflowed the stack. One cheap pre-scan for every JSON we accept (docs/security.md).
#pragma once
#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

namespace hn {

inline constexpr size_t kMaxJsonDepth = 64;  // our deepest document (manifest, config) nests 3 levels

// False when arrays/objects nest deeper than `max_depth` (brackets inside strings do not count).
// Malformed JSON may pass: the parser rejects it afterwards.
inline bool json_depth_within(std::string_view text, size_t max_depth = kMaxJsonDepth) {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > max_depth) return false;
    } else if ((c == ']' || c == '}') && depth > 0) {
      depth--;
    }
  }
  return true;
}

// nlohmann::json::parse without exceptions and with the depth bound: a discarded value on either failure.
inline nlohmann::json parse_json_bounded(std::string_view text, size_t max_depth = kMaxJsonDepth) {
  if (!json_depth_within(text, max_depth)) return nlohmann::json(nlohmann::json::value_t::discarded);
  return nlohmann::json::parse(text.begin(), text.end(), nullptr, false);
}

}  // namespace hn
