#include "hybridnode/manifest.h"

#include <nlohmann/json.hpp>

#include "hybridnode/ids.h"
#include "util/json_limits.h"

namespace hn {

using nlohmann::json;

std::string manifest_to_json(const Manifest& m) {
  json chunks = json::array();
  for (const auto& c : m.chunks) {
    chunks.push_back({{"id", c.id}, {"size", c.size}});
    if (m.is_hls()) chunks.back()["duration"] = c.duration;
    if (m.is_hls() && c.discontinuity) chunks.back()["discontinuity"] = true;
  }
  json j = {{"video_id", m.video_id}, {"title", m.title},           {"media_type", m.media_type},
            {"total_size", m.total_size}, {"chunk_size", m.chunk_size}, {"chunk_count", m.chunks.size()},
            {"chunks", chunks}};
  if (!m.media.empty()) j["media"] = m.media;
  return j.dump();
}

namespace {
Result<void> check_manifest(const Manifest& m) {
  if (!is_video_id(m.video_id)) return make_error("manifest: invalid video_id");
  if (m.chunk_size < kMinChunkSize || m.chunk_size > kMaxChunkSize)
    return make_error("manifest: chunk_size out of range");
  if (m.chunks.size() > kMaxChunksPerVideo) return make_error("manifest: too many chunks");
  if (!m.media.empty() && !m.is_hls()) return make_error("manifest: unknown media (only \"hls\")");
  if (m.chunks.empty() || m.total_size == 0) return make_error("manifest: no chunks");  // nothing to fetch or share
  if (!m.media.empty() && !m.is_hls()) return make_error("manifest: unknown media (only \"hls\")");
  uint64_t sum = 0;
  for (size_t i = 0; i < m.chunks.size(); ++i) {
    const auto& c = m.chunks[i];
    if (!is_chunk_id(c.id)) return make_error("manifest: chunk " + std::to_string(i) + " has an invalid id");
    bool last = i + 1 == m.chunks.size();
    // HLS segments end at keyframes, so their sizes vary; chunk_size bounds them.
    if (c.size == 0 || c.size > m.chunk_size || (!last && !m.is_hls() && c.size != m.chunk_size))
      return make_error("manifest: chunk " + std::to_string(i) + " has an inconsistent size");
    // !(x > 0) also catches NaN.
    if (!m.is_hls() && (c.duration != 0 || c.discontinuity))
      return make_error("manifest: chunk " + std::to_string(i) + " has HLS fields in a byte manifest");
    if (m.is_hls() && (!(c.duration > 0) || c.duration > kMaxChunkDuration))
      return make_error("manifest: chunk " + std::to_string(i) + " has a duration out of range");
    sum += c.size;
  }
  if (sum != m.total_size) return make_error("manifest: chunk sizes do not add up to total_size");
  return {};
}
}  // namespace

Result<Manifest> manifest_from_json(const std::string& text) {
  if (text.size() > kMaxManifestBytes) return make_error("manifest: too large");
  json j = parse_json_bounded(text);
  if (j.is_discarded()) return make_error("manifest: not valid JSON (or nested too deep)");
  if (!j.is_object()) return make_error("manifest: not a JSON object");
  auto str = [&](const char* k, std::string& out) -> bool {
    auto it = j.find(k);
    if (it == j.end() || !it->is_string()) return false;
    out = it->get<std::string>();
    return true;
  };
  auto num = [&](const json& o, const char* k, uint64_t& out) -> bool {
    auto it = o.find(k);
    if (it == o.end() || !it->is_number_unsigned()) return false;
    out = it->get<uint64_t>();
    return true;
  };
  Manifest m;
  if (!str("video_id", m.video_id)) return make_error("manifest: missing string field video_id");
  if (!str("title", m.title)) return make_error("manifest: missing string field title");
  if (!str("media_type", m.media_type)) return make_error("manifest: missing string field media_type");
  if (!num(j, "total_size", m.total_size)) return make_error("manifest: missing integer field total_size");
  if (!num(j, "chunk_size", m.chunk_size)) return make_error("manifest: missing integer field chunk_size");
  if (auto media = j.find("media"); media != j.end()) {
    if (!media->is_string()) return make_error("manifest: media must be a string");
    m.media = media->get<std::string>();
  }
  auto chunks = j.find("chunks");
  if (chunks == j.end() || !chunks->is_array()) return make_error("manifest: missing array field chunks");
  if (chunks->size() > kMaxChunksPerVideo) return make_error("manifest: too many chunks");
  m.chunks.reserve(chunks->size());
  for (const auto& c : *chunks) {
    ChunkRef ref;
    if (!c.is_object()) return make_error("manifest: chunk entry is not an object");
    auto id = c.find("id");
    if (id == c.end() || !id->is_string()) return make_error("manifest: chunk entry without string id");
    ref.id = id->get<std::string>();
    if (!num(c, "size", ref.size)) return make_error("manifest: chunk entry without integer size");
    if (auto d = c.find("duration"); d != c.end()) {
      if (!d->is_number()) return make_error("manifest: chunk duration must be a number");
      ref.duration = d->get<double>();
    }
    if (auto d = c.find("discontinuity"); d != c.end()) {
      if (!d->is_boolean()) return make_error("manifest: chunk discontinuity must be true or false");
      ref.discontinuity = d->get<bool>();
    }
    // Unsigned wrap on absurd sizes is harmless: check_manifest rejects any size over chunk_size.
    ref.offset = m.chunks.empty() ? 0 : m.chunks.back().offset + m.chunks.back().size;
    m.chunks.push_back(std::move(ref));
  }
  auto check = check_manifest(m);
  if (!check) return make_error(check.error());
  return m;
}

}  // namespace hn
