// The format of a join token and of a peer id, without the secret: what a client needs to read a token
// (its expiry, to plan a renewal) and what every parser checks. Signing and checking are the signaller's
// and content server's (signal/join_token.h); the format lives here so the P2P and peer layers need
// nothing from src/signal.
//   token = "v1." EXPIRES "." VIEWER "." 64 hex digits (docs/protocol.md "Join tokens")
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace hn {

inline constexpr size_t kMaxTokenBytes = 256;

struct TokenClaims {
  int64_t expires = 0;  // Unix seconds
  std::string viewer;
};

// The claims of a well-formed token (the signature is not checked); nullopt otherwise.
std::optional<TokenClaims> parse_token(std::string_view token);

// 1-64 of [A-Za-z0-9_-].
bool is_peer_id(std::string_view s);

}  // namespace hn
