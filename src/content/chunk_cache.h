// Keeps recently served chunk files open so a hot chunk is sent without a thread-pool round trip.
// Safe because chunks are content-addressed and never change once written.
#pragma once
#include <list>
#include <string>
#include <unordered_map>

#include "hybridnode/chunk_store.h"

namespace hn::content {

class ChunkCache {
 public:
  explicit ChunkCache(size_t capacity) : capacity_(capacity) {}
  const ChunkSource* get(const std::string& id);
  void put(const std::string& id, const ChunkSource& src);  // only fd-backed sources are kept
  size_t size() const { return map_.size(); }
  size_t capacity() const { return capacity_; }
  void set_capacity(size_t capacity);
  void evict(size_t n);  // the n least recently used (their fds close once no transfer holds them)

 private:
  size_t capacity_;
  std::list<std::string> lru_;  // front = most recent
  std::unordered_map<std::string, std::pair<ChunkSource, std::list<std::string>::iterator>> map_;
};

}  // namespace hn::content
