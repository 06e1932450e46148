// Join tokens (docs/security.md, docs/protocol.md "Join tokens"): the content server signs who may join
// which swarm; the signaller checks. HMAC-SHA256 with a secret both share, compared in constant time.
//   token   = "v1." EXPIRES "." VIEWER "." hex(HMAC(secret, "hn-join-v1\n" VIDEO "\n" CONTENT "\n" EXPIRES "\n" VIEWER))
//   CONTENT = the manifest digest (64 hex) of an on-demand video, or the epoch (16 hex) of a live channel run
//   VIEWER  = "" or the viewer id of a signed manifest URL (1-64 of [A-Za-z0-9_-])
//   EXPIRES = Unix seconds in canonical decimal (no leading zeros: one MAC, one spelling)
//   viewer signature (manifest URL ?viewer=V&sig=S) = hex(HMAC(secret, "hn-viewer-v1\n" VIDEO "\n" V))
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "hybridnode/result.h"
#include "util/token_format.h"

namespace hn::signal {

// The format (no secret) is util/token_format.h's, shared with the clients.
using hn::kMaxTokenBytes;
using hn::parse_token;
using hn::TokenClaims;

std::string mint_token(const std::string& secret, const std::string& video, const std::string& content, int64_t expires,
                       const std::string& viewer = "");
// The claims of a token whose signature matches (video, content); the error code otherwise:
// "unauthorized" (malformed, forged, other video or content) or "token_expired" (signature right, past `now`).
Result<TokenClaims> check_token(const std::string& secret, std::string_view token, const std::string& video,
                                const std::string& content, int64_t now);

std::string viewer_signature(const std::string& secret, const std::string& video, const std::string& viewer);
bool viewer_signature_ok(const std::string& secret, const std::string& video, const std::string& viewer, std::string_view sig);

// --swarm-secret / --swarm-secret-file: the file's first line (trailing whitespace stripped); at least 16 bytes.
Result<std::string> load_swarm_secret(const std::string& value, const std::string& file);

}  // namespace hn::signal
