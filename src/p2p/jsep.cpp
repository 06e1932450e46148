#include "p2p/jsep.h"

#include <arpa/inet.h>

#include <cctype>

#include "p2p/sdp_guard.h"

namespace hn::p2p {
namespace {

std::vector<std::string_view> split_ws(std::string_view s, size_t max) {
  std::vector<std::string_view> out;
  size_t pos = 0;
  while (pos < s.size() && out.size() < max) {
    while (pos < s.size() && s[pos] == ' ') ++pos;
    if (pos >= s.size()) break;
    size_t end = s.find(' ', pos);
    if (end == std::string_view::npos) end = s.size();
    out.push_back(s.substr(pos, end - pos));
    pos = end;
  }
  return out;
}

bool all_of(std::string_view s, bool (*pred)(char)) {
  for (char c : s)
    if (!pred(c)) return false;
  return true;
}
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_ice_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '+' || c == '/'; }
bool is_token_char(char c) { return c > ' ' && c < 127; }

bool parse_u64(std::string_view s, size_t max_digits, uint64_t& out) {
  if (s.empty() || s.size() > max_digits || !all_of(s, is_digit)) return false;
  out = 0;
  for (char c : s) out = out * 10 + static_cast<uint64_t>(c - '0');
  return true;
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
  return true;
}

// An IP literal: usable. A host name (mDNS "....local" or other): not resolved, ignored.
enum class Addr { ip, name, bad };
Addr classify(std::string_view a) {
  if (a.empty() || a.size() > 255) return Addr::bad;
  std::string s(a);
  unsigned char buf[16];
  if (inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1) return Addr::ip;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '.')) return Addr::bad;
  return Addr::name;
}

bool valid_port(std::string_view p) {
  uint64_t v;
  return parse_u64(p, 5, v) && v <= 65535;
}

