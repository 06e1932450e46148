#include "p2p/sdp_guard.h"

namespace hn::p2p {

Result<void> vet_remote_description(std::string_view sdp) {
  if (sdp.size() > kMaxRemoteDescription) return make_error("ice: remote description too large");
  if (sdp.find('\0') != std::string_view::npos) return make_error("ice: remote description contains NUL");
  return {};
}

Result<std::string> vet_remote_candidate(std::string_view line) {
  if (line.size() > kMaxRemoteCandidate) return make_error("ice: candidate too long");
  if (line.find_first_of(std::string_view("\r\n\0", 3)) != std::string_view::npos)
    return make_error("ice: candidate must be one line");
  std::string l(line);
  if (l.rfind("a=", 0) != 0) l = "a=" + l;
  return l;
}

}  // namespace hn::p2p
