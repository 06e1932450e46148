#include "content/live_channel.h"

#include "media/hls.h"
#include "media/sha256.h"

namespace hn::content {

LiveChannel::LiveChannel(std::string id, size_t window, double target_seconds)
    : id_(std::move(id)), epoch_(media::new_live_epoch()), window_(std::max<size_t>(2, std::min(window, media::kMaxLiveWindow))), target_(target_seconds) {}

void LiveChannel::publish(media::TsChunk chunk, int64_t wall_ms) {
  if (ended_ || chunk.bytes.empty()) return;
  LiveChunk c;
  c.ref.seq = next_seq_++;
  c.ref.id = sha256_hex(chunk.bytes.data(), chunk.bytes.size());
  c.ref.size = chunk.bytes.size();
  c.ref.duration = chunk.duration > 0 ? chunk.duration : target_;
  c.ref.published_ms = wall_ms;
  c.ref.discontinuity = chunk.discontinuity;
  c.bytes = std::make_shared<const std::string>(std::move(chunk.bytes));
  // Identical bytes twice (a frozen source) share an id: the newest seq answers for it.
  seq_of_id_[c.ref.id] = c.ref.seq;
  chunks_.push_back(std::move(c));
  while (chunks_.size() > window_) {
    auto it = seq_of_id_.find(chunks_.front().ref.id);
    if (it != seq_of_id_.end() && it->second == chunks_.front().ref.seq) seq_of_id_.erase(it);
    if (chunks_.front().ref.discontinuity) discontinuity_seq_++;
    chunks_.pop_front();
  }
  wake_ready();
}

void LiveChannel::end() {
  ended_ = true;
  wake_ready();
}

const LiveChunk* LiveChannel::by_seq(uint64_t seq) const {
  if (chunks_.empty() || seq < chunks_.front().ref.seq || seq > chunks_.back().ref.seq) return nullptr;
  return &chunks_[seq - chunks_.front().ref.seq];
}

const LiveChunk* LiveChannel::by_id(const std::string& id) const {
  auto it = seq_of_id_.find(id);
  return it == seq_of_id_.end() ? nullptr : by_seq(it->second);
}

std::string LiveChannel::manifest_json() const {
  media::LiveManifest m;
  m.video_id = id_;
  m.epoch = epoch_;
  m.ended = ended_;
  m.target_duration = target_;
  for (const auto& c : chunks_) m.chunks.push_back(c.ref);
  return media::live_manifest_to_json(m);
}

std::string LiveChannel::playlist() const {
  std::vector<media::HlsSegment> segs;
  for (const auto& c : chunks_) segs.push_back({c.ref.seq, c.ref.duration, c.ref.discontinuity});
  return media::hls_playlist(segs, target_, id_ + "/", ended_, discontinuity_seq_);
}

void LiveChannel::wait(uint64_t from_seq, double deadline, std::function<void()> wake) {
  if (ended_ || from_seq < next_seq_) return wake();
  waiters_.push_back({from_seq, deadline, std::move(wake)});
}

void LiveChannel::wake_ready() {
  wake_where([this](const Waiter& w) { return ended_ || w.from_seq < next_seq_; });
}

void LiveChannel::expire(double now) {
  wake_where([now](const Waiter& w) { return now >= w.deadline; });
}

void LiveChannel::wake_where(const std::function<bool(const Waiter&)>& due) {
  // Collected first: a wake may answer a request whose handler registers a new waiter.
  std::vector<std::function<void()>> wakes;
  for (auto it = waiters_.begin(); it != waiters_.end();) {
    if (due(*it)) {
      wakes.push_back(std::move(it->wake));
      it = waiters_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& w : wakes) w();
}

}  // namespace hn::content
