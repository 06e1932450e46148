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
