#include "net/ws_handshake.h"

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#include <algorithm>

namespace hn::net {
namespace {

std::string base64(const unsigned char* data, size_t len) {
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, static_cast<int>(len));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

bool has_token(const std::string* header, const std::string& token) {
  if (header == nullptr) return false;
  std::string h = lower(*header);
  size_t pos = 0;
  while (pos <= h.size()) {
    size_t comma = h.find(',', pos);
    std::string part = h.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    part.erase(0, part.find_first_not_of(" \t"));
    part.erase(part.find_last_not_of(" \t") + 1);
    if (part == token) return true;
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return false;
}

}  // namespace

std::string ws_accept_for(const std::string& key) {
  std::string in = key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
  unsigned char md[SHA_DIGEST_LENGTH];
  SHA1(reinterpret_cast<const unsigned char*>(in.data()), in.size(), md);
  return base64(md, sizeof md);
}

bool ws_upgrade_requested(const HttpRequest& req) { return has_token(req.header("upgrade"), "websocket"); }

Result<std::string> ws_server_handshake(const HttpRequest& req) {
  if (req.method != "GET") return make_error("WebSocket handshake must use GET");
  if (!has_token(req.header("upgrade"), "websocket")) return make_error("missing 'Upgrade: websocket'");
  if (!has_token(req.header("connection"), "upgrade")) return make_error("missing 'Connection: Upgrade'");
  const std::string* version = req.header("sec-websocket-version");
  if (version == nullptr || *version != "13") return make_error("Sec-WebSocket-Version must be 13");
  const std::string* key = req.header("sec-websocket-key");
  // The key is 16 random bytes in base64: 24 characters ending in "==".
  if (key == nullptr || key->size() != 24 || key->substr(22) != "==") return make_error("invalid Sec-WebSocket-Key");
  return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " +
         ws_accept_for(*key) + "\r\n\r\n";
}

std::string ws_client_key() {
  unsigned char raw[16];
  RAND_bytes(raw, sizeof raw);
  return base64(raw, sizeof raw);
}

}  // namespace hn::net
