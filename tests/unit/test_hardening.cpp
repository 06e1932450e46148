// Issue 23: long-poll waiters that die with their connection, shared buffers, the live memory bound,
// keyless streams cut by time, a local store that opens only regular files, catalog change detection,
// numeric flags that refuse nan.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <ctime>
#include <fstream>

#include "config/options.h"
#include "content/live_channel.h"
#include "hybridnode/chunk_store.h"
#include "media/sha256.h"
#include "media/ts_chunker.h"
#include "temp_dir.h"

using namespace hn;

namespace {
media::TsChunk chunk_of(size_t bytes, char fill) {
  media::TsChunk c;
  c.bytes = std::string(bytes, fill);
  c.bytes[0] = 0x47;
  c.duration = 1;
  c.starts_with_keyframe = true;
  return c;
}
}  // namespace

TEST_CASE("live waiters: cancel drops the waiter, one publish wakes all in order and shares one manifest") {
  content::LiveChannel ch("news", 5, 1.0);
  std::vector<std::shared_ptr<const std::string>> seen;
  std::vector<uint64_t> tokens;
  for (int i = 0; i < 1000; ++i) tokens.push_back(ch.wait(0, 100.0 + i, [&] { seen.push_back(ch.manifest()); }));
  CHECK(ch.waiters() == 1000);
  for (int i = 0; i < 1000; i += 2) ch.cancel(tokens[i]);  // their connections died
  CHECK(ch.waiters() == 500);
  ch.cancel(tokens[0]);  // twice: harmless
  ch.publish(chunk_of(1000, 'a'), 1);
  CHECK(ch.waiters() == 0);
  REQUIRE(seen.size() == 500);
  for (const auto& m : seen) CHECK(m.get() == seen.front().get());  // serialised once
  CHECK(ch.wait(0, 1.0, [] {}) == 0);  // already there: answered at once, no token
}

TEST_CASE("live waiters: expiry takes only the due ones, earliest first") {
  content::LiveChannel ch("news", 5, 1.0);
  std::vector<int> order;
  ch.wait(3, 30.0, [&] { order.push_back(30); });
  ch.wait(3, 10.0, [&] { order.push_back(10); });
  ch.wait(3, 20.0, [&] { order.push_back(20); });
  ch.expire(5.0);
  CHECK(order.empty());
  ch.expire(25.0);
  CHECK(order == std::vector<int>{10, 20});
  CHECK(ch.waiters() == 1);
  ch.end();
  CHECK(order == std::vector<int>{10, 20, 30});
}

TEST_CASE("live window: bounded in bytes whatever its length") {
  content::LiveChannel ch("news", 1024, 1.0, 10u << 20);
  for (int i = 0; i < 20; ++i) ch.publish(chunk_of(1u << 20, static_cast<char>('a' + i)), i);
  CHECK(ch.bytes() <= (10u << 20));
  CHECK(ch.by_seq(19) != nullptr);
  CHECK(ch.by_seq(9) == nullptr);
  content::LiveChannel tiny("news", 30, 1.0, 1);
  for (int i = 0; i < 5; ++i) tiny.publish(chunk_of(4096, static_cast<char>('a' + i)), i);
  CHECK(tiny.by_seq(3) != nullptr);  // two chunks always stay
  CHECK(tiny.by_seq(4) != nullptr);
  CHECK(tiny.by_seq(2) == nullptr);
}

TEST_CASE("ts chunker: a stream without keyframes is cut by the arrival clock, and marked") {
  media::TsChunker c(1.0);
  std::string pkt(188, '\xff');
  pkt[0] = 0x47;
  pkt[1] = 0x01;  // PID 0x100, no PES, no keyframe
  pkt[2] = 0x00;
  pkt[3] = 0x10;
  std::vector<media::TsChunk> out;
  for (int i = 0; i < 1000; ++i) {  // 10 s at 100 packets/s
    for (auto& k : c.feed(reinterpret_cast<const uint8_t*>(pkt.data()), pkt.size(), i * 0.01)) out.push_back(std::move(k));
  }
  REQUIRE(out.size() >= 9);
  for (const auto& k : out) {
    CHECK_FALSE(k.starts_with_keyframe);
    CHECK(k.duration == doctest::Approx(1.0).epsilon(0.05));
    CHECK(k.bytes.size() % 188 == 0);
  }
  content::LiveChannel ch("news", 5, 1.0);
  ch.publish(std::move(out[0]), 1);
  CHECK(ch.manifest_json().find("\"keyframe\":false") != std::string::npos);
}

