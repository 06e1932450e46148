// Type-checked reads of JSON that came from the network (content server, signaller, Redis).
// nlohmann's `j.value("k", "")` and `j["k"].get<T>()` throw type_error when a remote sends the wrong
// type ({"sdp":1}); an exception that reaches the libuv loop aborts the process. Every field read from
// a remote goes through these instead: a missing or mistyped field is an absent value, never a throw.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

namespace hn::jsonf {

// Parses without exceptions; nullopt unless the text is a JSON object.
inline std::optional<nlohmann::json> parse_object(std::string_view text) {
  auto j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  return j;
}

inline const nlohmann::json* field(const nlohmann::json& j, std::string_view key) {
  if (!j.is_object()) return nullptr;
  auto it = j.find(key);
  return it == j.end() ? nullptr : &*it;
}

// The string at `key`; nullopt when missing or not a string.
inline std::optional<std::string> str(const nlohmann::json& j, std::string_view key) {
  const auto* f = field(j, key);
  if (f == nullptr || !f->is_string()) return std::nullopt;
  return f->get<std::string>();
}

// The string at `key`, or `fallback` when missing or not a string.
inline std::string str_or(const nlohmann::json& j, std::string_view key, std::string fallback = "") {
  auto s = str(j, key);
  return s ? std::move(*s) : std::move(fallback);
}

// A non-negative integer at `key`; nullopt when missing, negative, fractional or not a number.
inline std::optional<uint64_t> uint(const nlohmann::json& j, std::string_view key) {
  const auto* f = field(j, key);
  if (f == nullptr || !f->is_number_unsigned()) return std::nullopt;
  return f->get<uint64_t>();
}

// The array / object at `key`, or nullptr when missing or of another type.
inline const nlohmann::json* array(const nlohmann::json& j, std::string_view key) {
  const auto* f = field(j, key);
  return f != nullptr && f->is_array() ? f : nullptr;
}
inline const nlohmann::json* object(const nlohmann::json& j, std::string_view key) {
  const auto* f = field(j, key);
  return f != nullptr && f->is_object() ? f : nullptr;
}

}  // namespace hn::jsonf
