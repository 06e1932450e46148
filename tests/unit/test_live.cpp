#include <doctest/doctest.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "content/live_channel.h"
#include "content/live_source.h"
#include "hybridnode/ids.h"
#include "media/hls.h"
#include "media/live_manifest.h"
#include "media/sha256.h"
#include "media/ts_chunker.h"
#include "temp_dir.h"

using namespace hn;

namespace {
std::string encode_ts(int seconds, const std::string& extra) {
  TempDir d;
  std::string out = d.file("s.ts");
  std::string cmd = "ffmpeg -nostdin -v error -y -f lavfi -i testsrc=size=160x120:rate=25 -f lavfi -i sine "
                    "-t " + std::to_string(seconds) + " -c:v libx264 -preset ultrafast -g 25 -c:a aac " + extra + " -f mpegts " + out;
  REQUIRE(std::system(cmd.c_str()) == 0);
  std::ifstream f(out, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// A 6 s MPEG-TS from ffmpeg (keyframe every second), made once per test run.
const std::string& sample_ts() {
  static std::string bytes = encode_ts(6, "");
  return bytes;
}

std::vector<media::TsChunk> chunk_all(const std::string& ts, size_t feed_size, double target, double now = -1) {
  media::TsChunker c(target);
  std::vector<media::TsChunk> out;
  for (size_t i = 0; i < ts.size(); i += feed_size) {
    auto got = c.feed(reinterpret_cast<const uint8_t*>(ts.data() + i), std::min(feed_size, ts.size() - i), now);
    for (auto& g : got) out.push_back(std::move(g));
  }
  if (auto last = c.flush()) out.push_back(std::move(*last));
  return out;
}
}  // namespace

TEST_CASE("TS chunker: keyframe-aligned chunks of the target duration, bytes preserved, any feed size") {
  const std::string& ts = sample_ts();
  REQUIRE(ts.size() % 188 == 0);
  auto a = chunk_all(ts, 1000, 1.0);
  auto b = chunk_all(ts, 7, 1.0);  // odd feed sizes split packets: same cuts
  REQUIRE(a.size() >= 5);
  REQUIRE(a.size() == b.size());
  std::string joined;
  for (size_t i = 0; i < a.size(); ++i) {
    CHECK(a[i].bytes == b[i].bytes);
    CHECK(a[i].bytes.size() % 188 == 0);
    CHECK(static_cast<uint8_t>(a[i].bytes[0]) == 0x47);
    joined += a[i].bytes;
    if (i > 0 && i + 1 < a.size()) {
      CHECK(a[i].starts_with_keyframe);
      CHECK(a[i].duration == doctest::Approx(1.0).epsilon(0.05));
      // Every chunk after the first opens with the PAT (PID 0) a player needs to start there.
      CHECK(((static_cast<uint8_t>(a[i].bytes[1]) & 0x1f) << 8 | static_cast<uint8_t>(a[i].bytes[2])) == 0);
    }
  }
  CHECK(joined == ts);
  auto two = chunk_all(ts, 4096, 2.0);
  CHECK(two.size() < a.size());
}

TEST_CASE("TS chunker: garbage between packets is skipped and counted") {
  const std::string& ts = sample_ts();
  std::string dirty = std::string("garbage!") + ts.substr(0, 188 * 50) + "xx" + ts.substr(188 * 50);
  media::TsChunker c(1.0);
  size_t total = 0;
  for (auto& k : c.feed(reinterpret_cast<const uint8_t*>(dirty.data()), dirty.size())) total += k.bytes.size();
  if (auto last = c.flush()) total += last->bytes.size();
  CHECK(c.bytes_skipped() == 10);
  CHECK(total == ts.size());
}

TEST_CASE("live channel: sliding window, manifest, playlist, long-poll waiters") {
  content::LiveChannel ch("news", 3, 1.0);
  int woke = 0;
  ch.wait(0, 100.0, [&] { woke++; });
  CHECK(ch.waiters() == 1);
  for (int i = 0; i < 5; ++i) {
    media::TsChunk c;
    c.bytes = std::string(188, static_cast<char>(0x47)) + std::to_string(i);
    c.duration = 1.0;
    ch.publish(std::move(c), 1000 + i);
  }
  CHECK(woke == 1);
  CHECK(ch.next_seq() == 5);
  CHECK(ch.by_seq(1) == nullptr);  // slid out
  REQUIRE(ch.by_seq(4) != nullptr);
  CHECK(ch.by_id(ch.by_seq(4)->ref.id) == ch.by_seq(4));
  auto m = media::live_manifest_from_json(ch.manifest_json());
  REQUIRE(m);
  CHECK(m->chunks.size() == 3);
  CHECK(m->chunks.front().seq == 2);
  CHECK(m->next_seq() == 5);
  std::string pl = ch.playlist();
  CHECK(pl.find("#EXT-X-MEDIA-SEQUENCE:2\n") != std::string::npos);
  CHECK(pl.find("news/4.ts") != std::string::npos);
  CHECK(pl.find("#EXT-X-TARGETDURATION:1\n") != std::string::npos);
  CHECK(pl.find("ENDLIST") == std::string::npos);
  ch.wait(5, 10.0, [&] { woke++; });
  ch.expire(5.0);
  CHECK(woke == 1);
  ch.expire(10.0);
  CHECK(woke == 2);
  ch.wait(9, 100.0, [&] { woke++; });
  ch.end();
  CHECK(woke == 3);
  CHECK(ch.playlist().find("#EXT-X-ENDLIST") != std::string::npos);
}

TEST_CASE("live manifest: strict parsing") {
  media::LiveManifest m;
  m.video_id = "news";
  m.epoch = "0123456789abcdef";
  m.chunks.push_back({7, std::string(64, 'a'), 100, 1.0, 5});
  m.chunks.push_back({8, std::string(64, 'b'), 100, 1.0, 6});
  auto back = media::live_manifest_from_json(media::live_manifest_to_json(m));
  REQUIRE(back);
  CHECK(back->next_seq() == 9);
  std::string gap = media::live_manifest_to_json(m);
  gap.replace(gap.find("\"seq\":8"), 7, "\"seq\":9");
  CHECK_FALSE(media::live_manifest_from_json(gap));
  CHECK_FALSE(media::live_manifest_from_json("{\"live\":true}"));
  CHECK_FALSE(media::live_manifest_from_json("[]"));
  std::string bad_id = media::live_manifest_to_json(m);
  bad_id.replace(bad_id.find("\"news\""), 6, "\"../x\"");
  CHECK_FALSE(media::live_manifest_from_json(bad_id));
  // Integers written as huge floats (a cast to an integer would be undefined behaviour): refused.
  std::string floaty = media::live_manifest_to_json(m);
  floaty.replace(floaty.find("\"published_ms\":5"), 16, "\"published_ms\":1.8e22");
  CHECK_FALSE(media::live_manifest_from_json(floaty));
  std::string neg = media::live_manifest_to_json(m);
  neg.replace(neg.find("\"seq\":7"), 7, "\"seq\":-7");
  CHECK_FALSE(media::live_manifest_from_json(neg));
  // Red team s3: seqs so large that seq + 1 (next_seq) or seq + a window wraps through 0 are refused; a
  // wrap made [2^64-1, 0] "consecutive" and put a viewer's join point after its own edge.
  media::LiveManifest wrap = m;
  wrap.chunks[0].seq = UINT64_MAX;
  wrap.chunks[1].seq = 0;
  CHECK_FALSE(media::live_manifest_from_json(media::live_manifest_to_json(wrap)));
  wrap.chunks[0].seq = (1ull << 53) - 1;
  wrap.chunks[1].seq = 1ull << 53;
  CHECK_FALSE(media::live_manifest_from_json(media::live_manifest_to_json(wrap)));
  wrap.chunks[0].seq = (1ull << 53) - 3;
  wrap.chunks[1].seq = (1ull << 53) - 2;
  CHECK(media::live_manifest_from_json(media::live_manifest_to_json(wrap)));
}

TEST_CASE("TS chunker: an encoder restart (timestamps jump back) starts a new chunk at its first keyframe") {
  const std::string& ts = sample_ts();
  auto once = chunk_all(ts, 4096, 1.0);
  auto twice = chunk_all(ts + ts, 4096, 1.0);
  CHECK(twice.size() >= 2 * once.size() - 1);
  size_t joined = 0;
  bool boundary = false;
  for (auto& c : twice) {
    // A chunk starts where the second stream's PAT is (after its SDT packet, at most a few packets in).
    if (joined >= ts.size() && joined <= ts.size() + 3 * 188) boundary = true;
    joined += c.bytes.size();
  }
  CHECK(boundary);
  CHECK(joined == 2 * ts.size());
}

TEST_CASE("HLS: segment names and playlists shared by the server and the viewer endpoint") {
  CHECK(media::parse_segment_name("0.ts") == 0u);
  CHECK(media::parse_segment_name("123.ts") == 123u);
  CHECK_FALSE(media::parse_segment_name(".ts"));
  CHECK_FALSE(media::parse_segment_name("-1.ts"));
  CHECK_FALSE(media::parse_segment_name("12.mp4"));
  CHECK_FALSE(media::parse_segment_name("1a.ts"));
  CHECK_FALSE(media::parse_segment_name("99999999999999999999.ts"));  // > UINT64_MAX
  std::string pl = media::hls_playlist({{4, 1.0000000000000002}, {5, 2.4}}, 1.0, "ch/", true);
  CHECK(pl.find("#EXT-X-TARGETDURATION:3\n") != std::string::npos);
  CHECK(pl.find("#EXT-X-MEDIA-SEQUENCE:4\n#EXTINF:1.000,\nch/4.ts\n#EXTINF:2.400,\nch/5.ts\n#EXT-X-ENDLIST\n") != std::string::npos);
  CHECK(media::hls_playlist({}, 1.0, "x/", false).find("#EXT-X-TARGETDURATION:1\n") != std::string::npos);
}

namespace {
// Where each chunk starts in the joined bytes, and which chunks are marked discontinuous.
std::vector<size_t> marked(const std::vector<media::TsChunk>& chunks, std::vector<size_t>* starts = nullptr) {
  std::vector<size_t> out;
  size_t at = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    if (chunks[i].discontinuity) out.push_back(i);
    if (starts) starts->push_back(at);
    at += chunks[i].bytes.size();
  }
  return out;
}
}  // namespace

TEST_CASE("TS chunker: a forward timestamp jump is a discontinuity, never chunk duration") {
  // Two encodes, the second with its timestamps 30 s ahead (issue 27: a 28 s chunk went into EXTINF).
  static std::string ahead = encode_ts(3, "-output_ts_offset 30");
  const std::string& ts = sample_ts();
  auto chunks = chunk_all(ts + ahead, 4096, 1.0);
  std::vector<size_t> starts;
  auto disc = marked(chunks, &starts);
  REQUIRE(disc.size() == 1);
  // The marked chunk is the first of the second encode (after its SDT, a few packets in).
  CHECK(starts[disc[0]] >= ts.size());
  CHECK(starts[disc[0]] <= ts.size() + 3 * 188);
  for (auto& c : chunks) CHECK(c.duration <= 1.5);
  // Timestamps going back (an encoder restarted on the FIFO) are marked the same way.
  auto twice = chunk_all(ts + ts, 4096, 1.0);
  CHECK(marked(twice).size() == 1);
  for (auto& c : twice) CHECK(c.duration <= 1.5);
  CHECK(marked(chunk_all(ts, 4096, 1.0)).empty());
}

TEST_CASE("TS chunker: a jump under 3x the target is told apart by the wall clock") {
  // The second encode starts ~2 s after the first ends: under 3x a 1 s target, so only arrival times
  // show it is a jump (both arrive at once here) rather than two seconds of video.
  static std::string gap = encode_ts(2, "-output_ts_offset 8");
  const std::string& ts = sample_ts();
  auto blind = chunk_all(ts + gap, 4096, 1.0);
  CHECK(marked(blind).empty());
  double longest = 0;
  for (auto& c : blind) longest = std::max(longest, c.duration);
  CHECK(longest > 2.5);  // without arrival times the gap is taken for video
  auto timed = chunk_all(ts + gap, 4096, 1.0, 50.0);
  CHECK(marked(timed).size() == 1);
  for (auto& c : timed) CHECK(c.duration <= 1.5);
  // Frames that arrive in one burst (a file already written) are not jumps: same cuts as without clock.
  auto burst = chunk_all(ts, 4096, 1.0, 50.0);
  auto plain = chunk_all(ts, 4096, 1.0);
  REQUIRE(burst.size() == plain.size());
  for (size_t i = 0; i < burst.size(); ++i) CHECK(burst[i].duration == doctest::Approx(plain[i].duration));
  CHECK(marked(burst).empty());
}

TEST_CASE("live channel: discontinuities in the manifest and playlist; epochs and stale long polls") {
  content::LiveChannel ch("news", 3, 1.0);
  content::LiveChannel other("news", 3, 1.0);
  CHECK(media::is_live_epoch(ch.epoch()));
  CHECK(ch.epoch() != other.epoch());  // each run of a channel is a new epoch
  for (int i = 0; i < 6; ++i) {
    media::TsChunk c;
    c.bytes = std::string(188, static_cast<char>(0x47)) + std::to_string(i);
    c.duration = 1.0;
    c.discontinuity = i == 2 || i == 4;
    ch.publish(std::move(c), 1000 + i);
  }
  auto m = media::live_manifest_from_json(ch.manifest_json());
  REQUIRE(m);
  CHECK(m->epoch == ch.epoch());
  REQUIRE(m->chunks.size() == 3);  // seqs 3, 4, 5
  CHECK_FALSE(m->chunks[0].discontinuity);
  CHECK(m->chunks[1].discontinuity);
  // Seq 2's discontinuity slid out: counted in EXT-X-DISCONTINUITY-SEQUENCE; seq 4's is tagged.
  std::string pl = ch.playlist();
  CHECK(pl.find("#EXT-X-MEDIA-SEQUENCE:3\n#EXT-X-DISCONTINUITY-SEQUENCE:1\n") != std::string::npos);
  CHECK(pl.find("news/3.ts\n#EXT-X-DISCONTINUITY\n#EXTINF:1.000,\nnews/4.ts\n") != std::string::npos);
  // A long poll from another run is answered at once: a seq beyond the edge, or another epoch.
  CHECK_FALSE(ch.other_run(6, ""));
  CHECK_FALSE(ch.other_run(6, ch.epoch()));
  CHECK(ch.other_run(7, ""));
  CHECK(ch.other_run(67, ch.epoch()));
  CHECK(ch.other_run(2, other.epoch()));
  // Peers of different runs name different swarms on their links; the key stays a valid video id.
  CHECK(media::live_swarm_key("news", ch.epoch()) != media::live_swarm_key("news", other.epoch()));
  CHECK(is_video_id(media::live_swarm_key(std::string(64, 'x'), ch.epoch())));
}

TEST_CASE("live manifest: epoch required and checked; discontinuity optional") {
  media::LiveManifest m;
  m.video_id = "news";
  m.epoch = "00ff";
  m.chunks.push_back({7, std::string(64, 'a'), 100, 1.0, 5, true});
  std::string j = media::live_manifest_to_json(m);
  auto back = media::live_manifest_from_json(j);
  REQUIRE(back);
  CHECK(back->epoch == "00ff");
  CHECK(back->chunks[0].discontinuity);
  std::string no_epoch = j;
  no_epoch.replace(no_epoch.find("\"epoch\":\"00ff\","), 15, "");
  CHECK_FALSE(media::live_manifest_from_json(no_epoch));
  for (const char* bad : {"\"\"", "\"00FF\"", "\"../x\"", "1"}) {
    std::string b = j;
    b.replace(b.find("\"00ff\""), 6, bad);
    CHECK_FALSE(media::live_manifest_from_json(b));
  }
  std::string not_bool = j;
  not_bool.replace(not_bool.find("\"discontinuity\":true"), 20, "\"discontinuity\":1");
  CHECK_FALSE(media::live_manifest_from_json(not_bool));
}

TEST_CASE("live source: chunks hashed on the thread pool are published in the order they were cut") {
  const std::string& ts = sample_ts();
  auto expected = chunk_all(ts, 1000, 1.0);
  REQUIRE(expected.size() >= 5);
  expected.pop_back();  // a growing file never ends: its last chunk is not cut yet
  TempDir d;
  std::string path = d.file("src.ts");
  {
    std::ofstream f(path, std::ios::binary);
    f << ts;
  }
  uv_loop_t loop;
  uv_loop_init(&loop);
  auto ch = std::make_shared<content::LiveChannel>("ch", 64, 1.0);
  {
    content::LiveSource src(&loop, path, ch, 1.0);
    REQUIRE(src.start());
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    uv_timer_start(&t, [](uv_timer_t*) {}, 5, 5);
    for (int i = 0; i < 2000 && ch->next_seq() < expected.size(); ++i) uv_run(&loop, UV_RUN_ONCE);
    uv_close(reinterpret_cast<uv_handle_t*>(&t), nullptr);
    REQUIRE(ch->next_seq() == expected.size());
    for (size_t i = 0; i < expected.size(); ++i) {
      const content::LiveChunk* c = ch->by_seq(i);
      REQUIRE(c != nullptr);
      CHECK(c->ref.id == sha256_hex(expected[i].bytes.data(), expected[i].bytes.size()));
      CHECK(*c->bytes == expected[i].bytes);
    }
  }
  uv_run(&loop, UV_RUN_DEFAULT);
  CHECK(uv_loop_close(&loop) == 0);
}

TEST_CASE("live channel: a worker loop's replica mirrors the source's channel (same epoch, seqs, ids, shared bytes)") {
  content::LiveChannel src("news", 3, 1.0);
  std::vector<content::LiveChunk> told;
  int ended = 0;
  auto publish = [&](int i) {
    media::TsChunk c;
    c.bytes = std::string(188, static_cast<char>(0x47)) + std::to_string(i);
    c.duration = 1.0;
    src.publish(std::move(c), 1000 + i);
  };
  publish(0);
  auto rep = src.replica();  // made after a publish: it starts with what the source holds
  src.set_on_change([&](const content::LiveChunk* c) {
    if (c) told.push_back(*c);
    else ended++;
  });
  CHECK(rep->epoch() == src.epoch());
  CHECK(rep->next_seq() == 1);
  CHECK(rep->waiters() == 0);
  int woke = 0;
  rep->wait(2, 100.0, [&] { woke++; });
  for (int i = 1; i < 5; ++i) publish(i);
  REQUIRE(told.size() == 4);
  CHECK(woke == 0);  // the replica hears of chunks only when told
  for (const auto& c : told) rep->add(c);
  CHECK(woke == 1);
  CHECK(rep->next_seq() == src.next_seq());
  CHECK(rep->manifest_json() == src.manifest_json());
  CHECK(rep->playlist() == src.playlist());
  CHECK(rep->bytes() == src.bytes());
  REQUIRE(rep->by_seq(4) != nullptr);
  CHECK(rep->by_seq(4)->bytes == src.by_seq(4)->bytes);  // one buffer for both loops
  CHECK(rep->by_id(src.by_seq(3)->ref.id) != nullptr);
  CHECK(rep->by_seq(1) == nullptr);  // slid out of the window on both
  src.end();
  src.end();  // once only
  CHECK(ended == 1);
  uint64_t t = rep->wait(9, 100.0, [&] { woke++; });
  CHECK(rep->cancel(t));
  CHECK_FALSE(rep->cancel(t));
}
