// The content server's in-memory view of the store: manifests by video id and which video each
// chunk belongs to (so a refusal can name the video). Rebuilt from the store off the loop.
#pragma once
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "hybridnode/manifest.h"

namespace hn::content {

class Catalog {
 public:
  Catalog() = default;
  // signallers: the swarm signallers; each catalog entry names its video's owner (rendezvous hashing).
  explicit Catalog(std::vector<Manifest> manifests, const std::vector<std::string>& signallers = {});
  // As above, taking the serialised manifest and digest of the videos in `unchanged` from `previous`
  // (their manifests are the same): a refresh that found one new video does not re-serialise the others.
  Catalog(std::vector<Manifest> manifests, const std::vector<std::string>& signallers, const Catalog& previous,
          const std::unordered_set<std::string>& unchanged);

  const Manifest* video(const std::string& id) const;
  const std::unordered_map<std::string, Manifest>& videos() const { return videos_; }
  // A chunk some manifest lists: the video (one of them, when several list it) and the chunk's exact size.
  struct ChunkEntry {
    const Manifest* video;  // element of videos_ (node-based map: stable)
    uint64_t size;
  };
  // One lookup for everything a chunk request needs; nullptr when no manifest lists the chunk.
  const ChunkEntry* chunk(const std::string& chunk_id) const;
  // Id of a video holding the chunk, or nullptr when no manifest lists it.
  const std::string* video_of_chunk(const std::string& chunk_id) const;
  // The chunk's size as its manifest lists it (0 when no manifest lists it).
  uint64_t chunk_size(const std::string& chunk_id) const;
  size_t size() const { return videos_.size(); }
  // Serialised once per catalog and shared by every response: a slow reader pins no copy.
  const std::shared_ptr<const std::string>& catalog_json() const { return catalog_json_; }
  std::shared_ptr<const std::string> manifest_json(const std::string& id) const;
  // SHA-256 (hex) of the canonical manifest (manifest_to_json): the video's swarm identity
  // ("manifest_digest", docs/protocol.md), appended to manifest_json; a re-ingested video gets another one.
  const std::string& digest(const std::string& id) const;

 private:
  void build(std::vector<Manifest> manifests, const std::vector<std::string>& signallers, const Catalog* previous,
             const std::unordered_set<std::string>* unchanged);
  std::unordered_map<std::string, Manifest> videos_;
  std::unordered_map<std::string, std::shared_ptr<const std::string>> manifest_json_;
  std::unordered_map<std::string, std::string> digest_;
  std::unordered_map<std::string, ChunkEntry> chunks_;
  std::shared_ptr<const std::string> catalog_json_ = std::make_shared<const std::string>("{\"videos\":[]}");
};

}  // namespace hn::content
