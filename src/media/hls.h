// HLS media playlists (RFC 8216, version 3) over numbered MPEG-TS segments, and the segment names they use:
// the content server's channel and a viewer's local player endpoint speak the same format.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace hn::media {

struct HlsSegment {
  uint64_t seq = 0;
  double duration = 0;  // seconds
  bool discontinuity = false;  // EXT-X-DISCONTINUITY before it (timestamps jump: encoder restart, new epoch)
};

// Segments must be consecutive; URIs are "<prefix><seq>.ts". EXT-X-ENDLIST when `ended`.
// `discontinuity_seq`: how many discontinuities have slid out of the window before the first segment
// (EXT-X-DISCONTINUITY-SEQUENCE, so players keep their timelines apart).
std::string hls_playlist(const std::vector<HlsSegment>& segments, double target_duration, const std::string& prefix,
                         bool ended, uint64_t discontinuity_seq = 0);

// "123.ts" -> 123; anything else (other suffixes, signs, > 19 digits, empty) -> nullopt.
std::optional<uint64_t> parse_segment_name(std::string_view name);

}  // namespace hn::media
