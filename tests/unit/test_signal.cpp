#include <doctest/doctest.h>
#include <set>

#include "net/ws_handshake.h"
#include "util/bitfield.h"
#include "signal/signal_message.h"
#include "signal/swarm_registry.h"

using hn::signal::Message;
using hn::signal::SignalError;
using hn::signal::SwarmRegistry;

TEST_CASE("bitfield: BitTorrent bit order, spare bits, base64") {
  hn::Bitfield b(10);
  b.set(0);
  b.set(9);
  b.set(10);  // out of range: ignored
  CHECK(b.get(0));
  CHECK(b.get(9));
  CHECK_FALSE(b.get(1));
  CHECK(b.count_set() == 2);
  CHECK(b.bytes()[0] == 0x80);
  CHECK(b.bytes()[1] == 0x40);
  std::vector<uint8_t> raw;
  REQUIRE(hn::Bitfield::from_base64(b.to_base64(), raw));
  hn::Bitfield c;
  CHECK(c.assign(10, raw));
  CHECK(c.get(9));
  CHECK_FALSE(c.assign(10, {0xff, 0xff}));  // bits past chunk 9 set
  CHECK_FALSE(c.assign(10, {0xff}));        // too short
  CHECK_FALSE(hn::Bitfield::from_base64("abc", raw));
  CHECK_FALSE(hn::Bitfield::from_base64("a=bc", raw));
  CHECK(hn::Bitfield::from_base64("/8A=", raw));
  CHECK(raw == std::vector<uint8_t>{0xff, 0xc0});
}

TEST_CASE("registry: join, have, lookup, leave") {
  SwarmRegistry r;
  CHECK_FALSE(r.join(1, "v", "a", 4, {0xa0}, 0));  // chunks 0 and 2
  CHECK_FALSE(r.join(2, "v", "b", 4, {}, 0));
  CHECK(r.swarm_size("v") == 2);
  auto found = r.lookup(2, 0, 8);
  REQUIRE(found.size() == 1);
  CHECK(found[0]->peer == "a");
  CHECK(r.lookup(2, 1, 8).empty());
  CHECK(r.lookup(1, 0, 8).empty());  // the asker is never its own answer
  CHECK_FALSE(r.have(2, {1}));
  CHECK(r.lookup(1, 1, 8).size() == 1);
  CHECK(r.have(2, {4})->code == "bad_chunk");
  CHECK(r.route(2, "a") == std::optional<hn::signal::ConnId>(1));
  CHECK_FALSE(r.route(2, "zed"));
  CHECK(r.leave(1));
  CHECK_FALSE(r.route(2, "a"));
  CHECK(r.leave(2));
  CHECK(r.swarm_count() == 0);
}

TEST_CASE("registry: refusals") {
  SwarmRegistry r;
  CHECK_FALSE(r.join(1, "v", "a", 4, {}, 0));
  CHECK(r.join(1, "w", "x", 4, {}, 0)->code == "already_joined");
  CHECK(r.join(2, "v", "a", 4, {}, 0)->code == "id_taken");
  CHECK(r.join(2, "v", "b", 5, {}, 0)->code == "bad_bitfield");
  CHECK(r.join(2, "v", "b", 4, {0, 0}, 0)->code == "bad_bitfield");
  CHECK(r.join(2, "v", "b", 4, {0x08}, 0)->code == "bad_bitfield");  // bit past chunk 3
  CHECK(r.have(3, {0})->code == "not_joined");
  CHECK(r.lookup(3, 0, 8).empty());
  CHECK_FALSE(r.join(2, "other", "a", 9, {}, 0));  // same id in another swarm is fine
}

TEST_CASE("registry: lookup ranks by fewest uploads and caps the count") {
  SwarmRegistry r;
  for (int i = 0; i < 10; ++i) CHECK_FALSE(r.join(static_cast<hn::signal::ConnId>(i + 1), "v", "p" + std::to_string(i), 1, {0x80}, 0));
  CHECK_FALSE(r.join(100, "v", "asker", 1, {}, 0));
  for (int i = 0; i < 10; ++i) r.set_load(static_cast<hn::signal::ConnId>(i + 1), static_cast<uint32_t>(10 - i));
  auto got = r.lookup(100, 0, 3);
  REQUIRE(got.size() == 3);
  CHECK(got[0]->peer == "p9");
  CHECK(got[1]->peer == "p8");
  CHECK(got[2]->peer == "p7");
}

