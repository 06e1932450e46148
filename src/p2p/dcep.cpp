#include "p2p/dcep.h"

namespace hn::p2p::dcep {
namespace {
constexpr uint8_t kOpen = 0x03, kAck = 0x02;
void put16(std::string& s, uint16_t v) {
  s += static_cast<char>(v >> 8);
  s += static_cast<char>(v & 0xff);
}
uint16_t get16(std::string_view s, size_t at) {
  return static_cast<uint16_t>((static_cast<uint8_t>(s[at]) << 8) | static_cast<uint8_t>(s[at + 1]));
}
}  // namespace

std::string encode_open(const Open& o) {
  std::string s;
  s += static_cast<char>(kOpen);
  s += static_cast<char>(o.channel_type);
  put16(s, o.priority);
  put16(s, static_cast<uint16_t>(o.reliability >> 16));
  put16(s, static_cast<uint16_t>(o.reliability & 0xffff));
  put16(s, static_cast<uint16_t>(o.label.size()));
  put16(s, static_cast<uint16_t>(o.protocol.size()));
  s += o.label;
  s += o.protocol;
  return s;
}

std::string encode_ack() { return std::string(1, static_cast<char>(kAck)); }

Message decode(std::string_view m) {
  if (m.empty()) return Bad{"empty DCEP message"};
  uint8_t type = static_cast<uint8_t>(m[0]);
  if (type == kAck) return Ack{};  // RFC 8832: trailing bytes of an ACK are ignored
  if (type != kOpen) return Bad{"unknown DCEP message type " + std::to_string(type)};
  if (m.size() < 12) return Bad{"short DATA_CHANNEL_OPEN"};
  Open o;
  o.channel_type = static_cast<uint8_t>(m[1]);
  o.priority = get16(m, 2);
  o.reliability = (static_cast<uint32_t>(get16(m, 4)) << 16) | get16(m, 6);
  size_t llen = get16(m, 8), plen = get16(m, 10);
  if (m.size() != 12 + llen + plen) return Bad{"DATA_CHANNEL_OPEN lengths do not match its size"};
  o.label.assign(m.substr(12, llen));
  o.protocol.assign(m.substr(12 + llen, plen));
  return o;
}

}  // namespace hn::p2p::dcep
