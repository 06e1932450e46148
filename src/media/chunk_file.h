// The file a peer assembles: OUTPUT.part (preallocated) gets each verified chunk at its offset and is
// renamed to OUTPUT when complete. On restart the .part file is re-verified chunk by chunk, so an
// interrupted download resumes and nothing unverified is ever served. Blocking calls: run them on the
// thread pool (PeerNode does).
#pragma once
#include <atomic>
#include <string>
#include <vector>

#include "hybridnode/manifest.h"
#include "hybridnode/result.h"
#include "util/unique_fd.h"

namespace hn {

class ChunkFile {
 public:
  ChunkFile(std::string output, Manifest m) : output_(std::move(output)), m_(std::move(m)) {}

  // Opens (or creates) the part file, or the finished output; returns which chunks verify already.
  // Refuses a video larger than the free disk space. Only chunks fully on disk are hashed (holes of the
  // sparse part file are not chunks); `cancel` set from the loop stops the hashing between chunks.
  Result<std::vector<bool>> open(const std::atomic<bool>* cancel = nullptr);
  Result<void> write(uint32_t index, const std::string& data);
  Result<std::string> read(uint32_t index) const;
  Result<void> finish();  // fsync, rename .part -> output
  bool finished() const { return finished_; }
  const std::string& output() const { return output_; }
  std::string part_path() const { return output_ + ".part"; }

 private:
  std::string output_;
  Manifest m_;
  UniqueFd fd_;
  bool finished_ = false;
};

}  // namespace hn
