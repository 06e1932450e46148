#include <doctest/doctest.h>
#include <usrsctp.h>

#include <string>
#include <vector>

#include "p2p/crc32c.h"
#include "p2p/dcep.h"
#include "p2p/dtls_transport.h"
#include "p2p/jsep.h"

using namespace hn::p2p;

namespace {
// An offer as Chromium 156 writes one (extra attributes, trickle, extension fields on candidates).
const char* kChromeOffer =
    "v=0\r\no=- 4611731400430051336 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0\r\n"
    "a=extmap-allow-mixed\r\na=msid-semantic: WMS\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"
    "c=IN IP4 0.0.0.0\r\n"
    "a=candidate:3442447574 1 udp 2122260223 192.0.2.2 54321 typ host generation 0 network-id 1\r\n"
    "a=candidate:1 1 udp 2122262783 fd00::2 54322 typ host generation 0 network-id 2\r\n"
    "a=candidate:2 1 tcp 1518280447 192.0.2.2 9 typ host tcptype active generation 0\r\n"
    "a=candidate:4 1 udp 2122260223 0d5c1f1e-1b5e-4b8e-9d3e-0a5c0c2b7f1a.local 54323 typ host generation 0\r\n"
    "a=candidate:5 1 udp 1686052607 203.0.113.7 40000 typ srflx raddr 192.0.2.2 rport 54321 generation 0\r\n"
    "a=ice-ufrag:Ab+/\r\na=ice-pwd:0123456789abcdefghijklmn\r\na=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 "
    "0a:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9:0A:1B:2C:3D:4E:5F:60:71:82:93:A4:B5:C6:D7:E8:F9\r\n"
    "a=setup:actpass\r\na=mid:0\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n";
}  // namespace

TEST_CASE("JSEP: a Chromium offer is read; TCP and mDNS candidates are skipped, extensions dropped") {
  auto r = parse_jsep(kChromeOffer);
  REQUIRE(r);
  CHECK(r->ufrag == "Ab+/");
  CHECK(r->setup == "actpass");
  CHECK(r->mid == "0");
  CHECK(r->max_message_size == 262144);
  CHECK(r->fingerprint.substr(0, 6) == "0A:1B:");
  REQUIRE(r->candidates.size() == 3);
  CHECK(r->candidates[0] == "candidate:3442447574 1 udp 2122260223 192.0.2.2 54321 typ host");
  CHECK(r->candidates[1] == "candidate:1 1 udp 2122262783 fd00::2 54322 typ host");
  CHECK(r->candidates[2] == "candidate:5 1 udp 1686052607 203.0.113.7 40000 typ srflx raddr 192.0.2.2 rport 54321");
  CHECK(r->ignored_candidates == 2);
}

TEST_CASE("JSEP: aiortc's older DTLS/SCTP m-line and a session-level fingerprint are accepted") {
  std::string fp;
  for (int i = 0; i < 32; ++i) fp += (i ? ":" : "") + std::string("7F");
  std::string s = "v=0\r\ns=-\r\nt=0 0\r\na=fingerprint:sha-256 " + fp + "\r\nm=application 51399 DTLS/SCTP 5000\r\n"
      "a=mid:0\r\na=sctpmap:5000 webrtc-datachannel 65535\r\na=max-message-size:65536\r\n"
      "a=ice-ufrag:k3Bx\r\na=ice-pwd:OzIuKxIxJ60EnGGM39PWRK\r\na=setup:actpass\r\na=end-of-candidates\r\n";
  auto r = parse_jsep(s);
  REQUIRE(r);
  CHECK(r->fingerprint == fp);
  CHECK(r->max_message_size == 65536);
  CHECK(r->end_of_candidates);
}

TEST_CASE("JSEP: what is refused") {
  std::string ok = kChromeOffer;
  auto without = [&](const std::string& what) {
    std::string s = ok;
    s.erase(s.find(what), s.find("\r\n", s.find(what)) + 2 - s.find(what));
    return s;
  };
  CHECK_FALSE(parse_jsep(without("a=fingerprint")));
  CHECK_FALSE(parse_jsep(without("a=setup")));
  CHECK_FALSE(parse_jsep(without("m=application")));
  std::string bad_port = ok;
  bad_port.replace(bad_port.find("sctp-port:5000"), 14, "sctp-port:5001");
  CHECK_FALSE(parse_jsep(bad_port));
  std::string short_fp = ok;
  short_fp.replace(short_fp.find("0a:1B:"), 3, "");
  CHECK_FALSE(parse_jsep(short_fp));
  std::string two_ufrags = ok;  // one section, two credentials: which would ICE use?
  two_ufrags.insert(two_ufrags.find("a=ice-ufrag:"), "a=ice-ufrag:efgh\r\n");
  CHECK_FALSE(parse_jsep(two_ufrags));
  std::string two_pwds = ok;
  two_pwds.insert(two_pwds.find("a=ice-pwd:"), "a=ice-pwd:zzzzzzzzzzzzzzzzzzzzzz\r\n");
  CHECK_FALSE(parse_jsep(two_pwds));
  std::string media_only = ok;
  media_only.replace(media_only.find("m=application 9"), 15, "m=application 0");  // rejected section
  CHECK_FALSE(parse_jsep(media_only));
}

