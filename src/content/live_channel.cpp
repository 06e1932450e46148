#include "content/live_channel.h"

#include <vector>

#include "media/hls.h"
#include "media/sha256.h"

namespace hn::content {

LiveChannel::LiveChannel(std::string id, size_t window, double target_seconds, uint64_t max_bytes)
    : id_(std::move(id)),
      epoch_(media::new_live_epoch()),
      window_(std::max<size_t>(2, std::min(window, media::kMaxLiveWindow))),
      target_(target_seconds),
      max_bytes_(max_bytes) {}

void LiveChannel::publish(media::TsChunk chunk, int64_t wall_ms) {
  std::string id = sha256_hex(chunk.bytes.data(), chunk.bytes.size());
  publish_hashed(std::move(chunk), std::move(id), wall_ms);
}

void LiveChannel::publish_hashed(media::TsChunk chunk, std::string id, int64_t wall_ms) {
  if (ended_ || chunk.bytes.empty()) return;
  LiveChunk c;
  c.ref.seq = next_seq_;
  c.ref.id = std::move(id);
  c.ref.size = chunk.bytes.size();
  c.ref.duration = chunk.duration > 0 ? chunk.duration : target_;
  c.ref.published_ms = wall_ms;
  c.ref.keyframe = chunk.starts_with_keyframe;
  c.ref.discontinuity = chunk.discontinuity;
  c.bytes = std::make_shared<const std::string>(std::move(chunk.bytes));
  add(c);
  if (on_change_) on_change_(&c);
}

void LiveChannel::add(const LiveChunk& c) {
  if (ended_) return;
  next_seq_ = c.ref.seq + 1;
  // Identical bytes twice (a frozen source) share an id: the newest seq answers for it.
  seq_of_id_[c.ref.id] = c.ref.seq;
  bytes_ += c.ref.size;
  chunks_.push_back(c);
  while (chunks_.size() > window_ || (bytes_ > max_bytes_ && chunks_.size() > 2)) {
    auto it = seq_of_id_.find(chunks_.front().ref.id);
    if (it != seq_of_id_.end() && it->second == chunks_.front().ref.seq) seq_of_id_.erase(it);
    bytes_ -= chunks_.front().ref.size;
    if (chunks_.front().ref.discontinuity) discontinuity_seq_++;
    chunks_.pop_front();
  }
  manifest_.reset();
  playlist_.reset();
  wake_ready();
}

std::shared_ptr<LiveChannel> LiveChannel::replica() const {
  auto r = std::make_shared<LiveChannel>(id_, window_, target_, max_bytes_);
  r->epoch_ = epoch_;
  r->discontinuity_seq_ = discontinuity_seq_;
  r->bytes_ = bytes_;
  r->next_seq_ = next_seq_;
  r->ended_ = ended_;
  r->chunks_ = chunks_;
  r->seq_of_id_ = seq_of_id_;
  return r;
}

void LiveChannel::end() {
  if (ended_) return;
  ended_ = true;
  manifest_.reset();
  playlist_.reset();
  wake_ready();
  if (on_change_) on_change_(nullptr);
}

const LiveChunk* LiveChannel::by_seq(uint64_t seq) const {
  if (chunks_.empty() || seq < chunks_.front().ref.seq || seq > chunks_.back().ref.seq) return nullptr;
  return &chunks_[seq - chunks_.front().ref.seq];
}

const LiveChunk* LiveChannel::by_id(const std::string& id) const {
  auto it = seq_of_id_.find(id);
  return it == seq_of_id_.end() ? nullptr : by_seq(it->second);
}

std::shared_ptr<const std::string> LiveChannel::manifest() const {
  if (!manifest_) {
    media::LiveManifest m;
    m.video_id = id_;
    m.epoch = epoch_;
    m.ended = ended_;
    m.target_duration = target_;
    for (const auto& c : chunks_) m.chunks.push_back(c.ref);
    manifest_ = std::make_shared<const std::string>(media::live_manifest_to_json(m));
  }
  return manifest_;
}

std::shared_ptr<const std::string> LiveChannel::playlist_shared() const {
  if (!playlist_) {
    std::vector<media::HlsSegment> segs;
    for (const auto& c : chunks_) segs.push_back({c.ref.seq, c.ref.duration, c.ref.discontinuity});
    playlist_ = std::make_shared<const std::string>(media::hls_playlist(segs, target_, id_ + "/", ended_, discontinuity_seq_));
  }
  return playlist_;
}

uint64_t LiveChannel::wait(uint64_t from_seq, double deadline, std::function<void()> wake) {
  if (ended_ || from_seq < next_seq_) {
    wake();
    return 0;
  }
  uint64_t token = next_token_++;
  by_seq_.emplace(from_seq, token);
  by_deadline_.emplace(deadline, token);
  waiters_.emplace(token, Waiter{from_seq, deadline, std::move(wake)});
  return token;
}

std::function<void()> LiveChannel::take(uint64_t token) {
  auto it = waiters_.find(token);
  if (it == waiters_.end()) return nullptr;
  by_seq_.erase({it->second.from_seq, token});
  by_deadline_.erase({it->second.deadline, token});
  auto wake = std::move(it->second.wake);
  waiters_.erase(it);
  return wake;
}

bool LiveChannel::cancel(uint64_t token) { return take(token) != nullptr; }

void LiveChannel::run(std::vector<std::function<void()>>& wakes) {
  // Collected first: a wake may answer a request whose handler registers a new waiter.
  for (auto& w : wakes)
    if (w) w();
}

void LiveChannel::wake_ready() {
  std::vector<std::function<void()>> wakes;
  while (!by_seq_.empty() && (ended_ || by_seq_.begin()->first < next_seq_)) wakes.push_back(take(by_seq_.begin()->second));
  run(wakes);
}

void LiveChannel::expire(double now) {
  std::vector<std::function<void()>> wakes;
  while (!by_deadline_.empty() && by_deadline_.begin()->first <= now) wakes.push_back(take(by_deadline_.begin()->second));
  run(wakes);
}

}  // namespace hn::content
