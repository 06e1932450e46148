// The two clocks the project reads: monotonic seconds for deadlines and rates, wall-clock milliseconds for
// timestamps that cross processes (live chunks' published_ms, lag measurements).
#pragma once
#include <uv.h>

#include <chrono>
#include <cstdint>

namespace hn {

inline double mono_seconds() { return static_cast<double>(uv_hrtime()) / 1e9; }

inline int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace hn
