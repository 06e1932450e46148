#include "content/catalog.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "media/sha256.h"
#include "util/rendezvous.h"

namespace hn::content {

Catalog::Catalog(std::vector<Manifest> manifests, const std::vector<std::string>& signallers) {
  build(std::move(manifests), signallers, nullptr, nullptr);
}

Catalog::Catalog(std::vector<Manifest> manifests, const std::vector<std::string>& signallers, const Catalog& previous,
                 const std::unordered_set<std::string>& unchanged) {
  build(std::move(manifests), signallers, &previous, &unchanged);
}

void Catalog::build(std::vector<Manifest> manifests, const std::vector<std::string>& signallers, const Catalog* previous,
                    const std::unordered_set<std::string>* unchanged) {
  std::sort(manifests.begin(), manifests.end(),
            [](const Manifest& a, const Manifest& b) { return a.video_id < b.video_id; });
  nlohmann::json list = nlohmann::json::array();
  for (auto& m : manifests) {
    bool reuse = previous != nullptr && unchanged->count(m.video_id) && previous->manifest_json_.count(m.video_id);
    if (reuse) {
      manifest_json_[m.video_id] = previous->manifest_json_.at(m.video_id);
      digest_[m.video_id] = previous->digest_.at(m.video_id);
    }
    std::string digest = reuse ? digest_[m.video_id] : std::string();
    std::string canonical = reuse ? std::string() : manifest_to_json(m);
    if (!reuse) digest = sha256_hex(canonical.data(), canonical.size());
    list.push_back({{"id", m.video_id},
                    {"title", m.title},
                    {"media_type", m.media_type},
                    {"total_size", m.total_size},
                    {"chunk_size", m.chunk_size},
                    {"chunk_count", m.chunks.size()},
                    {"manifest_digest", digest}});
    if (m.is_hls()) {
      list.back()["media"] = m.media;
      list.back()["playlist"] = "/videos/" + m.video_id + ".m3u8";
    }
    if (!signallers.empty()) list.back()["signal_url"] = rendezvous_order(signallers, m.video_id).front();
    // Served as is (shared by every response): the canonical manifest plus its digest.
    if (!reuse) {
      manifest_json_[m.video_id] = std::make_shared<const std::string>(
          canonical.substr(0, canonical.size() - 1) + ",\"manifest_digest\":\"" + digest + "\"}\n");
      digest_[m.video_id] = digest;
    }
    std::string id = m.video_id;
    auto [it, fresh] = videos_.emplace(std::move(id), std::move(m));
    if (!fresh) continue;
    for (const auto& c : it->second.chunks) chunks_.emplace(c.id, ChunkEntry{&it->second, c.size});
  }
  catalog_json_ = std::make_shared<const std::string>(nlohmann::json{{"videos", list}}.dump() + "\n");
}

const Manifest* Catalog::video(const std::string& id) const {
  auto it = videos_.find(id);
  return it == videos_.end() ? nullptr : &it->second;
}

const std::string* Catalog::video_of_chunk(const std::string& chunk_id) const {
  auto it = chunks_.find(chunk_id);
  return it == chunks_.end() ? nullptr : &it->second.video->video_id;
}

const Catalog::ChunkEntry* Catalog::chunk(const std::string& chunk_id) const {
  auto it = chunks_.find(chunk_id);
  return it == chunks_.end() ? nullptr : &it->second;
}

const std::string& Catalog::digest(const std::string& id) const {
  static const std::string empty;
  auto it = digest_.find(id);
  return it == digest_.end() ? empty : it->second;
}

uint64_t Catalog::chunk_size(const std::string& chunk_id) const {
  auto it = chunks_.find(chunk_id);
  return it == chunks_.end() ? 0 : it->second.size;
}

std::shared_ptr<const std::string> Catalog::manifest_json(const std::string& id) const {
  auto it = manifest_json_.find(id);
  return it == manifest_json_.end() ? std::make_shared<const std::string>() : it->second;
}

}  // namespace hn::content
