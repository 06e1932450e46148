#include "policy/upload_preference.h"

namespace hn {

namespace {
// True when a should be served before b.
bool better(const UploadCandidate& a, const UploadCandidate& b) {
  bool ta = a.bytes_from_them > 0, tb = b.bytes_from_them > 0;
  if (ta != tb) return ta;
  bool ra = a.rtt_ms > 0, rb = b.rtt_ms > 0;
  if (ra != rb) return ra;
  if (ra && a.rtt_ms != b.rtt_ms) return a.rtt_ms < b.rtt_ms;
  return a.waiting_since < b.waiting_since;
}
}  // namespace

size_t pick_upload(const std::vector<UploadCandidate>& waiting, uint64_t grant, uint64_t random,
                   uint64_t optimistic_every) {
  if (optimistic_every > 0 && grant % optimistic_every == optimistic_every - 1) return random % waiting.size();
  size_t best = 0;
  for (size_t i = 1; i < waiting.size(); ++i)
    if (better(waiting[i], waiting[best])) best = i;
  return best;
}

}  // namespace hn