TEST_CASE("registry: silent members expire, touched ones stay") {
  SwarmRegistry r;
  CHECK_FALSE(r.join(1, "v", "a", 1, {}, 0));
  CHECK_FALSE(r.join(2, "v", "b", 1, {}, 0));
  r.touch(2, 20);
  auto gone = r.expire(31, 30);
  REQUIRE(gone.size() == 1);
  CHECK(gone[0] == 1);
  CHECK(r.member_count() == 1);
  CHECK(r.member(2) != nullptr);
}

TEST_CASE("message validation") {
  auto err = [](const char* text) {
    auto r = hn::signal::parse_message(text);
    return std::holds_alternative<SignalError>(r) ? std::get<SignalError>(r).code : std::string("ok");
  };
  CHECK(err("{") == "bad_json");
  CHECK(err("3") == "bad_json");
  CHECK(err(R"({"type":1})") == "bad_message");
  CHECK(err(R"({"type":"fly"})") == "unknown_type");
  CHECK(err(R"({"type":"join","video":"v","peer":"p","chunk_count":3})") == "ok");
  CHECK(err(R"({"type":"join","video":"v","peer":"p","chunk_count":0})") == "bad_message");
  CHECK(err(R"({"type":"join","video":"v","peer":"p q","chunk_count":3})") == "bad_message");
  CHECK(err(R"({"type":"join","video":"v","peer":"p","chunk_count":3,"have":"%%"})") == "bad_bitfield");
  CHECK(err(R"({"type":"lookup","chunks":[1,2]})") == "ok");
  CHECK(err(R"({"type":"lookup","chunks":[1.5]})") == "bad_message");
  CHECK(err(R"({"type":"offer","to":"b","sdp":"v=0"})") == "ok");
  CHECK(err(R"({"type":"candidate","to":"b"})") == "bad_message");
  CHECK(err(R"({"type":"load","uploads":-1})") == "bad_message");
  auto m = std::get<Message>(hn::signal::parse_message(R"({"type":"offer","to":"b","sdp":"v=0","x":1})"));
  CHECK(m.relay.dump() == R"({"sdp":"v=0","type":"offer","x":1})");
}

