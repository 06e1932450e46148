#include "media/ts_chunker.h"

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

std::vector<TsChunk> TsChunker::feed(const uint8_t* data, size_t len) {
  std::vector<TsChunk> out;
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
    // A timestamp jump (an encoder restarted on the FIFO, a wrap) starts a new chunk at this keyframe.
    bool jump = key && pts >= 0 && start_pts_ >= 0 && (pts < start_pts_ || pts - start_pts_ > 60);
    if (key && pts >= 0 && start_pts_ >= 0 && (jump || pts - start_pts_ >= target_ - 1e-3)) {
      size_t at = psi_run_start_.value_or(current_.size());
      if (at > 0) out.push_back(cut(at, jump ? last_pts_ : pts));
      if (jump) start_pts_ = pts;
    }
    if (current_.empty() || (psi_run_start_ && *psi_run_start_ == 0)) current_keyframe_ = key;
    if (pts >= 0) {
      if (start_pts_ < 0) start_pts_ = pts;
      last_pts_ = pts;
    }
  }
  if (pid == 0) {
    if (!psi_run_start_) psi_run_start_ = current_.size();
  } else if (pes_pid_[pid]) {
    psi_run_start_.reset();
  }
  current_.append(reinterpret_cast<const char*>(p), kPacket);
  if (current_.size() >= max_bytes_) out.push_back(cut(current_.size(), last_pts_));
}

TsChunk TsChunker::cut(size_t at, double end_pts) {
  TsChunk c;
  c.bytes = current_.substr(0, at);
  c.starts_with_keyframe = current_keyframe_;
  c.duration = (start_pts_ >= 0 && end_pts >= start_pts_) ? end_pts - start_pts_ : 0;
  current_.erase(0, at);
  psi_run_start_.reset();
  if (!current_.empty() && static_cast<uint8_t>(current_[0]) == kSync) {
    // The next chunk opens with the PAT run that precedes its keyframe.
    psi_run_start_ = 0;
  }
  start_pts_ = end_pts;
  current_keyframe_ = false;
  return c;
}

std::optional<TsChunk> TsChunker::flush() {
  if (current_.empty()) return std::nullopt;
  return cut(current_.size(), last_pts_);
}

}  // namespace hn::media
