#include "p2p/wire.h"

#include "hybridnode/ids.h"

namespace hn::p2p::wire {
namespace {

void put8(std::string& s, uint8_t v) { s.push_back(static_cast<char>(v)); }
void put32(std::string& s, uint32_t v) {
  for (int i = 3; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put64(std::string& s, uint64_t v) {
  for (int i = 7; i >= 0; --i) s.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

struct Reader {
  std::string_view s;
  size_t off = 0;
  bool ok = true;
  uint8_t u8() {
    if (off + 1 > s.size()) return fail(), 0;
    return static_cast<uint8_t>(s[off++]);
  }
  uint32_t u32() {
    if (off + 4 > s.size()) return fail(), 0;
    uint32_t v = 0;
    for (int i = 0; i < 4; ++i) v = (v << 8) | static_cast<uint8_t>(s[off++]);
    return v;
  }
  uint64_t u64() {
    if (off + 8 > s.size()) return fail(), 0;
    uint64_t v = 0;
    for (int i = 0; i < 8; ++i) v = (v << 8) | static_cast<uint8_t>(s[off++]);
    return v;
  }
  std::string str() {
    uint8_t n = u8();
    if (!ok || off + n > s.size()) return fail(), std::string();
    std::string v(s.substr(off, n));
    off += n;
    return v;
  }
  std::string_view rest() {
    auto v = s.substr(off);
    off = s.size();
    return v;
  }
  bool done() const { return ok && off == s.size(); }
  void fail() { ok = false; }
};

std::string with_type(Type t) { return std::string(1, static_cast<char>(t)); }

}  // namespace

std::string encode(const Hello& m) {
  std::string s = with_type(Type::hello);
  put8(s, kVersion);
  put8(s, static_cast<uint8_t>(m.peer.size()));
  s += m.peer;
  put8(s, static_cast<uint8_t>(m.video.size()));
  s += m.video;
  put32(s, m.chunk_count);
  s.append(reinterpret_cast<const char*>(m.bitfield.data()), m.bitfield.size());
  return s;
}

std::string encode_request(uint32_t index) {
  std::string s = with_type(Type::request);
  put32(s, index);
  return s;
}

std::string encode_piece_header(uint32_t index, uint32_t offset, uint32_t total) {
  std::string s = with_type(Type::piece);
  put32(s, index);
  put32(s, offset);
  put32(s, total);
  return s;
}

std::string encode_have(uint32_t index) {
  std::string s = with_type(Type::have);
  put32(s, index);
  return s;
}

std::string encode_cancel(uint32_t index) {
  std::string s = with_type(Type::cancel);
  put32(s, index);
  return s;
}

std::string encode_reject(uint32_t index, RejectReason r) {
  std::string s = with_type(Type::reject);
  put32(s, index);
  put8(s, static_cast<uint8_t>(r));
  return s;
}

std::string encode_ping(uint64_t nonce, bool pong) {
  std::string s = with_type(pong ? Type::pong : Type::ping);
  put64(s, nonce);
  return s;
}

std::variant<Message, DecodeError> decode(std::string_view msg) {
  if (msg.empty()) return DecodeError{"empty message"};
  if (msg.size() > kMaxWireMessage) return DecodeError{"message of " + std::to_string(msg.size()) + " bytes exceeds the limit"};
  Reader r{msg, 1};
  auto type = static_cast<uint8_t>(msg[0]);
  auto need_done = [&](Message m) -> std::variant<Message, DecodeError> {
    if (!r.done()) return DecodeError{"truncated or oversized message of type " + std::to_string(type)};
    return m;
  };
  switch (static_cast<Type>(type)) {
    case Type::hello: {
      Hello h;
      uint8_t version = r.u8();
      if (r.ok && version != kVersion) return DecodeError{"unsupported wire version " + std::to_string(version)};
      h.peer = r.str();
      h.video = r.str();
      h.chunk_count = r.u32();
      if (!r.ok) return DecodeError{"truncated hello"};
      if (!is_video_id(h.video) || h.peer.empty()) return DecodeError{"hello with invalid ids"};
      auto bits = r.rest();
      if (bits.size() != (static_cast<size_t>(h.chunk_count) + 7) / 8) return DecodeError{"hello bitfield length does not match chunk count"};
      h.bitfield.assign(bits.begin(), bits.end());
      return Message{std::move(h)};
    }
    case Type::request: { Request m{r.u32()}; return need_done(m); }
    case Type::have: { Have m{r.u32()}; return need_done(m); }
    case Type::cancel: { Cancel m{r.u32()}; return need_done(m); }
    case Type::reject: {
      Reject m{r.u32(), static_cast<RejectReason>(r.u8())};
      if (r.ok && m.reason != RejectReason::not_held && m.reason != RejectReason::busy) return DecodeError{"unknown reject reason"};
      return need_done(m);
    }
    case Type::piece: {
      Piece p{r.u32(), r.u32(), r.u32(), {}};
      if (!r.ok) return DecodeError{"truncated piece"};
      p.data = r.rest();
      if (p.data.empty() || p.data.size() > kBlockSize) return DecodeError{"piece block size out of range"};
      if (static_cast<uint64_t>(p.offset) + p.data.size() > p.total)
        return DecodeError{"piece block outside its chunk"};
      return Message{p};
    }
    case Type::ping: { Ping m{r.u64()}; return need_done(m); }
    case Type::pong: { Pong m{r.u64()}; return need_done(m); }
  }
  return DecodeError{"unknown message type " + std::to_string(type)};
}

}  // namespace hn::p2p::wire