TEST_CASE("local store: only regular files of the store are chunks or manifests") {
  TempDir d;
  auto st = open_local_store(d.path);
  REQUIRE(st);
  auto& s = **st;
  std::string data(5000, 'x');
  std::string id = sha256_hex(data.data(), data.size());
  REQUIRE(s.put_chunk(id, data.data(), data.size()));
  auto ok = s.open_chunk(id);
  REQUIRE(ok);
  CHECK(ok->length == 5000);
  std::string path = d.path + "/chunks/" + id.substr(0, 2) + "/" + id;
  auto replace = [&](auto make) {
    ::unlink(path.c_str());
    make();
    auto r = s.open_chunk(id);
    CHECK_FALSE(r);
    return r ? std::string() : r.error();
  };
  CHECK(replace([&] { REQUIRE(::symlink("/etc/passwd", path.c_str()) == 0); }).find("symlink") != std::string::npos);
  ::unlink(path.c_str());
  auto t0 = std::chrono::steady_clock::now();
  CHECK(replace([&] { REQUIRE(::mkfifo(path.c_str(), 0644) == 0); }).find("not a regular file") != std::string::npos);
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(5));  // did not block in open()
  ::unlink(path.c_str());
  CHECK(replace([&] { REQUIRE(::mkdir(path.c_str(), 0755) == 0); }).find("not a regular file") != std::string::npos);
  ::rmdir(path.c_str());
  auto gone = s.open_chunk(id);
  REQUIRE_FALSE(gone);
  CHECK(gone.error().rfind(kNotFound, 0) == 0);
  // Written again (a fresh exclusive temp file) once the bad entry is gone.
  REQUIRE(s.put_chunk(id, data.data(), data.size()));
  CHECK(s.open_chunk(id));
}

TEST_CASE("local store: /dev/zero and FIFO manifests are skipped; catalog_version tracks changes") {
  TempDir d;
  auto st = open_local_store(d.path);
  REQUIRE(st);
  auto& s = **st;
  Manifest m;
  m.video_id = "v";
  m.chunk_size = 4096;
  m.total_size = 10;
  m.media_type = "video/mp4";
  m.chunks.push_back({std::string(64, 'a'), 10});
  REQUIRE(s.put_manifest(m));
  // The token is the videos folder's stamp; a folder changed within the last second or so has none yet
  // (a second change in the same clock tick could keep its mtime), so the test ages it.
  std::string vdir = d.path + "/videos";
  auto age = [&] {
    struct timespec old[2];
    ::clock_gettime(CLOCK_REALTIME, &old[0]);
    old[0].tv_sec -= 10;
    old[1] = old[0];
    REQUIRE(::utimensat(AT_FDCWD, vdir.c_str(), old, 0) == 0);
  };
  auto fresh = s.catalog_version();
  REQUIRE(fresh);
  CHECK(fresh->empty());  // just written: unknown, the server lists again
  age();
  auto v1 = s.catalog_version();
  REQUIRE(v1);
  CHECK_FALSE(v1->empty());
  CHECK(*s.catalog_version() == *v1);  // unchanged: the same token
  auto l1 = s.list_manifests();
  REQUIRE(l1);
  REQUIRE(l1->has_value());
  REQUIRE((*l1)->size() == 1);
  CHECK((*l1)->front().video_id == "v");
  CHECK_FALSE((*l1)->front().stamp.empty());
  REQUIRE(::symlink("/dev/zero", (vdir + "/zero.json").c_str()) == 0);
  REQUIRE(::mkfifo((vdir + "/fifo.json").c_str(), 0644) == 0);
  auto all = s.load_manifests();  // returns (a FIFO would block, /dev/zero would never end)
  REQUIRE(all);
  REQUIRE(all->size() == 1);
  CHECK(all->front().video_id == "v");
  auto some = s.load_manifests(std::vector<std::string>{"v", "zero", "fifo", "gone"});
  REQUIRE(some);
  REQUIRE(some->size() == 1);
  age();
  CHECK(*s.catalog_version() != *v1);
  auto v2 = *s.catalog_version();
  m.title = "changed";
  REQUIRE(s.put_manifest(m));
  age();
  CHECK(*s.catalog_version() != v2);
  auto l2 = s.list_manifests();
  REQUIRE(l2);
  std::string stamp_v;
  for (const auto& e : **l2)
    if (e.video_id == "v") stamp_v = e.stamp;
  CHECK(stamp_v != (*l1)->front().stamp);  // rewritten (a new inode): a new stamp
}

