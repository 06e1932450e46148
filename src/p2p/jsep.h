// JSEP session descriptions (RFC 8829) for one data-channel media section, as browsers write and read
// them (RFC 8841 m=application ... UDP/DTLS/SCTP webrtc-datachannel, RFC 8839 ICE attributes, RFC 8122
// fingerprints, RFC 8842 setup roles), and ICE candidate lines checked and rewritten in the minimal form
// libnice parses. Remote descriptions are untrusted bytes (sdp_guard bounds them first).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "hybridnode/result.h"

namespace hn::p2p {

inline constexpr uint64_t kLocalMaxMessageSize = 262144;  // what we announce and accept (as browsers do)
inline constexpr size_t kMaxSdpCandidates = 32;           // candidates used from one remote description
inline constexpr size_t kMaxSdpSections = 16;             // m= sections in one remote description

// One m= section of a remote offer as an answer must mirror it (RFC 8829 5.3.1: same sections, same order;
// the ones we do not take are rejected with port 0).
struct JsepSection {
  std::string media, proto, fmt, mid;
};

struct JsepLocal {
  std::string ufrag, pwd;
  std::string fingerprint;  // "AB:CD:..." SHA-256
  std::string setup;        // actpass (offer), active / passive (answer)
  std::string mid = "0";
  uint64_t session_id = 0;
  std::vector<std::string> candidates;  // "candidate:..." lines
  bool end_of_candidates = false;
  // An answer to an offer that also carries audio/video: the offer's sections, the data one at data_section.
  std::vector<JsepSection> sections;
  size_t data_section = 0;
};
std::string write_jsep(const JsepLocal& d);

struct JsepRemote {
  std::string ufrag, pwd;
  std::string fingerprint;  // uppercase "AB:CD:..."
  std::string setup;
  std::string mid = "0";
  uint64_t max_message_size = 65536;  // RFC 8841: 64 KiB when the attribute is absent; 0 = no limit
  std::vector<std::string> candidates;  // normalized "candidate:..." lines, usable ones only
  size_t ignored_candidates = 0;        // TCP, mDNS .local, RTCP component, past kMaxSdpCandidates
  bool end_of_candidates = false;
  std::vector<JsepSection> sections;  // every m= section, in order
  size_t data_section = 0;            // the index of ours in sections (the m-line index of its candidates)
};
Result<JsepRemote> parse_jsep(std::string_view sdp);

// "candidate:..." or "a=candidate:..." -> "candidate:F 1 udp PRIO ADDR PORT typ T [raddr A rport P]".
// nullopt: a valid candidate we do not use (TCP, an mDNS .local or other host name, component 2).
Result<std::optional<std::string>> normalize_candidate(std::string_view line);

}  // namespace hn::p2p
