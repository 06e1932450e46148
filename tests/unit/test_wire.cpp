#include <doctest/doctest.h>

#include "p2p/wire.h"
#include "peer/chunk_scheduler.h"

namespace w = hn::p2p::wire;

namespace {
template <class T>
T decode_as(const std::string& s) {
  auto r = w::decode(s);
  REQUIRE(std::holds_alternative<w::Message>(r));
  auto& m = std::get<w::Message>(r);
  REQUIRE(std::holds_alternative<T>(m));
  return std::get<T>(m);
}
bool fails(const std::string& s) { return std::holds_alternative<w::DecodeError>(w::decode(s)); }
}  // namespace

TEST_CASE("wire messages round-trip") {
  w::Hello h{"peer1", "video", 10, {0xff, 0xc0}};
  auto back = decode_as<w::Hello>(w::encode(h));
  CHECK(back.peer == "peer1");
  CHECK(back.video == "video");
  CHECK(back.chunk_count == 10);
  CHECK(back.bitfield == h.bitfield);
  CHECK(decode_as<w::Request>(w::encode_request(7)).index == 7);
  CHECK(decode_as<w::Have>(w::encode_have(9)).index == 9);
  CHECK(decode_as<w::Cancel>(w::encode_cancel(3)).index == 3);
  auto rj = decode_as<w::Reject>(w::encode_reject(4, w::RejectReason::busy));
  CHECK(rj.index == 4);
  CHECK(rj.reason == w::RejectReason::busy);
  CHECK(decode_as<w::Ping>(w::encode_ping(0x1122334455667788ull, false)).nonce == 0x1122334455667788ull);
  CHECK(decode_as<w::Pong>(w::encode_ping(5, true)).nonce == 5);
  std::string piece = w::encode_piece_header(2, 65536, 100000) + std::string(1000, 'x');
  auto p = decode_as<w::Piece>(piece);
  CHECK(p.index == 2);
  CHECK(p.offset == 65536);
  CHECK(p.data.size() == 1000);
}

TEST_CASE("wire decoding refuses truncated, oversized, unknown and inconsistent messages") {
  CHECK(fails(""));
  CHECK(fails(std::string(1, '\x63')));                        // unknown type
  CHECK(fails(w::encode_request(1).substr(0, 3)));             // truncated
  CHECK(fails(w::encode_request(1) + "x"));                    // trailing bytes
  CHECK(fails(std::string(w::kMaxWireMessage + 1, '\x02')));   // oversized
  CHECK(fails(w::encode_piece_header(0, 0, 10)));              // piece without data
  CHECK(fails(w::encode_piece_header(0, 0, 10) + std::string(11, 'x')));  // past the chunk's end
  CHECK(!fails(w::encode_piece_header(0, 100, 100000) + "x"));  // any offset: blocks follow the remote's message size
  CHECK(fails(w::encode_piece_header(0, 100000, 100000) + "x"));  // past the chunk's end
  CHECK(fails(w::encode_piece_header(0, 0, 200000) + std::string(w::kBlockSize + 1, 'x')));
  CHECK(fails(w::encode_reject(1, w::RejectReason::busy).substr(0, 5) + "\x09"));  // unknown reason
  w::Hello h{"p", "v", 10, {0xff}};                           // bitfield too short for 10 chunks
  CHECK(fails(w::encode(h)));
  h = {"p", "../x", 8, {0xff}};
  CHECK(fails(w::encode(h)));
  std::string bad_version = w::encode(w::Hello{"p", "v", 8, {0}});
  bad_version[1] = 9;
  CHECK(fails(bad_version));
}

TEST_CASE("scheduler: server in order, peers rarest first") {
  hn::ChunkScheduler s(6);
  using S = hn::ChunkScheduler::State;
  CHECK(s.missing() == 6);
  CHECK(*s.next_for_server(nullptr, true) == 0);
  s.set(0, S::server);
  CHECK(*s.next_for_server(nullptr, true) == 1);
  // Chunks 1 and 2 are held by peers: the server gets 3, or falls back to 1 when asked to.
  auto peer_has = [](uint32_t i) { return i == 1 || i == 2 || i == 3 || i == 4 || i == 5; };
  CHECK_FALSE(s.next_for_server(peer_has, false));
  CHECK(*s.next_for_server(peer_has, true) == 1);
  CHECK(*s.next_for_server([](uint32_t i) { return i < 3; }, false) == 3);
  auto holders = [](uint32_t i) { return i == 5 ? 1 : i == 2 ? 3 : i == 4 ? 0 : 2; };
  auto order = s.rarest_first(holders, 10);
  REQUIRE(order.size() == 4);  // 0 is in flight, 4 has no holder
  CHECK(order[0] == 5);
  CHECK(order.back() == 2);
  s.set(0, S::have);
  s.set(1, S::have);
  CHECK(s.held() == 2);
  CHECK(s.missing_list(10) == std::vector<uint32_t>{2, 3, 4, 5});
  for (uint32_t i = 2; i < 6; ++i) s.set(i, S::have);
  CHECK(s.complete());
}
