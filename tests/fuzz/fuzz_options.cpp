// libFuzzer: config files (JSON) and flag values, as a user may write them.
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>

#include "config/options.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using hn::config::Type;
  static const hn::config::ParseSpec spec{"fuzz",
                                          {{"listen", Type::host_port, "127.0.0.1:1", ""},
                                           {"max-transfers", Type::integer, "1", "", 0, 100},
                                           {"rate", Type::number, "1", "", 0, 10},
                                           {"flag", Type::boolean, "false", ""},
                                           {"store", Type::string, "", ""}},
                                          1};
  static const std::string path = "/tmp/hn-fuzz-options-" + std::to_string(getpid()) + ".json";
  std::string text(reinterpret_cast<const char*>(data), size);
  if (FILE* f = std::fopen(path.c_str(), "wb")) {
    std::fwrite(text.data(), 1, text.size(), f);
    std::fclose(f);
  }
  (void)hn::config::parse(spec, {"--config", path});
  // The same bytes as a flag value.
  (void)hn::config::parse(spec, {"--listen=" + text, "--max-transfers=" + text, "--rate=" + text});
  // As a flag name: unknown names get a nearest-name suggestion; a flag twice is refused.
  (void)hn::config::parse(spec, {"--" + text, "--store=a", "--store=" + text});
  return 0;
}