TEST_CASE("websocket accept key (RFC 6455 section 1.3 example)") {
  CHECK(hn::net::ws_accept_for("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  CHECK(hn::net::ws_client_key().size() == 24);
}

TEST_CASE("registry: lookup ranks holders by the asker's reported RTT, then by uploads") {
  SwarmRegistry r;
  CHECK_FALSE(r.join(1, "v", "near", 1, {0x80}, 0));
  CHECK_FALSE(r.join(2, "v", "far", 1, {0x80}, 0));
  CHECK_FALSE(r.join(3, "v", "unknown", 1, {0x80}, 0));
  CHECK_FALSE(r.join(9, "v", "asker", 1, {}, 0));
  r.set_load(3, 0);
  r.set_load(1, 5);
  r.set_load(2, 5);
  CHECK_FALSE(r.set_rtt(9, {{"far", 80.f}, {"near", 5.f}}));
  auto got = r.lookup(9, 0, 3);
  REQUIRE(got.size() == 3);
  CHECK(got[0]->peer == "near");
  CHECK(got[1]->peer == "far");
  CHECK(got[2]->peer == "unknown");  // fewer uploads, but no RTT known: after the measured ones
  CHECK(r.set_rtt(42, {})->code == "not_joined");
  auto bad = hn::signal::parse_message(R"({"type":"rtt","peers":{"a b":1}})");
  CHECK(std::get<SignalError>(bad).code == "bad_message");
  auto ok = hn::signal::parse_message(R"({"type":"rtt","peers":{"near":4.5}})");
  REQUIRE(std::holds_alternative<Message>(ok));
  CHECK(std::get<Message>(ok).rtt_ms.size() == 1);
}

TEST_CASE("issue 22: JSON depth bounded before parsing; chunk_count capped; bitfield memory budgeted") {
  auto err = [](const std::string& text) {
    auto r = hn::signal::parse_message(text);
    return std::holds_alternative<SignalError>(r) ? std::get<SignalError>(r).code : std::string("ok");
  };
  auto offer = [](int depth) {
    return R"({"type":"offer","to":"b","sdp":"v=0","x":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
  };
  CHECK(err(offer(63)) == "ok");  // 64 levels with the message object itself
  CHECK(err(offer(64)) == "bad_json");
  CHECK(err(offer(70000)) == "bad_json");
  // Brackets inside strings are not nesting.
  CHECK(err(R"({"type":"offer","to":"b","sdp":")" + std::string(5000, '[') + R"(\"{"})") == "ok");
  CHECK(err(R"({"type":"join","video":"v","peer":"p","chunk_count":262144})") == "ok");
  CHECK(err(R"({"type":"join","video":"v","peer":"p","chunk_count":1048576})") == "bad_message");
  SwarmRegistry r;
  r.set_bitfield_budget(4 * 32768);  // three members and their swarm's own bitfield (issue 15)
  for (uint64_t i = 1; i <= 3; ++i) CHECK_FALSE(r.join(i, "v", "p" + std::to_string(i), 262144, {}, 0));
  CHECK(r.join(4, "v", "p4", 262144, {}, 0)->code == "busy");
  CHECK(r.bitfield_bytes() == 4 * 32768);
  r.leave(2);
  CHECK_FALSE(r.join(4, "v", "p4", 262144, {}, 0));
}

TEST_CASE("issue 15: a lookup in a large swarm looks at about `max` members, not the whole swarm") {
  SwarmRegistry r;
  const int n = 20000;
  for (int i = 0; i < n; ++i)
    CHECK_FALSE(r.join(static_cast<hn::signal::ConnId>(i + 1), "v", "p" + std::to_string(i), 16, {0x80, 0x00}, 0));  // chunk 0 held
  CHECK_FALSE(r.join(100000, "v", "asker", 16, {}, 0));
  size_t budget = 1 << 20;
  auto got = r.lookup(100000, 0, 8, budget);
  CHECK(got.size() == 8);
  CHECK((1 << 20) - budget <= 9);  // everyone holds it: eight holders met within nine members
  // Nobody holds chunk 5: answered without walking anyone.
  budget = 1 << 20;
  CHECK(r.lookup(100000, 5, 8, budget).empty());
  CHECK(budget == 1 << 20);
  // One holder of chunk 3, wherever it sits: found by a walk, and a lookup that runs out of budget stops.
  CHECK_FALSE(r.have(n / 2, {3}));
  budget = 1 << 20;
  got = r.lookup(100000, 3, 8, budget);
  REQUIRE(got.size() == 1);
  CHECK(got[0]->conn == static_cast<hn::signal::ConnId>(n / 2));
  budget = 100;
  r.lookup(100000, 3, 8, budget);
  CHECK(budget == 0);
  // The holder leaves: the first full walk finds nobody and clears the chunk's bit, the next one walks no one.
  r.leave(n / 2);
  budget = 1 << 20;
  CHECK(r.lookup(100000, 3, 8, budget).empty());
  CHECK((1 << 20) - budget == static_cast<size_t>(n));  // everyone but the holder that left, asker included
  budget = 1 << 20;
  CHECK(r.lookup(100000, 3, 8, budget).empty());
  CHECK(budget == 1 << 20);
}

TEST_CASE("issue 15: equal loads rotate between lookups; reported loads move members between ranks") {
  SwarmRegistry r;
  for (int i = 0; i < 40; ++i)
    CHECK_FALSE(r.join(static_cast<hn::signal::ConnId>(i + 1), "v", "p" + std::to_string(i), 1, {0x80}, 0));
  CHECK_FALSE(r.join(100, "v", "asker", 1, {}, 0));
  std::set<std::string> seen;
  for (int k = 0; k < 20; ++k)
    for (const auto* m : r.lookup(100, 0, 2)) seen.insert(m->peer);
  CHECK(seen.size() > 10);  // not the same two seeders every time
  for (int i = 0; i < 40; ++i) r.set_load(static_cast<hn::signal::ConnId>(i + 1), 3);
  r.set_load(7, 1);
  r.set_load(9, 0);
  r.set_load(9, 2);  // moved twice: ranked by its latest report
  auto got = r.lookup(100, 0, 3);
  REQUIRE(got.size() == 3);
  CHECK(got[0]->peer == "p6");
  CHECK(got[1]->peer == "p8");
  CHECK(got[2]->uploads == 3);
  // Leaving members are gone from every rank; the rest are all still found.
  for (int i = 0; i < 40; i += 2) r.leave(static_cast<hn::signal::ConnId>(i + 1));
  std::set<std::string> all;
  for (const auto* m : r.lookup(100, 0, 50)) all.insert(m->peer);
  CHECK(all.size() == 20);
  CHECK(all.count("p0") == 0);
  CHECK(all.count("p1") == 1);
}
