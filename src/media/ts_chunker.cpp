#include "media/ts_chunker.h"

#include <algorithm>
#include <cstring>

namespace hn::media {

namespace {

constexpr uint8_t kSync = 0x47;

// The PES payload of a packet that starts one: returns the offset of "00 00 01" or 0 when none.
size_t pes_start(const uint8_t* p) {
  if (!(p[1] & 0x40)) return 0;  // payload_unit_start_indicator
  int afc = (p[3] >> 4) & 3;
  size_t off = 4;
  if (afc & 2) off += 1 + p[4];
  if (!(afc & 1) || off + 14 > TsChunker::kPacket) return 0;
  if (p[off] != 0 || p[off + 1] != 0 || p[off + 2] != 1) return 0;
  return off;
}

bool random_access(const uint8_t* p) {
  int afc = (p[3] >> 4) & 3;
  return (afc & 2) && p[4] > 0 && (p[5] & 0x40);
}

// PTS in seconds, or -1 when the PES header carries none.
double pes_pts(const uint8_t* pes) {
  if (!(pes[7] & 0x80)) return -1;
  const uint8_t* b = pes + 9;
  uint64_t pts = (static_cast<uint64_t>(b[0] & 0x0e) << 29) | (static_cast<uint64_t>(b[1]) << 22) |
                 (static_cast<uint64_t>(b[2] & 0xfe) << 14) | (static_cast<uint64_t>(b[3]) << 7) | (b[4] >> 1);
  return static_cast<double>(pts) / 90000.0;
}

}  // namespace

std::vector<TsChunk> TsChunker::feed(const uint8_t* data, size_t len, double now) {
  std::vector<TsChunk> out;
  now_ = now;
  size_t i = 0;
  if (!partial_.empty()) {
    size_t take = std::min(len, kPacket - partial_.size());
    partial_.append(reinterpret_cast<const char*>(data), take);
    i = take;
    if (partial_.size() < kPacket) return out;
    on_packet(reinterpret_cast<const uint8_t*>(partial_.data()), out);
    partial_.clear();
  }
  while (i < len) {
    if (data[i] != kSync) {  // lost sync: skip to the next sync byte
      const void* next = std::memchr(data + i, kSync, len - i);
      size_t j = next ? static_cast<size_t>(static_cast<const uint8_t*>(next) - data) : len;
      skipped_ += j - i;
      i = j;
      continue;
    }
    if (len - i < kPacket) {
      partial_.assign(reinterpret_cast<const char*>(data + i), len - i);
      break;
    }
    on_packet(data + i, out);
    i += kPacket;
  }
  return out;
}

void TsChunker::on_packet(const uint8_t* p, std::vector<TsChunk>& out) {
  packets_++;
  int pid = ((p[1] & 0x1f) << 8) | p[2];
  size_t pes = pes_start(p);
  if (pes != 0) {
    pes_pid_[pid] = true;
    if (video_pid_ < 0 && p[pes + 3] >= 0xe0 && p[pes + 3] <= 0xef) video_pid_ = pid;
  }
  if (pid == video_pid_ && pes != 0) {
    double pts = pes_pts(p + pes);
    bool key = random_access(p);
    if (key) keyframes_seen_ = true;
    double step = 0;
    bool jump = false;
    if (pts >= 0 && last_pts_ >= 0) {
      step = pts - last_pts_;
      jump = is_jump(step, now_ >= 0 && last_wall_ >= 0 ? now_ - last_wall_ : -1);
      if (jump) step = 0;  // a jump is not elapsed video
    }
    // Cut before this keyframe once the chunk is long enough, or at once after a jump (the next
    // chunk then starts on the new timeline and is marked a discontinuity).
    if (key && pts >= 0 && chunk_has_pts_ && (jump || span_ + step >= target_ - 1e-3)) {
      size_t at = psi_run_start_.value_or(current_.size());
      if (at > 0) {
        span_ += step;  // the step up to this keyframe ends the old chunk
        step = 0;
        out.push_back(cut(at));
      }
    }
    span_ += step;
    if (jump) current_jump_ = true;
    if (current_.empty() || (psi_run_start_ && *psi_run_start_ == 0)) current_keyframe_ = key;
    if (pts >= 0) {
      last_pts_ = pts;
      last_wall_ = now_;
      chunk_has_pts_ = true;
    }
  }
  if (pid == 0) {
    if (!psi_run_start_) psi_run_start_ = current_.size();
  } else if (pes_pid_[pid]) {
    psi_run_start_.reset();
  }
  if (current_.empty()) current_since_ = now_;
  current_.append(reinterpret_cast<const char*>(p), kPacket);
  if (current_.size() >= max_bytes_) {
    out.push_back(cut(current_.size()));
    return;
  }
  // No keyframe to cut at: cut by time so a keyless source does not grow chunks to the size cap.
  double elapsed = chunk_has_pts_ ? span_ : (now_ >= 0 && current_since_ >= 0) ? now_ - current_since_ : 0;
  double limit = keyframes_seen_ ? std::max(10.0, 4 * target_) : target_;
  if (elapsed >= limit - 1e-3) {
    TsChunk c = cut(current_.size());
    if (c.duration <= 0) c.duration = elapsed;
    out.push_back(std::move(c));
  }
}

bool TsChunker::is_jump(double step, double wall_step) const {
  // Backwards beyond frame reordering (B-frames step back a few frames), or forwards by more than
  // 3x the target; or, when arrival times are known, a step of over a target that is seconds longer
  // than the wall clock moved (an encoder that bursts out frames after a stall never steps like that).
  if (step < -1.0 || step > 3 * target_) return true;
  return wall_step >= 0 && step > std::max(1.0, target_) && step > wall_step + 1.0;
}

TsChunk TsChunker::cut(size_t at) {
  TsChunk c;
  c.bytes = current_.substr(0, at);
  c.starts_with_keyframe = current_keyframe_;
  c.duration = chunk_has_pts_ ? span_ : 0;
  c.discontinuity = current_jump_;
  current_.erase(0, at);
  psi_run_start_.reset();
  if (!current_.empty() && static_cast<uint8_t>(current_[0]) == kSync) {
    // The next chunk opens with the PAT run that precedes its keyframe.
    psi_run_start_ = 0;
  }
  span_ = 0;
  chunk_has_pts_ = false;
  current_jump_ = false;
  current_keyframe_ = false;
  current_since_ = current_.empty() ? -1 : now_;
  return c;
}

std::optional<TsChunk> TsChunker::flush() {
  if (current_.empty()) return std::nullopt;
  return cut(current_.size());
}

}  // namespace hn::media
