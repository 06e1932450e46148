// Cuts a live MPEG-TS byte stream into chunks a player can start from: each chunk begins at a video
// keyframe (random_access_indicator on the video PES), including the PAT/PMT that the muxer puts right
// before it, once the running chunk is at least `target_seconds` long (by the video PTS). A timestamp
// jump (back, or forward by more than 3x the target or far more than the wall clock moved) cuts at the
// next keyframe and marks the chunk a discontinuity; the jump never counts as duration.
// Streams without keyframe marks are cut by time (the video PTS span, else the arrival clock given to
// feed) at packet boundaries, and such chunks are marked (starts_with_keyframe false); a stream whose
// keyframes stop is cut by time after max(10 s, 4 x target). The size cap still applies. Garbage between packets is
// skipped by resynchronising on the 0x47 sync byte, so one bad byte cannot wedge the channel.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace hn::media {

struct TsChunk {
  std::string bytes;     // whole 188-byte packets
  double duration = 0;   // seconds of video (PTS span without its jumps); 0 when the stream carries no usable PTS
  bool starts_with_keyframe = false;
  // The timestamps jump in this chunk (an encoder restart, an offset, a wrap): players must be told
  // (EXT-X-DISCONTINUITY), and the jump is not part of `duration`.
  bool discontinuity = false;
};

class TsChunker {
 public:
  static constexpr size_t kPacket = 188;
  explicit TsChunker(double target_seconds, size_t max_chunk_bytes = 8u << 20)
      : target_(target_seconds), max_bytes_(max_chunk_bytes) {}

  // Appends bytes; returns the chunks completed by them (usually none or one). `now` (seconds, any
  // monotonic clock; < 0 when unknown) is when they arrived: a PTS step far larger than the wall-clock
  // time between two frames is a jump, not elapsed video.
  std::vector<TsChunk> feed(const uint8_t* data, size_t len, double now = -1);
  // End of stream: the rest as a last chunk (nothing when empty).
  std::optional<TsChunk> flush();

  uint64_t bytes_skipped() const { return skipped_; }
  uint64_t packets() const { return packets_; }

 private:
  void on_packet(const uint8_t* p, std::vector<TsChunk>& out);
  TsChunk cut(size_t at);
  bool is_jump(double step, double wall_step) const;

  double target_;
  size_t max_bytes_;
  std::string partial_;    // an incomplete packet carried to the next feed
  std::string current_;    // packets of the chunk being built
  int video_pid_ = -1;
  std::vector<bool> pes_pid_ = std::vector<bool>(8192, false);
  std::optional<size_t> psi_run_start_;  // offset in current_ of the PAT run just before now
  double last_pts_ = -1, last_wall_ = -1, now_ = -1;
  double span_ = 0;               // video seconds in current_ so far (frame steps, jumps left out)
  bool chunk_has_pts_ = false;    // current_ holds a video frame with a PTS
  bool current_keyframe_ = false, current_jump_ = false;
  bool keyframes_seen_ = false;
  double current_since_ = -1;     // arrival clock when current_ began
  uint64_t skipped_ = 0, packets_ = 0;
};

}  // namespace hn::media
