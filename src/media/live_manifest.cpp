#include "media/live_manifest.h"

#include <cstdio>
#include <nlohmann/json.hpp>
#include <random>

#include "hybridnode/ids.h"
#include "hybridnode/manifest.h"
#include "util/json_limits.h"

namespace hn::media {

std::string live_manifest_to_json(const LiveManifest& m) {
  nlohmann::json chunks = nlohmann::json::array();
  for (const auto& c : m.chunks) {
    chunks.push_back({{"seq", c.seq}, {"id", c.id}, {"size", c.size}, {"duration", c.duration}, {"published_ms", c.published_ms}});
    if (c.discontinuity) chunks.back()["discontinuity"] = true;
    if (!c.keyframe) chunks.back()["keyframe"] = false;
  }
  nlohmann::json j = {{"video_id", m.video_id}, {"epoch", m.epoch}, {"live", true}, {"ended", m.ended},
                      {"target_duration", m.target_duration}, {"ring", kLiveRing}, {"chunks", chunks}};
  return j.dump() + "\n";
}

namespace {
// nlohmann's get<integer>() on a floating-point value is a cast: undefined for 1e22 (found by fuzz_live_manifest).
uint64_t unsigned_field(const nlohmann::json& o, const char* key) {
  const auto& v = o.at(key);
  if (!v.is_number_unsigned()) throw nlohmann::json::type_error::create(302, std::string(key) + " must be a non-negative integer", &v);
  return v.get<uint64_t>();
}
int64_t integer_field(const nlohmann::json& o, const char* key) {
  const auto& v = o.at(key);
  if (!v.is_number_integer()) throw nlohmann::json::type_error::create(302, std::string(key) + " must be an integer", &v);
  return v.get<int64_t>();
}
}  // namespace

bool is_live_epoch(const std::string& s) {
  return !s.empty() && s.size() <= kMaxEpochChars && s.find_first_not_of("0123456789abcdef") == std::string::npos;
}

std::string new_live_epoch() {
  std::random_device rd;
  uint64_t v = (static_cast<uint64_t>(rd()) << 32) ^ rd();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string live_swarm_key(const std::string& video_id, const std::string& epoch) {
  return video_id.substr(0, 47) + "." + epoch.substr(0, 16);
}

Result<LiveManifest> live_manifest_from_json(const std::string& text) {
  if (text.size() > kMaxManifestBytes) return make_error("live manifest too large");
  auto j = parse_json_bounded(text);
  if (!j.is_object()) return make_error("live manifest is not a JSON object");
  LiveManifest m;
  try {
    if (!j.at("live").get<bool>()) return make_error("not a live manifest");
    m.video_id = j.at("video_id").get<std::string>();
    m.epoch = j.at("epoch").get<std::string>();
    m.ended = j.at("ended").get<bool>();
    if (auto t = j.find("token"); t != j.end() && t->is_string() && t->get_ref<const std::string&>().size() <= 256) m.token = *t;
    m.target_duration = j.at("target_duration").get<double>();
    if (unsigned_field(j, "ring") != kLiveRing) return make_error("live manifest uses another index ring");
    const auto& arr = j.at("chunks");
    if (!arr.is_array() || arr.size() > kMaxLiveWindow) return make_error("live manifest: chunks must be an array of at most 1024");
    for (const auto& c : arr) {
      LiveChunkRef r;
      r.seq = unsigned_field(c, "seq");
      r.id = c.at("id").get<std::string>();
      r.size = unsigned_field(c, "size");
      r.duration = c.at("duration").get<double>();
      r.published_ms = integer_field(c, "published_ms");
      if (c.contains("discontinuity")) r.discontinuity = c.at("discontinuity").get<bool>();
      if (c.contains("keyframe")) r.keyframe = c.at("keyframe").get<bool>();
      if (!is_chunk_id(r.id)) return make_error("live manifest: bad chunk id");
      if (r.size == 0 || r.size > kMaxChunkSize) return make_error("live manifest: chunk size out of range");
      if (!(r.duration >= 0 && r.duration < 3600)) return make_error("live manifest: duration out of range");
      // 2^53 chunks is 285 million years of 1 s chunks: past it a seq is a lie, and seq + window arithmetic
      // (next_seq, the viewer's look-ahead) would wrap through 0.
      if (r.seq >= kMaxLiveSeq) return make_error("live manifest: sequence number out of range");
      if (!m.chunks.empty() && r.seq != m.chunks.back().seq + 1) return make_error("live manifest: sequence numbers not consecutive");
      m.chunks.push_back(std::move(r));
    }
  } catch (const nlohmann::json::exception& e) {
    return make_error(std::string("live manifest: ") + e.what());
  }
  if (!is_video_id(m.video_id)) return make_error("live manifest: bad video id");
  if (!is_live_epoch(m.epoch)) return make_error("live manifest: bad epoch");
  if (!(m.target_duration > 0 && m.target_duration < 3600)) return make_error("live manifest: target_duration out of range");
  return m;
}

}  // namespace hn::media
