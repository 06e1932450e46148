#include "media/hls.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace hn::media {

std::string hls_playlist(const std::vector<HlsSegment>& segments, double target_duration, const std::string& prefix,
                         bool ended, uint64_t discontinuity_seq) {
  // EXT-X-TARGETDURATION must be at least every EXTINF rounded to the nearest integer.
  double longest = target_duration;
  for (const auto& s : segments) longest = std::max(longest, s.duration);
  std::string out = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:" +
                    std::to_string(static_cast<int>(std::ceil(longest - 1e-3))) + "\n#EXT-X-MEDIA-SEQUENCE:" +
                    std::to_string(segments.empty() ? 0 : segments.front().seq) + "\n";
  if (discontinuity_seq > 0) out += "#EXT-X-DISCONTINUITY-SEQUENCE:" + std::to_string(discontinuity_seq) + "\n";
  char line[64];
  for (const auto& s : segments) {
    if (s.discontinuity) out += "#EXT-X-DISCONTINUITY\n";
    std::snprintf(line, sizeof line, "#EXTINF:%.3f,\n", s.duration);
    out += line;
    out += prefix + std::to_string(s.seq) + ".ts\n";
  }
  if (ended) out += "#EXT-X-ENDLIST\n";
  return out;
}

std::optional<uint64_t> parse_segment_name(std::string_view name) {
  if (name.size() < 4 || name.size() > 22 || name.substr(name.size() - 3) != ".ts") return std::nullopt;
  std::string_view digits = name.substr(0, name.size() - 3);
  if (digits.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  uint64_t v = 0;
  for (char c : digits) {
    if (v > (UINT64_MAX - 9) / 10) return std::nullopt;
    v = v * 10 + static_cast<uint64_t>(c - '0');
  }
  return v;
}

}  // namespace hn::media
