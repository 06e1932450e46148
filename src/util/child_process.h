// Runs a helper program (ffmpeg, ffprobe) as a child process and streams its stdout to a callback.
// Blocking: for command-line work such as ingest, never on the event loop.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "hybridnode/result.h"

namespace hn {

struct ChildExit {
  int status = -1;      // exit code; 128+N when killed by signal N
  std::string stderr_tail;  // the last few KB the child wrote to stderr
};

// argv[0] is looked up in PATH. on_stdout returns false to stop reading (the child is then killed).
// Errors: the program is missing or cannot be started (the text names it).
Result<ChildExit> run_child(const std::vector<std::string>& argv,
                            const std::function<bool(const char*, size_t)>& on_stdout);

}  // namespace hn
