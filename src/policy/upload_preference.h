// Which waiting leecher gets the next upload slot (the seed's "seeder preference list for prioritizing
// leechers"): peers that upload back to us first, then the lowest RTT, then the longest waiting; every
// `optimistic_every`-th slot goes to a random waiter so newcomers with nothing to trade get a start.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace hn {

struct UploadCandidate {
  uint64_t bytes_from_them = 0;  // what this leecher has uploaded to us
  double rtt_ms = 0;             // 0: unknown (ranked after known ones)
  double waiting_since = 0;      // seconds, monotonic
};

// Index into `waiting` of the request to serve next. `grant` counts slots granted so far; `random` is a
// uniformly random number used for the optimistic slot. `waiting` must not be empty.
size_t pick_upload(const std::vector<UploadCandidate>& waiting, uint64_t grant, uint64_t random,
                   uint64_t optimistic_every = 4);

}  // namespace hn
