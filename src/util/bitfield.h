// Which chunks a peer holds: bit i set = chunk i held; BitTorrent order (chunk 0 = high bit of byte 0).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace hn {

class Bitfield {
 public:
  Bitfield() = default;
  explicit Bitfield(uint32_t count) : count_(count), bytes_((count + 7) / 8, 0) {}
  static size_t bytes_for(uint32_t count) { return (count + 7) / 8; }

  uint32_t size() const { return count_; }
  bool get(uint32_t i) const { return i < count_ && (bytes_[i / 8] >> (7 - i % 8)) & 1; }
  void set(uint32_t i) {
    if (i < count_) bytes_[i / 8] |= static_cast<uint8_t>(1u << (7 - i % 8));
  }
  void clear(uint32_t i) {
    if (i < count_) bytes_[i / 8] &= static_cast<uint8_t>(~(1u << (7 - i % 8)));
  }
  void add(const Bitfield& o) {  // union; `o` must have the same count
    for (size_t i = 0; i < bytes_.size() && i < o.bytes_.size(); ++i) bytes_[i] |= o.bytes_[i];
  }
  uint32_t count_set() const;
  const std::vector<uint8_t>& bytes() const { return bytes_; }

  // Builds from raw bytes; false when the length is wrong or bits past `count` are set.
  bool assign(uint32_t count, std::vector<uint8_t> raw);
  std::string to_base64() const;
  // False on malformed base64.
  static bool from_base64(const std::string& text, std::vector<uint8_t>& out);

 private:
  uint32_t count_ = 0;
  std::vector<uint8_t> bytes_;
};

}  // namespace hn
