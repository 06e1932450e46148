// libFuzzer: request paths for the static web root (--web-root) and origin lists (CORS, signaller).
// Whatever parse_web_path accepts must be a plain relative path: no dot segments, separators, NULs or
// hidden names, so the O_NOFOLLOW walk under the root's fd cannot leave it.
#include <cstddef>
#include <cstdint>
#include <string>

#include "content/web_root.h"
#include "net/origin_list.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  auto w = hn::content::parse_web_path(in);
  if (w.status != 0 && w.status != 400 && w.status != 404) __builtin_trap();
  if (w.status == 0) {
    if (w.parts.size() > 32) __builtin_trap();
    for (const auto& p : w.parts) {
      if (p.empty() || p == "." || p == ".." || p[0] == '.') __builtin_trap();
      if (p.find('/') != std::string::npos || p.find('\\') != std::string::npos || p.find('\0') != std::string::npos)
        __builtin_trap();
    }
    (void)hn::content::mime_type_for(w.parts.empty() ? "index.html" : w.parts.back());
  }
  hn::net::OriginList list(in);
  std::string first = in.substr(0, in.find(','));
  (void)list.allows(&first);
  if (list.any() && !list.allows(&in)) __builtin_trap();
  return 0;
}
