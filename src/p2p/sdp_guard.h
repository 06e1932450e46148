// Checks on the remote ICE description and candidate lines before libnice parses them.
// They come from another peer through the signaller, so they are untrusted bytes.
#pragma once
#include <string>
#include <string_view>

#include "hybridnode/result.h"

namespace hn::p2p {

constexpr size_t kMaxRemoteDescription = 64 * 1024;
constexpr size_t kMaxRemoteCandidate = 1024;

// Size cap and no NUL. (libnice never parses a whole remote description: parse_jsep picks the credentials
// and candidates of our section and refuses repeated ones, which libnice 0.1.21's own parser leaked.)
Result<void> vet_remote_description(std::string_view sdp);

// Size cap and no line breaks; returns the line in libnice's "a=candidate:..." form.
Result<std::string> vet_remote_candidate(std::string_view line);

}  // namespace hn::p2p