TEST_CASE("JSEP: what we write is what browsers expect, and we read it back") {
  JsepLocal d;
  d.ufrag = "abcd";
  d.pwd = "0123456789abcdefghijkl";
  d.fingerprint = std::string(95, 'A');
  for (size_t i = 2; i < d.fingerprint.size(); i += 3) d.fingerprint[i] = ':';
  d.setup = "actpass";
  d.candidates = {"candidate:1 1 udp 2015363327 192.0.2.2 40001 typ host"};
  std::string s = write_jsep(d);
  for (const char* line : {"m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n", "a=group:BUNDLE 0\r\n",
                           "a=ice-options:trickle\r\n", "a=setup:actpass\r\n", "a=mid:0\r\n", "a=sctp-port:5000\r\n",
                           "a=max-message-size:262144\r\n", "c=IN IP4 0.0.0.0\r\n"})
    CHECK(s.find(line) != std::string::npos);
  auto r = parse_jsep(s);
  REQUIRE(r);
  CHECK(r->fingerprint == d.fingerprint);
  CHECK(r->candidates == d.candidates);
}

TEST_CASE("JSEP: an offer bundling audio and video with data is answered section by section") {
  std::string offer = kChromeOffer;
  offer.replace(offer.find("a=group:BUNDLE 0"), 16, "a=group:BUNDLE a v 0");
  size_t m = offer.find("m=application");
  offer.insert(m, "m=audio 9 UDP/TLS/RTP/SAVPF 111 63\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\na=sendrecv\r\n"
                  "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\na=rtpmap:96 VP8/90000\r\n");
  auto r = parse_jsep(offer);
  REQUIRE(r);
  REQUIRE(r->sections.size() == 3);
  CHECK(r->data_section == 2);
  CHECK(r->mid == "0");
  CHECK(r->sections[0].media == "audio");
  CHECK(r->sections[0].fmt == "111");
  CHECK(r->sections[1].mid == "v");
  JsepLocal d;
  d.ufrag = "abcd";
  d.pwd = "0123456789abcdefghijkl";
  d.fingerprint = r->fingerprint;
  d.setup = "active";
  d.mid = r->mid;
  d.sections = r->sections;
  d.data_section = r->data_section;
  std::string a = write_jsep(d);
  size_t audio = a.find("m=audio 0 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:a\r\n");
  size_t video = a.find("m=video 0 UDP/TLS/RTP/SAVPF 96\r\nc=IN IP4 0.0.0.0\r\na=mid:v\r\n");
  size_t data = a.find("m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n");
  CHECK(audio != std::string::npos);
  CHECK(video > audio);
  CHECK(data > video);
  CHECK(a.find("a=group:BUNDLE 0\r\n") != std::string::npos);  // the rejected sections are not bundled
  auto back = parse_jsep(a);
  REQUIRE(back);
  CHECK(back->data_section == 2);
  std::string many = kChromeOffer;
  for (int i = 0; i < 16; ++i) many.insert(many.find("m=application"), "m=audio 9 RTP/AVP 0\r\n");
  CHECK_FALSE(parse_jsep(many));  // bounded: more than kMaxSdpSections
}

TEST_CASE("candidates: normalized, or skipped, or refused") {
  auto n = normalize_candidate("a=candidate:1 1 UDP 2015363327 10.0.0.2 50000 typ host");
  REQUIRE(n);
  REQUIRE(n->has_value());
  CHECK(**n == "candidate:1 1 udp 2015363327 10.0.0.2 50000 typ host");
  auto rtcp = normalize_candidate("candidate:1 2 udp 1 10.0.0.2 50000 typ host");
  REQUIRE(rtcp);
  CHECK_FALSE(rtcp->has_value());
  CHECK_FALSE(normalize_candidate("candidate:1 1 udp 1 10.0.0.2 70000 typ host"));
  CHECK_FALSE(normalize_candidate("candidate:1 1 udp 1 10.0.0.2 5 typ bogus"));
  CHECK_FALSE(normalize_candidate("candidate:1 1 sctp 1 10.0.0.2 5 typ host"));
  CHECK_FALSE(normalize_candidate("candidate:1 1 udp 1 10.0.0.2"));
  CHECK_FALSE(normalize_candidate("candidate:1 1 udp 1 a_b 5 typ host"));
}

