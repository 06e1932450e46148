#include "p2p/sdp_guard.h"

namespace hn::p2p {

namespace {

size_t count_lines_starting(std::string_view text, std::string_view prefix) {
  size_t n = 0, pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    if (line.substr(0, prefix.size()) == prefix) ++n;
    if (nl == std::string_view::npos) break;
    pos = nl + 1;
  }
  return n;
}

}  // namespace

Result<void> vet_remote_description(std::string_view sdp) {
  if (sdp.size() > kMaxRemoteDescription) return make_error("ice: remote description too large");
  if (sdp.find('\0') != std::string_view::npos) return make_error("ice: remote description contains NUL");
  if (count_lines_starting(sdp, "a=ice-ufrag:") != 1 || count_lines_starting(sdp, "a=ice-pwd:") != 1)
    return make_error("ice: remote description needs exactly one a=ice-ufrag and one a=ice-pwd line");
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
