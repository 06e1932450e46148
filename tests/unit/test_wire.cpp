#include <doctest/doctest.h>

#include <algorithm>
#include <optional>
#include <random>

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
  CHECK(*s.next_for_server() == 0);
  s.set(0, S::server);
  CHECK(*s.next_for_server() == 1);
  // Holders: 1, 3 and 0 have one, 2 has three, 4 none, 5 two.
  for (uint32_t i : {1u, 3u, 0u, 2u, 2u, 2u, 5u, 5u}) s.add_holder(i);
  // Every missing chunk but 4 is held by a peer: the server gets 4 (first from the spread start on,
  // wrapping), and chunk 1 too when it is urgent and server-first.
  CHECK(*s.next_for_server_spread(0, 5) == 4);
  CHECK(*s.next_for_server_spread(2, 0) == 4);
  s.set_server_first(1, true);
  CHECK(*s.next_for_server_spread(2, 0) == 1);
  CHECK(*s.next_for_server_spread(0, 2) == 4);
  s.set_server_first(1, false);
  auto order = s.rarest_first(10);
  REQUIRE(order.size() == 4);  // 0 is in flight, 4 has no holder
  CHECK(order == std::vector<uint32_t>{1, 3, 5, 2});
  s.remove_holder(5);  // now as rare as 1 and 3: index order among equals
  CHECK(s.rarest_first(2) == std::vector<uint32_t>{1, 3});
  CHECK(s.rarest_first(10) == std::vector<uint32_t>{1, 3, 5, 2});
  s.set(0, S::missing);  // back from the server: it has a holder
  CHECK(s.rarest_first(1) == std::vector<uint32_t>{0});
  s.add_holder(4);
  CHECK_FALSE(s.next_for_server_spread(6, 0));  // peers can give every missing chunk
  s.set(0, S::have);
  s.set(1, S::have);
  CHECK(s.held() == 2);
  CHECK(s.missing_list(10) == std::vector<uint32_t>{2, 3, 4, 5});
  for (uint32_t i = 2; i < 6; ++i) s.set(i, S::have);
  CHECK(s.complete());
  CHECK(s.rarest_first(10).empty());
}

// The choices the incremental sets make are the ones a walk over every chunk made before (issue 16).
TEST_CASE("scheduler: incremental choices equal a full walk") {
  using S = hn::ChunkScheduler::State;
  std::mt19937 rng(16);
  for (int round = 0; round < 20; ++round) {
    uint32_t n = 1 + rng() % 300;
    hn::ChunkScheduler s(n);
    std::vector<S> state(n, S::missing);
    std::vector<int> holders(n, 0);
    std::vector<bool> first(n, false);
    for (int step = 0; step < 3000; ++step) {
      uint32_t i = rng() % n;
      switch (rng() % 5) {
        case 0: state[i] = static_cast<S>(rng() % 5); s.set(i, state[i]); break;
        case 1: holders[i]++; s.add_holder(i); break;
        case 2: if (holders[i] > 0) { holders[i]--; s.remove_holder(i); } break;
        case 3: first[i] = !first[i]; s.set_server_first(i, first[i]); break;
        default: break;
      }
      auto can_give = [&](uint32_t k) { return holders[k] > 0 && !first[k]; };
      // The walks of the scheduler before issue 16.
      size_t urgent = rng() % 4;
      uint32_t start = rng() % n;
      std::optional<uint32_t> spread;
      size_t seen = 0;
      for (uint32_t k = 0; k < n && seen < urgent && !spread; ++k)
        if (state[k] == S::missing && (++seen, !can_give(k))) spread = k;
      for (size_t k = 0; k < n && !spread; ++k) {
        uint32_t j = static_cast<uint32_t>((start + k) % n);
        if (state[j] == S::missing && !can_give(j)) spread = j;
      }
      std::vector<std::pair<int, uint32_t>> c;
      std::vector<uint32_t> missing;
      for (uint32_t k = 0; k < n; ++k)
        if (state[k] == S::missing) {
          missing.push_back(k);
          if (holders[k] > 0) c.emplace_back(holders[k], k);
        }
      std::sort(c.begin(), c.end());
      std::vector<uint32_t> rarest;
      for (size_t k = 0; k < c.size() && rarest.size() < 16; ++k) rarest.push_back(c[k].second);
      REQUIRE(s.next_for_server_spread(urgent, start) == spread);
      REQUIRE(s.rarest_first(16) == rarest);
      REQUIRE(s.missing() == missing.size());
      REQUIRE(s.next_for_server() == (missing.empty() ? std::nullopt : std::optional<uint32_t>(missing[0])));
    }
  }
}