TEST_CASE("DCEP: DATA_CHANNEL_OPEN round trip and malformed messages") {
  dcep::Open o;
  o.label = "hybridnode";
  o.protocol = "hybridnode/1";
  auto m = dcep::decode(dcep::encode_open(o));
  auto* back = std::get_if<dcep::Open>(&m);
  REQUIRE(back);
  CHECK(back->label == "hybridnode");
  CHECK(back->protocol == "hybridnode/1");
  CHECK(back->channel_type == dcep::kReliableOrdered);
  CHECK(std::holds_alternative<dcep::Ack>(dcep::decode(dcep::encode_ack())));
  std::string open = dcep::encode_open(o);
  CHECK(std::holds_alternative<dcep::Bad>(dcep::decode(open.substr(0, open.size() - 1))));
  CHECK(std::holds_alternative<dcep::Bad>(dcep::decode(open + "x")));
  CHECK(std::holds_alternative<dcep::Bad>(dcep::decode("")));
  CHECK(std::holds_alternative<dcep::Bad>(dcep::decode(std::string(1, '\x07'))));
}

TEST_CASE("SCTP CRC32c matches usrsctp's and the standard check value") {
  const std::string check = "123456789";
  CHECK(crc32c(reinterpret_cast<const uint8_t*>(check.data()), check.size()) == 0xE3069283u);
  std::vector<uint8_t> pkt(1189);
  for (size_t i = 0; i < pkt.size(); ++i) pkt[i] = static_cast<uint8_t>(i * 7 + 3);
  sctp_set_crc32c(pkt.data(), pkt.size());
  std::vector<uint8_t> z = pkt;
  z[8] = z[9] = z[10] = z[11] = 0;
  uint32_t theirs = usrsctp_crc32c(z.data(), z.size());  // as usrsctp stores it (host order of the LE field)
  uint32_t ours = static_cast<uint32_t>(pkt[8]) | (static_cast<uint32_t>(pkt[9]) << 8) |
                  (static_cast<uint32_t>(pkt[10]) << 16) | (static_cast<uint32_t>(pkt[11]) << 24);
  CHECK(ours == theirs);
}

TEST_CASE("DTLS: two sessions handshake in memory, check fingerprints, carry records; a wrong fingerprint fails") {
  auto a_id = DtlsIdentity::create();
  auto b_id = DtlsIdentity::create();
  REQUIRE(a_id);
  REQUIRE(b_id);
  CHECK((*a_id)->fingerprint().size() == 95);
  for (bool honest : {true, false}) {
    std::vector<std::string> to_a, to_b, plain_b;
    std::vector<std::pair<DtlsSession::Event, std::string>> ev_a, ev_b;
    DtlsSession a(*a_id, [&](const uint8_t* d, size_t n) { to_b.emplace_back(reinterpret_cast<const char*>(d), n); },
                  [](const uint8_t*, size_t) {}, [&](DtlsSession::Event e, const std::string& s) { ev_a.emplace_back(e, s); });
    DtlsSession b(*b_id, [&](const uint8_t* d, size_t n) { to_a.emplace_back(reinterpret_cast<const char*>(d), n); },
                  [&](const uint8_t* d, size_t n) { plain_b.emplace_back(reinterpret_cast<const char*>(d), n); },
                  [&](DtlsSession::Event e, const std::string& s) { ev_b.emplace_back(e, s); });
    REQUIRE(a.begin(true, (*b_id)->fingerprint(), 1200));
    REQUIRE(b.begin(false, honest ? (*a_id)->fingerprint() : (*b_id)->fingerprint(), 1200));
    std::string early = "an SCTP packet made before the handshake";
    a.send(reinterpret_cast<const uint8_t*>(early.data()), early.size());
    a.start_handshake();
    for (int round = 0; round < 10 && (!to_a.empty() || !to_b.empty()); ++round) {
      auto xb = std::move(to_b);
      to_b.clear();
      for (auto& p : xb) b.input(reinterpret_cast<const uint8_t*>(p.data()), p.size());
      auto xa = std::move(to_a);
      to_a.clear();
      for (auto& p : xa) a.input(reinterpret_cast<const uint8_t*>(p.data()), p.size());
    }
    if (honest) {
      CHECK(a.connected());
      CHECK(b.connected());
      CHECK(b.cipher() == "ECDHE-ECDSA-AES128-GCM-SHA256");
      CHECK(b.remote_fingerprint() == (*a_id)->fingerprint());
      REQUIRE(plain_b.size() == 1);
      CHECK(plain_b[0] == early);
    } else {
      CHECK_FALSE(b.connected());
      REQUIRE_FALSE(ev_b.empty());
      CHECK(ev_b[0].second.find("does not match the a=fingerprint") != std::string::npos);
    }
  }
}
