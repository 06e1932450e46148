// libFuzzer: the live source's bytes (an encoder, or whatever is written to the FIFO), split at
// fuzzer-chosen points; every byte must come out in a chunk or be counted as skipped.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "media/ts_chunker.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  hn::media::TsChunker c(0.1 + data[0] / 64.0, 4096 + data[0] * 188u);
  size_t step = 1 + data[0] % 200, out = 0;
  for (size_t i = 1; i < size; i += step)
    // Arrival times from the input too: jumps judged against the wall clock must not break the invariant.
    for (auto& k : c.feed(data + i, std::min(step, size - i), (data[i] & 1) ? static_cast<double>(i) / 1000.0 : -1)) {
      out += k.bytes.size();
      if (!std::isfinite(k.duration)) std::abort();
    }
  if (auto last = c.flush()) out += last->bytes.size();
  // Bytes in = chunked + skipped + an incomplete final packet (< 188).
  size_t in = size - 1;
  if (out + c.bytes_skipped() > in || in - out - c.bytes_skipped() >= hn::media::TsChunker::kPacket) std::abort();
  return 0;
}
