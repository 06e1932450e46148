#include "content/chunk_cache.h"

namespace hn::content {

const ChunkSource* ChunkCache::get(const std::string& id) {
  auto it = map_.find(id);
  if (it == map_.end()) return nullptr;
  lru_.splice(lru_.begin(), lru_, it->second.second);
  return &it->second.first;
}

void ChunkCache::put(const std::string& id, const ChunkSource& src) {
  if (src.fd < 0 || capacity_ == 0 || map_.count(id)) return;
  if (map_.size() >= capacity_) {
    map_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(id);
  map_.emplace(id, std::make_pair(src, lru_.begin()));
}

void ChunkCache::set_capacity(size_t capacity) {
  capacity_ = capacity;
  if (map_.size() > capacity_) evict(map_.size() - capacity_);
}

void ChunkCache::evict(size_t n) {
  for (; n > 0 && !lru_.empty(); --n) {
    map_.erase(lru_.back());
    lru_.pop_back();
  }
}

}  // namespace hn::content