Result<std::string> parse_fingerprint(std::string_view v) {
  // "sha-256 AB:CD:..." (hash names are case-insensitive; hex of either case)
  auto parts = split_ws(v, 3);
  if (parts.size() != 2) return make_error("bad a=fingerprint");
  if (!ieq(parts[0], "sha-256")) return make_error("not sha-256");
  std::string_view hex = parts[1];
  if (hex.size() != 32 * 3 - 1) return make_error("a=fingerprint:sha-256 is not 32 bytes");
  std::string out;
  for (size_t i = 0; i < hex.size(); ++i) {
    char c = hex[i];
    if (i % 3 == 2) {
      if (c != ':') return make_error("bad a=fingerprint separator");
      out += ':';
    } else {
      if (!std::isxdigit(static_cast<unsigned char>(c))) return make_error("bad a=fingerprint hex");
      out += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

struct Attrs {
  std::string ufrag, pwd, fingerprint, setup, mid;
  int ufrag_n = 0, pwd_n = 0;
  bool bad_fingerprint_seen = false;
};

// Applies one a= line to a level's attributes. Returns an error for malformed values we rely on.
Result<void> apply(Attrs& a, std::string_view name, std::string_view value) {
  if (name == "ice-ufrag") {
    ++a.ufrag_n;
    a.ufrag = std::string(value);
  } else if (name == "ice-pwd") {
    ++a.pwd_n;
    a.pwd = std::string(value);
  } else if (name == "fingerprint") {
    auto fp = parse_fingerprint(value);
    if (fp) {
      if (a.fingerprint.empty()) a.fingerprint = *fp;
    } else if (value.size() >= 8 && ieq(value.substr(0, 8), "sha-256 ")) {
      return make_error("sdp: " + fp.error());
    }
  } else if (name == "setup") {
    a.setup = std::string(value);
  } else if (name == "mid") {
    if (value.empty() || value.size() > 32 || !all_of(value, is_token_char)) return make_error("sdp: bad a=mid");
    a.mid = std::string(value);
  }
  return {};
}

}  // namespace

Result<std::optional<std::string>> normalize_candidate(std::string_view line) {
  if (line.size() > kMaxRemoteCandidate) return make_error("candidate too long");
  if (line.substr(0, 2) == "a=") line.remove_prefix(2);
  if (line.substr(0, 10) != "candidate:") return make_error("not a candidate line");
  line.remove_prefix(10);
  auto f = split_ws(line, 64);
  if (f.size() < 8) return make_error("candidate: too few fields");
  std::string_view foundation = f[0], component = f[1], transport = f[2], prio = f[3], addr = f[4], port = f[5];
  if (foundation.empty() || foundation.size() > 32 || !all_of(foundation, is_ice_char))
    return make_error("candidate: bad foundation");
  uint64_t comp, pr;
  if (!parse_u64(component, 3, comp) || comp < 1 || comp > 256) return make_error("candidate: bad component");
  if (!parse_u64(prio, 10, pr) || pr > 0xffffffffull) return make_error("candidate: bad priority");
  if (!valid_port(port)) return make_error("candidate: bad port");
  if (f[6] != "typ") return make_error("candidate: no typ");
  std::string_view type = f[7];
  if (type != "host" && type != "srflx" && type != "prflx" && type != "relay") return make_error("candidate: bad type");
  Addr kind = classify(addr);
  if (kind == Addr::bad) return make_error("candidate: bad address");
  std::string_view raddr, rport;
  for (size_t i = 8; i + 1 < f.size(); i += 2) {  // extension pairs: raddr/rport kept, the rest ignored
    if (f[i] == "raddr") raddr = f[i + 1];
    else if (f[i] == "rport") rport = f[i + 1];
  }
  if (ieq(transport, "tcp")) return std::optional<std::string>{};  // ICE-TCP: not used
  if (!ieq(transport, "udp")) return make_error("candidate: bad transport");
  if (comp != 1 || kind == Addr::name) return std::optional<std::string>{};  // RTCP / mDNS: not used
  std::string out = "candidate:" + std::string(foundation) + " 1 udp " + std::string(prio) + " " + std::string(addr) +
                    " " + std::string(port) + " typ " + std::string(type);
  if (!raddr.empty() && !rport.empty() && classify(raddr) == Addr::ip && valid_port(rport))
    out += " raddr " + std::string(raddr) + " rport " + std::string(rport);
  return std::optional<std::string>{out};
}

std::string write_jsep(const JsepLocal& d) {
  std::string s;
  s += "v=0\r\n";
  s += "o=- " + std::to_string(d.session_id) + " 2 IN IP4 127.0.0.1\r\n";
  s += "s=-\r\n";
  s += "t=0 0\r\n";
  s += "a=group:BUNDLE " + d.mid + "\r\n";
  s += "a=msid-semantic: WMS\r\n";
  size_t n = d.sections.empty() ? 1 : d.sections.size();
  for (size_t i = 0; i < n; ++i) {
    if (!d.sections.empty() && i != d.data_section) {
      const auto& x = d.sections[i];  // not ours: rejected, outside the bundle
      s += "m=" + x.media + " 0 " + x.proto + " " + x.fmt + "\r\n";
      s += "c=IN IP4 0.0.0.0\r\n";
      if (!x.mid.empty()) s += "a=mid:" + x.mid + "\r\n";
      continue;
    }
    s += "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n";
    s += "c=IN IP4 0.0.0.0\r\n";
    for (const auto& c : d.candidates) s += "a=" + c + "\r\n";
    if (d.end_of_candidates) s += "a=end-of-candidates\r\n";
    s += "a=ice-ufrag:" + d.ufrag + "\r\n";
    s += "a=ice-pwd:" + d.pwd + "\r\n";
    s += "a=ice-options:trickle\r\n";
    s += "a=fingerprint:sha-256 " + d.fingerprint + "\r\n";
    s += "a=setup:" + d.setup + "\r\n";
    s += "a=mid:" + d.mid + "\r\n";
    s += "a=sctp-port:5000\r\n";
    s += "a=max-message-size:" + std::to_string(kLocalMaxMessageSize) + "\r\n";
  }
  return s;
}

Result<JsepRemote> parse_jsep(std::string_view sdp) {
  if (auto ok = vet_remote_description(sdp); !ok) return make_error(ok.error());
  JsepRemote r;
  Attrs session, media;
  int section = -1;  // -1: session level; then media sections by index
  int chosen = -1;   // the data-channel section
  bool sctp_port_seen = false;
  size_t pos = 0;
  while (pos < sdp.size()) {
    size_t nl = sdp.find('\n', pos);
    std::string_view line = sdp.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? sdp.size() : nl + 1;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() < 2 || line[1] != '=') continue;  // tolerate blank or odd lines
    char kind = line[0];
    std::string_view body = line.substr(2);
    if (kind == 'm') {
      ++section;
      auto f = split_ws(body, 8);
      if (f.size() < 4) return make_error("sdp: bad m= line");
      if (r.sections.size() >= kMaxSdpSections) return make_error("sdp: more than 16 m= sections");
      for (auto t : {f[0], f[2], f[3]})
        if (t.empty() || t.size() > 32 || !all_of(t, is_token_char)) return make_error("sdp: bad m= line");
      r.sections.push_back({std::string(f[0]), std::string(f[2]), std::string(f[3]), ""});
      // RFC 8841's form, or the older draft's "DTLS/SCTP 5000" + a=sctpmap that aiortc 1.4 still offers.
      bool modern = f.size() >= 4 && ieq(f[2], "UDP/DTLS/SCTP") && f[3] == "webrtc-datachannel";
      bool legacy = f.size() >= 4 && ieq(f[2], "DTLS/SCTP") && f[3] == "5000";
      if (chosen < 0 && f[0] == "application" && f[1] != "0" && (modern || legacy)) chosen = section;
      continue;
    }
    if (kind != 'a') continue;
    size_t colon = body.find(':');
    std::string_view name = body.substr(0, colon), value = colon == std::string_view::npos ? "" : body.substr(colon + 1);
    if (section < 0) {
      if (auto ok = apply(session, name, value); !ok) return make_error(ok.error());
      continue;
    }
    if (section != chosen) {  // audio/video sections: not ours, but an answer names their mids
      if (name == "mid") {
        if (value.empty() || value.size() > 32 || !all_of(value, is_token_char)) return make_error("sdp: bad a=mid");
        r.sections.back().mid = std::string(value);
      }
      continue;
    }
    if (auto ok = apply(media, name, value); !ok) return make_error(ok.error());
    if (name == "candidate") {
      auto c = normalize_candidate(body);
      if (!c || !c->has_value() || r.candidates.size() >= kMaxSdpCandidates) {
        ++r.ignored_candidates;
        continue;
      }
      r.candidates.push_back(**c);
    } else if (name == "end-of-candidates") {
      r.end_of_candidates = true;
    } else if (name == "sctp-port") {
      uint64_t p;
      if (!parse_u64(value, 5, p) || p != 5000) return make_error("sdp: a=sctp-port must be 5000");
      sctp_port_seen = true;
    } else if (name == "max-message-size") {
      if (!parse_u64(value, 19, r.max_message_size)) return make_error("sdp: bad a=max-message-size");
    }
  }
  if (chosen < 0) return make_error("sdp: no m=application ... UDP/DTLS/SCTP webrtc-datachannel section");
  if (session.ufrag_n > 1 || session.pwd_n > 1 || media.ufrag_n > 1 || media.pwd_n > 1)
    return make_error("sdp: more than one a=ice-ufrag or a=ice-pwd line in one section");
  (void)sctp_port_seen;  // absent: 5000, the default (RFC 8841)
  r.ufrag = media.ufrag_n ? media.ufrag : session.ufrag;
  r.pwd = media.pwd_n ? media.pwd : session.pwd;
  r.fingerprint = !media.fingerprint.empty() ? media.fingerprint : session.fingerprint;
  r.setup = !media.setup.empty() ? media.setup : session.setup;
  if (!media.mid.empty()) r.mid = media.mid;
  r.data_section = static_cast<size_t>(chosen);
  r.sections[r.data_section].mid = r.mid;
  if (r.ufrag.size() < 4 || r.ufrag.size() > 256 || !all_of(r.ufrag, is_ice_char)) return make_error("sdp: bad a=ice-ufrag");
  if (r.pwd.size() < 22 || r.pwd.size() > 256 || !all_of(r.pwd, is_ice_char)) return make_error("sdp: bad a=ice-pwd");
  if (r.fingerprint.empty()) return make_error("sdp: no a=fingerprint:sha-256");
  if (r.setup != "actpass" && r.setup != "active" && r.setup != "passive") return make_error("sdp: bad or missing a=setup");
  return r;
}

}  // namespace hn::p2p