TEST_CASE("numeric flags refuse nan and inf") {
  config::OptionSpec o{"rate", config::Type::number, "1", "", 0, 100};
  CHECK_FALSE(config::check_value(o, "nan"));
  CHECK_FALSE(config::check_value(o, "inf"));
  CHECK_FALSE(config::check_value(o, "-nan"));
  CHECK(config::check_value(o, "2.5"));
}

// Red team s3: the peer's offer memory is pruned by age (not only past 4096 entries) and bounded under a flood.
#include "peer/offer_memory.h"

TEST_CASE("offer memory forgets remotes by age and stays bounded") {
  OfferMemory m(8, 100);
  for (int i = 0; i < 50; i++) CHECK(m.record("r" + std::to_string(i), 1.0));
  CHECK(m.size() == 50);
  CHECK(m.at("r7") == 1.0);
  CHECK(m.record("late", 9.5));  // everyone else offered 8.5 s ago: forgotten
  CHECK(m.size() == 1);
  CHECK(!m.at("r7"));
  for (int i = 0; i < 200; i++) m.record("f" + std::to_string(i), 10.0);  // a flood of fresh ids
  CHECK(m.size() == 100);
  CHECK(!m.record("another", 10.1));
  CHECK(m.record("late", 10.2));  // known remotes are still updated
  CHECK(m.record("after", 19.0));  // the flood aged out
  CHECK(m.size() <= 2);
}

#include "net/ip_budget.h"

TEST_CASE("per-address TLS handshake budget: IPv4 by address, IPv6 by /64, refills, bounded") {
  CHECK(net::IpBudget::key_of("10.0.0.1:443") == "10.0.0.1");
  CHECK(net::IpBudget::key_of("[2001:db8:1:2:aaaa::1]:5") == "2001:db8:1:2::/64");
  CHECK(net::IpBudget::key_of("[::ffff:10.0.0.1]:5") == "10.0.0.1");
  net::IpBudget b(10, 20, 4);
  uint64_t t = 1000000000ull;
  int ok = 0;
  for (int i = 0; i < 100; i++) ok += b.take("10.0.0.1:1", t);
  CHECK(ok == 20);
  CHECK(b.take("10.0.0.2:1", t));                       // another address has its own budget
  CHECK(b.take("10.0.0.1:2", t + 200000000ull));        // 0.2 s later: 2 more
  CHECK(b.take("10.0.0.1:2", t + 200000000ull));
  CHECK(!b.take("10.0.0.1:2", t + 200000000ull));
  CHECK(b.take("[2001:db8::1]:1", t));
  for (int i = 0; i < 20; i++) b.take("[2001:db8::" + std::to_string(i + 2) + "]:1", t);  // same /64
  CHECK(!b.take("[2001:db8::99]:1", t));
  CHECK(b.size() <= 4);
  CHECK(b.take("10.0.0.9:1", t + 10000000000ull));  // 10 s later: idle buckets swept
  CHECK(b.size() == 1);
}

// Red team s4: a peer's ban list is bounded in size and in time (fresh ids cannot grow it without limit).
#include "peer/ban_list.h"

TEST_CASE("ban list: bans expire, the oldest makes room, renewals keep one entry") {
  BanList b(100, 50);
  b.ban("liar", 1.0);
  CHECK(b.banned("liar", 50.0));
  CHECK(!b.banned("honest", 50.0));
  for (int i = 0; i < 1000; i++) b.ban("sybil" + std::to_string(i), 2.0 + i * 0.001);
  CHECK(b.size() == 50);
  CHECK(!b.banned("liar", 3.0));  // the oldest ban made room
  CHECK(b.banned("sybil999", 3.0));
  for (int i = 0; i < 10; i++) b.ban("again", 4.0 + i);  // renewed, still one entry
  CHECK(b.size() == 50);
  CHECK(b.banned("again", 110.0));  // renewed at 13: lasts to 113
  CHECK(!b.banned("sybil999", 110.0));
  b.ban("late", 200.0);  // everything older than 100 s expires
  CHECK(b.size() == 1);
  CHECK(b.banned("late", 201.0));
}
