#include "util/token_format.h"

namespace hn {

bool is_peer_id(std::string_view s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == '-')) return false;
  return true;
}

std::optional<TokenClaims> parse_token(std::string_view t) {
  if (t.size() > kMaxTokenBytes || t.substr(0, 3) != "v1.") return std::nullopt;
  t.remove_prefix(3);
  size_t dot1 = t.find('.');
  if (dot1 == std::string_view::npos || dot1 == 0 || dot1 > 12) return std::nullopt;
  // Canonical decimal only (what mint_token writes): "007" would verify with the MAC of "7", so one token
  // would have many spellings (distinct strings for anything keyed on the token text).
  if (t[0] == '0' && dot1 > 1) return std::nullopt;
  TokenClaims c;
  for (char ch : t.substr(0, dot1)) {
    if (ch < '0' || ch > '9') return std::nullopt;
    c.expires = c.expires * 10 + (ch - '0');
  }
  size_t dot2 = t.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return std::nullopt;
  c.viewer = std::string(t.substr(dot1 + 1, dot2 - dot1 - 1));
  if (!c.viewer.empty() && !is_peer_id(c.viewer)) return std::nullopt;
  std::string_view mac = t.substr(dot2 + 1);
  if (mac.size() != 64 || mac.find_first_not_of("0123456789abcdef") != std::string_view::npos) return std::nullopt;
  return c;
}

}  // namespace hn
