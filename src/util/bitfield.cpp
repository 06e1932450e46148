#include "util/bitfield.h"

#include <openssl/evp.h>

namespace hn {

uint32_t Bitfield::count_set() const {
  uint32_t n = 0;
  for (uint8_t b : bytes_) n += static_cast<uint32_t>(__builtin_popcount(b));
  return n;
}

bool Bitfield::assign(uint32_t count, std::vector<uint8_t> raw) {
  if (raw.size() != bytes_for(count)) return false;
  if (count % 8 != 0 && !raw.empty()) {
    uint8_t spare_mask = static_cast<uint8_t>(0xff >> (count % 8));
    if (raw.back() & spare_mask) return false;
  }
  count_ = count;
  bytes_ = std::move(raw);
  return true;
}

std::string Bitfield::to_base64() const {
  std::string out(4 * ((bytes_.size() + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), bytes_.data(), static_cast<int>(bytes_.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

bool Bitfield::from_base64(const std::string& text, std::vector<uint8_t>& out) {
  out.clear();
  if (text.empty()) return true;
  if (text.size() % 4 != 0) return false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' || c == '/' ||
              (c == '=' && i >= text.size() - 2);
    if (!ok) return false;
  }
  out.resize(text.size() / 4 * 3);
  int n = EVP_DecodeBlock(out.data(), reinterpret_cast<const unsigned char*>(text.data()), static_cast<int>(text.size()));
  if (n < 0) return false;
  size_t pad = (text.back() == '=') + (text.size() > 1 && text[text.size() - 2] == '=');
  if (pad == 1 && text[text.size() - 2] == '=') return false;
  out.resize(static_cast<size_t>(n) - pad);
  return true;
}

}  // namespace hn
