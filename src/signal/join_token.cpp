#include "signal/join_token.h"

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include <fstream>

#include "signal/signal_message.h"

namespace hn::signal {

namespace {

std::string hmac_hex(const std::string& key, const std::string& msg) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(msg.data()),
       msg.size(), mac, &len);
  static const char* hex = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; i++) {
    out += hex[mac[i] >> 4];
    out += hex[mac[i] & 15];
  }
  return out;
}

bool same(std::string_view a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string join_input(const std::string& video, const std::string& content, int64_t expires, const std::string& viewer) {
  return "hn-join-v1\n" + video + "\n" + content + "\n" + std::to_string(expires) + "\n" + viewer;
}

}  // namespace

std::string mint_token(const std::string& secret, const std::string& video, const std::string& content, int64_t expires,
                       const std::string& viewer) {
  return "v1." + std::to_string(expires) + "." + viewer + "." + hmac_hex(secret, join_input(video, content, expires, viewer));
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

Result<TokenClaims> check_token(const std::string& secret, std::string_view token, const std::string& video,
                                const std::string& content, int64_t now) {
  auto c = parse_token(token);
  if (!c) return make_error("unauthorized");
  std::string want = hmac_hex(secret, join_input(video, content, c->expires, c->viewer));
  if (!same(token.substr(token.size() - 64), want)) return make_error("unauthorized");
  if (c->expires <= now) return make_error("token_expired");
  return *c;
}

std::string viewer_signature(const std::string& secret, const std::string& video, const std::string& viewer) {
  return hmac_hex(secret, "hn-viewer-v1\n" + video + "\n" + viewer);
}

bool viewer_signature_ok(const std::string& secret, const std::string& video, const std::string& viewer, std::string_view sig) {
  return is_peer_id(viewer) && same(sig, viewer_signature(secret, video, viewer));
}

Result<std::string> load_swarm_secret(const std::string& value, const std::string& file) {
  if (!value.empty() && !file.empty()) return make_error("give --swarm-secret or --swarm-secret-file, not both");
  std::string s = value;
  if (!file.empty()) {
    std::ifstream in(file);
    if (!in) return make_error("--swarm-secret-file: cannot read " + file);
    std::getline(in, s);
  }
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  if (!s.empty() && s.size() < 16) return make_error("the swarm secret must be at least 16 bytes");
  if ((!value.empty() || !file.empty()) && s.empty()) return make_error("the swarm secret is empty");
  return s;
}

}  // namespace hn::signal
